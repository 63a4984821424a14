/*
 * What the core learns about the machine at boot (the platformInfoCopy
 * import): the GIC it drives and what the firmware's device tree said. Laid
 * out for hyp/core/platform.ts, which reads it field by field; little endian.
 */
#pragma once
#include <stdint.h>

#define PLATFORM_INFO_VERSION 1u
#define PLATFORM_MAX_RAM 4u
#define PLATFORM_FLAG_DEVICE_TREE (1u << 0) /* a well-formed device tree was found */
#define PLATFORM_FLAG_PSCI (1u << 1)	    /* the firmware answers SMCs (a /psci node) */

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
	uint32_t pad;
};

_Static_assert(sizeof(struct platform_info) == 104, "platform_info layout (hyp/core/platform.ts)");

void platform_info_fill(struct platform_info *info);
