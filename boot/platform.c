/* The platform record for the core (platform.h), from board.h, the GIC back end and the device tree. */
#include <string.h>

#include "board.h"
#include "devtree.h"
#include "hyp.h"
#include "platform.h"

void platform_info_fill(struct platform_info *info)
{
	memset(info, 0, sizeof *info);
	info->version = PLATFORM_INFO_VERSION;
	info->gic_version = BOARD_GIC_VERSION;
	info->list_registers = gic_list_register_count();
	info->console_intid = BOARD_UART0_INTID;
	info->gicv_pa = gic_virtual_cpu_interface_pa();
	info->flags = (devtree.valid ? PLATFORM_FLAG_DEVICE_TREE : 0) | (devtree.psci ? PLATFORM_FLAG_PSCI : 0);
	for (unsigned i = 0; i < devtree.ram_count && i < PLATFORM_MAX_RAM; i++) {
		info->ram[i].base = devtree.ram[i].base;
		info->ram[i].size = devtree.ram[i].size;
		info->ram_count = i + 1;
	}
	info->reserved_count = devtree.reserved_count;
	info->cpu_count = BOARD_CPU_COUNT;
}
