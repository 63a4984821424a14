/*
 * The firmware interface the core asks for with ACTION_SMC (and stop.c for
 * SYSTEM_OFF): an SMC to TF-A where there is one. The Raspberry Pi's own
 * armstub (config.txt without armstub=) has no secure monitor: SMC is
 * UNDEFINED (SCR_EL3.SMD), secondaries wait on a spin table, and there is no
 * PSCI. The device tree tells which: a /psci node, or cpus with
 * enable-method "spin-table". Without PSCI, the few calls the core makes are
 * answered here as that firmware would if it had a monitor:
 *   CPU_ON      the entry address is written to the CPU's cpu-release-addr, then SEV
 *   SYSTEM_OFF  the board's watchdog (BOARD_PM_BASE), or WFI for good
 *   anything else (OP-TEE's CALLS_UID, …)  SMC_UNK, as TF-A answers what nobody claims
 * so the OP-TEE probe says OP-TEE is absent, and guests start as under TF-A.
 */
#include "arch.h"
#include "board.h"
#include "devtree.h"
#include "hyp.h"

#define SMC_UNK 0xffffffffull
#define PSCI_0_2_FN_SYSTEM_OFF 0x84000008ull
#define PSCI_0_2_FN64_CPU_ON 0xc4000003ull
#define PSCI_RET_SUCCESS 0ull
#define PSCI_RET_INVALID_PARAMS ((uint64_t)-2)

/* BCM2711 PM block: the watchdog's reset status and control (Linux bcm2835_wdt.c, design.md §8). */
#define PM_PASSWORD 0x5a000000u
#define PM_RSTC 0x1c
#define PM_RSTS 0x20
#define PM_WDOG 0x24
#define PM_RSTS_HALT 0x555u /* partition 63: the firmware halts instead of booting */
#define PM_RSTC_FULL_RESET 0x20u
#define PM_WDOG_TICKS 10u

/* Writes `entry` where the CPU waits (a CPU reset with the MMU off reads memory, not our caches) and wakes it. */
static uint64_t spin_table_release(uint64_t mpidr, uint64_t entry)
{
	unsigned cpu = (unsigned)(mpidr & 0xff);
	uint64_t release = cpu < DEVTREE_MAX_CPUS ? devtree.release_addr[cpu] : 0;
	if (!release || !devtree_ram_contains(release, 8))
		return PSCI_RET_INVALID_PARAMS;
	*(volatile uint64_t *)(uintptr_t)release = entry;
	__asm__ volatile("dc civac, %0; dsb sy; sev" ::"r"(release) : "memory");
	return PSCI_RET_SUCCESS;
}

static void watchdog_off(void)
{
#ifdef BOARD_PM_BASE
	mmio_write32(BOARD_PM_BASE + PM_RSTS, PM_PASSWORD | PM_RSTS_HALT);
	mmio_write32(BOARD_PM_BASE + PM_WDOG, PM_PASSWORD | PM_WDOG_TICKS);
	mmio_write32(BOARD_PM_BASE + PM_RSTC, PM_PASSWORD | PM_RSTC_FULL_RESET);
#endif
	for (;;)
		__asm__ volatile("wfi");
}

void smc_call(uint64_t regs[8])
{
	if (!devtree.valid || devtree.psci) {
		smc_to_el3(regs);
		return;
	}
	switch (regs[0]) {
	case PSCI_0_2_FN64_CPU_ON:
		regs[0] = spin_table_release(regs[1], regs[2]);
		break;
	case PSCI_0_2_FN_SYSTEM_OFF:
		watchdog_off();
		break;
	default:
		regs[0] = SMC_UNK;
	}
}
