/**
 * OP-TEE's message protocol (optee_msg.h, optee_rpc_cmd.h, OP-TEE 4.5): the
 * struct optee_msg_arg a std call points at, its parameters, and the RPC
 * commands OP-TEE sends back, under the names OP-TEE gives them. Only the
 * fields the mediator reads or writes are named here.
 *
 *   struct optee_msg_arg (32 bytes, then num_params × 32-byte parameters)
 *     +0 cmd  +4 func  +8 session  +12 cancel_id  +16 pad  +20 ret  +24 ret_origin  +28 num_params
 *   struct optee_msg_param
 *     +0 attr (u64), then one of
 *       tmem  { buf_ptr, size, shm_ref }    a physical address: translated by the mediator
 *       rmem  { offs, size, shm_ref }       an offset into registered memory: passes
 *       value { a, b, c }                   passes
 */
export const OPTEE_MSG_ARG_SIZE: u32 = 32;
export const OPTEE_MSG_PARAM_SIZE: u32 = 32;

export const MSG_CMD: u32 = 0;
export const MSG_SESSION: u32 = 8;
export const MSG_RET: u32 = 20;
export const MSG_RET_ORIGIN: u32 = 24;
export const MSG_NUM_PARAMS: u32 = 28;

export const PARAM_ATTR: u32 = 0;
export const PARAM_A: u32 = 8; // tmem.buf_ptr, rmem.offs, value.a
export const PARAM_B: u32 = 16; // tmem.size, rmem.size, value.b
export const PARAM_C: u32 = 24; // tmem.shm_ref, rmem.shm_ref, value.c

// Parameter types (attr bits 7:0).
export const OPTEE_MSG_ATTR_TYPE_NONE: u32 = 0x0;
export const OPTEE_MSG_ATTR_TYPE_VALUE_INPUT: u32 = 0x1;
export const OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT: u32 = 0x2;
export const OPTEE_MSG_ATTR_TYPE_VALUE_INOUT: u32 = 0x3;
export const OPTEE_MSG_ATTR_TYPE_RMEM_INPUT: u32 = 0x5;
export const OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT: u32 = 0x6;
export const OPTEE_MSG_ATTR_TYPE_RMEM_INOUT: u32 = 0x7;
export const OPTEE_MSG_ATTR_TYPE_TMEM_INPUT: u32 = 0x9;
export const OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT: u32 = 0xa;
export const OPTEE_MSG_ATTR_TYPE_TMEM_INOUT: u32 = 0xb;
export const OPTEE_MSG_ATTR_TYPE_MASK: u64 = 0xff;
/** The parameter is a meta parameter (the TA's UUID and the client's identity in OPEN_SESSION). */
export const OPTEE_MSG_ATTR_META: u64 = 1 << 8;
/** A tmem whose buf_ptr is a list of pages, not the buffer itself (see pagelist.ts). */
export const OPTEE_MSG_ATTR_NONCONTIG: u64 = 1 << 9;

// Commands of a std call (arg.cmd).
export const OPTEE_MSG_CMD_OPEN_SESSION: u32 = 0;
export const OPTEE_MSG_CMD_INVOKE_COMMAND: u32 = 1;
export const OPTEE_MSG_CMD_CLOSE_SESSION: u32 = 2;
export const OPTEE_MSG_CMD_CANCEL: u32 = 3;
export const OPTEE_MSG_CMD_REGISTER_SHM: u32 = 4;
export const OPTEE_MSG_CMD_UNREGISTER_SHM: u32 = 5;
/** The guest's answer to the async notification value 0: OP-TEE's bottom half runs on a thread of that guest. */
export const OPTEE_MSG_CMD_DO_BOTTOM_HALF: u32 = 6;
/** The guest's driver is going away: OP-TEE stops its asynchronous notifications. */
export const OPTEE_MSG_CMD_STOP_ASYNC_NOTIF: u32 = 7;

// RPC commands OP-TEE asks the normal world to run (optee_rpc_cmd.h), in an RPC argument buffer.
export const OPTEE_RPC_CMD_SHM_ALLOC: u32 = 6;
export const OPTEE_RPC_CMD_SHM_FREE: u32 = 7;

// TEE Client API results OP-TEE writes to arg.ret (tee_api_defines.h) and where they came from.
export const TEE_SUCCESS: u32 = 0;
export const TEE_ERROR_GENERIC: u32 = 0xffff0000;
export const TEE_ERROR_BAD_PARAMETERS: u32 = 0xffff0006;
export const TEE_ERROR_OUT_OF_MEMORY: u32 = 0xffff000c;
export const TEE_ORIGIN_COMMS: u32 = 2;
export const TEE_ORIGIN_TEE: u32 = 3;
