/*
 * EL2 exception vectors. Until guests run, any exception taken to EL2 is a
 * hypervisor bug: report it (hyp_unexpected_exception prints ESR, ELR, FAR)
 * and stop the CPU. Each entry must fit its 128-byte slot; .balign keeps
 * them apart and the assembler fails if one grows past its slot.
 */
	.macro	ventry	index
	.balign	0x80
vector_\index:
	mov	x0, #\index
	b	hyp_unexpected_exception
	.org	vector_\index + 0x80
	.endm

	.section .text.vectors, "ax"
	.balign	0x800
	.global	hyp_vectors
hyp_vectors:
	ventry	0	/* current EL, SP_EL0: sync, irq, fiq, serror */
	ventry	1
	ventry	2
	ventry	3
	ventry	4	/* current EL, SP_ELx */
	ventry	5
	ventry	6
	ventry	7
	ventry	8	/* lower EL, AArch64 */
	ventry	9
	ventry	10
	ventry	11
	ventry	12	/* lower EL, AArch32 */
	ventry	13
	ventry	14
	ventry	15
