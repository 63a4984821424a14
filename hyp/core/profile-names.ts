/**
 * Names of HVC/SMC kinds in the profile (core/account.ts's key layout): "psci:CPU_ON",
 * "optee:CALL_WITH_ARG:INVOKE_COMMAND+memref", "optee:CALL_WITH_ARG:REGISTER_SHM:pages<=16", or the
 * owner and function number in hex for anything unnamed.
 */
import * as S from "../arch/smccc";
import { put, putDec, putHex } from "../lib/log";
import * as smc from "../tee/optee/smc";
import * as msg from "../tee/optee/msg";

export function profileSmcccName(key: u32): void {
  const fast = (key >> 23) & 1;
  const owner = (key >> 16) & 0x3f;
  if (owner == S.SMCCC_OWNER_ARCH) {
    put("arch:");
    putFunction(fast, owner, key);
  } else if (owner == S.SMCCC_OWNER_STANDARD) {
    put("psci:");
    putFunction(fast, owner, key);
  } else if (owner >= S.SMCCC_OWNER_TRUSTED_OS && owner <= S.SMCCC_OWNER_TRUSTED_OS_END) {
    put("optee:");
    putOpteeFunction(fast, owner, key);
  } else {
    put("owner"); putDec(owner); put(":"); putHex(key & 0xffff);
  }
}

/** The SMCCC function id the key was made from (without the SMC64 bit). */
function fidOf(fast: u32, owner: u32, key: u32): u32 {
  const number = fast ? key & 0xffff : key & 0xff;
  return (fast << 31) | (owner << S.SMCCC_OWNER_SHIFT) | number;
}

function putFunction(fast: u32, owner: u32, key: u32): void {
  const fid = fidOf(fast, owner, key);
  if (fid == S.SMCCC_VERSION) put("SMCCC_VERSION");
  else if (fid == S.SMCCC_ARCH_FEATURES) put("SMCCC_ARCH_FEATURES");
  else if (fid == S.PSCI_0_2_FN_PSCI_VERSION) put("PSCI_VERSION");
  else if (fid == S.PSCI_0_2_FN_CPU_SUSPEND) put("CPU_SUSPEND");
  else if (fid == S.PSCI_0_2_FN_CPU_OFF) put("CPU_OFF");
  else if (fid == S.PSCI_0_2_FN_CPU_ON) put("CPU_ON");
  else if (fid == S.PSCI_0_2_FN_AFFINITY_INFO) put("AFFINITY_INFO");
  else if (fid == S.PSCI_0_2_FN_MIGRATE_INFO_TYPE) put("MIGRATE_INFO_TYPE");
  else if (fid == S.PSCI_0_2_FN_SYSTEM_OFF) put("SYSTEM_OFF");
  else if (fid == S.PSCI_0_2_FN_SYSTEM_RESET) put("SYSTEM_RESET");
  else if (fid == S.PSCI_1_0_FN_PSCI_FEATURES) put("PSCI_FEATURES");
  else putHex(fid);
}

function putOpteeFunction(fast: u32, owner: u32, key: u32): void {
  const fid = fidOf(fast, owner, key) & ~S.SMCCC_SMC64;
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
