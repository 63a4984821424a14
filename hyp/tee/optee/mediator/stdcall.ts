/**
 * CALL_WITH_ARG: a client's request (open a session, invoke a command,
 * register memory, …) in a struct optee_msg_arg in the guest's RAM.
 *
 * The mediator copies the guest's page into a shadow page first and from
 * then on reads and gives OP-TEE only the shadow, so a guest changing its
 * page during the call changes nothing. Checks follow OP-TEE's own
 * (thread_optee_smc.c): the argument must be page aligned and fit in its
 * page; addresses in parameters are translated (params.ts). Only what OP-TEE
 * answers goes back: results, values, sizes (params.ts resultsCopyBack).
 */
import { ipaInRam } from "../../../core/guest";
import { guestReg, setSmc, smcReg } from "../../../core/percpu";
import * as M from "../msg";
import * as smc from "../smc";
import { Call, callAt, callClose, callFreeLists, callOpen, CALL_IN_OPTEE, CALL_NONE, SHM_OP_REGISTER,
  SHM_OP_RPC_ALLOC, SHM_OP_UNREGISTER } from "./calls";
import { setResult } from "./result";
import { readGuest } from "./guestmem";
import { latencyDrop, latencyEnd, latencyNow, latencyStart, LATENCY_BOTTOM_HALF, LATENCY_BOTTOM_HALF_CALL,
  LATENCY_BOTTOM_HALF_SERVED } from "./latency";
import { notifStop } from "./notif";
import { LIMIT_CALLS, LIMIT_POOL, LIMIT_SHM_BUFFERS, LIMIT_SHM_PAGES, logLimit, logRefused } from "./log";
import { anyMemref, paramAt, paramsTranslate, refuseInArg, refusalOrigin, resultsCopyBack, translatedPages } from "./params";
import { accountMessage } from "../../../core/account";
import { PAGE_MASK, PAGE_SIZE, poolAlloc, poolFree, poolPa } from "./pool";
import { rpcRequested } from "./rpc";
import { statCount, statHeld, STAT_NOTIF_BH_NO_THREAD } from "./stats";
import { shmConfirm, shmFind, shmLimitWasCount, shmRelease, shmReserve, SHM_NONE, SHM_REGISTERED } from "./shm";

/** Largest parameter count whose optee_msg_arg fits in one page. */
const MAX_PARAMS_IN_PAGE: u32 = (PAGE_SIZE - M.OPTEE_MSG_ARG_SIZE) / M.OPTEE_MSG_PARAM_SIZE;

/**
 * The guest on `cpu` (guest g) made a CALL_WITH_ARG. Returns the call to
 * forward (its shadow loaded into the CPU's SMC registers), or CALL_NONE when
 * the mediator has answered it already (the guest's registers hold the answer).
 */
export function callWithArg(cpu: u32, g: u32, client: u32): i32 {
  const argIpa = ((guestReg(cpu, 1) & 0xffffffff) << 32) | (guestReg(cpu, 2) & 0xffffffff);
  if ((argIpa & PAGE_MASK) != 0 || !ipaInRam(g, argIpa, PAGE_SIZE)) {
    logRefused(g, "message argument not in its RAM or not page aligned", argIpa);
    return answer(cpu, smc.OPTEE_SMC_RETURN_EBADADDR);
  }
  // Not cleared: the header and exactly num_params parameters are copied in below, and neither OP-TEE nor the
  // copy back reads past them.
  const shadow = poolAlloc(g, false);
  if (shadow == 0) {
    logLimit(g, LIMIT_POOL);
    return answer(cpu, smc.OPTEE_SMC_RETURN_ETHREAD_LIMIT);
  }
  const c = callOpen(g, argIpa, shadow);
  if (c == CALL_NONE) {
    poolFree(shadow);
    logLimit(g, LIMIT_CALLS);
    return answer(cpu, smc.OPTEE_SMC_RETURN_ETHREAD_LIMIT);
  }
  // The header first, then exactly its parameters: num_params is read once, from the copy, and every
  // later check reads the copy too.
  readGuest(g, argIpa, shadow, M.OPTEE_MSG_ARG_SIZE);
  const n = load<u32>(shadow + M.MSG_NUM_PARAMS);
  if (n > MAX_PARAMS_IN_PAGE) {
    callClose(g, c);
    logRefused(g, "message argument crosses its page (num_params)", <u64>n);
    return answer(cpu, smc.OPTEE_SMC_RETURN_EBADADDR);
  }
  if (n != 0) {
    const params = <usize>M.OPTEE_MSG_ARG_SIZE;
    readGuest(g, argIpa + <u64>params, shadow + params, n * M.OPTEE_MSG_PARAM_SIZE);
  }
  if (load<u32>(shadow + M.MSG_CMD) == M.OPTEE_MSG_CMD_DO_BOTTOM_HALF) bottomHalfCalled(g);
  const refused = prepare(g, c, shadow, n);
  if (refused != M.TEE_SUCCESS) {
    refuseInArg(g, shadow, argIpa, refused, refusalOrigin);
    callClose(g, c);
    return answer(cpu, smc.OPTEE_SMC_RETURN_OK);
  }
  accountMessage(cpu, load<u32>(shadow + M.MSG_CMD), anyMemref(shadow, n), translatedPages);
  const pa = poolPa(shadow);
  // a3 (cache settings) is 0: the shadow is not in a predefined shared-memory area.
  setSmc(cpu, smc.OPTEE_SMC_CALL_WITH_ARG, pa >> 32, pa & 0xffffffff, <u64>client);
  callAt(g, c).state = CALL_IN_OPTEE;
  return c;
}

/** Translates the parameters and settles what the command does to registered memory. */
function prepare(g: u32, c: i32, shadow: usize, n: u32): u32 {
  const result = paramsTranslate(g, c, shadow, n);
  if (result != M.TEE_SUCCESS) return result;
  const cmd = load<u32>(shadow + M.MSG_CMD);
  const call = callAt(g, c);
  if (cmd == M.OPTEE_MSG_CMD_REGISTER_SHM) return prepareRegister(g, call, shadow, n);
  if (cmd == M.OPTEE_MSG_CMD_UNREGISTER_SHM) return prepareUnregister(g, call, shadow, n);
  // The guest's driver is going away: from now on its notifications are not routed (OP-TEE stops them too).
  if (cmd == M.OPTEE_MSG_CMD_STOP_ASYNC_NOTIF) notifStop(g);
  return M.TEE_SUCCESS;
}

/** REGISTER_SHM: params[0] is the buffer's page list (translated above); it is held from now on. */
function prepareRegister(g: u32, call: Call, shadow: usize, n: u32): u32 {
  const param = paramAt(shadow, 0);
  const attr = load<u64>(param + M.PARAM_ATTR);
  if (n < 1 || (attr & M.OPTEE_MSG_ATTR_NONCONTIG) == 0 || translatedPages == 0) {
    logRefused(g, "REGISTER_SHM without a page list", attr);
    return M.TEE_ERROR_BAD_PARAMETERS;
  }
  // Its cookie names no buffer the guest has registered: paramsTranslate refused a page list under one.
  const record = shmReserve(g, SHM_REGISTERED, load<u64>(param + M.PARAM_C), translatedPages);
  if (record == SHM_NONE) {
    logLimit(g, shmLimitWasCount ? LIMIT_SHM_BUFFERS : LIMIT_SHM_PAGES);
    return M.TEE_ERROR_OUT_OF_MEMORY;
  }
  statHeld(g);
  call.shm = record;
  call.shmOp = SHM_OP_REGISTER;
  return M.TEE_SUCCESS;
}

/**
 * UNREGISTER_SHM: only a cookie this guest registered reaches OP-TEE. Any
 * other gets what OP-TEE answers a cookie it does not know
 * (mobj_reg_shm_release_by_cookie: TEE_ERROR_BAD_PARAMETERS).
 */
function prepareUnregister(g: u32, call: Call, shadow: usize, n: u32): u32 {
  const cookie = n >= 1 ? load<u64>(paramAt(shadow, 0) + M.PARAM_C) : 0;
  const record = shmFind(g, SHM_REGISTERED, cookie);
  if (record == SHM_NONE) {
    logRefused(g, "UNREGISTER_SHM of a cookie it never registered", cookie);
    return M.TEE_ERROR_BAD_PARAMETERS;
  }
  call.shm = record;
  call.shmOp = SHM_OP_UNREGISTER;
  return M.TEE_SUCCESS;
}

/**
 * OP-TEE returned from call c of guest g on `cpu`: an RPC request (the call
 * stays open, see rpc.ts) or the end of the call.
 */
export function stdReturned(cpu: u32, g: u32, c: i32): void {
  const a0 = <u32>smcReg(cpu, 0);
  const call = callAt(g, c);
  if (a0 != smc.OPTEE_SMC_RETURN_RPC_PREFIX + smc.OPTEE_SMC_RPC_FUNC_FOREIGN_INTR) {
    // OP-TEE has read the page lists of this call (or of the SHM_ALLOC it was answered):
    // it reads them before any RPC but a foreign interrupt, which may come first
    // (it runs with foreign interrupts unmasked), so only then do they go.
    callFreeLists(g, c);
    if (call.shmOp == SHM_OP_RPC_ALLOC) {
      // OP-TEE took the SHM_ALLOC buffer; it stays held until OP-TEE's SHM_FREE.
      shmConfirm(g, call.shm);
      call.shm = SHM_NONE;
      call.shmOp = 0;
    }
  }
  if ((a0 & smc.OPTEE_SMC_RETURN_RPC_PREFIX_MASK) == smc.OPTEE_SMC_RETURN_RPC_PREFIX) {
    rpcRequested(cpu, g, c);
    return;
  }
  if (load<u32>(call.shadow + M.MSG_CMD) == M.OPTEE_MSG_CMD_DO_BOTTOM_HALF) bottomHalfReturned(g, a0);
  if (a0 == smc.OPTEE_SMC_RETURN_OK) finishCall(g, call);
  setResult(cpu, a0, <u32>smcReg(cpu, 1), <u32>smcReg(cpu, 2), <u32>smcReg(cpu, 3));
  callClose(g, c);
}

/** The call completed: the guest sees OP-TEE's answer, and registered memory is settled. */
function finishCall(g: u32, call: Call): void {
  const shadow = call.shadow;
  let n = load<u32>(shadow + M.MSG_NUM_PARAMS);
  if (n > MAX_PARAMS_IN_PAGE) n = MAX_PARAMS_IN_PAGE; // never copy back past the shadow page
  resultsCopyBack(g, shadow, call.argIpa, n);
  const ret = load<u32>(shadow + M.MSG_RET);
  if (call.shmOp == SHM_OP_REGISTER && ret == M.TEE_SUCCESS) {
    shmConfirm(g, call.shm);
    call.shmOp = 0; // kept: callClose lets go only of registrations that did not complete
  } else if (call.shmOp == SHM_OP_UNREGISTER && ret == M.TEE_SUCCESS) {
    shmRelease(g, call.shm);
    call.shmOp = 0;
  }
}

/**
 * Guest g's DO_BOTTOM_HALF came back with a0: with OK OP-TEE has run it (its watchdog counts it served); with
 * ETHREAD_LIMIT both of the guest's OP-TEE threads were busy, and the guest waits for one and tries again.
 */
function bottomHalfReturned(g: u32, a0: u32): void {
  if (a0 == smc.OPTEE_SMC_RETURN_OK) {
    latencyEnd(g, LATENCY_BOTTOM_HALF);
    latencyEnd(g, LATENCY_BOTTOM_HALF_SERVED);
    return;
  }
  latencyDrop(g, LATENCY_BOTTOM_HALF_SERVED);
  if (a0 == smc.OPTEE_SMC_RETURN_ETHREAD_LIMIT) statCount(g, STAT_NOTIF_BH_NO_THREAD);
}

/** Guest g's DO_BOTTOM_HALF call reached the mediator: the guest's part of the notification ends here. */
function bottomHalfCalled(g: u32): void {
  latencyEnd(g, LATENCY_BOTTOM_HALF_CALL);
  latencyStart(g, LATENCY_BOTTOM_HALF_SERVED, latencyNow());
}

function answer(cpu: u32, a0: u32): i32 {
  setResult(cpu, a0, 0, 0, 0);
  return CALL_NONE;
}
