/* OP-TEE calls from EL1 by SMC (trapped by the hypervisor, or taken by TF-A natively). */
#include "smc.h"
#include "optee.h"

#define OPTEE_SMC_RETURN_RPC_PREFIX 0xffff0000u

void optee_fast(struct smccc_regs *r, uint32_t fid, uint64_t a1)
{
	*r = (struct smccc_regs){ .a = { fid, a1 } };
	smccc_call(r, 0);
}

/*
 * CALL_WITH_ARG with the message at `arg` (its physical address is its address: the MMU is off), resumed after
 * each foreign-interrupt RPC until OP-TEE answers.
 */
struct optee_result optee_std(struct optee_msg_arg *arg)
{
	uint64_t pa = (uintptr_t)arg;
	struct smccc_regs r = { .a = { OPTEE_SMC_CALL_WITH_ARG, pa >> 32, pa & 0xffffffffu } };
	smccc_call(&r, 0);
	while (((uint32_t)r.a[0] & OPTEE_SMC_RETURN_RPC_PREFIX) == OPTEE_SMC_RETURN_RPC_PREFIX) {
		if (((uint32_t)r.a[0] & 0xffff) != OPTEE_SMC_RPC_FUNC_FOREIGN_INTR)
			return (struct optee_result){ (uint32_t)r.a[0], ~0u };
		/* Resume with a1..a3 as OP-TEE returned them (a3: the thread). */
		r = (struct smccc_regs){ .a = { OPTEE_SMC_CALL_RETURN_FROM_RPC, r.a[1], r.a[2], r.a[3] } };
		smccc_call(&r, 0);
	}
	return (struct optee_result){ (uint32_t)r.a[0], arg->ret };
}
