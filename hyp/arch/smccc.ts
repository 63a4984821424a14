/**
 * SMC Calling Convention (Arm DEN 0028, v1.4) function-id fields and the PSCI
 * calls the hypervisor itself makes (Arm DEN 0022, PSCI 1.1).
 */

/** Bit 31: fast (atomic) call; clear for a yielding ("standard") call. */
export const SMCCC_FAST_CALL: u32 = 0x80000000;
/** Bit 30: SMC64 calling convention. */
export const SMCCC_SMC64: u32 = 0x40000000;
export const SMCCC_OWNER_SHIFT: u32 = 24;
export const SMCCC_OWNER_MASK: u32 = 0x3f;
export const SMCCC_OWNER_STANDARD: u32 = 4;
/** Trusted OS owners: 50..63; OP-TEE uses 50 for its calls and 63 for the generic UID/revision queries. */
export const SMCCC_OWNER_TRUSTED_OS: u32 = 50;
export const SMCCC_OWNER_TRUSTED_OS_END: u32 = 63;

/** Returned in x0 (as a 32-bit value) when nobody implements the function id. */
export const SMCCC_RET_NOT_SUPPORTED: u32 = 0xffffffff;

export const PSCI_0_2_FN_SYSTEM_OFF: u32 = 0x84000008;

export function smcccOwner(fid: u32): u32 {
  return (fid >> SMCCC_OWNER_SHIFT) & SMCCC_OWNER_MASK;
}
