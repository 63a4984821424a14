/*
 * What the core learns about the machine at boot (the platformInfoCopy
 * import): the GIC it drives and what the firmware's device tree said. Its
 * layout is written once in tools/abi/platform.ts (abi.h here, the core's
 * reader in hyp/core/platform.ts); the asserts below prove this struct
 * matches it. Little endian.
 */
#pragma once
#include <stdint.h>

#include "abi.h"

struct platform_info {
	uint32_t version;	/* +0  PLATFORM_INFO_VERSION */
	uint32_t gic_version;	/* +4  2 or 3 */
	uint32_t list_registers; /* +8  how many the vGIC may fill */
	uint32_t console_intid; /* +12 the console UART's interrupt */
	uint64_t gicv_pa;	/* +16 GICv2: the virtual CPU interface to map at the guest's GICC; 0 on GICv3 */
	uint32_t flags;		/* +24 PLATFORM_FLAG_* */
	uint32_t ram_count;	/* +28 */
	struct { uint64_t base, size; } ram[PLATFORM_MAX_RAM]; /* +32 */
	uint32_t reserved_count; /* +96 */
	uint32_t cpu_count;	/* +100 the board's CPUs */
};

_Static_assert(sizeof(struct platform_info) == PLATFORM_INFO_SIZE, "platform_info size");
_Static_assert(__builtin_offsetof(struct platform_info, version) == PI_VERSION_AT, "platform_info.version");
_Static_assert(__builtin_offsetof(struct platform_info, gic_version) == PI_GIC_VERSION_AT, "platform_info.gic_version");
_Static_assert(__builtin_offsetof(struct platform_info, list_registers) == PI_LIST_REGISTERS_AT, "platform_info.list_registers");
_Static_assert(__builtin_offsetof(struct platform_info, console_intid) == PI_CONSOLE_INTID_AT, "platform_info.console_intid");
_Static_assert(__builtin_offsetof(struct platform_info, gicv_pa) == PI_GICV_PA_AT, "platform_info.gicv_pa");
_Static_assert(__builtin_offsetof(struct platform_info, flags) == PI_FLAGS_AT, "platform_info.flags");
_Static_assert(__builtin_offsetof(struct platform_info, ram_count) == PI_RAM_COUNT_AT, "platform_info.ram_count");
_Static_assert(__builtin_offsetof(struct platform_info, ram) == PI_RAM_AT, "platform_info.ram");
_Static_assert(sizeof(((struct platform_info *)0)->ram[0]) == PI_RAM_RECORD, "platform_info.ram[]");
_Static_assert(__builtin_offsetof(struct platform_info, reserved_count) == PI_RESERVED_COUNT_AT, "platform_info.reserved_count");
_Static_assert(__builtin_offsetof(struct platform_info, cpu_count) == PI_CPU_COUNT_AT, "platform_info.cpu_count");

void platform_info_fill(struct platform_info *info);
