/**
 * OP-TEE's SMC ABI (optee_smc.h, OP-TEE 4.5): the function ids, return codes
 * and capability bits the hypervisor uses, under the names OP-TEE gives them.
 * Values in a0..a7 are 32-bit: the upper halves of x0..x7 are ignored by OP-TEE.
 */

// Generic Trusted-OS queries (owner 63).
export const OPTEE_SMC_CALLS_UID: u32 = 0xbf00ff01;
export const OPTEE_SMC_CALLS_REVISION: u32 = 0xbf00ff03;

// Standard (yielding) calls, SMC32: 0x32000000 | function number. They run on an OP-TEE thread.
export const OPTEE_SMC_RETURN_FROM_RPC: u32 = 0x32000003;
export const OPTEE_SMC_CALL_WITH_ARG: u32 = 0x32000004;

// Fast calls (owner 50, fast, SMC32): 0xb2000000 | function number.
export const OPTEE_SMC_CALL_GET_OS_UUID: u32 = 0xb2000000;
export const OPTEE_SMC_CALL_GET_OS_REVISION: u32 = 0xb2000001;
export const OPTEE_SMC_GET_SHM_CONFIG: u32 = 0xb2000007;
export const OPTEE_SMC_EXCHANGE_CAPABILITIES: u32 = 0xb2000009;
export const OPTEE_SMC_DISABLE_SHM_CACHE: u32 = 0xb200000a;
export const OPTEE_SMC_ENABLE_SHM_CACHE: u32 = 0xb200000b;
/** Hypervisor only (x7 = 0): a new guest, x1 = its client id. */
export const OPTEE_SMC_VM_CREATED: u32 = 0xb200000d;
/** Hypervisor only (x7 = 0): the guest x1 is gone; OP-TEE frees what it held. */
export const OPTEE_SMC_VM_DESTROYED: u32 = 0xb200000e;
export const OPTEE_SMC_GET_THREAD_COUNT: u32 = 0xb200000f;
export const OPTEE_SMC_ENABLE_ASYNC_NOTIF: u32 = 0xb2000010;
export const OPTEE_SMC_GET_ASYNC_NOTIF_VALUE: u32 = 0xb2000011;

// GET_ASYNC_NOTIF_VALUE's answer: a1 = the value (consumed), a2 = these flags.
/** a1 holds a value (there was one pending). */
export const OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID: u32 = 1 << 0;
/** More values remain pending after this one. */
export const OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING: u32 = 1 << 1;
/** Value 0: the normal world is to call OPTEE_MSG_CMD_DO_BOTTOM_HALF (a std call). */
export const OPTEE_SMC_ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF: u32 = 0;

// OP-TEE's UID (CALLS_UID answers it in a0..a3): 384fb3e0-e7f8-11e3-af63-0002a5d5c51b.
export const OPTEE_MSG_UID_0: u32 = 0x384fb3e0;
export const OPTEE_MSG_UID_1: u32 = 0xe7f811e3;
export const OPTEE_MSG_UID_2: u32 = 0xaf630002;
export const OPTEE_MSG_UID_3: u32 = 0xa5d5c51b;

// Return codes in a0.
export const OPTEE_SMC_RETURN_OK: u32 = 0;
export const OPTEE_SMC_RETURN_ETHREAD_LIMIT: u32 = 1;
export const OPTEE_SMC_RETURN_EBUSY: u32 = 2;
export const OPTEE_SMC_RETURN_ERESUME: u32 = 3;
export const OPTEE_SMC_RETURN_EBADADDR: u32 = 4;
export const OPTEE_SMC_RETURN_EBADCMD: u32 = 5;
export const OPTEE_SMC_RETURN_ENOMEM: u32 = 6;
export const OPTEE_SMC_RETURN_ENOTAVAIL: u32 = 7;
export const OPTEE_SMC_RETURN_UNKNOWN_FUNCTION: u32 = 0xffffffff;

/**
 * A std call that comes back with a0 = OPTEE_SMC_RETURN_RPC_PREFIX | func is
 * not finished: OP-TEE's thread (id in a3) waits for the normal world to do
 * `func` and resume it with RETURN_FROM_RPC.
 */
export const OPTEE_SMC_RETURN_RPC_PREFIX_MASK: u32 = 0xffff0000;
export const OPTEE_SMC_RETURN_RPC_PREFIX: u32 = 0xffff0000;
/** a1 = size of an RPC argument buffer to allocate; answer a1:a2 = its address, a4:a5 = its cookie. */
export const OPTEE_SMC_RPC_FUNC_ALLOC: u32 = 0;
/** a1:a2 = cookie of an RPC argument buffer to free. */
export const OPTEE_SMC_RPC_FUNC_FREE: u32 = 2;
/** A normal-world interrupt arrived while OP-TEE ran: the normal world takes it, then resumes. */
export const OPTEE_SMC_RPC_FUNC_FOREIGN_INTR: u32 = 4;
/** a1:a2 = cookie of an RPC argument buffer holding an OPTEE_RPC_CMD_* request. */
export const OPTEE_SMC_RPC_FUNC_CMD: u32 = 5;

// Capabilities OP-TEE reports in a1 of EXCHANGE_CAPABILITIES (OPTEE_SMC_SEC_CAP_*).
export const OPTEE_SMC_SEC_CAP_HAVE_RESERVED_SHM: u32 = 1 << 0;
export const OPTEE_SMC_SEC_CAP_UNREGISTERED_SHM: u32 = 1 << 1;
export const OPTEE_SMC_SEC_CAP_DYNAMIC_SHM: u32 = 1 << 2;
export const OPTEE_SMC_SEC_CAP_VIRTUALIZATION: u32 = 1 << 3;
export const OPTEE_SMC_SEC_CAP_MEMREF_NULL: u32 = 1 << 4;
export const OPTEE_SMC_SEC_CAP_ASYNC_NOTIF: u32 = 1 << 5;
export const OPTEE_SMC_SEC_CAP_RPC_ARG: u32 = 1 << 6;
export const OPTEE_SMC_SEC_CAP_RPMB_PROBE: u32 = 1 << 7;

/** The names of the capability bits, index = bit number. */
const CAP_NAMES: string[] = [
  "RESERVED_SHM", "UNREGISTERED_SHM", "DYNAMIC_SHM", "VIRTUALIZATION",
  "MEMREF_NULL", "ASYNC_NOTIF", "RPC_ARG", "RPMB_PROBE",
];

/** Name of capability bit `bit`, or "" past the known ones. */
export function opteeCapName(bit: i32): string {
  return bit < CAP_NAMES.length ? unchecked(CAP_NAMES[bit]) : "";
}

export function opteeCapCount(): i32 {
  return CAP_NAMES.length;
}

/** OP-TEE's name for a return code in a0, for logs. */
export function opteeReturnName(code: u32): string {
  switch (code) {
    case OPTEE_SMC_RETURN_OK: return "OK";
    case OPTEE_SMC_RETURN_ETHREAD_LIMIT: return "ETHREAD_LIMIT";
    case OPTEE_SMC_RETURN_EBUSY: return "EBUSY";
    case OPTEE_SMC_RETURN_ERESUME: return "ERESUME";
    case OPTEE_SMC_RETURN_EBADADDR: return "EBADADDR";
    case OPTEE_SMC_RETURN_EBADCMD: return "EBADCMD";
    case OPTEE_SMC_RETURN_ENOMEM: return "ENOMEM";
    case OPTEE_SMC_RETURN_ENOTAVAIL: return "ENOTAVAIL";
    case OPTEE_SMC_RETURN_UNKNOWN_FUNCTION: return "UNKNOWN_FUNCTION";
    default: return "?";
  }
}
