/* The SMC Calling Convention from EL1: x0..x7 in, x0..x7 out, by SMC or HVC. */
#pragma once
#include <stdint.h>

struct smccc_regs {
	uint64_t a[8];
};

static inline void smccc_call(struct smccc_regs *r, int hvc)
{
	register uint64_t x0 __asm__("x0") = r->a[0], x1 __asm__("x1") = r->a[1], x2 __asm__("x2") = r->a[2],
		x3 __asm__("x3") = r->a[3], x4 __asm__("x4") = r->a[4], x5 __asm__("x5") = r->a[5],
		x6 __asm__("x6") = r->a[6], x7 __asm__("x7") = r->a[7];
	if (hvc)
		__asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
				 : : "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	else
		__asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5), "+r"(x6), "+r"(x7)
				 : : "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
	r->a[0] = x0; r->a[1] = x1; r->a[2] = x2; r->a[3] = x3;
	r->a[4] = x4; r->a[5] = x5; r->a[6] = x6; r->a[7] = x7;
}

/* The guest's own clock: the virtual counter. Under QEMU -icount shift=0 with CNTFRQ 1 GHz, one tick is one
 * instruction of whatever ran on the machine in between (guest, hypervisor, TF-A, OP-TEE). */
static inline uint64_t counter_now(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntvct_el0; isb" : "=r"(v) : : "memory");
	return v;
}
