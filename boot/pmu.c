/*
 * The per-exit profile's counter: one PMU event counter reserved for EL2 (MDCR_EL2.HPMN hides it from guests),
 * counting only at EL2, so that the difference between two guest entries is exactly what the hypervisor spent
 * in between: the vectors, the run loop, the core, the C glue — not the guest, not TF-A, not OP-TEE.
 * Under QEMU -icount it counts instructions (event 0x08); without -icount QEMU has no instruction event and
 * it counts cycles (0x11); on a real board, cycles. QEMU derives its instruction event from the machine-wide
 * instruction count (target/arm: instructions_get_count is icount_get_raw), and under -icount it runs the vCPUs
 * one at a time: a stint in which QEMU ran another vCPU (this one slept in WFI for the lock, or its round-robin
 * slice ended at EL2) counts that vCPU's instructions too. One busy CPU (the micro-benchmark) is counted exactly.
 * The core names each stint's kind (hyp/core/account.ts);
 * account_stint() adds the stint to this CPU's table in linear memory, outside the core's lock: each CPU has
 * its own table, and only this CPU writes it.
 */
#include "arch.h"
#include "frame.h"
#include "hyp.h"

/*
 * PMEVTYPER<n>_EL0 filter for "EL2 only": P and U exclude EL1 and EL0 (Secure ones directly; Non-secure ones
 * because NSK and NSU differ from P and U), NSH includes EL2, and M (0, unlike P) excludes EL3.
 */
#define PMEVTYPER_P (1u << 31)
#define PMEVTYPER_U (1u << 30)
#define PMEVTYPER_NSH (1u << 27)
#define PMEVTYPER_EL2_ONLY (PMEVTYPER_P | PMEVTYPER_U | PMEVTYPER_NSH)

#define MDCR_EL2_HPMN_MASK 0x1fu
#define ACCOUNT_PROBES 16u
#define MDCR_EL2_HPME (1u << 7)

/* A slot of the core's table: written once in tools/abi/account.ts (abi.h); checked here. */
struct account_entry {
	uint32_t key, count;
	uint64_t total;
};
_Static_assert(sizeof(struct account_entry) == ACCOUNT_ENTRY, "account_entry size");
_Static_assert(__builtin_offsetof(struct account_entry, key) == ACCOUNT_KEY_AT, "account_entry.key");
_Static_assert(__builtin_offsetof(struct account_entry, count) == ACCOUNT_COUNT_AT, "account_entry.count");
_Static_assert(__builtin_offsetof(struct account_entry, total) == ACCOUNT_TOTAL_AT, "account_entry.total");

/*
 * PMEVCNTR<n>_EL0 and PMEVTYPER<n>_EL0 name n in the instruction (CRm = 8 + n / 8 or 12 + n / 8, op2 = n % 8),
 * so each counter is one case. Counters 0-15 are enough: the one reserved is min(PMCR_EL0.N, 16) - 1.
 */
#define PMU_MAX_COUNTER 15u
#define PMEV_MRS(crm, op2) ({ uint64_t v_; __asm__ volatile("mrs %0, S3_3_C14_C" #crm "_" #op2 : "=r"(v_)); v_; })
#define PMEV_MSR(crm, op2, v) __asm__ volatile("msr S3_3_C14_C" #crm "_" #op2 ", %0" ::"r"((uint64_t)(v)))
#define PMEV_EACH(X) X(0, 0) X(1, 1) X(2, 2) X(3, 3) X(4, 4) X(5, 5) X(6, 6) X(7, 7) \
	X(8, 0) X(9, 1) X(10, 2) X(11, 3) X(12, 4) X(13, 5) X(14, 6) X(15, 7)

static uint32_t pmu_read_counter(unsigned n)
{
	switch (n) {
#define READ_CASE(n, op2) case n: return (uint32_t)((n) < 8 ? PMEV_MRS(8, op2) : PMEV_MRS(9, op2));
		PMEV_EACH(READ_CASE)
#undef READ_CASE
	}
	return 0;
}

static void pmu_set_type(unsigned n, uint32_t type)
{
	switch (n) {
#define TYPE_CASE(n, op2) case n: if ((n) < 8) PMEV_MSR(12, op2, type); else PMEV_MSR(13, op2, type); break;
		PMEV_EACH(TYPE_CASE)
#undef TYPE_CASE
	}
}


/* Per CPU: the counter it reserved and its profile table (NULL: no profile), resolved by account_attach(). */
static unsigned pmu_counter[MAX_CPUS];
static struct account_entry *account_table[MAX_CPUS];
static uint32_t account_mask[MAX_CPUS];
static uint32_t account_shift[MAX_CPUS];

/*
 * Reserves the highest event counter (up to 15) for EL2 on this CPU and starts it; returns the event it
 * counts, or 0 when the CPU has no PMU counter to spare. Guests see one counter fewer (PMCR_EL0.N = HPMN).
 */
uint32_t pmu_el2_init(unsigned cpu)
{
	uint64_t dfr0 = sysreg_read(id_aa64dfr0_el1);
	unsigned pmuver = (dfr0 >> 8) & 0xf;
	unsigned counters = (sysreg_read(pmcr_el0) >> 11) & 0x1f;
	if (pmuver == 0 || pmuver == 0xf || counters == 0 || cpu >= MAX_CPUS)
		return 0;
	unsigned n = counters - 1 > PMU_MAX_COUNTER ? PMU_MAX_COUNTER : counters - 1;
	/* PMCEID0_EL0 bit 8: INST_RETIRED is implemented (QEMU implements it only under -icount). */
	uint32_t event = (sysreg_read(pmceid0_el0) >> PMU_EVENT_INST_RETIRED) & 1 ? PMU_EVENT_INST_RETIRED : PMU_EVENT_CPU_CYCLES;
	uint64_t mdcr = sysreg_read(mdcr_el2) & ~(uint64_t)MDCR_EL2_HPMN_MASK;
	sysreg_write(mdcr_el2, mdcr | n | MDCR_EL2_HPME);
	pmu_set_type(n, PMEVTYPER_EL2_ONLY | event);
	sysreg_write(pmcntenset_el0, 1ull << n);
	__asm__ volatile("isb");
	pmu_counter[cpu] = n;
	return event;
}

/* Called once the core has said where this CPU's table is (frame->account_table, after cpuStart). */
void account_attach(unsigned cpu, struct frame *f, uint32_t event)
{
	uint32_t slots = f->account_slots;
	f->account_event = 0;
	if (!event || cpu >= MAX_CPUS || slots == 0 || (slots & (slots - 1)) != 0)
		return;
	account_table[cpu] = core_range(f->account_table, slots * (uint32_t)sizeof(struct account_entry), 8);
	if (!account_table[cpu])
		return;
	account_mask[cpu] = slots - 1;
	account_shift[cpu] = 32 - (uint32_t)__builtin_ctz(slots); /* the hash's top bits index the table */
	f->account_event = event;
	f->account_last = pmu_read_counter(pmu_counter[cpu]);
}

/*
 * About to enter the guest: the EL2 work since its last exit is done. Adds it to the kind the core named
 * (a stint whose kind finds no slot within ACCOUNT_PROBES is dropped: the table is too full).
 */
void account_stint(unsigned cpu, struct frame *f)
{
	struct account_entry *table = account_table[cpu];
	if (!table)
		return;
	uint32_t now = pmu_read_counter(pmu_counter[cpu]);
	uint32_t spent = now - (uint32_t)f->account_last;
	uint32_t key = f->account_key;
	f->account_last = now;
	f->account_key = 0;
	if (!key)
		return;
	/* At most ACCOUNT_PROBES slots are looked at: a full table costs each new kind a bounded, small search. */
	uint32_t mask = account_mask[cpu];
	uint32_t i = (key * 0x9e3779b1u) >> account_shift[cpu]; /* Fibonacci hashing: keys differ in few bits */
	for (uint32_t probes = 0; probes < ACCOUNT_PROBES && probes <= mask; probes++, i = (i + 1) & mask) {
		if (table[i].key == key || table[i].key == 0) {
			table[i].key = key;
			table[i].count++;
			table[i].total += spent;
			return;
		}
	}
}
