/**
 * Fast calls: answered at once by OP-TEE, on no thread. Most pass through
 * with the caller's client id; a few are the mediator's to answer, because
 * they describe things a guest must not use.
 */
import { setGuestReg, setSmc, smcReg, guestReg } from "../../../core/percpu";
import { opteeInfo } from "../info";
import * as smc from "../smc";
import { notifAnswerGet, notifEnableReturned } from "./notif";
import { setResult } from "./result";
import { rpcBufferFind, rpcBufferRemove } from "./rpcbuf";

/**
 * Capabilities a guest is not told about: the static shared-memory window
 * (guests have none), VIRTUALIZATION (the hypervisor's business), RPC_ARG
 * (its calls would name buffers the mediator does not shadow), RPMB_PROBE
 * (the RPMB device is not the guest's). ASYNC_NOTIF stays: notifications are
 * routed to each guest (notif.ts, drain.ts), and the max value in a2 passes.
 */
export const HIDDEN_CAPS: u32 = smc.OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM | smc.OPTEE_SMC_SEC_CAP_VIRTUALIZATION |
  smc.OPTEE_SMC_SEC_CAP_RPC_ARG | smc.OPTEE_SMC_SEC_CAP_RPMB_PROBE;

/** Fast calls forwarded to OP-TEE as they are (but for x7). */
function isPassThroughFast(fid: u32): bool {
  return fid == smc.OPTEE_SMC_CALLS_UID || fid == smc.OPTEE_SMC_CALLS_REVISION ||
    fid == smc.OPTEE_SMC_CALL_GET_OS_UUID || fid == smc.OPTEE_SMC_CALL_GET_OS_REVISION ||
    fid == smc.OPTEE_SMC_EXCHANGE_CAPABILITIES || fid == smc.OPTEE_SMC_ENABLE_SHM_CACHE ||
    fid == smc.OPTEE_SMC_DISABLE_SHM_CACHE || fid == smc.OPTEE_SMC_ENABLE_ASYNC_NOTIF;
}

/**
 * Answers fast call `fid` of guest g's vCPU on `cpu` without OP-TEE when it
 * is the mediator's to answer; returns false when it must be forwarded.
 */
export function answerFastLocally(cpu: u32, g: u32, fid: u32): bool {
  if (isPassThroughFast(fid)) return false;
  if (fid == smc.OPTEE_SMC_GET_ASYNC_NOTIF_VALUE) {
    notifAnswerGet(cpu, g); // from the values drained for this guest: never another guest's
  } else if (fid == smc.OPTEE_SMC_GET_SHM_CONFIG) {
    setResult(cpu, smc.OPTEE_SMC_RETURN_ENOTAVAIL, 0, 0, 0);
  } else if (fid == smc.OPTEE_SMC_GET_THREAD_COUNT) {
    setResult(cpu, smc.OPTEE_SMC_RETURN_OK, opteeInfo.threadCount, 0, 0);
  } else if (fid == smc.OPTEE_SMC_VM_CREATED || fid == smc.OPTEE_SMC_VM_DESTROYED) {
    // What OP-TEE answers any caller but the hypervisor.
    setResult(cpu, smc.OPTEE_SMC_RETURN_ENOTAVAIL, 0, 0, 0);
  } else {
    setResult(cpu, smc.OPTEE_SMC_RETURN_UNKNOWN_FUNCTION, 0, 0, 0);
  }
  return true;
}

/** Loads a pass-through fast call of the guest on `cpu` for OP-TEE, with its client id. */
export function loadFast(cpu: u32, fid: u32, client: u32): void {
  // EXCHANGE_CAPABILITIES: a1 = the normal world's capabilities, a bit mask OP-TEE checks itself.
  const a1: u64 = fid == smc.OPTEE_SMC_EXCHANGE_CAPABILITIES ? guestReg(cpu, 1) & 0xffffffff : 0;
  setSmc(cpu, fid, a1, 0, <u64>client);
}

/** OP-TEE answered fast call `fid` of guest g on `cpu`: the guest gets a0..a3, edited where needed. */
export function fastReturned(cpu: u32, g: u32, fid: u32): void {
  const a0 = <u32>smcReg(cpu, 0);
  let a1 = <u32>smcReg(cpu, 1);
  const a2 = <u32>smcReg(cpu, 2), a3 = <u32>smcReg(cpu, 3);
  if (fid == smc.OPTEE_SMC_EXCHANGE_CAPABILITIES && a0 == smc.OPTEE_SMC_RETURN_OK) a1 &= ~HIDDEN_CAPS;
  if (fid == smc.OPTEE_SMC_ENABLE_ASYNC_NOTIF) notifEnableReturned(g, a0);
  if (fid == smc.OPTEE_SMC_DISABLE_SHM_CACHE && a0 == smc.OPTEE_SMC_RETURN_OK) {
    // OP-TEE gives back one cached RPC argument buffer (a1:a2 = its cookie): its shadow can go.
    rpcBufferRemove(g, rpcBufferFind(g, (<u64>a1 << 32) | <u64>a2));
  }
  setResult(cpu, a0, a1, a2, a3);
}

