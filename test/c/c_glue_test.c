/*
 * Host unit tests of the C glue's checks (boot/guests.c, boot/glue.c) against the fake hardware layer
 * (fake/): C's own table of the guests, the guest-memory copies it allows, the VTTBR it accepts and the state
 * it enters a guest in. Each test runs in a child process of its own, so each starts from a fresh table; one
 * line per test, "PASS <name>" or "FAIL <name>: <what>", read by test/unit/c-glue.test.ts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake.h"
#include "guests.h"
#include "hyp.h"
#include "hyp_core.h"

#define MiB (1024ull * 1024ull)
#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			printf("line %d: %s\n", __LINE__, #cond);         \
			exit(1);                                          \
		}                                                         \
	} while (0)

/* Four 1 MiB guests' worth of "RAM" the fake device tree calls usable: real host memory, so copies happen. */
static uint8_t ram[4 * MiB] __attribute__((aligned(4096)));
#define RAM(n) ((uint64_t)(uintptr_t)ram + (n) * MiB)
/* A VTTBR with tables in linear memory (HYP_WASM_MEM_PA + offset). */
#define VTTBR(vmid, offset) (((uint64_t)(vmid) << 48) | (HYP_WASM_MEM_PA + (offset)))

static void two_guests(void)
{
	fake_ram_base = RAM(0);
	fake_ram_size = sizeof ram;
	CHECK(Z_hwZ_guestDeclare(NULL, 0, RAM(0), MiB, 0x3)); /* CPUs 0 and 1 */
	CHECK(Z_hwZ_guestDeclare(NULL, 1, RAM(1), MiB, 0x4)); /* CPU 2 */
}

static void declare_refuses_what_is_not_free_ram(void)
{
	two_guests();
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(1) + 4096, MiB / 2, 0x8)); /* guest 1's RAM */
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(3), 2 * MiB, 0x8));	   /* past the device tree's RAM */
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(2), MiB, 0x4));		   /* guest 1's CPU */
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(2), 0, 0x8));
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(2), MiB, 0));
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, RAM(2), MiB, 1u << MAX_CPUS));
	CHECK(!Z_hwZ_guestDeclare(NULL, MAX_GUESTS, RAM(2), MiB, 0x8));
	fake_ram_base = 0;
	fake_ram_size = ~0ull; /* a device tree that calls everything RAM: the hypervisor's own regions still are not */
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, HYP_WASM_MEM_PA, 2 * MiB, 0x8));
	CHECK(!Z_hwZ_guestDeclare(NULL, 2, HYP_IMAGE_STORE_PA + HYP_IMAGE_STORE_SIZE - 4096, 2 * MiB, 0x8));
	CHECK(Z_hwZ_guestDeclare(NULL, 2, RAM(2), MiB, 0x8));
	CHECK(guest_sealed(2) != NULL);
	CHECK(!Z_hwZ_guestDeclare(NULL, 3, RAM(3), MiB, 0x10)); /* sealed at the first load */
}

static void ram_allows_only_the_calling_cpus_guest(void)
{
	two_guests();
	CHECK(guest_ram_allows(0, RAM(0), MiB));
	CHECK(guest_ram_allows(1, RAM(0) + MiB - 1, 1));
	CHECK(!guest_ram_allows(0, RAM(0) + MiB - 1, 2)); /* one byte past */
	CHECK(!guest_ram_allows(0, RAM(0), 0));
	CHECK(!guest_ram_allows(0, RAM(1), 64)); /* the other guest's */
	CHECK(guest_ram_allows(2, RAM(1), 64));
	CHECK(!guest_ram_allows(3, RAM(0), 64)); /* a CPU that runs no guest */
	CHECK(!guest_ram_allows(MAX_CPUS, RAM(0), 64));
	CHECK(!guest_ram_allows(0, ~0ull - 8, 64)); /* wraps around */
	CHECK(!guest_ram_allows(0, RAM(0) + 64, ~0ull - 32));
}

static void copies_reach_the_callers_ram_and_a_foreign_range_is_refused(void)
{
	two_guests();
	memset(ram, 0x11, MiB);
	memset(ram + MiB, 0x22, MiB);
	fake_cpu = 0;
	CHECK(Z_hwZ_guestRamRead(NULL, RAM(0) + 100, 16, 8) == 1);
	CHECK(fake_linear[16] == 0x11 && fake_linear[23] == 0x11);
	fake_linear[40] = 0x5a;
	CHECK(Z_hwZ_guestRamWrite(NULL, RAM(0) + 8, 40, 1) == 1);
	CHECK(ram[8] == 0x5a);
	/* Another guest's RAM while serving a guest: contained (core_refusal_recover does not return), nothing copied. */
	fake_refusal_contained = true;
	memset(fake_linear, 0, 64);
	if (setjmp(fake_resume) == 0) {
		Z_hwZ_guestRamRead(NULL, RAM(1), 0, 64);
		CHECK(!"the refusal returned");
	}
	CHECK(fake_refusals == 1 && fake_linear[0] == 0);
	CHECK(strstr(fake_refusal, "not the RAM of guest 0, which this CPU runs") != NULL);
	/* Serving no guest: one line, and the import answers 0. */
	fake_refusal_contained = false;
	CHECK(Z_hwZ_guestRamWrite(NULL, RAM(1), 0, 64) == 0);
	CHECK(fake_refusals == 2 && ram[MiB] == 0x22);
	/* A linear-memory range outside the core's memory is no copy either, and no refusal of a guest range. */
	CHECK(Z_hwZ_guestRamRead(NULL, RAM(0), sizeof fake_linear - 8, 64) == 0);
	CHECK(fake_refusals == 2);
}

static void stage2_declare_takes_only_tables_in_linear_memory_and_unique_vmids(void)
{
	two_guests();
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(0, 0x10000)));			/* VMID 0 */
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(1, 0x10800)));			/* not 4 KiB aligned */
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(1, 0x10000) | 1));		/* CnP */
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(1, HYP_WASM_MEM_SIZE)));		/* past linear memory */
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 0, (1ull << 48) | RAM(1)));		/* in guest RAM */
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 3, VTTBR(4, 0x10000)));			/* not declared */
	CHECK(Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(1, 0x10000)));
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 1, VTTBR(1, 0x20000)));			/* guest 0's VMID */
	CHECK(Z_hwZ_guestStage2Declare(NULL, 1, VTTBR(2, 0x20000)));
	CHECK(guest_vttbr(1) == VTTBR(1, 0x10000) && guest_vttbr(2) == VTTBR(2, 0x20000) && guest_vttbr(3) == 0);
	guest_sealed(0);
	CHECK(!Z_hwZ_guestStage2Declare(NULL, 1, VTTBR(3, 0x30000)));
}

static void only_el0t_el1t_el1h_are_entered(void)
{
	unsigned allowed = 0;
	for (uint64_t m = 0; m < 32; m++)
		if (guest_spsr_allowed(0x3c0 | m))
			allowed |= 1u << m;
	CHECK(allowed == ((1u << 0x0) | (1u << 0x4) | (1u << 0x5)));
	CHECK(guest_spsr_allowed(0xf0000000000003c5ull)); /* flags and other bits are the guest's */
	CHECK(!guest_spsr_allowed(0x3c9));		    /* EL2h */
	CHECK(!guest_spsr_allowed(0x3c8));		    /* EL2t */
	CHECK(!guest_spsr_allowed(0x3d3));		    /* AArch32 SVC */
}

static void entry_checks_the_spsr_always_and_the_vttbr_when_loaded(void)
{
	two_guests();
	CHECK(Z_hwZ_guestStage2Declare(NULL, 0, VTTBR(1, 0x10000)));
	struct frame f = { .pstate = 0x3c5, .vttbr = VTTBR(1, 0x10000), .controls_dirty = 2 };
	uint64_t value;
	CHECK(guest_entry_refused(0, 0x3c5, &f, &value) == NULL);
	CHECK(guest_entry_refused(0, 0x3c9, &f, &value) != NULL && value == 0x3c9);
	f.vttbr = VTTBR(2, 0x10000); /* another VMID */
	CHECK(guest_entry_refused(0, 0x3c5, &f, &value) != NULL && value == f.vttbr);
	f.controls_dirty = 0; /* nothing loaded: the VTTBR of the last load stays */
	CHECK(guest_entry_refused(0, 0x3c5, &f, &value) == NULL);
	f.controls_dirty = 1;
	CHECK(guest_entry_refused(2, 0x3c5, &f, &value) != NULL); /* guest 1 declared no tables */
	CHECK(guest_entry_refused(3, 0x3c5, &f, &value) != NULL); /* CPU 3 runs no guest */
}

static void hcr_isolation_bits_are_forced(void)
{
	CHECK(guest_hcr(0) == HCR_ISOLATION);
	CHECK((guest_hcr(~0ull) & (HCR_TGE | HCR_E2H)) == 0);
	CHECK(guest_hcr(HCR_GUEST) == HCR_GUEST); /* what the core asks today passes unchanged */
	uint64_t isolation[] = { HCR_VM, HCR_SWIO, HCR_FMO, HCR_IMO, HCR_AMO, HCR_TSC, HCR_RW };
	for (unsigned i = 0; i < sizeof isolation / sizeof isolation[0]; i++)
		CHECK(guest_hcr(HCR_GUEST & ~isolation[i]) & isolation[i]);
}

struct c_test {
	const char *name;
	void (*run)(void);
};

static const struct c_test tests[] = {
	{ "guestDeclare refuses RAM that is not free, the hypervisor's, another guest's, and anything after the seal",
	  declare_refuses_what_is_not_free_ram },
	{ "guest_ram_allows: only the RAM of the guest the calling CPU runs, to the byte", ram_allows_only_the_calling_cpus_guest },
	{ "guestRamRead/Write copy the caller's RAM; a foreign range is refused and contained",
	  copies_reach_the_callers_ram_and_a_foreign_range_is_refused },
	{ "guestStage2Declare: tables in linear memory, VMID not 0 and no other guest's, before the seal",
	  stage2_declare_takes_only_tables_in_linear_memory_and_unique_vmids },
	{ "SPSR: only EL0t, EL1t and EL1h (AArch64) are entered", only_el0t_el1t_el1h_are_entered },
	{ "entry: the SPSR always, the VTTBR whenever the controls are loaded", entry_checks_the_spsr_always_and_the_vttbr_when_loaded },
	{ "HCR_EL2: the isolation bits forced on, TGE and E2H off", hcr_isolation_bits_are_forced },
};

int main(void)
{
	int failed = 0;
	for (unsigned i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		fflush(stdout);
		int pipefd[2];
		if (pipe(pipefd) != 0)
			return 2;
		pid_t child = fork();
		if (child == 0) {
			dup2(pipefd[1], STDOUT_FILENO);
			tests[i].run();
			exit(0);
		}
		close(pipefd[1]);
		char why[256] = "";
		ssize_t n = read(pipefd[0], why, sizeof why - 1);
		why[n > 0 ? n : 0] = 0;
		why[strcspn(why, "\n")] = 0;
		close(pipefd[0]);
		int status;
		waitpid(child, &status, 0);
		bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", tests[i].name, ok ? "" : ": ", ok ? "" : (why[0] ? why : "crashed"));
		failed += !ok;
	}
	return failed ? 1 : 0;
}
