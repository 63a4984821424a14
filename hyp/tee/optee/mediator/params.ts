/**
 * The parameters of a std call's message argument, on their way into OP-TEE
 * (checked and translated in the shadow copy) and back to the guest (only
 * what OP-TEE answered: results, values, sizes; never an address the
 * mediator put in the shadow).
 */
import * as M from "../msg";
import { callAddList } from "./calls";
import { listError, listFree, listPages, listTranslate } from "./pagelist";
import { logRefused } from "./log";
import { readGuest, writeGuest } from "./guestmem";
import { shmCookieLive, SHM_REGISTERED } from "./shm";
import { PAGE_SIZE } from "./pool";

/** Data pages of the last buffer translated by paramsTranslate (REGISTER_SHM needs them). */
export let translatedPages: u32 = 0;
/**
 * Who the guest is told refused its call (ret_origin): COMMS for what the mediator could not carry (a page list it
 * cannot translate, a limit), TEE for an identifier that is not the guest's to use — what OP-TEE's own entry
 * code (entry_std.c) answers with TEE_ERROR_BAD_PARAMETERS for a cookie or session it does not accept.
 */
export let refusalOrigin: u32 = M.TEE_ORIGIN_COMMS;

/** Refuses a call for an identifier (cookie) that is not the guest's to use now. */
export function refuseIdentifier(g: u32, what: string, value: u64): u32 {
  logRefused(g, what, value);
  refusalOrigin = M.TEE_ORIGIN_TEE;
  return M.TEE_ERROR_BAD_PARAMETERS;
}

@inline export function paramAt(arg: usize, i: u32): usize {
  return arg + <usize>(M.OPTEE_MSG_ARG_SIZE + i * M.OPTEE_MSG_PARAM_SIZE);
}

@inline export function paramType(param: usize): u32 {
  return <u32>(load<u64>(param + M.PARAM_ATTR) & M.OPTEE_MSG_ATTR_TYPE_MASK);
}

export function isTmem(type: u32): bool {
  return type >= M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
}

export function isRmem(type: u32): bool {
  return type >= M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
}

function isValue(type: u32): bool {
  return type >= M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT;
}

/** Whether any of the n parameters is a memory reference (temporary or registered): for the profile. */
export function anyMemref(arg: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    const type = paramType(paramAt(arg, i));
    if (isTmem(type) || isRmem(type)) return true;
  }
  return false;
}

/**
 * Checks and translates the n parameters of the shadow `arg` (call c of guest
 * g). Returns TEE_SUCCESS, or the TEE error the guest gets without OP-TEE
 * seeing the call.
 */
export function paramsTranslate(g: u32, c: i32, arg: usize, n: u32): u32 {
  translatedPages = 0;
  refusalOrigin = M.TEE_ORIGIN_COMMS;
  for (let i: u32 = 0; i < n; i++) {
    const param = paramAt(arg, i);
    const type = paramType(param);
    if (type == M.OPTEE_MSG_ATTR_TYPE_NONE || isValue(type) || isRmem(type)) continue;
    if (!isTmem(type)) {
      logRefused(g, "unknown parameter type", <u64>type);
      return M.TEE_ERROR_BAD_PARAMETERS;
    }
    const result = tmemTranslate(g, c, param);
    if (result != M.TEE_SUCCESS) return result;
  }
  return M.TEE_SUCCESS;
}

/**
 * A temporary memref: a NULL one (no buffer) passes; a page list is
 * translated; a contiguous buffer by physical address could only be in the
 * static shared-memory window, which guests are not offered: refused.
 */
function tmemTranslate(g: u32, c: i32, param: usize): u32 {
  const attr = load<u64>(param + M.PARAM_ATTR);
  const bufPtr = load<u64>(param + M.PARAM_A);
  if (bufPtr == 0) return M.TEE_SUCCESS; // a NULL memref, with or without NONCONTIG (OP-TEE: no buffer)
  if ((attr & M.OPTEE_MSG_ATTR_NONCONTIG) == 0) {
    logRefused(g, "memref by physical address (no static shared memory for guests)", bufPtr);
    return M.TEE_ERROR_BAD_PARAMETERS;
  }
  // OP-TEE files a page-list memref under its cookie (mobj_reg_shm_alloc puts even a temporary one in
  // reg_shm_list): a REGISTER_SHM's, or a temporary one, must not name a buffer the guest has registered.
  const cookie = load<u64>(param + M.PARAM_C);
  if (shmCookieLive(g, SHM_REGISTERED, cookie)) return refuseIdentifier(g, "page-list memref under the cookie of a registered buffer", cookie);
  const translated = listTranslate(g, bufPtr, load<u64>(param + M.PARAM_B));
  if (translated == 0) {
    logRefused(g, "page list", bufPtr);
    return listError;
  }
  if (!callAddList(g, c, translated)) {
    listFree(translated);
    logRefused(g, "too many page lists in one call", bufPtr);
    return M.TEE_ERROR_BAD_PARAMETERS;
  }
  store<u64>(param + M.PARAM_A, translated);
  translatedPages = listPages;
  return M.TEE_SUCCESS;
}

/**
 * Copies OP-TEE's answer from the shadow to the guest's argument at argIpa (n parameters, all in the shadow's
 * page):
 * ret, ret_origin, session, and per parameter the values (value types) or
 * the size (memrefs: how much OP-TEE wrote or needs). Attributes and
 * addresses in the guest's copy stay the guest's own.
 */
export function resultsCopyBack(g: u32, shadow: usize, argIpa: u64, n: u32): void {
  // In two guest-memory copies, not one per field (each costs a check and a call out to C): the guest's argument
  // as it is now, OP-TEE's answers merged into it, back in one piece. What was not OP-TEE's to answer is written
  // back as the guest left it, so its attributes and addresses stay its own; a guest changing its argument while
  // the call was in flight races only with itself.
  const len = M.OPTEE_MSG_ARG_SIZE + n * M.OPTEE_MSG_PARAM_SIZE;
  if (!readGuest(g, argIpa, copyBack, len)) return;
  store<u32>(copyBack + M.MSG_SESSION, load<u32>(shadow + M.MSG_SESSION));
  store<u64>(copyBack + M.MSG_RET, load<u64>(shadow + M.MSG_RET)); // ret and ret_origin
  for (let i: u32 = 0; i < n; i++) {
    const param = paramAt(shadow, i);
    const mine = paramAt(copyBack, i);
    const type = paramType(param);
    if (isValue(type)) {
      store<u64>(mine + M.PARAM_A, load<u64>(param + M.PARAM_A));
      store<u64>(mine + M.PARAM_B, load<u64>(param + M.PARAM_B));
      store<u64>(mine + M.PARAM_C, load<u64>(param + M.PARAM_C));
    }
    else if (isRmem(type) || isTmem(type)) store<u64>(mine + M.PARAM_B, load<u64>(param + M.PARAM_B));
  }
  writeGuest(g, argIpa, copyBack, len);
}

/** Where resultsCopyBack merges: a whole argument (a page; the core runs one event at a time, under its lock). */
const copyBack = memory.data(<i32>PAGE_SIZE, 8);

/** Answers the guest's call itself: ret and ret_origin in its argument, as OP-TEE reports a refused call. */
export function refuseInArg(g: u32, shadow: usize, argIpa: u64, ret: u32, origin: u32): void {
  store<u32>(shadow + M.MSG_RET, ret);
  store<u32>(shadow + M.MSG_RET_ORIGIN, origin);
  writeGuest(g, argIpa + M.MSG_RET, shadow + M.MSG_RET, 8);
}
