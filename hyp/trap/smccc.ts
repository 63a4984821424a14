/**
 * A guest's HVC or (trapped) SMC, routed by its SMCCC owner: Arm
 * architecture calls and PSCI are answered here; Trusted-OS calls go to the
 * TEE mediator through the core's seam (core/tee.ts; the OP-TEE mediator
 * answers "unknown function" to a guest without TEE access, as OP-TEE answers
 * an id it does not know); anything else is NOT_SUPPORTED.
 */
import * as S from "../arch/smccc";
import { FRAME_X0, frameOf, guestReg } from "../core/percpu";
import { continueCpu } from "../core/run";
import { guestOfCpu } from "../core/vcpu";
import { psciCall } from "../psci/psci";
import { teeCall } from "../core/tee";

export function smcccCall(cpu: u32): u32 {
  const fid = <u32>guestReg(cpu, 0);
  const x0 = frameOf(cpu) + FRAME_X0;
  const owner = S.smcccOwner(fid);
  if (owner >= S.SMCCC_OWNER_TRUSTED_OS && owner <= S.SMCCC_OWNER_TRUSTED_OS_END) {
    return teeCall(cpu, guestOfCpu(cpu), fid);
  }
  // SMCCC: bits 23:16 of a valid function id are zero ("must be zero" for SMC32/64 calls).
  if ((fid & 0x00ff0000) == 0) {
    if (owner == S.SMCCC_OWNER_STANDARD) {
      return psciCall(cpu, fid, guestReg(cpu, 1), guestReg(cpu, 2), guestReg(cpu, 3), x0);
    }
    if (owner == S.SMCCC_OWNER_ARCH) {
      store<u64>(x0, archCall(fid, <u32>guestReg(cpu, 1)));
      return continueCpu(cpu);
    }
  }
  store<u64>(x0, <u64><i64><i32>S.SMCCC_RET_NOT_SUPPORTED);
  return continueCpu(cpu);
}

function archCall(fid: u32, x1: u32): u64 {
  if (fid == S.SMCCC_VERSION) return S.SMCCC_VERSION_1_1;
  if (fid == S.SMCCC_ARCH_FEATURES) {
    // Only the calls themselves; no firmware workarounds (ARCH_WORKAROUND_*) are offered.
    if (x1 == S.SMCCC_VERSION || x1 == S.SMCCC_ARCH_FEATURES) return 0;
  }
  return <u64><i64><i32>S.SMCCC_RET_NOT_SUPPORTED;
}
