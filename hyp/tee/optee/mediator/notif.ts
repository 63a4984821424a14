/**
 * OP-TEE's asynchronous notifications, as each guest sees them (OP-TEE 4.5,
 * core/kernel/notif_default.c, entry_fast.c). OP-TEE keeps a set of pending
 * values per guest and raises one interrupt for all of them; the hypervisor
 * reads each guest's values out of OP-TEE on that interrupt (drain.ts) into
 * the set kept here, and answers the guest's own GET_ASYNC_NOTIF_VALUE from
 * it, exactly as OP-TEE would: the lowest value, consumed, with VALID and
 * PENDING in a2. A guest's GET never reaches OP-TEE, so whatever it puts in
 * x7 it can only read its own values.
 *
 * A guest is routed notifications from the moment OP-TEE accepted its
 * ENABLE_ASYNC_NOTIF until it sends STOP_ASYNC_NOTIF or stops; then its set
 * is emptied. Not supported: per-CPU (PPI) notification interrupts, which
 * OP-TEE only uses with FF-A.
 */
import { guestNamePtr, MAX_GUESTS } from "../../../core/guest";
import { guestReg } from "../../../core/percpu";
import { lineEnd, lineStartGuest, put, putDec } from "../../../lib/log";
import * as smc from "../smc";
import { clientIdOf } from "./clients";
import { setResult } from "./result";
import { latencyCancel, latencyEnd, LATENCY_GET } from "./latency";
import { NOTIF_VALUE_COUNT } from "./limits";
import { statCount, STAT_NOTIF_VALUES } from "./stats";

const WORDS: u32 = NOTIF_VALUE_COUNT / 64;

/** Per guest: pending values, one bit each (WORDS u64). */
const values = memory.data(<i32>(MAX_GUESTS * WORDS * 8), 8);
/** Per guest: 1 while notifications are routed to it. */
const enabled = memory.data(<i32>MAX_GUESTS);
/** Per guest: the NOTIF_SAID_* complaints already logged (each is said once per boot). */
const said = memory.data(<i32>MAX_GUESTS);

const NOTIF_SAID_REPEAT_ENABLE: u8 = 1 << 0;
const NOTIF_SAID_GET_NOT_ENABLED: u8 = 1 << 1;
const NOTIF_SAID_FOREIGN_X7: u8 = 1 << 2;
const NOTIF_SAID_VALUE_RANGE: u8 = 1 << 3;
export const NOTIF_SAID_READ_BOUND: u8 = 1 << 4;

@inline function word(g: u32, value: u32): usize {
  return values + <usize>((g * WORDS + (value >> 6)) << 3);
}

/** Are guest g's notifications routed to it now? */
export function notifEnabled(g: u32): bool {
  return g < MAX_GUESTS && load<u8>(enabled + <usize>g) != 0;
}

/** Guests whose notifications are routed now, one bit each. */
export function notifEnabledMask(): u32 {
  let mask: u32 = 0;
  for (let g: u32 = 0; g < MAX_GUESTS; g++) if (notifEnabled(g)) mask |= 1 << g;
  return mask;
}

/** OP-TEE answered guest g's ENABLE_ASYNC_NOTIF (forwarded with g's client id) with a0. */
export function notifEnableReturned(g: u32, a0: u32): void {
  if (a0 != smc.OPTEE_SMC_RETURN_OK || g >= MAX_GUESTS) return;
  if (notifEnabled(g)) {
    sayOnce(g, NOTIF_SAID_REPEAT_ENABLE, "ENABLE_ASYNC_NOTIF again: forwarded, OP-TEE ignores a repeat");
    return;
  }
  store<u8>(enabled + <usize>g, 1);
  lineStartGuest("optee", guestNamePtr(g));
  put("asynchronous notifications on for client "); putDec(clientIdOf(g));
  lineEnd();
}

/** Guest g's notifications stop (STOP_ASYNC_NOTIF, or the guest is gone): its pending values go. */
export function notifStop(g: u32): void {
  if (g >= MAX_GUESTS) return;
  store<u8>(enabled + <usize>g, 0);
  latencyCancel(g);
  for (let w: u32 = 0; w < WORDS; w++) store<u64>(word(g, w << 6), 0);
}

/** A value OP-TEE gave for guest g (drain.ts); false when it was dropped. */
export function notifAdd(g: u32, value: u32): bool {
  if (!notifEnabled(g)) return false;
  if (value >= NOTIF_VALUE_COUNT) {
    sayOnce(g, NOTIF_SAID_VALUE_RANGE, "OP-TEE sent a notification value past NOTIF_VALUE_COUNT: dropped");
    return false;
  }
  const at = word(g, value);
  store<u64>(at, load<u64>(at) | (<u64>1 << <u64>(value & 63)));
  statCount(g, STAT_NOTIF_VALUES);
  return true;
}

/** Does guest g have values waiting for its GET_ASYNC_NOTIF_VALUE? */
export function notifHasPending(g: u32): bool {
  if (g >= MAX_GUESTS) return false;
  for (let w: u32 = 0; w < WORDS; w++) if (load<u64>(word(g, w << 6)) != 0) return true;
  return false;
}

/**
 * Guest g's GET_ASYNC_NOTIF_VALUE on `cpu`, answered from its own set as
 * OP-TEE's notif_get_value does: a0 = OK; a1 = the lowest value, taken out
 * of the set; a2 = VALID if there was one, | PENDING if more remain.
 */
export function notifAnswerGet(cpu: u32, g: u32): void {
  const x7 = <u32>guestReg(cpu, 7);
  if (x7 != 0 && x7 != clientIdOf(g)) {
    sayOnce(g, NOTIF_SAID_FOREIGN_X7, "GET_ASYNC_NOTIF_VALUE names another client in x7: answered from its own values");
  }
  if (!notifEnabled(g)) {
    sayOnce(g, NOTIF_SAID_GET_NOT_ENABLED, "GET_ASYNC_NOTIF_VALUE without notifications enabled: nothing pending");
  }
  const value = takeLowest(g);
  if (value < 0) {
    setResult(cpu, smc.OPTEE_SMC_RETURN_OK, 0, 0, 0);
    return;
  }
  latencyEnd(g, LATENCY_GET);
  let flags = smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID;
  if (notifHasPending(g)) flags |= smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING;
  setResult(cpu, smc.OPTEE_SMC_RETURN_OK, <u32>value, flags, 0);
}

/** Removes and returns guest g's lowest pending value, or -1. */
function takeLowest(g: u32): i32 {
  for (let w: u32 = 0; w < WORDS; w++) {
    const at = word(g, w << 6);
    const bits = load<u64>(at);
    if (bits == 0) continue;
    const bit = <u32>ctz(bits);
    store<u64>(at, bits & (bits - 1));
    return <i32>((w << 6) + bit);
  }
  return -1;
}

/** Logs `what` about guest g the first time only. */
export function sayOnce(g: u32, which: u8, what: string): void {
  const flags = load<u8>(said + <usize>g);
  if ((flags & which) != 0) return;
  store<u8>(said + <usize>g, flags | which);
  lineStartGuest("optee", guestNamePtr(g));
  put(what); put(" (said once)");
  lineEnd();
}
