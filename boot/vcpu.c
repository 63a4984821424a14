/*
 * EL2 and EL1 register state around a vCPU. One vCPU per physical CPU and
 * no switching, so the guest's EL1 registers simply stay in the hardware:
 * only the EL2 controls the core decides are loaded, when it marks them
 * dirty, and EL1 is reset once when a vCPU (re)starts.
 */
#include "arch.h"
#include "frame.h"
#include "gic.h"
#include "guests.h"
#include "hyp.h"
#include "hyp_core.h"


/* SCTLR_EL1 at reset: its RES1 bits, MMU and caches off (what Linux's boot protocol expects). */
#define SCTLR_EL1_RESET 0x30d00800ull

/* CPTR_EL2 (E2H = 0): RES1 bits; TZ (8) and TSM (12) are RES1 too when SVE / SME are absent. */
#define CPTR_EL2_RES1 (0xffull | (1ull << 9) | (1ull << 13))
#define CPTR_EL2_TZ (1ull << 8)
#define CPTR_EL2_TSM (1ull << 12)
#define CNTHCTL_EL1PCTEN_EL1PCEN 3ull

/*
 * HCRX_EL2 (FEAT_HCX): with EL2 present, features it gates are off for the
 * guest until enabled here. MSCEn: the FEAT_MOPS memcpy/memset instructions,
 * which glibc uses when the CPU has them (without it they are UNDEFINED at
 * EL0 and EL1: every program dies of SIGILL). TCR2En, SCTLR2En: let EL1 use
 * TCR2_EL1 and SCTLR2_EL1 instead of trapping here.
 */
#define HCRX_MSCEN (1ull << 11)
#define HCRX_TCR2EN (1ull << 14)
#define HCRX_SCTLR2EN (1ull << 15)

static void hcrx_init(void)
{
	uint64_t mmfr1 = sysreg_read(id_aa64mmfr1_el1);
	if (((mmfr1 >> 40) & 0xf) == 0)
		return; /* no HCRX_EL2 */
	uint64_t mmfr3 = sysreg_read(S3_0_C0_C7_3); /* ID_AA64MMFR3_EL1 */
	uint64_t isar2 = sysreg_read(S3_0_C0_C6_2); /* ID_AA64ISAR2_EL1 */
	uint64_t hcrx = 0;
	if (((isar2 >> 16) & 0xf) != 0)
		hcrx |= HCRX_MSCEN;
	if ((mmfr3 & 0xf) != 0)
		hcrx |= HCRX_TCR2EN;
	if (((mmfr3 >> 4) & 0xf) != 0)
		hcrx |= HCRX_SCTLR2EN;
	sysreg_write(S3_4_C1_C2_2, hcrx); /* HCRX_EL2 */
}

/* Per-CPU EL2 state that does not depend on the guest: FP/SIMD/SVE/SME and timers belong to it. */
void vcpu_el2_init(void)
{
	uint64_t pfr0 = sysreg_read(id_aa64pfr0_el1), pfr1 = sysreg_read(id_aa64pfr1_el1);
	int sve = ((pfr0 >> 32) & 0xf) != 0, sme = ((pfr1 >> 24) & 0xf) != 0;
	sysreg_write(cptr_el2, CPTR_EL2_RES1 | (sve ? 0 : CPTR_EL2_TZ) | (sme ? 0 : CPTR_EL2_TSM));
	__asm__ volatile("isb");
	if (sve)
		sysreg_write(S3_4_C1_C2_0, 0xf); /* ZCR_EL2: the largest vector length */
	if (sme)
		sysreg_write(S3_4_C1_C2_6, 0xf); /* SMCR_EL2: the largest streaming vector length */
	sysreg_write(cnthctl_el2, CNTHCTL_EL1PCTEN_EL1PCEN);
	sysreg_write(cntvoff_el2, 0);
	sysreg_write(hstr_el2, 0);
	sysreg_write(mdcr_el2, sysreg_read(mdcr_el2) & 0x1f); /* keep HPMN, trap nothing */
	sysreg_write(vpidr_el2, sysreg_read(midr_el1));
	hcrx_init();
	__asm__ volatile("isb");
}

/*
 * Loads the EL2 controls the core asks for, as C allows them (guests.h): VTTBR from C's own table (the caller
 * checked that the frame names the same), VTCR as tools/abi/el2.ts fixes it, HCR with the isolation bits forced.
 */
void vcpu_load_controls(unsigned cpu, struct frame *f)
{
	if (!f->controls_dirty)
		return;
	sysreg_write(vtcr_el2, VTCR_GUEST);
	sysreg_write(vttbr_el2, guest_vttbr(cpu));
	sysreg_write(vmpidr_el2, f->vmpidr);
	sysreg_write(hcr_el2, guest_hcr(f->hcr));
	__asm__ volatile("isb");
	if (f->controls_dirty == CONTROLS_RESET_EL1) {
		sysreg_write(sctlr_el1, SCTLR_EL1_RESET);
		sysreg_write(cntv_ctl_el0, 0);
		if (gic_vtimer_reset())
			console_printf("[hyp] cpu %u: the virtual timer's PPI was still active from this CPU's last vCPU: cleared\n",
				       this_cpu());
		__asm__ volatile("isb; tlbi vmalls12e1; dsb nsh; isb" ::: "memory");
	}
	f->controls_dirty = 0;
}

/*
 * A synchronous exception into the guest's EL1, as the hardware would take
 * it: return state in ELR_EL1/SPSR_EL1, then the vector for where it came
 * from (EL0: +0x400; EL1 on SP_EL1: +0x200; EL1 on SP_EL0: +0x000), EL1h
 * with D, A, I, F masked.
 */
void vcpu_inject_sync(struct frame *f, uint64_t esr, uint64_t far)
{
	uint64_t mode = f->pstate & 0xf;
	uint64_t offset = (mode & 0xc) == 0 ? 0x400 : (mode & 1) ? 0x200 : 0x000;
	sysreg_write(elr_el1, f->pc);
	sysreg_write(spsr_el1, f->pstate);
	sysreg_write(esr_el1, esr);
	sysreg_write(far_el1, far);
	f->pc = sysreg_read(vbar_el1) + offset;
	f->pstate = SPSR_EL1H_MASKED;
}

void stage2_invalidate(uint32_t vmid)
{
	/* TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2: switch to it briefly. */
	uint64_t saved = sysreg_read(vttbr_el2);
	sysreg_write(vttbr_el2, (uint64_t)(vmid & 0xff) << 48);
	__asm__ volatile("isb; tlbi vmalls12e1is; dsb ish; isb" ::: "memory");
	sysreg_write(vttbr_el2, saved);
	__asm__ volatile("isb");
}
