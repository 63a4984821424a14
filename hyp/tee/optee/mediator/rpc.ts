/**
 * RPCs: OP-TEE's thread stops in the middle of a call and asks the guest to
 * do something (allocate or free an RPC argument buffer, take an interrupt,
 * run a command such as loading a TA or allocating shared memory). The
 * guest answers with RETURN_FROM_RPC and OP-TEE's thread id in a3.
 *
 * State is per (guest, thread id): calls.ts finds the call, so an RPC of
 * one guest can only ever be answered by that guest, and a thread id it does
 * not have suspended gets ERESUME, as from OP-TEE for a thread that is not
 * waiting, without reaching OP-TEE.
 */
import { ipaInRam } from "../../../core/guest";
import { guestReg, setSmc, setSmcReg, smcReg } from "../../../core/percpu";
import * as M from "../msg";
import * as smc from "../smc";
import { callAt, callInRpc, callAddList, CALL_IN_OPTEE, CALL_IN_RPC, CALL_NONE, SHM_OP_RPC_ALLOC } from "./calls";
import { setResult } from "./result";
import { readGuest, writeGuest } from "./guestmem";
import { LIMIT_RPC_BUFFERS, LIMIT_POOL, LIMIT_SHM_BUFFERS, LIMIT_SHM_PAGES, logLimit, logRefused } from "./log";
import { listError, listFree, listPages, listTranslate } from "./pagelist";
import { paramAt, paramType } from "./params";
import { PAGE_MASK, PAGE_SIZE, poolPa } from "./pool";
import { rpcBufferAdd, rpcBufferFind, rpcBufferIpa, rpcBufferLimitWasCount, rpcBufferRemove, rpcBufferShadow,
  rpcBufferSize, RPC_BUFFER_NONE } from "./rpcbuf";
import { statCount, statHeld, STAT_RPC } from "./stats";
import { shmCookieLive, shmFind, shmLimitWasCount, shmRelease, shmReserve, SHM_NONE, SHM_RPC } from "./shm";

/** The guest's reply to an RPC_CMD, copied once before the mediator reads any of it. */
const reply = memory.data(<i32>PAGE_SIZE, 8);

/**
 * OP-TEE's call c of guest g on `cpu` came back with an RPC request: the
 * call waits on OP-TEE's thread (a3) and the guest gets the request, with
 * any RPC_CMD copied from the shadow into the guest's own buffer first.
 */
export function rpcRequested(cpu: u32, g: u32, c: i32): void {
  const a0 = <u32>smcReg(cpu, 0), a1 = <u32>smcReg(cpu, 1), a2 = <u32>smcReg(cpu, 2), a3 = <u32>smcReg(cpu, 3);
  const func = a0 & ~smc.OPTEE_SMC_RETURN_RPC_PREFIX_MASK;
  statCount(g, STAT_RPC);
  const call = callAt(g, c);
  call.state = CALL_IN_RPC;
  call.threadId = a3;
  call.rpcFunc = func;
  call.rpcSize = a1;
  call.rpcBuffer = RPC_BUFFER_NONE;
  const cookie = (<u64>a1 << 32) | <u64>a2;
  if (func == smc.OPTEE_SMC_RPC_FUNC_FREE) {
    // OP-TEE is done with the buffer; the guest frees its own.
    rpcBufferRemove(g, rpcBufferFind(g, cookie));
  } else if (func == smc.OPTEE_SMC_RPC_FUNC_CMD) {
    call.rpcBuffer = rpcBufferFind(g, cookie);
    if (call.rpcBuffer != RPC_BUFFER_NONE) commandToGuest(g, call.rpcBuffer);
  }
  setResult(cpu, a0, a1, a2, a3);
}

/** Copies OP-TEE's RPC command to the guest's buffer; an SHM_FREE lets the buffer it names go. */
function commandToGuest(g: u32, b: i32): void {
  const shadow = rpcBufferShadow(g, b);
  writeGuest(g, rpcBufferIpa(g, b), shadow, rpcBufferSize(g, b));
  if (load<u32>(shadow + M.MSG_CMD) == M.OPTEE_RPC_CMD_SHM_FREE && load<u32>(shadow + M.MSG_NUM_PARAMS) >= 1) {
    // params[0]: value.a = the memory's type, value.b = its cookie. OP-TEE has dropped it already.
    shmRelease(g, shmFind(g, SHM_RPC, load<u64>(paramAt(shadow, 0) + M.PARAM_B)));
  }
}

/**
 * The guest on `cpu` (guest g) answers an RPC: RETURN_FROM_RPC with OP-TEE's
 * thread id in a3. Returns the call to resume (loaded into the CPU's SMC
 * registers), or CALL_NONE when the mediator answered (ERESUME).
 */
export function returnFromRpc(cpu: u32, g: u32, client: u32): i32 {
  const thread = <u32>guestReg(cpu, 3);
  const c = callInRpc(g, thread);
  if (c == CALL_NONE) {
    logRefused(g, "RETURN_FROM_RPC for a thread it has no call waiting on", <u64>thread);
    setResult(cpu, smc.OPTEE_SMC_RETURN_ERESUME, 0, 0, 0);
    return CALL_NONE;
  }
  const call = callAt(g, c);
  // Values the guest answers with (a1, a2, a4, a5) pass, except an RPC_ALLOC's address.
  setSmc(cpu, smc.OPTEE_SMC_RETURN_FROM_RPC, guestReg(cpu, 1) & 0xffffffff, guestReg(cpu, 2) & 0xffffffff,
    <u64>client, <u64>thread);
  setSmcReg(cpu, 4, guestReg(cpu, 4) & 0xffffffff);
  setSmcReg(cpu, 5, guestReg(cpu, 5) & 0xffffffff);
  if (call.rpcFunc == smc.OPTEE_SMC_RPC_FUNC_ALLOC) allocAnswered(cpu, g, c);
  else if (call.rpcFunc == smc.OPTEE_SMC_RPC_FUNC_CMD && call.rpcBuffer != RPC_BUFFER_NONE) {
    commandAnswered(g, c, call.rpcBuffer);
  }
  call.state = CALL_IN_OPTEE;
  return c;
}

/**
 * RPC_ALLOC answered: a1:a2 = the guest's buffer, a4:a5 = its cookie. OP-TEE
 * gets a shadow page instead (or 0, "no memory", if the buffer is not the
 * guest's, too big, past the limit, without a cookie or under the cookie of a live one).
 */
function allocAnswered(cpu: u32, g: u32, c: i32): void {
  const ipa = (smcReg(cpu, 1) << 32) | smcReg(cpu, 2);
  const cookie = (smcReg(cpu, 4) << 32) | smcReg(cpu, 5);
  let pa: u64 = 0;
  if (cookie == 0) {
    // OP-TEE frees a buffer by RPC_FREE of its cookie, and sends none for 0 (thread_rpc_free_arg): its shadow
    // would stay taken for the guest's whole life.
    if (ipa != 0) logRefused(g, "RPC argument buffer without a cookie", ipa);
  } else if (rpcBufferFind(g, cookie) != RPC_BUFFER_NONE) {
    // RPC_CMD and RPC_FREE name buffers by cookie, so it must stay the live buffer's alone. OP-TEE gets no
    // cookie either: for 0 thread_rpc_free_arg sends no RPC_FREE, which would free the live buffer's shadow
    // while another of the guest's threads still has OP-TEE write to it.
    logRefused(g, "RPC argument buffer under the cookie of a live one", cookie);
    setSmcReg(cpu, 4, 0);
    setSmcReg(cpu, 5, 0);
  } else if (ipa != 0) {
    pa = allocShadow(g, ipa, cookie, callAt(g, c).rpcSize);
  }
  // Otherwise a4:a5 keep the guest's cookie even when refused: OP-TEE then sends RPC_FREE for it, and the
  // guest frees its buffer as after any failed allocation.
  setSmcReg(cpu, 1, pa >> 32);
  setSmcReg(cpu, 2, pa & 0xffffffff);
}

/** A shadow for guest g's RPC argument buffer at ipa; its physical address, or 0 when refused. */
function allocShadow(g: u32, ipa: u64, cookie: u64, size: u32): u64 {
  if ((ipa & PAGE_MASK) != 0 || size > PAGE_SIZE || size == 0 || !ipaInRam(g, ipa, <u64>size)) {
    logRefused(g, "RPC argument buffer not in its RAM, unaligned or over a page", ipa);
    return 0;
  }
  const b = rpcBufferAdd(g, cookie, ipa, size);
  if (b == RPC_BUFFER_NONE) {
    logLimit(g, rpcBufferLimitWasCount ? LIMIT_RPC_BUFFERS : LIMIT_POOL);
    return 0;
  }
  return poolPa(rpcBufferShadow(g, b));
}

/**
 * RPC_CMD answered: the guest's reply (its own buffer) is copied once, then
 * only what OP-TEE reads back goes into the shadow: ret, ret_origin and the
 * parameters' values and sizes. An SHM_ALLOC reply carries a page list: it
 * is translated like REGISTER_SHM's, or replaced by an error.
 */
function commandAnswered(g: u32, c: i32, b: i32): void {
  const shadow = rpcBufferShadow(g, b);
  const size = rpcBufferSize(g, b);
  if (!readGuest(g, rpcBufferIpa(g, b), reply, size)) {
    store<u32>(shadow + M.MSG_RET, M.TEE_ERROR_GENERIC); // cannot happen to a buffer checked at RPC_ALLOC
    return;
  }
  store<u64>(shadow + M.MSG_RET, load<u64>(reply + M.MSG_RET)); // ret and ret_origin
  let n = load<u32>(shadow + M.MSG_NUM_PARAMS);
  const fit: u32 = size < M.OPTEE_MSG_ARG_SIZE ? 0 : (size - M.OPTEE_MSG_ARG_SIZE) / M.OPTEE_MSG_PARAM_SIZE;
  if (n > fit) n = fit;
  if (load<u32>(shadow + M.MSG_CMD) == M.OPTEE_RPC_CMD_SHM_ALLOC) {
    shmAllocAnswered(g, c, shadow, n);
    return;
  }
  for (let i: u32 = 0; i < n; i++) memory.copy(paramAt(shadow, i) + M.PARAM_A, paramAt(reply, i) + M.PARAM_A, 24);
}

/**
 * SHM_ALLOC: the guest allocated memory for OP-TEE (a TA's image, say) and
 * describes it in params[0] as a page list. OP-TEE gets the translated list,
 * and the buffer is held until OP-TEE's SHM_FREE.
 */
function shmAllocAnswered(g: u32, c: i32, shadow: usize, n: u32): void {
  if (load<u32>(shadow + M.MSG_RET) != M.TEE_SUCCESS) return; // the guest could not: OP-TEE sees its error
  const param = paramAt(reply, 0);
  const attr = load<u64>(param + M.PARAM_ATTR);
  const bufPtr = load<u64>(param + M.PARAM_A), size = load<u64>(param + M.PARAM_B);
  const cookie = load<u64>(param + M.PARAM_C);
  if (n < 1 || paramType(param) != M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT || (attr & M.OPTEE_MSG_ATTR_NONCONTIG) == 0) {
    logRefused(g, "SHM_ALLOC reply without a page list", attr);
    return shmAllocRefused(shadow, M.TEE_ERROR_BAD_PARAMETERS);
  }
  // OP-TEE asked for params[0].value.b bytes and drops a smaller buffer without SHM_FREE: never hold one.
  const asked = load<u64>(paramAt(shadow, 0) + M.PARAM_B);
  if (size < asked) {
    logRefused(g, "SHM_ALLOC reply smaller than asked", size);
    return shmAllocRefused(shadow, M.TEE_ERROR_BAD_PARAMETERS);
  }
  if (shmCookieLive(g, SHM_RPC, cookie)) {
    logRefused(g, "SHM_ALLOC reply under the cookie of a buffer it lent OP-TEE so already", cookie);
    return shmAllocRefused(shadow, M.TEE_ERROR_BAD_PARAMETERS);
  }
  const translated = listTranslate(g, bufPtr, size);
  if (translated == 0) {
    logRefused(g, "SHM_ALLOC page list", bufPtr);
    return shmAllocRefused(shadow, listError);
  }
  const record = shmReserve(g, SHM_RPC, cookie, listPages);
  if (record == SHM_NONE || !callAddList(g, c, translated)) {
    listFree(translated);
    if (record == SHM_NONE) logLimit(g, shmLimitWasCount ? LIMIT_SHM_BUFFERS : LIMIT_SHM_PAGES);
    else shmRelease(g, record);
    return shmAllocRefused(shadow, M.TEE_ERROR_OUT_OF_MEMORY);
  }
  statHeld(g);
  const call = callAt(g, c);
  call.shm = record;
  call.shmOp = SHM_OP_RPC_ALLOC;
  const out = paramAt(shadow, 0);
  store<u64>(out + M.PARAM_ATTR, <u64>M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG);
  store<u64>(out + M.PARAM_A, translated);
  store<u64>(out + M.PARAM_B, size);
  store<u64>(out + M.PARAM_C, cookie);
}

function shmAllocRefused(shadow: usize, ret: u32): void {
  store<u32>(shadow + M.MSG_RET, ret);
  store<u32>(shadow + M.MSG_RET_ORIGIN, M.TEE_ORIGIN_COMMS);
  const out = paramAt(shadow, 0);
  store<u64>(out + M.PARAM_A, 0);
  store<u64>(out + M.PARAM_C, 0);
}
