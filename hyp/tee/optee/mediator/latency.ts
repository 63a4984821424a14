/**
 * How long a notification takes to reach each guest, measured by the
 * hypervisor on the generic timer (hw timeNs): from taking OP-TEE's
 * interrupt (INTID 219) to the guest's first GET_ASYNC_NOTIF_VALUE that
 * returns a value, and from taking the interrupt that brought a
 * DO_BOTTOM_HALF (value 0) to the guest's OPTEE_MSG_CMD_DO_BOTTOM_HALF call
 * reaching the mediator (how long the guest's kernel took to make it) and to
 * OP-TEE's return from it (what OP-TEE's watchdog waits for; an attempt turned
 * away for want of a free thread does not count); and how long that call took
 * from reaching the mediator to its return (the hypervisor's and OP-TEE's
 * share: what is left of a late bottom half is the guest's own).
 * Said in one line when the guest leaves OP-TEE (stats.ts); `make bench`
 * reads it (tools/bench/notif-latency.ts). Figures only: nothing the
 * hypervisor decides depends on them.
 *
 * The median is over the last LATENCY_SAMPLES samples; the worst and the
 * count are over all of them.
 */
import { MAX_GUESTS } from "../../../core/guest";
import { timeNs } from "../../../hw/imports";
import { put, putDec } from "../../../lib/log";
import { opteeInfo } from "../info";

/**
 * What is measured: to the guest's GET, to its DO_BOTTOM_HALF call, to that call's return; the call itself; and
 * of the time to the call, the part in which one of the guest's OP-TEE threads was free, the longest single
 * stretch of it, and how many calls of its own the guest began meanwhile (see Held). All in µs but the last.
 */
export const LATENCY_GET: u32 = 0;
export const LATENCY_BOTTOM_HALF: u32 = 1;
export const LATENCY_BOTTOM_HALF_CALL: u32 = 2;
export const LATENCY_BOTTOM_HALF_SERVED: u32 = 3;
export const LATENCY_BOTTOM_HALF_CALL_THREAD_FREE: u32 = 4;
export const LATENCY_BOTTOM_HALF_FREE_STRETCH: u32 = 5;
export const LATENCY_BOTTOM_HALF_CALLS_BEGUN: u32 = 6;
const KINDS: u32 = 7;
/** Samples kept per guest and kind for the median: a minute and more of OP-TEE's watchdog. */
const LATENCY_SAMPLES: u32 = 128;

@unmanaged class Series {
  /** The interrupt time (ns) of the oldest notification the guest has not taken yet; 0 = none. */
  since: u64;
  count: u32;
  /** µs, or calls for LATENCY_BOTTOM_HALF_CALLS_BEGUN. */
  worst: u32;
}

const SERIES: u32 = offsetof<Series>();
const series = memory.data(<i32>(MAX_GUESTS * KINDS * SERIES), 8);
const samples = memory.data(<i32>(MAX_GUESTS * KINDS * LATENCY_SAMPLES * 4), 4);
const sorted = memory.data(<i32>(LATENCY_SAMPLES * 4), 4);

@inline function at(g: u32, kind: u32): Series {
  return changetype<Series>(series + <usize>((g * KINDS + kind) * SERIES));
}

@inline function sampleAt(g: u32, kind: u32, i: u32): usize {
  return samples + <usize>(((g * KINDS + kind) * LATENCY_SAMPLES + i) << 2);
}

/** The time now, for the start of a measurement. */
export function latencyNow(): u64 {
  const now = timeNs();
  return now != 0 ? now : 1; // 0 means "nothing outstanding"
}

/** Guest g has a notification of `kind` since `t0`, unless an older one is still outstanding. */
export function latencyStart(g: u32, kind: u32, t0: u64): void {
  if (g >= MAX_GUESTS) return;
  const s = at(g, kind);
  if (s.since == 0) s.since = t0;
}

/**
 * Guest g owes a DO_BOTTOM_HALF since `t0` and has `open` calls open now: its call is timed from t0, and how long
 * all its OP-TEE threads stay held by its own calls meanwhile (calls.ts reports each change while it is due).
 */
export function latencyBottomHalfDue(g: u32, t0: u64, open: u32): void {
  if (g >= MAX_GUESTS || at(g, LATENCY_BOTTOM_HALF_CALL).since != 0) return;
  latencyStart(g, LATENCY_BOTTOM_HALF_CALL, t0);
  const h = heldAt(g);
  h.open = open;
  h.heldNs = 0;
  h.begun = 0;
  // From the interrupt to now the calls were not watched: counted as a thread free, in the sum and as a stretch.
  const now = latencyNow();
  const held = open >= opteeInfo.threadCount;
  h.since = held ? now : 0;
  h.freeSince = held ? 0 : t0;
  h.longestFreeNs = held && now > t0 ? now - t0 : 0;
  store<u8>(watching + <usize>g, 1);
}

/** Guest g took its notification of `kind`: one sample, if one was outstanding. */
export function latencyEnd(g: u32, kind: u32): void {
  if (g >= MAX_GUESTS) return;
  const s = at(g, kind);
  if (s.since == 0) return;
  const now = timeNs();
  const ns = now > s.since ? now - s.since : 0;
  s.since = 0;
  record(g, kind, ns);
  if (kind == LATENCY_BOTTOM_HALF_CALL) {
    const held = heldNs(g, now);
    record(g, LATENCY_BOTTOM_HALF_CALL_THREAD_FREE, ns > held ? ns - held : 0);
    const h = heldAt(g);
    freeStretchEnds(h, now);
    record(g, LATENCY_BOTTOM_HALF_FREE_STRETCH, h.longestFreeNs);
    // The DO_BOTTOM_HALF itself opened a call before it reached here: not one it waited for.
    recordValue(g, LATENCY_BOTTOM_HALF_CALLS_BEGUN, h.begun > 0 ? h.begun - 1 : 0);
    store<u8>(watching + <usize>g, 0);
  }
}

function record(g: u32, kind: u32, ns: u64): void {
  recordValue(g, kind, <u32>min<u64>(ns / 1000, 0xffffffff));
}

function recordValue(g: u32, kind: u32, value: u32): void {
  const s = at(g, kind);
  store<u32>(sampleAt(g, kind, s.count % LATENCY_SAMPLES), value);
  s.count++;
  if (value > s.worst) s.worst = value;
}

/**
 * While guest g owes a DO_BOTTOM_HALF: how long every one of its OP-TEE threads has been held by one of its own
 * calls (in OP-TEE or waiting in an RPC). Linux's driver makes a call, DO_BOTTOM_HALF included, only while one of
 * them is free (it asks GET_THREAD_COUNT and queues the rest), so what is left of a late DO_BOTTOM_HALF once that
 * time is taken away is the only part the hypervisor could have delayed on the guest's side. Kept only while a
 * bottom half is due, so that the calls made the rest of the time pay one load for it.
 *
 * That part is a sum: the driver hands a thread that comes free to the first of its queued callers (FIFO), and
 * each hand-over leaves it free for as long as that caller takes to be woken and make its call. Behind many
 * callers, a DO_BOTTOM_HALF waits out many short hand-overs; a notification the guest missed would instead leave a
 * thread free in one long stretch. Hence the longest stretch, and the calls begun meanwhile, kept too.
 */
@unmanaged class Held {
  /** Since when they have all been held; 0 = one is free. */
  since: u64;
  /** How long they were, in the periods that ended. */
  heldNs: u64;
  /** Since when one has been free; 0 = all are held. */
  freeSince: u64;
  /** The longest single stretch with one free, of the periods that ended. */
  longestFreeNs: u64;
  /** The guest's open calls. */
  open: u32;
  /** Calls the guest began meanwhile. */
  begun: u32;
}

const HELD: u32 = offsetof<Held>();
const heldTimes = memory.data(<i32>(MAX_GUESTS * HELD), 8);
/** Per guest, 1 while a DO_BOTTOM_HALF is due: calls.ts then reports every call that opens or closes. */
const watching = memory.data(<i32>MAX_GUESTS, 8);

@inline function heldAt(g: u32): Held {
  return changetype<Held>(heldTimes + <usize>(g * HELD));
}

function heldNs(g: u32, now: u64): u64 {
  const h = heldAt(g);
  return h.heldNs + (h.since != 0 && now > h.since ? now - h.since : 0);
}

/** Whether calls.ts must report guest g's calls opening and closing (g < MAX_GUESTS). */
@inline export function latencyWatchesCalls(g: u32): bool {
  return load<u8>(watching + <usize>g) != 0;
}

/** One of guest g's calls opened (+1) or closed (-1) while a DO_BOTTOM_HALF is due. */
export function latencyCallsChanged(g: u32, delta: i32): void {
  const h = heldAt(g);
  h.open = <u32>max<i32>(<i32>h.open + delta, 0);
  if (delta > 0) h.begun++;
  if (h.open >= opteeInfo.threadCount) {
    if (h.since == 0) {
      h.since = latencyNow();
      freeStretchEnds(h, h.since);
    }
  } else if (h.since != 0) {
    const now = latencyNow();
    if (now > h.since) h.heldNs += now - h.since;
    h.since = 0;
    h.freeSince = now;
  }
}

/** The stretch with a thread free that began at h.freeSince, if one did, ends at `now`. */
function freeStretchEnds(h: Held, now: u64): void {
  if (h.freeSince == 0) return;
  const ns = now > h.freeSince ? now - h.freeSince : 0;
  if (ns > h.longestFreeNs) h.longestFreeNs = ns;
  h.freeSince = 0;
}

/** Appends "n N median M max W us" for guest g's `kind` to the line being written (no unit for a count). */
export function latencyPut(g: u32, kind: u32): void {
  const s = at(g, kind);
  put("n "); putDec(s.count);
  if (s.count == 0) return;
  put(" median "); putDec(median(g, kind, s.count < LATENCY_SAMPLES ? s.count : LATENCY_SAMPLES));
  put(" max "); putDec(s.worst);
  if (kind != LATENCY_BOTTOM_HALF_CALLS_BEGUN) put(" us");
}

/** Guest g's measurement of `kind` in progress is dropped (an attempt OP-TEE turned away). */
export function latencyDrop(g: u32, kind: u32): void {
  if (g < MAX_GUESTS) at(g, kind).since = 0;
}

/** Guest g's notifications stopped: what was outstanding will not be taken. */
export function latencyCancel(g: u32): void {
  if (g >= MAX_GUESTS) return;
  for (let kind: u32 = 0; kind < KINDS; kind++) at(g, kind).since = 0;
  store<u8>(watching + <usize>g, 0);
}

/** Guest g's figures start again (its next life as a client). */
export function latencyReset(g: u32): void {
  if (g >= MAX_GUESTS) return;
  memory.fill(series + <usize>(g * KINDS * SERIES), 0, KINDS * SERIES);
  memory.fill(heldTimes + <usize>(g * HELD), 0, HELD);
  store<u8>(watching + <usize>g, 0);
}

/** The middle of guest g's last `n` samples of `kind` (insertion sort of a copy: n ≤ 128, at VM_DESTROYED). */
function median(g: u32, kind: u32, n: u32): u32 {
  for (let i: u32 = 0; i < n; i++) {
    const v = load<u32>(sampleAt(g, kind, i));
    let j = i;
    for (; j > 0 && load<u32>(sorted + <usize>((j - 1) << 2)) > v; j--) {
      store<u32>(sorted + <usize>(j << 2), load<u32>(sorted + <usize>((j - 1) << 2)));
    }
    store<u32>(sorted + <usize>(j << 2), v);
  }
  return load<u32>(sorted + <usize>((n >> 1) << 2));
}
