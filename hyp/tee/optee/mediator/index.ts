/**
 * The OP-TEE mediator: every Trusted-OS call a guest makes arrives here
 * (trap/smccc.ts), and every SMC the mediator forwards comes back here
 * (teeSmcReturned). The SMC itself runs in the C run loop outside the
 * hypervisor lock, so one guest's long call never holds up another guest.
 *
 *   guest not a client      → UNKNOWN_FUNCTION, as OP-TEE answers an id it does not know
 *   fast calls              → fast.ts (pass through, or answered here; GET_ASYNC_NOTIF_VALUE from notif.ts)
 *   CALL_WITH_ARG           → stdcall.ts (shadowed, translated, forwarded)
 *   RETURN_FROM_RPC         → rpc.ts (the guest's answer to OP-TEE's request)
 *   anything else           → UNKNOWN_FUNCTION
 */
import { guestAt, GUEST_RUNNING, MAX_GUESTS } from "../../../core/guest";
import { teeGuestGone, TEE_FORWARD, TEE_RESUME } from "../../../core/tee-ops";
import * as smc from "../smc";
import { callAt, callClose, callCloseIdle, callDiscardAll, callsInOptee, CALL_IN_OPTEE, CALL_NONE } from "./calls";
import { clientIdOf, isClient } from "./clients";
import { answerFastLocally, fastReturned, loadFast } from "./fast";
import { setResult } from "./result";
import { notifStop } from "./notif";
import { flightBegin, flightCall, flightEnd, flightFid, flightGuest, flightKind, FLIGHT_FAST, FLIGHT_STD } from "./inflight";
export { flightsOf } from "./inflight";
import { withdrawDiscards } from "../../../core/lifecycle";
import { poolDiscard } from "./pool";
import { rpcBufferDiscardAll } from "./rpcbuf";
import { shmDiscardAll } from "./shm";
import { statReset } from "./stats";
import { returnFromRpc } from "./rpc";
import { rpcBufferRemoveAll } from "./rpcbuf";
import { shmReleaseAll } from "./shm";
import { statCount, statGet, STAT_FAST, STAT_STD } from "./stats";
import { faultTestArmed, faultTestCheck } from "../../../core/fault";
import { guardTestArmed, guardTestCheck } from "../../../core/guard-test";
import { setServing } from "../../../core/percpu";
import { callWithArg, stdReturned } from "./stdcall";

/** Fast calls have bit 31 set; OP-TEE's are all SMC32 (bit 30 clear). */
const SMCCC_FAST_CALL: u32 = 0x80000000;

/** A Trusted-OS call (SMCCC owner 50..63) from guest g's vCPU on `cpu`; a verdict (core/tee-ops.ts). */
export function teeCall(cpu: u32, g: u32, fid: u32): u32 {
  if (guardTestArmed()) guardTestCheck(cpu, g);
  if (!isClient(g)) {
    setResult(cpu, smc.OPTEE_SMC_RETURN_UNKNOWN_FUNCTION, 0, 0, 0);
    return TEE_RESUME;
  }
  const client = clientIdOf(g);
  if ((fid & SMCCC_FAST_CALL) != 0) {
    statCount(g, STAT_FAST);
    if (answerFastLocally(cpu, g, fid)) return TEE_RESUME;
    loadFast(cpu, fid, client);
    flightBegin(cpu, FLIGHT_FAST, g, fid, CALL_NONE);
    return TEE_FORWARD;
  }
  let c = CALL_NONE;
  if (fid == smc.OPTEE_SMC_CALL_WITH_ARG) {
    statCount(g, STAT_STD);
    if (faultTestArmed()) faultTestCheck(g, statGet(g, STAT_STD));
    c = callWithArg(cpu, g, client);
  } else if (fid == smc.OPTEE_SMC_RETURN_FROM_RPC) {
    c = returnFromRpc(cpu, g, client);
  } else {
    setResult(cpu, smc.OPTEE_SMC_RETURN_UNKNOWN_FUNCTION, 0, 0, 0);
  }
  if (c == CALL_NONE) return TEE_RESUME;
  flightBegin(cpu, FLIGHT_STD, g, fid, c);
  return TEE_FORWARD;
}

/** The SMC the mediator forwarded for `cpu` has returned (x0..x7 in the frame); a verdict. */
export function teeSmcReturned(cpu: u32): u32 {
  const kind = flightKind(cpu), g = flightGuest(cpu), c = flightCall(cpu);
  flightEnd(cpu);
  if (g >= MAX_GUESTS) return TEE_RESUME; // no flight: nothing to hand back
  setServing(cpu, g);
  if (guestAt(g).state != GUEST_RUNNING) {
    // The guest ended while OP-TEE had this SMC: close the call (unless its records are not trusted), and the
    // last such return lets the guest be withdrawn.
    if (kind == FLIGHT_STD && c != CALL_NONE && !withdrawDiscards(g) && callAt(g, c).state == CALL_IN_OPTEE) callClose(g, c);
    return teeGuestGone(g);
  }
  if (kind == FLIGHT_FAST) fastReturned(cpu, g, flightFid(cpu));
  else if (kind == FLIGHT_STD && c != CALL_NONE && callAt(g, c).state == CALL_IN_OPTEE) stdReturned(cpu, g, c);
  return TEE_RESUME;
}

/**
 * Guest g has stopped: everything the mediator holds for it goes, except
 * what an SMC still in OP-TEE uses (freed when that SMC returns).
 */
export function teeGuestForget(g: u32): void {
  notifStop(g);
  callCloseIdle(g);
  if (callsInOptee(g) != 0) return;
  rpcBufferRemoveAll(g);
  shmReleaseAll(g);
}

/**
 * Guest g is withdrawn after a fault in the core while serving it: its records are not trusted, so nothing is
 * released through them; every table of g is cleared and the pool takes its pages back by their holder. Only
 * called when no CPU has an SMC in OP-TEE for g (nothing OP-TEE still reads is freed).
 */
export function teeGuestDiscard(g: u32): void {
  if (g >= MAX_GUESTS) return;
  notifStop(g);
  callDiscardAll(g);
  rpcBufferDiscardAll(g);
  shmDiscardAll(g);
  poolDiscard(g);
  statReset(g);
}
