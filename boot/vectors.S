/*
 * EL2 exception vectors. Exceptions from the hypervisor itself (current EL)
 * are bugs: hyp_unexpected_exception reports ESR, ELR, FAR and stops the
 * CPU. Exceptions from a guest (lower EL, AArch64) save the guest's x0..x30
 * into its frame and leave through guest_exit_common (guest.S). Each entry
 * must fit its 128-byte slot: the .org fails the build if one grows past it.
 */
#include "frame.h"

	.macro	unexpected	index
	.balign	0x80
vector_\index:
	mov	x0, #\index
	b	hyp_unexpected_exception
	.org	vector_\index + 0x80
	.endm

	.macro	guest_exit	index, kind
	.balign	0x80
vector_\index:
	stp	x0, x1, [sp, #-16]!
	mrs	x0, tpidr_el2
	add	x0, x0, #FRAME_X0
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	ldp	x2, x3, [sp], #16
	stp	x2, x3, [x0]
	sub	x0, x0, #FRAME_X0
	mov	x1, #\kind
	b	guest_exit_common
	.org	vector_\index + 0x80
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.global	hyp_vectors
hyp_vectors:
	unexpected	0	/* current EL, SP_EL0: sync, irq, fiq, serror */
	unexpected	1
	unexpected	2
	unexpected	3
	unexpected	4	/* current EL, SP_ELx */
	unexpected	5
	unexpected	6
	unexpected	7
	guest_exit	8, EXIT_SYNC	/* lower EL, AArch64 */
	guest_exit	9, EXIT_IRQ
	guest_exit	10, EXIT_FIQ
	guest_exit	11, EXIT_SERROR
	unexpected	12	/* lower EL, AArch32: guests are AArch64 only (HCR_EL2.RW) */
	unexpected	13
	unexpected	14
	unexpected	15
