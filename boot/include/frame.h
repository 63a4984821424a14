/* Layout of a CPU's frame in the core's linear memory; mirrors hyp/core/percpu.ts. */
#pragma once
#include <stdint.h>

#define FRAME_SIZE 0x200u
#define FRAME_SMC_REGS 8u /* x0..x7 of the SMC to perform, results written back in place */

struct frame {
	uint64_t smc[FRAME_SMC_REGS];
};
