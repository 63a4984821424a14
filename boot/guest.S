/*
 * Entering a guest and coming back. guest_run(frame, spsr) saves the hypervisor's
 * callee-saved registers on its stack, loads the guest's x0..x30 and pc from
 * the frame (in the core's linear memory) and ERETs in `spsr`, which the run
 * loop has checked. A guest
 * exit lands in the lower-EL vectors (vectors.S), which store the guest's
 * registers straight back into the same frame (found through TPIDR_EL2) and
 * branch to guest_exit_common, which "returns" from guest_run with the exit
 * kind. SP_EL2 is untouched while the guest runs, so the saved registers are
 * where guest_run left them.
 */
#include "frame.h"

	.section .text, "ax"
	.global	guest_run
guest_run:
	stp	x29, x30, [sp, #-96]!
	stp	x19, x20, [sp, #16]
	stp	x21, x22, [sp, #32]
	stp	x23, x24, [sp, #48]
	stp	x25, x26, [sp, #64]
	stp	x27, x28, [sp, #80]
	msr	tpidr_el2, x0
	msr	spsr_el2, x1		/* checked by the caller (guests.h), not read from the frame again */
	ldr	x1, [x0, #FRAME_PC]
	msr	elr_el2, x1
	add	x0, x0, #FRAME_X0
	ldp	x2, x3, [x0, #16]
	ldp	x4, x5, [x0, #32]
	ldp	x6, x7, [x0, #48]
	ldp	x8, x9, [x0, #64]
	ldp	x10, x11, [x0, #80]
	ldp	x12, x13, [x0, #96]
	ldp	x14, x15, [x0, #112]
	ldp	x16, x17, [x0, #128]
	ldp	x18, x19, [x0, #144]
	ldp	x20, x21, [x0, #160]
	ldp	x22, x23, [x0, #176]
	ldp	x24, x25, [x0, #192]
	ldp	x26, x27, [x0, #208]
	ldp	x28, x29, [x0, #224]
	ldr	x30, [x0, #240]
	ldp	x0, x1, [x0]
	eret

/* x0 = frame (guest x0..x30 already saved), x1 = exit kind. */
	.global	guest_exit_common
guest_exit_common:
	mrs	x2, elr_el2
	str	x2, [x0, #FRAME_PC]
	mrs	x2, spsr_el2
	str	x2, [x0, #FRAME_PSTATE]
	mrs	x2, esr_el2
	str	x2, [x0, #FRAME_ESR]
	mrs	x2, far_el2
	str	x2, [x0, #FRAME_FAR]
	mrs	x2, hpfar_el2
	str	x2, [x0, #FRAME_HPFAR]
	str	x1, [x0, #FRAME_EXIT_KIND]
	mov	x0, x1
	ldp	x19, x20, [sp, #16]
	ldp	x21, x22, [sp, #32]
	ldp	x23, x24, [sp, #48]
	ldp	x25, x26, [sp, #64]
	ldp	x27, x28, [sp, #80]
	ldp	x29, x30, [sp], #96
	ret
