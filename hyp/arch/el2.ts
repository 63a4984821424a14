/**
 * AArch64 EL2 register encodings the core decides (Arm ARM DDI 0487): what a
 * guest traps on, its stage-2 translation control, and its entry state.
 */

// The HCR_EL2 bits a guest gets (HCR_GUEST, each with why), the isolation bits C forces (HCR_ISOLATION), VTCR_EL2
// and the entry SPSR are written once in tools/abi/el2.ts: hyp/gen/el2.ts and boot's abi.h are generated from it.
export {
  GUEST_IPA_LIMIT, HCR_AMO, HCR_API, HCR_APK, HCR_FMO, HCR_GUEST, HCR_IMO, HCR_RW, HCR_SWIO, HCR_TSC, HCR_VM,
  SPSR_EL1H_MASKED, SPSR_M_EL2H, VTCR_GUEST,
} from "../gen/el2";

/** VMPIDR_EL2 of vCPU n: bit 31 RES1, single cluster, Aff0 = n. */
export function vmpidrOf(vcpu: u32): u64 {
  return (<u64>1 << 31) | <u64>vcpu;
}

export function vttbrOf(vmid: u32, tablePa: u64): u64 {
  return (<u64>(vmid & 0xff) << 48) | tablePa;
}
