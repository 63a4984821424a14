/**
 * Names of OP-TEE's calls in the per-exit profile (core/account.ts's key layout, core/profile-names.ts):
 * "optee:CALL_WITH_ARG:INVOKE_COMMAND+memref", "optee:CALL_WITH_ARG:REGISTER_SHM:pages<=16", the function number in hex
 * for anything unnamed.
 */
import { put, putDec, putHex } from "../../lib/log";
import * as smc from "./smc";
import * as msg from "./msg";

/** Names OP-TEE function `fid` (SMC64 bit clear) of profile key `key` on the log line being built. */
export function putOpteeFunction(fid: u32, key: u32): void {
  put("optee:");
  if (fid == smc.OPTEE_SMC_CALLS_UID) put("CALLS_UID");
  else if (fid == smc.OPTEE_SMC_CALLS_REVISION) put("CALLS_REVISION");
  else if (fid == smc.OPTEE_SMC_CALL_GET_OS_UUID) put("GET_OS_UUID");
  else if (fid == smc.OPTEE_SMC_CALL_GET_OS_REVISION) put("GET_OS_REVISION");
  else if (fid == smc.OPTEE_SMC_GET_SHM_CONFIG) put("GET_SHM_CONFIG");
  else if (fid == smc.OPTEE_SMC_EXCHANGE_CAPABILITIES) put("EXCHANGE_CAPABILITIES");
  else if (fid == smc.OPTEE_SMC_DISABLE_SHM_CACHE) put("DISABLE_SHM_CACHE");
  else if (fid == smc.OPTEE_SMC_ENABLE_SHM_CACHE) put("ENABLE_SHM_CACHE");
  else if (fid == smc.OPTEE_SMC_GET_THREAD_COUNT) put("GET_THREAD_COUNT");
  else if (fid == smc.OPTEE_SMC_ENABLE_ASYNC_NOTIF) put("ENABLE_ASYNC_NOTIF");
  else if (fid == smc.OPTEE_SMC_GET_ASYNC_NOTIF_VALUE) put("GET_ASYNC_NOTIF_VALUE");
  else if (fid == smc.OPTEE_SMC_RETURN_FROM_RPC) put("RETURN_FROM_RPC");
  else if (fid == smc.OPTEE_SMC_CALL_WITH_ARG) {
    put("CALL_WITH_ARG");
    putMessage(key);
  } else putHex(fid);
}

function putMessage(key: u32): void {
  const cmdPlusOne = (key >> 24) & 0xf;
  if (cmdPlusOne == 0) return;
  const cmd = cmdPlusOne - 1;
  put(":");
  if (cmd == msg.OPTEE_MSG_CMD_OPEN_SESSION) put("OPEN_SESSION");
  else if (cmd == msg.OPTEE_MSG_CMD_INVOKE_COMMAND) put("INVOKE_COMMAND");
  else if (cmd == msg.OPTEE_MSG_CMD_CLOSE_SESSION) put("CLOSE_SESSION");
  else if (cmd == msg.OPTEE_MSG_CMD_CANCEL) put("CANCEL");
  else if (cmd == msg.OPTEE_MSG_CMD_REGISTER_SHM) put("REGISTER_SHM");
  else if (cmd == msg.OPTEE_MSG_CMD_UNREGISTER_SHM) put("UNREGISTER_SHM");
  else { put("cmd"); putDec(cmd); }
  if ((key >> 22) & 1) put("+memref");
  const bucket = (key >> 8) & 0xff;
  if (bucket) { put(":pages<="); putDec(<u64>1 << <u64>(bucket - 1)); }
}
