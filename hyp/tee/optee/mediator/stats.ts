/**
 * What the mediator did for each guest, said in one line when the guest
 * leaves OP-TEE (VM_DESTROYED): a person reading the log sees how busy the
 * guest was, whether anything was refused, and how close it came to the
 * buffer limits, without any per-call logging.
 */
import { guestNamePtr, MAX_GUESTS } from "../../../core/guest";
import { lineEnd, lineStartGuest, put, putDec } from "../../../lib/log";
import { latencyPut, latencyReset, LATENCY_BOTTOM_HALF, LATENCY_BOTTOM_HALF_CALL, LATENCY_BOTTOM_HALF_CALLS_BEGUN,
  LATENCY_BOTTOM_HALF_CALL_THREAD_FREE, LATENCY_BOTTOM_HALF_FREE_STRETCH, LATENCY_BOTTOM_HALF_SERVED, LATENCY_GET } from "./latency";
import { shmCount, shmPagesHeld } from "./shm";

export const STAT_FAST: u32 = 0;
export const STAT_STD: u32 = 1;
export const STAT_RPC: u32 = 2;
export const STAT_REFUSED: u32 = 3;
const STAT_PEAK_BUFFERS: u32 = 4;
const STAT_PEAK_PAGES: u32 = 5;
/** Notification values read out of OP-TEE for the guest, and virtual interrupts they gave it (drain.ts). */
export const STAT_NOTIF_VALUES: u32 = 6;
export const STAT_NOTIF_IRQS: u32 = 7;
/** DO_BOTTOM_HALF calls OP-TEE turned away with ETHREAD_LIMIT: all the guest's threads were busy. */
export const STAT_NOTIF_BH_NO_THREAD: u32 = 8;
const STATS: u32 = 9;

const counters = memory.data(<i32>(MAX_GUESTS * STATS * 8), 8);

@inline function slot(g: u32, which: u32): usize {
  return counters + (<usize>(g * STATS + which) << 3);
}

export function statCount(g: u32, which: u32): void {
  if (g < MAX_GUESTS) store<u64>(slot(g, which), load<u64>(slot(g, which)) + 1);
}

export function statGet(g: u32, which: u32): u64 {
  return g < MAX_GUESTS ? load<u64>(slot(g, which)) : 0;
}

/** After a buffer is taken: remembers the most guest g ever had at once. */
export function statHeld(g: u32): void {
  if (g >= MAX_GUESTS) return;
  const buffers = <u64>shmCount(g), pages = <u64>shmPagesHeld(g);
  if (buffers > load<u64>(slot(g, STAT_PEAK_BUFFERS))) store<u64>(slot(g, STAT_PEAK_BUFFERS), buffers);
  if (pages > load<u64>(slot(g, STAT_PEAK_PAGES))) store<u64>(slot(g, STAT_PEAK_PAGES), pages);
}

/** The line said when guest g leaves OP-TEE; the counters start again for its next life. */
export function statReport(g: u32): void {
  if (g >= MAX_GUESTS) return;
  lineStartGuest("optee", guestNamePtr(g));
  put("served "); putDec(statGet(g, STAT_STD)); put(" std calls ("); putDec(statGet(g, STAT_RPC));
  put(" RPCs) and "); putDec(statGet(g, STAT_FAST)); put(" fast calls; refused ");
  putDec(statGet(g, STAT_REFUSED)); put("; at most "); putDec(statGet(g, STAT_PEAK_BUFFERS));
  put(" buffers ("); putDec(statGet(g, STAT_PEAK_PAGES)); put(" pages) held at once; ");
  putDec(statGet(g, STAT_NOTIF_VALUES)); put(" notification values in "); putDec(statGet(g, STAT_NOTIF_IRQS));
  put(" interrupts");
  lineEnd();
  if (statGet(g, STAT_NOTIF_VALUES) != 0) {
    lineStartGuest("optee", guestNamePtr(g));
    put("notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE "); latencyPut(g, LATENCY_GET);
    put("; to DO_BOTTOM_HALF called "); latencyPut(g, LATENCY_BOTTOM_HALF_CALL);
    put("; with a thread free "); latencyPut(g, LATENCY_BOTTOM_HALF_CALL_THREAD_FREE);
    put("; at a stretch "); latencyPut(g, LATENCY_BOTTOM_HALF_FREE_STRETCH);
    put("; own calls begun meanwhile "); latencyPut(g, LATENCY_BOTTOM_HALF_CALLS_BEGUN);
    put("; served in "); latencyPut(g, LATENCY_BOTTOM_HALF_SERVED);
    put("; to DO_BOTTOM_HALF done "); latencyPut(g, LATENCY_BOTTOM_HALF);
    put("; "); putDec(statGet(g, STAT_NOTIF_BH_NO_THREAD)); put(" DO_BOTTOM_HALF calls found every OP-TEE thread busy");
    lineEnd();
  }
  statReset(g);
}

/** Guest g's counters start again (its next life, or its records were thrown away after a fault). */
export function statReset(g: u32): void {
  if (g >= MAX_GUESTS) return;
  latencyReset(g);
  memory.fill(slot(g, 0), 0, STATS * 8);
}
