/*
 * A recovery point for a core call (core.c): recovery_save records where the
 * call started (the callee-saved registers, sp and the return address, as
 * AAPCS64 requires them kept) and returns 0; recovery_resume, called from a
 * Wasm trap deep inside the call, returns 1 from that recovery_save. The
 * generated code keeps no state on the C stack that outlives the call, so
 * dropping its frames is safe. -mgeneral-regs-only: no FP registers to keep.
 *
 *   struct recovery { uint64_t x19_x28[10], fp, lr, sp; }
 */
	.section .text, "ax"
	.global	recovery_save
recovery_save:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x1, sp
	str	x1, [x0, #96]
	mov	x0, #0
	ret

	.global	recovery_resume
recovery_resume:
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldr	x1, [x0, #96]
	mov	sp, x1
	mov	x0, #1
	ret
