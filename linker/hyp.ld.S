/*
 * The hypervisor image, linked where TF-A loads BL33 (HYP_IMAGE_BASE from the
 * board's generated board.h; this file is run through the C preprocessor).
 * Everything, including the per-CPU stacks, must fit in HYP_IMAGE_SIZE: the
 * boot configuration blob and the core's linear memory follow it.
 */
#include "board.h"

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

SECTIONS
{
	. = HYP_IMAGE_BASE;
	.text : {
		KEEP(*(.text.entry))
		*(.text.vectors)
		*(.text .text.*)
	}
	.rodata : ALIGN(8) { *(.rodata .rodata.*) }
	.data : ALIGN(8) { *(.data .data.*) }
	.bss (NOLOAD) : ALIGN(16) {
		__bss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(8);
		__bss_end = .;
	}
	__image_end = .;
	ASSERT(__image_end <= HYP_IMAGE_BASE + HYP_IMAGE_SIZE, "hypervisor image larger than HYP_IMAGE_SIZE")
	/DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
