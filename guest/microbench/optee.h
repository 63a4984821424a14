/*
 * Just enough of OP-TEE 4.5's SMC and message ABI (optee_smc.h, optee_msg.h) for a bare-metal client: fast
 * calls, CALL_WITH_ARG with resumption after RPCs, REGISTER_SHM with a page list, sessions to a pseudo TA.
 * It handles only the RPC a pseudo TA can cause (a foreign interrupt); any other RPC fails the call.
 */
#pragma once
#include <stdint.h>
#include "smc.h"

#define OPTEE_SMC_CALLS_UID 0xbf00ff01u
#define OPTEE_SMC_GET_THREAD_COUNT 0xb200000fu
#define OPTEE_SMC_EXCHANGE_CAPABILITIES 0xb2000009u
#define OPTEE_SMC_CALL_WITH_ARG 0x32000004u
#define OPTEE_SMC_CALL_RETURN_FROM_RPC 0x32000003u
#define OPTEE_SMC_RETURN_OK 0u
#define OPTEE_SMC_RPC_FUNC_FOREIGN_INTR 4u
#define OPTEE_SMC_NSEC_CAP_UNIPROCESSOR (1u << 0)
#define OPTEE_SMC_SEC_CAP_DYNAMIC_SHM (1u << 2)

#define OPTEE_MSG_CMD_OPEN_SESSION 0u
#define OPTEE_MSG_CMD_INVOKE_COMMAND 1u
#define OPTEE_MSG_CMD_CLOSE_SESSION 2u
#define OPTEE_MSG_CMD_REGISTER_SHM 4u
#define OPTEE_MSG_CMD_UNREGISTER_SHM 5u

#define OPTEE_MSG_ATTR_TYPE_NONE 0x0u
#define OPTEE_MSG_ATTR_TYPE_VALUE_INPUT 0x1u
#define OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT 0x2u
#define OPTEE_MSG_ATTR_TYPE_RMEM_INPUT 0x5u
#define OPTEE_MSG_ATTR_TYPE_RMEM_INOUT 0x7u
#define OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT 0xau
#define OPTEE_MSG_ATTR_META (1u << 8)
#define OPTEE_MSG_ATTR_NONCONTIG (1u << 9)
#define OPTEE_MSG_NONCONTIG_PAGE_SIZE 4096u
#define OPTEE_MSG_PAGES_PER_LIST 511u

#define TEE_LOGIN_PUBLIC 0u

struct optee_msg_param {
	uint64_t attr;
	uint64_t a, b, c; /* value a/b/c, or tmem buf_ptr/size/shm_ref, or rmem offs/size/shm_ref */
};

struct optee_msg_arg {
	uint32_t cmd, func, session, cancel_id, pad, ret, ret_origin, num_params;
	struct optee_msg_param params[4];
};

/* OP-TEE's answer in x0 (OPTEE_SMC_RETURN_*) and the message's ret (TEE_Result), or ~0 when the call failed on
 * an RPC it cannot serve. */
struct optee_result {
	uint32_t smc_ret, ret;
};

void optee_fast(struct smccc_regs *r, uint32_t fid, uint64_t a1);
struct optee_result optee_std(struct optee_msg_arg *arg);
