/*
 * What the hypervisor learns from the firmware's device tree (devtree.c): RAM
 * (/memory), what must not be handed out (/memreserve/ and /reserved-memory),
 * and how the other CPUs start (PSCI, or a spin table's cpu-release-addr).
 * Read once by the boot CPU with the MMU off; read-only afterwards.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define DEVTREE_MAX_RAM 4u
#define DEVTREE_MAX_RESERVED 16u
#define DEVTREE_MAX_CPUS 8u

struct mem_range {
	uint64_t base, size;
};

struct devtree_facts {
	bool valid;			/* a well-formed FDT was found */
	uint64_t blob_pa, blob_size;	/* the tree itself: reserved too */
	unsigned ram_count, reserved_count;
	struct mem_range ram[DEVTREE_MAX_RAM];
	struct mem_range reserved[DEVTREE_MAX_RESERVED];
	bool psci;			/* a /psci node: the firmware answers SMCs */
	uint64_t release_addr[DEVTREE_MAX_CPUS]; /* spin-table cpu-release-addr by CPU number, 0 if none */
};

extern struct devtree_facts devtree;

/* Boot CPU, MMU off: reads the tree at `pa` (0: the board's BOARD_DTB_PA). */
void devtree_scan(uint64_t pa);
/* [pa, pa + len) lies inside one /memory range (below 4 GiB, all the EL2 map covers). */
bool devtree_ram_contains(uint64_t pa, uint64_t len);
/* … and overlaps no reserved region nor the device tree itself. */
bool devtree_ram_usable(uint64_t pa, uint64_t len);
