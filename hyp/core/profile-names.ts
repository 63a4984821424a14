/**
 * Names of HVC/SMC kinds in the profile (core/account.ts's key layout): "psci:CPU_ON",
 * "optee:CALL_WITH_ARG:INVOKE_COMMAND+memref", "optee:CALL_WITH_ARG:REGISTER_SHM:pages<=16" (the TEE
 * mediator names its own calls, core/tee-ops.ts), or the
 * owner and function number in hex for anything unnamed.
 */
import * as S from "../arch/smccc";
import { put, putDec, putHex } from "../lib/log";
import { teeOps } from "./tee-ops";

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
    teeOps().putFunctionName(fidOf(fast, owner, key) & ~S.SMCCC_SMC64, key);
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
