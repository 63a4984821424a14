/*
 * The GICv2 back end (gic.h) for a GIC-400 with the virtualization
 * extensions, all MMIO: the distributor (GICD), this CPU's interface (GICC,
 * banked per CPU), its virtual interface control (GICH, the banked alias for
 * the calling CPU) and the virtual CPU interface (GICV), which guests get
 * directly at their GICC address through stage 2. Arm IHI 0048B, ch. 4 and 5.
 *
 * The hypervisor runs Non-secure, so it sees the Non-secure view of the
 * banked registers: GICD_CTLR bit 0 and GICC_CTLR bit 0 enable Group 1 (all
 * TF-A leaves to the normal world), GICC_CTLR bit 9 is EOImodeNS.
 *
 * List registers are 32 bits here; the core builds them in the GICv3 format
 * and this file converts. Guests are given Group 0 (Linux's GICv2 driver
 * enables Group 0 of its CPU interface only), their priority's top 5 bits,
 * and the state.
 *
 * The core links the virtual timer to its physical PPI (the HW bit: the guest's deactivation ends the physical
 * one). This back end does that link itself instead: the LR asks for a maintenance interrupt when the guest
 * deactivates it (EOI bit), and the exit that brings deactivates the PPI here. QEMU's GICv2 (hw/intc/arm_gic.c,
 * 10.0) does deactivate the physical PPI on a HW LR's deactivation, but re-evaluates only the virtual interfaces
 * after it: a timer that expired again meanwhile stays pending and unsignalled until some other interrupt
 * happens to make the GIC look again. With other guests running that is soon; a guest running alone on an
 * otherwise idle machine waited in WFI for ever (the rpi4 test's rare hang at power-off). A write to GICC_DIR
 * makes it look. The cost is one more exit per timer interrupt.
 */
#include "board.h"
#if BOARD_GIC_VERSION == 2
#include "arch.h"
#include "frame.h"
#include "hyp.h"
#include "hyp_core.h"

#define GICD_CTLR 0x000
#define GICD_CTLR_ENABLE 1u
#define GICD_ISENABLER(n) (0x100 + 4 * (n))
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR 0x800
#define GICD_ICFGR(n) (0xc00 + 4 * (n))
#define GICD_ICPENDR0 0x280 /* banked per CPU for SGIs and PPIs */
#define GICD_ISACTIVER0 0x300
#define GICD_ICACTIVER0 0x380
#define GICD_ICFGR_EDGE 2u
#define GICD_SGIR 0xf00
#define GICD_CPENDSGIR(n) (0xf10 + (n)) /* a byte per SGI: its pending state from each source CPU */
#define GICD_SGIR_TARGET_SHIFT 16

#define GICC_CTLR 0x0000
#define GICC_CTLR_ENABLE_GRP1 (1u << 0)
#define GICC_CTLR_EOIMODE_NS (1u << 9)
#define GICC_PMR 0x0004
#define GICC_BPR 0x0008
#define GICC_IAR 0x000c
#define GICC_EOIR 0x0010
#define GICC_DIR 0x1000
#define GICC_IAR_INTID(iar) ((iar) & 0x3ff)

#define GICH_HCR 0x000
#define GICH_HCR_EN 1u
#define GICH_HCR_UIE (1u << 1) /* underflow: maintenance interrupt while at most one LR is valid */
#define GICH_VTR 0x004
#define GICH_VTR_LISTREGS(vtr) (((vtr) & 0x3f) + 1)
#define GICH_LR(n) (0x100 + 4 * (n))
#define GICH_LR_VIRTUAL_ID(v) ((uint32_t)(v) & 0x3ff)
#define GICH_LR_PRIORITY(p) ((((uint32_t)(p) >> 3) & 0x1f) << 23)
#define GICH_LR_STATE_SHIFT 28
#define GICH_LR_EOI (1u << 19) /* with HW clear: a maintenance interrupt when the guest deactivates it */

/* The GICv3 list-register fields the core fills (hyp/vgic/regs.ts LR_*). */
#define ICH_LR_STATE_SHIFT 62
#define ICH_LR_HW (1ull << 61)
#define ICH_LR_PRIORITY(lr) (((lr) >> 48) & 0xff)
#define ICH_LR_PINTID(lr) (((lr) >> 32) & 0x3ff)

#define SGI_COUNT 16u

static unsigned lr_count;
/* Each CPU's GICH_HCR as last written (gic_cpu_init: EN). */
static uint32_t hcr_now[MAX_CPUS];
/* Per CPU, the LRs last loaded with the virtual timer live in them: their deactivation is ended here (above). */
static uint32_t timer_lrs[MAX_CPUS];

/*
 * An SGI's acknowledge value carries the sending CPU in bits 12:10, and its
 * EOI and deactivation must carry it too: kept per CPU and SGI until then.
 */
static uint32_t sgi_iar[MAX_CPUS][SGI_COUNT];

/* Routes an SPI to CPU interface 0, the boot CPU, which is also the console CPU and never parks. */
static void spi_enable_on_boot_cpu(unsigned intid, bool edge)
{
	mmio_write8(BOARD_GICD_BASE + GICD_ITARGETSR + intid, 1u);
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + intid, HYP_PRIORITY);
	if (edge) {
		uintptr_t cfg = BOARD_GICD_BASE + GICD_ICFGR(intid / 16);
		mmio_write32(cfg, mmio_read32(cfg) | (GICD_ICFGR_EDGE << (2 * (intid % 16))));
	}
	mmio_write32(BOARD_GICD_BASE + GICD_ISENABLER(intid / 32), 1u << (intid % 32));
}

void gic_distributor_init(void)
{
	mmio_write32(BOARD_GICD_BASE + GICD_CTLR, mmio_read32(BOARD_GICD_BASE + GICD_CTLR) | GICD_CTLR_ENABLE);
	spi_enable_on_boot_cpu(BOARD_UART0_INTID, false);
	console_input_enable();
	if (BOARD_OPTEE_NOTIF_INTID)
		spi_enable_on_boot_cpu(BOARD_OPTEE_NOTIF_INTID, true);
}

static volatile bool cpu_interface_up[MAX_CPUS];

void gic_cpu_quiesce(void)
{
	unsigned cpu = this_cpu();
	if (cpu >= MAX_CPUS || !cpu_interface_up[cpu])
		return;
	mmio_write32(BOARD_GICC_BASE + GICC_CTLR, 0);
	gic_virtual_off();
}

void gic_cpu_init(unsigned cpu)
{
	/* The SGI/PPI registers of the distributor are banked: these are this CPU's. */
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + KICK_SGI, HYP_PRIORITY);
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + LOCK_SGI, HYP_PRIORITY);
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + VTIMER_PPI, HYP_PRIORITY);
	mmio_write8(BOARD_GICD_BASE + GICD_IPRIORITYR + MAINTENANCE_PPI, HYP_PRIORITY);
	mmio_write32(BOARD_GICD_BASE + GICD_ISENABLER(0),
		     (1u << KICK_SGI) | (1u << LOCK_SGI) | (1u << VTIMER_PPI) | (1u << MAINTENANCE_PPI));

	mmio_write32(BOARD_GICC_BASE + GICC_PMR, 0xff);
	mmio_write32(BOARD_GICC_BASE + GICC_BPR, 0);
	mmio_write32(BOARD_GICC_BASE + GICC_CTLR, GICC_CTLR_ENABLE_GRP1 | GICC_CTLR_EOIMODE_NS);
	mmio_write32(BOARD_GICH_BASE + GICH_HCR, GICH_HCR_EN);
	if (cpu < MAX_CPUS)
		hcr_now[cpu] = GICH_HCR_EN;
	if (cpu == 0) {
		unsigned n = GICH_VTR_LISTREGS(mmio_read32(BOARD_GICH_BASE + GICH_VTR));
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
	return BOARD_GICV_BASE;
}

uint32_t gic_acknowledge(void)
{
	uint32_t iar = mmio_read32(BOARD_GICC_BASE + GICC_IAR);
	uint32_t intid = GICC_IAR_INTID(iar);
	if (intid >= 1020)
		return INTID_SPURIOUS;
	unsigned cpu = this_cpu();
	if (intid < SGI_COUNT && cpu < MAX_CPUS)
		sgi_iar[cpu][intid] = iar;
	mmio_write32(BOARD_GICC_BASE + GICC_EOIR, iar);
	/* A kick carries nothing but "enter the core", which the caller does next; a lock wake-up not even that (gic.h). */
	if (intid == KICK_SGI || intid == LOCK_SGI)
		mmio_write32(BOARD_GICC_BASE + GICC_DIR, iar);
	return intid == LOCK_SGI ? INTID_SPURIOUS : intid;
}

bool gic_vtimer_reset(void)
{
	bool was_active = mmio_read32(BOARD_GICD_BASE + GICD_ISACTIVER0) >> VTIMER_PPI & 1;
	mmio_write32(BOARD_GICD_BASE + GICD_ICPENDR0, 1u << VTIMER_PPI);
	mmio_write32(BOARD_GICD_BASE + GICD_ICACTIVER0, 1u << VTIMER_PPI);
	return was_active;
}

void gic_deactivate(uint32_t intid)
{
	if (intid >= 1020)
		return;
	unsigned cpu = this_cpu();
	uint32_t value = intid < SGI_COUNT && cpu < MAX_CPUS ? sgi_iar[cpu][intid] : intid;
	mmio_write32(BOARD_GICC_BASE + GICC_DIR, value);
}

static void send_sgi(unsigned cpu, uint32_t sgi)
{
	/* TargetListFilter 0: the CPUs in CPUTargetList (bits 23:16), CPU interface n = CPU n. */
	__asm__ volatile("dsb ishst" ::: "memory");
	mmio_write32(BOARD_GICD_BASE + GICD_SGIR, (1u << (GICD_SGIR_TARGET_SHIFT + (cpu & 7))) | sgi);
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
	mmio_write8(BOARD_GICD_BASE + GICD_CPENDSGIR(LOCK_SGI), 0xff);
}

/* A live LR the core linked to a physical interrupt: only the virtual timer's PPI may be (anything else goes in unlinked). */
static bool lr_is_live_timer(uint64_t lr)
{
	return (lr & ICH_LR_HW) && ICH_LR_PINTID(lr) == VTIMER_PPI && (lr >> ICH_LR_STATE_SHIFT) != 0;
}

/* `timer`: lr_is_live_timer(lr), which the caller has already asked. */
static uint32_t lr_to_gicv2(uint64_t lr, bool timer)
{
	uint32_t v = GICH_LR_VIRTUAL_ID(lr) | GICH_LR_PRIORITY(ICH_LR_PRIORITY(lr)) |
		     (uint32_t)(lr >> ICH_LR_STATE_SHIFT) << GICH_LR_STATE_SHIFT;
	return timer ? v | GICH_LR_EOI : v;
}

void gic_virtual_off(void)
{
	unsigned cpu = this_cpu();
	if (cpu < MAX_CPUS && hcr_now[cpu] != 0) {
		mmio_write32(BOARD_GICH_BASE + GICH_HCR, 0);
		hcr_now[cpu] = 0;
	}
}

void gic_lrs_load(const struct frame *f)
{
	/* GICH_HCR is MMIO here: written only when the underflow request changes. */
	unsigned cpu = this_cpu();
	uint32_t hcr = f->lr_underflow ? GICH_HCR_EN | GICH_HCR_UIE : GICH_HCR_EN;
	if (cpu < MAX_CPUS && hcr_now[cpu] != hcr) {
		mmio_write32(BOARD_GICH_BASE + GICH_HCR, hcr);
		hcr_now[cpu] = hcr;
	}
	uint32_t timer = 0;
	for (unsigned i = 0; i < lr_count; i++) {
		bool live_timer = lr_is_live_timer(f->lr[i]);
		mmio_write32(BOARD_GICH_BASE + GICH_LR(i), lr_to_gicv2(f->lr[i], live_timer));
		timer |= (uint32_t)live_timer << i;
	}
	if (cpu < MAX_CPUS)
		timer_lrs[cpu] = timer;
}

/*
 * Only the state changes while the guest runs: the rest of the core's value stays as it built it. A timer LR
 * the guest has deactivated since the load deactivates the physical PPI now, once.
 */
void gic_lrs_save(struct frame *f)
{
	unsigned cpu = this_cpu();
	uint32_t timer = cpu < MAX_CPUS ? timer_lrs[cpu] : 0;
	for (unsigned i = 0; i < lr_count; i++) {
		uint32_t v = mmio_read32(BOARD_GICH_BASE + GICH_LR(i));
		uint64_t state = (v >> GICH_LR_STATE_SHIFT) & 3;
		if (state == 0 && (timer >> i & 1))
			mmio_write32(BOARD_GICC_BASE + GICC_DIR, VTIMER_PPI);
		f->lr[i] = (f->lr[i] & ~(3ull << ICH_LR_STATE_SHIFT)) | state << ICH_LR_STATE_SHIFT;
	}
	if (cpu < MAX_CPUS)
		timer_lrs[cpu] = 0;
}
#endif
