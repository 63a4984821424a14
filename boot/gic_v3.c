/*
 * The GICv3 back end (gic.h): distributor and redistributors as MMIO, the CPU
 * interface and the virtual interface (ICH_*) as system registers. Arm IHI
 * 0069. Addresses from board.h.
 */
#include "board.h"
#if BOARD_GIC_VERSION == 3
#include "arch.h"
#include "frame.h"
#include "hyp.h"
#include "hyp_core.h"

#define GICD_CTLR 0x0000
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ENABLE_G1A (1u << 1)
#define GICD_ISENABLER(n) (0x0100 + 4 * (n))
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR(n) (0x0c00 + 4 * (n))
#define GICD_ICFGR_EDGE 2u
#define GICD_IROUTER(n) (0x6000 + 8 * (n))
#define GICR_TYPER 0x0008
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP (1u << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1u << 2)
#define GICR_SGI_BASE 0x10000
#define GICR_ISENABLER0 (GICR_SGI_BASE + 0x0100)
#define GICR_ICPENDR0 (GICR_SGI_BASE + 0x0280)
#define GICR_ISACTIVER0 (GICR_SGI_BASE + 0x0300)
#define GICR_ICACTIVER0 (GICR_SGI_BASE + 0x0380)
#define GICR_IPRIORITYR (GICR_SGI_BASE + 0x0400)

#define ICC_SRE_EL2_VALUE 0xfull /* SRE, DFB, DIB, and Enable: EL1 may use its (virtual) system registers */
#define ICC_CTLR_EOIMODE (1ull << 1)
#define ICH_HCR_EN 1ull
#define ICH_HCR_UIE (1ull << 1) /* underflow: maintenance interrupt while at most one LR is valid */
#define ICH_VTR_LISTREGS(vtr) (((vtr) & 0x1f) + 1)
#define ICH_LR_HW (1ull << 61)
#define ICH_LR_PINTID_MASK (0x1fffull << 32)

/* The list registers this CPU has, at most the frame's: read from ICH_VTR_EL2 by the boot CPU's gic_cpu_init. */
static unsigned lr_count;

/* Each CPU's redistributor, once gic_cpu_init has found it. */
static uintptr_t redistributor_of[MAX_CPUS];

/* The redistributor of `cpu`: laid out in CPU order, BOARD_GICR_STRIDE apart; checked against GICR_TYPER. */
static uintptr_t redistributor(unsigned cpu)
{
	uintptr_t rd = BOARD_GICR_BASE + (uintptr_t)cpu * BOARD_GICR_STRIDE;
	uint64_t typer = mmio_read64(rd + GICR_TYPER);
	if (((typer >> 32) & 0xff) != cpu)
		console_printf("[hyp] cpu %u: redistributor at 0x%lx has affinity %lu\n", cpu, (unsigned long)rd,
			       (unsigned long)((typer >> 32) & 0xff));
	return rd;
}

/*
 * Routes an SPI to the boot CPU (affinity 0.0.0.0), which is also the console
 * CPU: the one CPU that never parks, so what arrives there is always taken.
 */
static void spi_enable_on_boot_cpu(unsigned intid, bool edge)
{
	mmio_write64(BOARD_GICD_BASE + GICD_IROUTER(intid), 0);
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + intid, HYP_PRIORITY);
	if (edge) {
		uintptr_t cfg = BOARD_GICD_BASE + GICD_ICFGR(intid / 16);
		mmio_write32(cfg, mmio_read32(cfg) | (GICD_ICFGR_EDGE << (2 * (intid % 16))));
	}
	mmio_write32(BOARD_GICD_BASE + GICD_ISENABLER(intid / 32), 1u << (intid % 32));
}

void gic_distributor_init(void)
{
	uint32_t ctlr = mmio_read32(BOARD_GICD_BASE + GICD_CTLR);
	mmio_write32(BOARD_GICD_BASE + GICD_CTLR, ctlr | GICD_CTLR_ENABLE_G1A);
	while (mmio_read32(BOARD_GICD_BASE + GICD_CTLR) & GICD_CTLR_RWP)
		;
	spi_enable_on_boot_cpu(BOARD_UART0_INTID, false);
	console_input_enable();
	/*
	 * OP-TEE raises it (GICD_ISPENDR) for every guest's notifications; the core finds out
	 * whose they are. Edge, as OP-TEE describes it: one raise, one interrupt.
	 */
	if (BOARD_OPTEE_NOTIF_INTID)
		spi_enable_on_boot_cpu(BOARD_OPTEE_NOTIF_INTID, true);
}

/* Which CPUs' interfaces gic_cpu_init set up: only those have system-register access to turn off. */
static volatile bool cpu_interface_up[MAX_CPUS];

/* This CPU takes no interrupt any more (a parked CPU): nothing pending can wake its WFI over and over. */
void gic_cpu_quiesce(void)
{
	unsigned cpu = this_cpu();
	if (cpu >= MAX_CPUS || !cpu_interface_up[cpu])
		return;
	sysreg_write(icc_igrpen1_el1, 0);
	gic_virtual_off();
}

void gic_cpu_init(unsigned cpu)
{
	uintptr_t rd = redistributor(cpu);
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
	while (mmio_read32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP)
		;
	mmio_write8(rd + GICR_IPRIORITYR + KICK_SGI, HYP_PRIORITY);
	mmio_write8(rd + GICR_IPRIORITYR + LOCK_SGI, HYP_PRIORITY);
	mmio_write8(rd + GICR_IPRIORITYR + VTIMER_PPI, HYP_PRIORITY);
	mmio_write8(rd + GICR_IPRIORITYR + MAINTENANCE_PPI, HYP_PRIORITY);
	mmio_write32(rd + GICR_ISENABLER0, (1u << KICK_SGI) | (1u << LOCK_SGI) | (1u << VTIMER_PPI) | (1u << MAINTENANCE_PPI));
	if (cpu < MAX_CPUS)
		redistributor_of[cpu] = rd;

	sysreg_write(icc_sre_el2, ICC_SRE_EL2_VALUE);
	__asm__ volatile("isb");
	sysreg_write(icc_pmr_el1, 0xff);
	sysreg_write(icc_bpr1_el1, 0);
	sysreg_write(icc_ctlr_el1, ICC_CTLR_EOIMODE);
	sysreg_write(icc_igrpen1_el1, 1);
	sysreg_write(ich_vmcr_el2, 0);
	sysreg_write(ich_hcr_el2, ICH_HCR_EN);
	__asm__ volatile("isb");
	if (cpu == 0) {
		unsigned n = ICH_VTR_LISTREGS(sysreg_read(ich_vtr_el2));
		lr_count = n < FRAME_LR_COUNT ? n : FRAME_LR_COUNT;
	}
	if (cpu < MAX_CPUS)
		cpu_interface_up[cpu] = true;
}

unsigned gic_list_register_count(void)
{
	return lr_count;
}

uint64_t gic_virtual_cpu_interface_pa(void)
{
	return 0;
}

/* Acknowledges the highest-priority pending interrupt and drops its priority; 1023 if none. */
uint32_t gic_acknowledge(void)
{
	uint32_t intid = (uint32_t)sysreg_read(icc_iar1_el1) & 0xffffff;
	if (intid < 1020)
		sysreg_write(icc_eoir1_el1, intid);
	/* A kick carries nothing but "enter the core", which the caller does next; a lock wake-up not even that (gic.h). */
	if (intid == KICK_SGI || intid == LOCK_SGI)
		sysreg_write(icc_dir_el1, intid);
	return intid == LOCK_SGI ? INTID_SPURIOUS : intid;
}

void gic_deactivate(uint32_t intid)
{
	if (intid < 1020)
		sysreg_write(icc_dir_el1, intid);
}

bool gic_vtimer_reset(void)
{
	uintptr_t rd = redistributor(this_cpu());
	bool was_active = mmio_read32(rd + GICR_ISACTIVER0) >> VTIMER_PPI & 1;
	mmio_write32(rd + GICR_ICPENDR0, 1u << VTIMER_PPI);
	mmio_write32(rd + GICR_ICACTIVER0, 1u << VTIMER_PPI);
	return was_active;
}

static void send_sgi(unsigned cpu, uint64_t sgi)
{
	/* Affinity 3..1 = 0 (one cluster), TargetList bit = Aff0. */
	__asm__ volatile("dsb ishst" ::: "memory");
	sysreg_write(icc_sgi1r_el1, sgi << 24 | (1ull << (cpu & 15)));
	__asm__ volatile("isb");
}

void gic_kick(unsigned cpu)
{
	send_sgi(cpu, KICK_SGI);
}

void gic_lock_wake(unsigned cpu)
{
	send_sgi(cpu, LOCK_SGI);
}

void gic_lock_wake_clear(void)
{
	unsigned cpu = this_cpu();
	if (cpu < MAX_CPUS && redistributor_of[cpu])
		mmio_write32(redistributor_of[cpu] + GICR_ICPENDR0, 1u << LOCK_SGI);
}

void gic_virtual_off(void)
{
	sysreg_write(ich_hcr_el2, 0);
	__asm__ volatile("isb");
}

/*
 * The core links only the virtual timer to its physical PPI (the HW bit): an LR naming any other physical
 * INTID goes in unlinked, so that no guest's deactivation can end a physical interrupt other than its timer's.
 */
static inline uint64_t lr_checked(uint64_t lr)
{
	if ((lr & ICH_LR_HW) && (lr & ICH_LR_PINTID_MASK) >> 32 != VTIMER_PPI)
		return lr & ~(ICH_LR_HW | ICH_LR_PINTID_MASK);
	return lr;
}

/* ICH_LR<n>_EL2 are separate system registers: one case each, falling through (every GICv3 has at least 1). */
void gic_lrs_load(const struct frame *f)
{
	sysreg_write(ich_hcr_el2, f->lr_underflow ? ICH_HCR_EN | ICH_HCR_UIE : ICH_HCR_EN);
	switch (lr_count) {
	case 4: sysreg_write(ich_lr3_el2, lr_checked(f->lr[3])); /* fall through */
	case 3: sysreg_write(ich_lr2_el2, lr_checked(f->lr[2])); /* fall through */
	case 2: sysreg_write(ich_lr1_el2, lr_checked(f->lr[1])); /* fall through */
	default: sysreg_write(ich_lr0_el2, lr_checked(f->lr[0]));
	}
}

void gic_lrs_save(struct frame *f)
{
	switch (lr_count) {
	case 4: f->lr[3] = sysreg_read(ich_lr3_el2); /* fall through */
	case 3: f->lr[2] = sysreg_read(ich_lr2_el2); /* fall through */
	case 2: f->lr[1] = sysreg_read(ich_lr1_el2); /* fall through */
	default: f->lr[0] = sysreg_read(ich_lr0_el2);
	}
}
#endif
