/*
 * The micro-benchmark's entry, shaped as an arm64 Linux Image so that the hypervisor boots it as a guest kernel
 * (EL1, MMU off, x0 = DTB), and so that TF-A can run it as BL33 natively (EL2, MMU off): from EL2 it drops
 * itself to EL1 with nothing trapped, so both runs make the same calls from the same exception level.
 * Position-independent (linked at 0, only PC-relative addressing): it runs wherever it is loaded.
 */
	.section .text.head, "ax"
	.global _head
_head:
	b	start			/* code0 */
	.long	0			/* code1 */
	.quad	0			/* text_offset */
	.quad	_image_size		/* image_size: code, data and .bss */
	.quad	0x2			/* flags: little-endian, 4 KiB pages */
	.quad	0			/* res2 */
	.quad	0			/* res3 */
	.global bench_iterations
bench_iterations:
	.quad	200			/* res4: how many times each call is timed; tools/bench/micro.ts patches it */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

start:
	mrs	x1, CurrentEL
	cmp	x1, #(2 << 2)
	b.eq	from_el2
	mov	x19, #0			/* entered at EL1: a guest of a hypervisor */
	b	run

from_el2:
	mov	x19, #1			/* native: TF-A's BL33 */
	mov	x1, #(1 << 31)		/* HCR_EL2.RW: EL1 is AArch64; nothing else is trapped or routed */
	msr	hcr_el2, x1
	msr	cntvoff_el2, xzr
	mov	x1, #3			/* CNTHCTL_EL2: EL1 reads the physical counter and timer */
	msr	cnthctl_el2, x1
	ldr	x1, =0x30d00800		/* SCTLR_EL1: RES1 bits, MMU and caches off */
	msr	sctlr_el1, x1
	mov	x1, #0x3c5		/* SPSR_EL2: EL1h, D A I F masked */
	msr	spsr_el2, x1
	adr	x1, run
	msr	elr_el2, x1
	isb
	eret

run:
	adrp	x1, __stack_top
	add	x1, x1, :lo12:__stack_top
	mov	sp, x1
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mov	x0, x19
	bl	bench_main
3:	wfi
	b	3b
	.ltorg
