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

// SMCCC's own calls (owner 0, Arm Architecture Calls).
export const SMCCC_VERSION: u32 = 0x80000000;
export const SMCCC_ARCH_FEATURES: u32 = 0x80000001;
export const SMCCC_OWNER_ARCH: u32 = 0;
/** SMCCC 1.1: what the hypervisor implements for its guests. */
export const SMCCC_VERSION_1_1: u32 = 0x10001;

// PSCI 1.1 (Arm DEN 0022) function ids; 64-bit variants where Linux uses them.
export const PSCI_0_2_FN_PSCI_VERSION: u32 = 0x84000000;
export const PSCI_0_2_FN_CPU_SUSPEND: u32 = 0x84000001;
export const PSCI_0_2_FN64_CPU_SUSPEND: u32 = 0xc4000001;
export const PSCI_0_2_FN_CPU_OFF: u32 = 0x84000002;
export const PSCI_0_2_FN_CPU_ON: u32 = 0x84000003;
export const PSCI_0_2_FN64_CPU_ON: u32 = 0xc4000003;
export const PSCI_0_2_FN_AFFINITY_INFO: u32 = 0x84000004;
export const PSCI_0_2_FN64_AFFINITY_INFO: u32 = 0xc4000004;
export const PSCI_0_2_FN_MIGRATE_INFO_TYPE: u32 = 0x84000006;
export const PSCI_0_2_FN_SYSTEM_RESET: u32 = 0x84000009;
export const PSCI_1_0_FN_PSCI_FEATURES: u32 = 0x8400000a;
/** PSCI 1.1 as the hypervisor offers it to guests. */
export const PSCI_VERSION_1_1: u32 = 0x10001;

// PSCI return codes (negative, as 32-bit two's complement in x0).
export const PSCI_RET_SUCCESS: i32 = 0;
export const PSCI_RET_NOT_SUPPORTED: i32 = -1;
export const PSCI_RET_INVALID_PARAMS: i32 = -2;
export const PSCI_RET_ALREADY_ON: i32 = -4;
export const PSCI_RET_ON_PENDING: i32 = -5;
export const PSCI_RET_INVALID_ADDRESS: i32 = -9;
/** MIGRATE_INFO_TYPE: "Trusted OS not present or does not require migration". */
export const PSCI_TOS_NOT_PRESENT_MP: i32 = 2;
// AFFINITY_INFO answers.
export const PSCI_AFFINITY_ON: i32 = 0;
export const PSCI_AFFINITY_OFF: i32 = 1;
export const PSCI_AFFINITY_ON_PENDING: i32 = 2;
