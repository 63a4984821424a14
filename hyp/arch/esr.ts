/**
 * ESR_EL2 decoding (Arm ARM D24.2.41): the exception class, and the
 * instruction-specific syndrome of the classes the hypervisor handles.
 */

export const EC_UNKNOWN: u32 = 0x00;
export const EC_WFX: u32 = 0x01;
export const EC_HVC64: u32 = 0x16;
export const EC_SMC64: u32 = 0x17;
export const EC_SYSREG: u32 = 0x18;
export const EC_IABT_LOWER: u32 = 0x20;
export const EC_IABT_CURRENT: u32 = 0x21;
export const EC_DABT_LOWER: u32 = 0x24;
export const EC_DABT_CURRENT: u32 = 0x25;

export const ESR_IL: u64 = 1 << 25;

@inline export function esrClass(esr: u64): u32 {
  return <u32>((esr >> 26) & 0x3f);
}

// Data aborts (ISS encoding for EC 0x24/0x25).
@inline export function dabtIsValid(esr: u64): bool { return ((esr >> 24) & 1) != 0; } // ISV: the fields below are valid
@inline export function dabtSizeLog2(esr: u64): u32 { return <u32>((esr >> 22) & 3); } // SAS
@inline export function dabtSignExtend(esr: u64): bool { return ((esr >> 21) & 1) != 0; } // SSE
@inline export function dabtRegister(esr: u64): u32 { return <u32>((esr >> 16) & 0x1f); } // SRT
@inline export function dabtSixtyFour(esr: u64): bool { return ((esr >> 15) & 1) != 0; } // SF
@inline export function dabtIsWrite(esr: u64): bool { return ((esr >> 6) & 1) != 0; } // WnR

/**
 * A stage-2 permission fault (DFSC 0b0011LL) outside a stage-1 table walk (S1PTW clear). For these HPFAR_EL2
 * need not hold the IPA (Linux's KVM, hyp/include/hyp/fault.h, resolves it from FAR with AT for that reason),
 * so the IPA must come from elsewhere.
 */
@inline export function dabtIsPermissionFault(esr: u64): bool {
  return (esr & 0x3c) == 0x0c && ((esr >> 7) & 1) == 0;
}

/** The IPA of a stage-2 abort: HPFAR_EL2 holds IPA[47:12] in bits [43:4], FAR_EL2 the page offset. */
@inline export function abortIpa(hpfar: u64, far: u64): u64 {
  return ((hpfar & 0x0000_0fff_ffff_fff0) << 8) | (far & 0xfff);
}

// Trapped MSR/MRS (EC 0x18): Op0, Op2, Op1, CRn, Rt, CRm, direction.
@inline export function sysregIsRead(esr: u64): bool { return (esr & 1) != 0; }
@inline export function sysregRt(esr: u64): u32 { return <u32>((esr >> 5) & 0x1f); }
/** The register's encoding with Rt and the direction masked out, to compare against SYSREG_* below. */
@inline export function sysregKey(esr: u64): u32 { return <u32>(esr & 0x3ffc1e); }

/** ICC_SGI1R_EL1: Op0 3, Op1 0, CRn 12, CRm 11, Op2 5 (in ISS layout). */
export const SYSREG_ICC_SGI1R_EL1: u32 = (3 << 20) | (5 << 17) | (0 << 14) | (12 << 10) | (11 << 1);

/** ESRs the hypervisor puts in ESR_EL1 when it injects an exception. */
export const ESR_EL1_UNDEF: u64 = ESR_IL; // EC 0: unknown reason, as an UNDEFINED instruction
const DFSC_SYNC_EXTERNAL: u64 = 0x10;
export function esrEl1DataAbort(fromEl0: bool, write: bool): u64 {
  const ec: u64 = fromEl0 ? EC_DABT_LOWER : EC_DABT_CURRENT;
  return (ec << 26) | ESR_IL | (write ? <u64>1 << 6 : 0) | DFSC_SYNC_EXTERNAL;
}
export function esrEl1InstructionAbort(fromEl0: bool): u64 {
  const ec: u64 = fromEl0 ? EC_IABT_LOWER : EC_IABT_CURRENT;
  return (ec << 26) | ESR_IL | DFSC_SYNC_EXTERNAL;
}

/** Was the guest at EL0 when it trapped? (SPSR_EL2.M[3:2] is the exception level.) */
@inline export function pstateIsEl0(pstate: u64): bool {
  return ((pstate >> 2) & 3) == 0;
}
