/*
 * BL33 entry. The firmware enters the boot CPU here at EL2h with the MMU and
 * caches off: TF-A on QEMU virt with x0 = 0, TF-A and the VideoCore
 * firmware's armstub on the Raspberry Pi 4 with x0 = the device tree. CPUs
 * started later (PSCI CPU_ON, or released from a spin table) enter here too.
 * Each CPU takes its own stack by CPU number; the boot CPU clears .bss and
 * builds the EL2 map from the device tree (mmu_build); then every CPU turns
 * on the EL2 MMU (the Wasm code makes unaligned accesses, which fault with
 * the MMU off), installs the vectors and enters C.
 */
#include "board.h"

#define STACK_SIZE 0x4000
#define MAX_CPUS 8

	.section .text.entry, "ax"
	.global _start
/*
 * An arm64 Image header (Linux's Documentation/arch/arm64/booting.rst), so that firmware that boots a Linux
 * Image boots the hypervisor the same way (QEMU raspi4b's -kernel: at 0x200000, x0 = the device tree,
 * secondaries on the spin table). image_size covers linear memory too, so nothing is placed over it. TF-A
 * enters at the first word, which steps over the header.
 */
_start:
	b	entry
	.long	0				/* code1 */
	.quad	0				/* text_offset: loaded at a 2 MiB boundary */
	.quad	HYP_WASM_MEM_PA + HYP_WASM_MEM_SIZE - HYP_IMAGE_BASE	/* image_size */
	.quad	0x2				/* flags: little endian, 4 KiB pages */
	.quad	0, 0, 0
	.ascii	"ARM\x64"			/* magic */
	.long	0
entry:
	mrs	x19, mpidr_el1
	and	x19, x19, #0xff		/* QEMU virt, BCM2711: one cluster, Aff0 = CPU number */
	cmp	x19, #MAX_CPUS
	b.hs	unsupported_cpu

	adrp	x1, __stacks_end
	add	x1, x1, :lo12:__stacks_end
	mov	x2, #STACK_SIZE
	msub	x1, x19, x2, x1		/* top of this CPU's stack */
	mov	sp, x1

	cbnz	x19, 3f			/* only the boot CPU clears .bss and builds the map */
	mov	x20, x0			/* the firmware's device tree pointer */
	adrp	x1, __bss_start
	add	x1, x1, :lo12:__bss_start
	adrp	x2, __bss_end
	add	x2, x2, :lo12:__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	mov	x0, x20
	bl	mmu_build

3:	bl	mmu_enable_el2
	adrp	x1, hyp_vectors
	add	x1, x1, :lo12:hyp_vectors
	msr	vbar_el2, x1
	isb
	cbnz	x19, 4f
	bl	console_init		/* the boot CPU: the board's UART before its first line */
4:
	mov	x0, x19
	bl	hyp_main
unsupported_cpu:
	wfe
	b	unsupported_cpu

	.section .bss.stacks, "aw", %nobits
	.balign	16
	.global __stacks
__stacks:
	.space	STACK_SIZE * MAX_CPUS
	.global __stacks_end
__stacks_end:
