/*
 * How CPUs stop. A trap or abort inside the core leaves its state half
 * updated, and the core is one instance for all CPUs, so after a fault no
 * CPU enters it again: each parks when it next needs the core, and when the
 * last running CPU has parked the machine powers off (PSCI SYSTEM_OFF), so a
 * test run ends instead of hanging.
 */
#include "arch.h"
#include "hyp.h"
#include "hyp_core.h"
#include "rt/trap.h"
#include "wasm-rt.h"

#define PSCI_0_2_FN_SYSTEM_OFF 0x84000008ull

static volatile uint32_t cpus_running;
static volatile bool core_dead;

void cpu_running(void)
{
	__atomic_add_fetch(&cpus_running, 1, __ATOMIC_SEQ_CST);
}

bool core_is_dead(void)
{
	return core_dead;
}

void psci_system_off(void)
{
	uint64_t regs[8] = { PSCI_0_2_FN_SYSTEM_OFF };
	smc_call(regs);
}

/*
 * A parked CPU is done for good. WFI returns at once while an interrupt is pending, masked or not: with a stopped
 * guest's virtual timer still armed (a level PPI) the loop would spin, and under QEMU -icount a spinning CPU
 * takes instructions from every other one. So the timer goes off and the CPU interface stops signalling first.
 */
__attribute__((noreturn)) void cpu_park(void)
{
	sysreg_write(cntv_ctl_el0, 0);
	gic_cpu_quiesce();
	for (;;)
		__asm__ volatile("wfi");
}

__attribute__((noreturn)) void cpu_stop(void)
{
	if (__atomic_sub_fetch(&cpus_running, 1, __ATOMIC_SEQ_CST) == 0) {
		console_printf("[hyp] no CPU can run the core any more: powering off\n");
		psci_system_off();
	}
	cpu_park();
}

__attribute__((noreturn)) void cpu_stop_after_core_fault(void)
{
	core_dead = true;
	console_printf("[hyp] cpu %u: stopped; the core is not entered again\n", this_cpu());
	core_release_after_fault();
	cpu_stop();
}

__attribute__((noreturn)) void core_trapped(const char *what, uintptr_t pc)
{
	unsigned cpu = this_cpu();
	console_drain(cpu); /* what the core said before it trapped comes first */
	core_trap_recover(what, pc); /* returns only when the fault cannot be contained to one guest */
	console_printf("[hyp] cpu %u: core trapped: %s in export %s at pc 0x%lx\n", cpu, what,
		       core_current_export(cpu), (unsigned long)pc);
	cpu_stop_after_core_fault();
}

__attribute__((noreturn)) void runtime_fail(const char *why)
{
	console_printf("[hyp] cpu %u: wasm runtime: %s\n", this_cpu(), why);
	cpu_stop_after_core_fault();
}

#define VECTOR_CURRENT_EL_SYNC 4u
#define ESR_EC(esr) (((esr) >> 26) & 0x3fu)
#define EC_DATA_ABORT_SAME_EL 0x25u

/*
 * Any exception taken to EL2 from EL2 is a hypervisor bug: say what and where. A data abort in the guard
 * after the core's linear memory is the core's out-of-bounds access (mmu.c): reported as that Wasm trap, at
 * the generated code's pc, and contained like any other (core_trapped).
 */
__attribute__((noreturn)) void hyp_unexpected_exception(uint64_t vector)
{
	uint64_t esr = sysreg_read(esr_el2), elr = sysreg_read(elr_el2), far = sysreg_read(far_el2);
	if (vector == VECTOR_CURRENT_EL_SYNC && ESR_EC(esr) == EC_DATA_ABORT_SAME_EL && mmu_in_wasm_guard(far))
		core_trapped(wasm_rt_strerror(WASM_RT_TRAP_OOB), (uintptr_t)elr);
	console_printf("[hyp] cpu %u: unexpected exception (vector %lu) ESR_EL2 0x%lx ELR_EL2 0x%lx FAR_EL2 0x%lx\n",
		       this_cpu(), (unsigned long)vector, (unsigned long)esr, (unsigned long)elr, (unsigned long)far);
	cpu_stop();
}
