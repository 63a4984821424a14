/*
 * The EL2 stage-1 identity map, built and enabled before any Wasm runs.
 * Compiled with -mstrict-align: it runs with the MMU off, where every data
 * access is Device memory and an unaligned one faults.
 *
 * 4 KiB granule, 32-bit VA (T0SZ = 32), so the walk starts at level 1 and
 * each of its first four entries maps 1 GiB as a block:
 *   below RAM  → Device-nGnRnE, execute-never (flash, GIC, UART, …)
 *   RAM        → Normal write-back, inner shareable
 *   past RAM   → unmapped, so a stray access faults instead of hitting nothing
 */
#include "arch.h"
#include "hyp.h"

#define GiB (1ull << 30)

#define PTE_BLOCK 0x1ull
#define PTE_ATTR(i) ((uint64_t)(i) << 2)
#define PTE_SH_INNER (3ull << 8)
#define PTE_AF (1ull << 10)
#define PTE_XN (1ull << 54)

#define MAIR_DEVICE_NGNRNE 0x00ull /* attribute index 0 */
#define MAIR_NORMAL_WB 0xffull	   /* attribute index 1 */
#define ATTR_DEVICE 0
#define ATTR_NORMAL 1

/* TCR_EL2: RES1 bits 31 and 23, PS = 40 bits, TG0 = 4 KiB, inner shareable, WBWA walks, T0SZ = 32. */
#define TCR_EL2_VALUE ((1ull << 31) | (1ull << 23) | (2ull << 16) | (3ull << 12) | (1ull << 10) | (1ull << 8) | 32)
/* SCTLR_EL2 (E2H = 0): RES1 bits, then M (MMU), C (data cache), SA (stack alignment), I (instruction cache). */
#define SCTLR_EL2_RES1 0x30c50830ull
#define SCTLR_EL2_VALUE (SCTLR_EL2_RES1 | (1ull << 0) | (1ull << 2) | (1ull << 3) | (1ull << 12))

static uint64_t level1[512] __attribute__((aligned(4096)));

static uint64_t block_for(uint64_t base)
{
	if (base < BOARD_RAM_BASE)
		return base | PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_XN;
	if (base < BOARD_RAM_BASE + BOARD_RAM_SIZE)
		return base | PTE_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF;
	return 0;
}

void mmu_enable_el2(void)
{
	for (unsigned i = 0; i < 4; i++)
		level1[i] = block_for(i * GiB);
	__asm__ volatile("dsb ish" ::: "memory");
	sysreg_write(mair_el2, MAIR_DEVICE_NGNRNE | (MAIR_NORMAL_WB << 8));
	sysreg_write(tcr_el2, TCR_EL2_VALUE);
	sysreg_write(ttbr0_el2, (uint64_t)level1);
	__asm__ volatile("isb; tlbi alle2; dsb ish; isb" ::: "memory");
	sysreg_write(sctlr_el2, SCTLR_EL2_VALUE);
	__asm__ volatile("isb" ::: "memory");
}
