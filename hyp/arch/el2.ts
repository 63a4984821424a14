/**
 * AArch64 EL2 register encodings the core decides (Arm ARM DDI 0487): what a
 * guest traps on, its stage-2 translation control, and its entry state.
 */

// HCR_EL2 bits, and why a statically partitioned guest needs each one it gets.
export const HCR_VM: u64 = 1 << 0; // stage-2 translation on: a guest reaches only its own RAM
// Set/way invalidation becomes clean+invalidate: a guest's DC ISW must not discard another guest's (or the
// hypervisor's) dirty lines in a shared cache.
export const HCR_SWIO: u64 = 1 << 1;
export const HCR_FMO: u64 = 1 << 3; // physical FIQs to EL2, virtual FIQs to the guest
export const HCR_IMO: u64 = 1 << 4; // physical IRQs to EL2 (the GIC is the hypervisor's); ICC_SGI1R_EL1 writes trap
export const HCR_AMO: u64 = 1 << 5; // SErrors to EL2: a guest's external abort is not the machine's
export const HCR_TSC: u64 = 1 << 19; // the guest's SMCs trap here: the mediator sees every one
export const HCR_RW: u64 = 1 << 31; // EL1 is AArch64 (guests are AArch64 only)
// Pointer-authentication instructions and keys are the guest's: trapping them would only cost exits.
export const HCR_APK: u64 = <u64>1 << 40;
export const HCR_API: u64 = <u64>1 << 41;
// Not set: FB and BSU. Each vCPU stays on its own physical CPU for good, so a guest's local TLB and I-cache
// maintenance and its local barriers mean on that CPU exactly what they mean on bare metal; broadcasting them
// (FB) would make every CPU pay for every guest's local flushes. Nor TVM/TRVM, TID*, TACR: nothing of the
// guest's EL1 state is the hypervisor's. Nor TWI/TWE: a vCPU waits in WFI on its own CPU, at EL1, and an
// interrupt for it still arrives at EL2 first (IMO) and wakes it.

export const HCR_GUEST: u64 = HCR_VM | HCR_SWIO | HCR_FMO | HCR_IMO | HCR_AMO | HCR_TSC | HCR_RW | HCR_APK | HCR_API;

/**
 * VTCR_EL2: 4 KiB granule, 32-bit IPA space (T0SZ = 32) walked from level 1
 * (SL0 = 1), write-back inner-shareable walks, 40-bit PA, 8-bit VMID.
 */
export const VTCR_GUEST: u64 = (1 << 31) | (2 << 16) | (3 << 12) | (1 << 10) | (1 << 8) | (1 << 6) | 32;
/** The IPA space VTCR_GUEST gives a guest: 4 GiB. */
export const GUEST_IPA_LIMIT: u64 = <u64>1 << 32;

/** SPSR for a vCPU's first instruction: EL1h, all of D, A, I, F masked (as Linux's boot protocol asks). */
export const SPSR_EL1H_MASKED: u64 = 0x3c5;

/** VMPIDR_EL2 of vCPU n: bit 31 RES1, single cluster, Aff0 = n. */
export function vmpidrOf(vcpu: u32): u64 {
  return (<u64>1 << 31) | <u64>vcpu;
}

export function vttbrOf(vmid: u32, tablePa: u64): u64 {
  return (<u64>(vmid & 0xff) << 48) | tablePa;
}
