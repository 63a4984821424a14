/**
 * AArch64 EL2 values the core decides and C enforces (Arm ARM DDI 0487). The one description: the core's
 * hyp/gen/el2.ts and boot's abi.h are written from it by tools/build/abi-gen.ts.
 */

// HCR_EL2 bits, and why a statically partitioned guest needs each one it gets.
/** Stage-2 translation on: a guest reaches only its own RAM. */
export const HCR_VM = 2 ** 0;
/**
 * Set/way invalidation becomes clean+invalidate: a guest's DC ISW must not discard another guest's (or the
 * hypervisor's) dirty lines in a shared cache.
 */
export const HCR_SWIO = 2 ** 1;
/** Physical FIQs to EL2, virtual FIQs to the guest. */
export const HCR_FMO = 2 ** 3;
/** Physical IRQs to EL2 (the GIC is the hypervisor's); ICC_SGI1R_EL1 writes trap. */
export const HCR_IMO = 2 ** 4;
/** SErrors to EL2: a guest's external abort is not the machine's. */
export const HCR_AMO = 2 ** 5;
/** The guest's SMCs trap here: the mediator sees every one. */
export const HCR_TSC = 2 ** 19;
/** Traps General Exceptions: EL1 and EL0 would run as the host's, stage 2 off. Never for a guest. */
export const HCR_TGE = 2 ** 27;
/** EL1 is AArch64 (guests are AArch64 only). */
export const HCR_RW = 2 ** 31;
/** EL2 Host (VHE): EL2 would take over the guest's EL1 registers' meaning. Never for a guest. */
export const HCR_E2H = 2 ** 34;
/** Pointer-authentication instructions and keys are the guest's: trapping them would only cost exits. */
export const HCR_APK = 2 ** 40;
export const HCR_API = 2 ** 41;
// Not set: FB and BSU. Each vCPU stays on its own physical CPU for good, so a guest's local TLB and I-cache
// maintenance and its local barriers mean on that CPU exactly what they mean on bare metal; broadcasting them
// (FB) would make every CPU pay for every guest's local flushes. Nor TVM/TRVM, TID*, TACR: nothing of the
// guest's EL1 state is the hypervisor's. Nor TWI/TWE: a vCPU waits in WFI on its own CPU, at EL1, and an
// interrupt for it still arrives at EL2 first (IMO) and wakes it.

/** What the core gives every guest. */
export const HCR_GUEST = HCR_VM + HCR_SWIO + HCR_FMO + HCR_IMO + HCR_AMO + HCR_TSC + HCR_RW + HCR_APK + HCR_API;
/**
 * What C forces on before every guest entry, whatever the core asked (boot/guests.h): what the hypervisor's
 * isolation rests on. VM: stage 2 confines the guest to its RAM; TSC: every SMC reaches the mediator, so no
 * guest talks to OP-TEE (or TF-A) unchecked; IMO/FMO/AMO: interrupts and SErrors reach EL2, so no guest
 * keeps the CPU or the GIC; RW: EL1 runs AArch64, the only state the traps decode; SWIO: no guest discards
 * others' dirty cache lines.
 */
export const HCR_ISOLATION = HCR_VM + HCR_SWIO + HCR_FMO + HCR_IMO + HCR_AMO + HCR_TSC + HCR_RW;
/** What C forces off: TGE and E2H would give the guest the host's EL1/EL0 regime, with stage 2 off. */
export const HCR_FORBIDDEN = HCR_TGE + HCR_E2H;

/**
 * VTCR_EL2: 4 KiB granule, 32-bit IPA space (T0SZ = 32) walked from level 1 (SL0 = 1), write-back
 * inner-shareable walks, 40-bit PA, 8-bit VMID. C loads this value, whatever the frame says.
 */
export const VTCR_GUEST = 2 ** 31 + (2 << 16) + (3 << 12) + (1 << 10) + (1 << 8) + (1 << 6) + 32;
/** The IPA space VTCR_GUEST gives a guest: 4 GiB. */
export const GUEST_IPA_LIMIT = 2 ** 32;

/** SPSR for a vCPU's first instruction: EL1h, all of D, A, I, F masked (as Linux's boot protocol asks). */
export const SPSR_EL1H_MASKED = 0x3c5;
/** SPSR_EL2.M values C enters a guest in: EL0t, EL1t, EL1h. Anything else (EL2t/EL2h, AArch32) is refused. */
export const SPSR_M_EL0T = 0x0;
export const SPSR_M_EL1T = 0x4;
export const SPSR_M_EL1H = 0x5;
/** EL2h: what the guard test hands C (it must refuse it). */
export const SPSR_M_EL2H = 0x9;
