/**
 * The std calls each guest has open: from CALL_WITH_ARG until OP-TEE
 * returns anything but an RPC. While OP-TEE waits for an RPC the call is
 * known by OP-TEE's thread id (a3), which must come back, from the same
 * guest, in RETURN_FROM_RPC: the mediator never resumes a thread that is not
 * the caller's, and never holds one guest's call behind another's.
 */
import { MAX_GUESTS } from "../../../core/guest";
import { latencyCallsChanged, latencyWatchesCalls } from "./latency";
import { MAX_CALLS_PER_GUEST, MAX_LISTS_PER_CALL } from "./limits";
import { listFree } from "./pagelist";
import { poolFree } from "./pool";
import { RPC_BUFFER_NONE } from "./rpcbuf";
import { SHM_NONE, shmRelease } from "./shm";

export const CALL_FREE: u32 = 0;
/** The SMC for it is in OP-TEE now (on some CPU, outside the hypervisor lock). */
export const CALL_IN_OPTEE: u32 = 1;
/** OP-TEE's thread waits for the guest to do an RPC and return. */
export const CALL_IN_RPC: u32 = 2;

/** What the call's shm record is for, so its end can settle it. */
export const SHM_OP_NONE: u32 = 0;
export const SHM_OP_REGISTER: u32 = 1;
export const SHM_OP_UNREGISTER: u32 = 2;
export const SHM_OP_RPC_ALLOC: u32 = 3;

@unmanaged export class Call {
  argIpa: u64;
  /** The shadow of the guest's optee_msg_arg: a pool page. */
  shadow: usize;
  state: u32;
  threadId: u32;
  /** The RPC (OPTEE_SMC_RPC_FUNC_*) the guest is doing, and what it needs to finish it. */
  rpcFunc: u32;
  rpcSize: u32;
  rpcBuffer: i32;
  shm: i32;
  shmOp: u32;
  listCount: u32;
}

const RECORD: u32 = offsetof<Call>();
const records = memory.data(<i32>(MAX_GUESTS * MAX_CALLS_PER_GUEST * RECORD), 8);
/** Translated page lists (physical addresses) OP-TEE reads during the call's current SMC. */
const lists = memory.data(<i32>(MAX_GUESTS * MAX_CALLS_PER_GUEST * MAX_LISTS_PER_CALL * 8), 8);

export const CALL_NONE: i32 = -1;

@inline export function callAt(g: u32, c: i32): Call {
  return changetype<Call>(records + <usize>((g * MAX_CALLS_PER_GUEST + <u32>c) * RECORD));
}

/** A free call slot of guest g (state still CALL_FREE), or CALL_NONE. */
export function callOpen(g: u32, argIpa: u64, shadow: usize): i32 {
  for (let c: i32 = 0; c < <i32>MAX_CALLS_PER_GUEST; c++) {
    const call = callAt(g, c);
    if (call.state != CALL_FREE || call.shadow != 0) continue;
    call.argIpa = argIpa;
    call.shadow = shadow;
    call.threadId = 0;
    call.rpcFunc = 0;
    call.rpcSize = 0;
    call.rpcBuffer = RPC_BUFFER_NONE;
    call.shm = SHM_NONE;
    call.shmOp = SHM_OP_NONE;
    call.listCount = 0;
    if (latencyWatchesCalls(g)) latencyCallsChanged(g, 1);
    return c;
  }
  return CALL_NONE;
}

/** Guest g's call suspended in an RPC on OP-TEE thread `thread`, or CALL_NONE. */
export function callInRpc(g: u32, thread: u32): i32 {
  for (let c: i32 = 0; c < <i32>MAX_CALLS_PER_GUEST; c++) {
    const call = callAt(g, c);
    if (call.state == CALL_IN_RPC && call.threadId == thread) return c;
  }
  return CALL_NONE;
}

/** Remembers a translated list to free when the call's current SMC returns; false when full. */
export function callAddList(g: u32, c: i32, listPa: u64): bool {
  const call = callAt(g, c);
  if (call.listCount >= MAX_LISTS_PER_CALL) return false;
  store<u64>(listSlot(g, c, call.listCount), listPa);
  call.listCount++;
  return true;
}

/** OP-TEE has read the lists (its SMC returned): they go back to the pool. */
export function callFreeLists(g: u32, c: i32): void {
  const call = callAt(g, c);
  for (let i: u32 = 0; i < call.listCount; i++) listFree(load<u64>(listSlot(g, c, i)));
  call.listCount = 0;
}

/** The call is over: its pages go back, a buffer whose registration never completed is let go. */
export function callClose(g: u32, c: i32): void {
  const call = callAt(g, c);
  const wasOpen = call.shadow != 0;
  callFreeLists(g, c);
  if (call.shmOp == SHM_OP_REGISTER || call.shmOp == SHM_OP_RPC_ALLOC) shmRelease(g, call.shm);
  poolFree(call.shadow);
  call.shadow = 0;
  if (wasOpen && latencyWatchesCalls(g)) latencyCallsChanged(g, -1);
  call.shm = SHM_NONE;
  call.shmOp = SHM_OP_NONE;
  call.state = CALL_FREE;
}

/** Calls of guest g whose SMC is in OP-TEE now. */
export function callsInOptee(g: u32): u32 {
  let n: u32 = 0;
  for (let c: i32 = 0; c < <i32>MAX_CALLS_PER_GUEST; c++) if (callAt(g, c).state == CALL_IN_OPTEE) n++;
  return n;
}

/** Closes every call of guest g that is not in OP-TEE (those close when their SMC returns). */
export function callCloseIdle(g: u32): void {
  for (let c: i32 = 0; c < <i32>MAX_CALLS_PER_GUEST; c++) {
    const call = callAt(g, c);
    if (call.shadow != 0 && call.state != CALL_IN_OPTEE) callClose(g, c);
  }
}

@inline function listSlot(g: u32, c: i32, i: u32): usize {
  return lists + <usize>(((g * MAX_CALLS_PER_GUEST + <u32>c) * MAX_LISTS_PER_CALL + i) << 3);
}

/**
 * Forgets every call of guest g without reading its records (the core faulted while serving g, so they are not
 * trusted): the pool pages they held are taken back by poolDiscard, not through the records.
 */
export function callDiscardAll(g: u32): void {
  if (g >= MAX_GUESTS) return;
  memory.fill(changetype<usize>(callAt(g, 0)), 0, MAX_CALLS_PER_GUEST * RECORD);
  memory.fill(lists + <usize>((g * MAX_CALLS_PER_GUEST * MAX_LISTS_PER_CALL) << 3), 0, MAX_CALLS_PER_GUEST * MAX_LISTS_PER_CALL * 8);
}

/** Calls guest g has open now (in OP-TEE or in an RPC). */
export function callsOpen(g: u32): u32 {
  let n: u32 = 0;
  for (let c: i32 = 0; c < <i32>MAX_CALLS_PER_GUEST; c++) if (callAt(g, c).shadow != 0) n++;
  return n;
}
