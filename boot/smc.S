/*
 * void smc_to_el3(uint64_t regs[8]): the SMC conduit to EL3. Loads x0..x7
 * from regs, issues SMC #0 and stores x0..x7 back. SMCCC lets the callee
 * clobber x8..x17 (caller-saved anyway) and preserves x18..x30 and sp.
 */
	.section .text, "ax"
	.global	smc_to_el3
smc_to_el3:
	str	x0, [sp, #-16]!
	ldp	x6, x7, [x0, #48]
	ldp	x4, x5, [x0, #32]
	ldp	x2, x3, [x0, #16]
	ldp	x0, x1, [x0]
	smc	#0
	ldr	x8, [sp], #16
	stp	x0, x1, [x8]
	stp	x2, x3, [x8, #16]
	stp	x4, x5, [x8, #32]
	stp	x6, x7, [x8, #48]
	ret
