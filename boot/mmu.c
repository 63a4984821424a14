/*
 * The EL2 stage-1 identity map, built and enabled before any Wasm runs.
 * Compiled with -mstrict-align: it runs with the MMU off, where every data
 * access is Device memory and an unaligned one faults.
 *
 * 4 KiB granule, 36-bit VA (T0SZ = 28): the walk starts at level 1, and four
 * level-2 tables identity-map the low 4 GiB in 2 MiB blocks (RAM and MMIO
 * share the last GiB on the Raspberry Pi 4), each
 *   RAM (the device tree's /memory) → Normal write-back, inner shareable
 *   the board's MMIO windows        → Device-nGnRnE, execute-never
 *   anything else                   → unmapped, so a stray access faults
 * The boot CPU builds the tables once (mmu_build); every CPU enables them.
 *
 * The core's linear memory is also seen at WASM_MEMORY_VA (16 GiB), with
 * nothing mapped for the 8 GiB after it: a Wasm access is the memory's base
 * plus a 32-bit address plus a 32-bit offset, so every out-of-bounds access
 * of the core lands there and faults (stop.c turns the fault into the Wasm
 * trap it is). That is what lets wasm2c leave out its per-access bounds
 * checks (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1): a fifth of the core's
 * instructions on the trap path.
 */
#include "arch.h"
#include "devtree.h"
#include "hyp.h"

#define GiB (1ull << 30)
#define BLOCK (2ull << 20)

#define PTE_TABLE 0x3ull
#define PTE_BLOCK 0x1ull
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3ull << 8)
#define PTE_AF (1ull << 10)
#define PTE_XN (1ull << 54)

#define MAIR_DEVICE_NGNRNE 0x00ull /* attribute index 0 */
#define MAIR_NORMAL_WB 0xffull	   /* attribute index 1 */
#define ATTR_DEVICE 0
#define ATTR_NORMAL 1

/* TCR_EL2: RES1 bits 31 and 23, PS = 40 bits, TG0 = 4 KiB, inner shareable, WBWA walks, T0SZ = 28. */
#define TCR_EL2_VALUE ((1ull << 31) | (1ull << 23) | (2ull << 16) | (3ull << 12) | (1ull << 10) | (1ull << 8) | 28)
/* 36 bits of VA: 64 level-1 entries of 1 GiB. */
#define LEVEL1_ENTRIES 64
/* SCTLR_EL2 (E2H = 0): RES1 bits, then M (MMU), C (data cache), SA (stack alignment), I (instruction cache). */
#define SCTLR_EL2_RES1 0x30c50830ull
#define SCTLR_EL2_VALUE (SCTLR_EL2_RES1 | (1ull << 0) | (1ull << 2) | (1ull << 3) | (1ull << 12))

static uint64_t level1[512] __attribute__((aligned(4096)));
static uint64_t level2[4][512] __attribute__((aligned(4096)));
/* The linear memory's 1 GiB at WASM_MEMORY_VA: its first blocks map the memory, the rest stay unmapped. */
static uint64_t level2_wasm[512] __attribute__((aligned(4096)));

static const struct mem_range board_devices[BOARD_DEVICE_COUNT] = BOARD_DEVICES;

static bool is_device(uint64_t base)
{
	for (unsigned i = 0; i < BOARD_DEVICE_COUNT; i++)
		if (base >= board_devices[i].base && base - board_devices[i].base < board_devices[i].size)
			return true;
	return false;
}

static uint64_t block_for(uint64_t base)
{
	if (devtree_ram_contains(base, BLOCK))
		return base | PTE_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF;
	if (is_device(base))
		return base | PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_XN;
	return 0;
}

/*
 * Boot CPU, MMU off: reads the firmware's device tree (x0 at entry; 0 where the firmware passes none) and
 * builds the map from it. Without a usable tree the hypervisor's own image and linear memory are mapped, so
 * that it can still say why nothing runs.
 */
void mmu_build(uint64_t dtb)
{
	devtree_scan(dtb);
	if (devtree.ram_count == 0) {
		devtree.ram[0].base = HYP_IMAGE_BASE & ~(BLOCK - 1);
		devtree.ram[0].size = HYP_WASM_MEM_PA + HYP_WASM_MEM_SIZE - devtree.ram[0].base;
		devtree.ram_count = 1;
		devtree.valid = false;
	}
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 512; j++)
			level2[i][j] = block_for(i * GiB + j * BLOCK);
		level1[i] = (uint64_t)(uintptr_t)level2[i] | PTE_TABLE;
	}
}

/*
 * Boot CPU, before the core is instantiated (no other CPU runs hypervisor code yet): maps `bytes` of linear
 * memory (a multiple of 2 MiB, which the caller checks) at WASM_MEMORY_VA; everything after stays unmapped.
 */
void mmu_map_wasm_memory(uint64_t bytes)
{
	for (uint64_t off = 0; off < bytes && off / BLOCK < 512; off += BLOCK)
		level2_wasm[off / BLOCK] = (HYP_WASM_MEM_PA + off) | PTE_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_XN;
	level1[WASM_MEMORY_VA / GiB] = (uint64_t)(uintptr_t)level2_wasm | PTE_TABLE;
	__asm__ volatile("dsb ish; tlbi alle2is; dsb ish; isb" ::: "memory");
}

/* Is `va` in the unmapped guard after the linear memory, where the core's out-of-bounds accesses land? */
bool mmu_in_wasm_guard(uint64_t va)
{
	return va >= WASM_MEMORY_VA && va - WASM_MEMORY_VA < WASM_MEMORY_GUARD;
}

void mmu_enable_el2(void)
{
	__asm__ volatile("dsb ish" ::: "memory");
	sysreg_write(mair_el2, MAIR_DEVICE_NGNRNE | (MAIR_NORMAL_WB << 8));
	sysreg_write(tcr_el2, TCR_EL2_VALUE);
	sysreg_write(ttbr0_el2, (uint64_t)level1);
	__asm__ volatile("isb; tlbi alle2; dsb ish; isb" ::: "memory");
	sysreg_write(sctlr_el2, SCTLR_EL2_VALUE);
	__asm__ volatile("isb" ::: "memory");
}
