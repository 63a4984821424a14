/*
 * The run loop of each physical CPU: hand the event to the core, then carry
 * out the action it answers. Anything that waits happens here, outside the
 * core's lock: the SMC into the secure world (seconds, for OP-TEE's key
 * generation), the guest itself, and waiting for an interrupt.
 */
#include "action.h"
#include "arch.h"
#include "frame.h"
#include "guests.h"
#include "hyp.h"
#include "hyp_core.h"

static volatile bool core_ready;
struct frame *cpu_frames[MAX_CPUS];

static struct frame *frame_of(unsigned cpu)
{
	struct frame *frame = core_range(core_frame_offset(cpu), FRAME_SIZE, 64);
	if (!frame) {
		console_printf("[hyp] cpu %u: the core gave no valid frame: parking\n", cpu);
		cpu_park();
	}
	return frame;
}

static void boot_cpu_init(void)
{
	console_printf("\n[hyp] EL2 hypervisor (%s), MMU on, console up\n", BOARD_NAME);
	gic_distributor_init();
	core_instantiate();
	__atomic_store_n(&core_ready, true, __ATOMIC_RELEASE);
}

/*
 * Enters the guest, after C's own checks of what the core left in the frame (guests.h): the SPSR it is entered
 * in, read once here and handed to guest_run so that nothing can change it after the check, and, when the
 * core asks for them to be loaded, its EL2 controls. A refusal stops that guest only.
 */
static uint32_t run_guest(unsigned cpu, struct frame *frame)
{
	uint64_t spsr = __atomic_load_n(&frame->pstate, __ATOMIC_RELAXED);
	if (__builtin_expect(!guest_spsr_allowed(spsr) || frame->controls_dirty, 0)) {
		uint64_t value;
		const char *why = guest_entry_refused(cpu, spsr, frame, &value);
		if (why)
			return core_enter_guest_refused(cpu, why, value);
	}
	vcpu_load_controls(cpu, frame);
	gic_lrs_load(frame);
	account_stint(cpu, frame);
	uint64_t kind = guest_run(frame, spsr);
	gic_lrs_save(frame);
	uint32_t intid = kind == EXIT_IRQ ? gic_acknowledge() : INTID_SPURIOUS;
	return core_enter_guest_exit(cpu, intid);
}

static uint32_t wait_for_interrupt(unsigned cpu)
{
	/*
	 * A waiting CPU runs no vCPU, and whichever vCPU runs here next starts with EL1 reset. The virtual
	 * timer of a guest that stopped stays armed in this CPU's EL1 registers: its level-sensitive PPI
	 * would fire for ever and, having the lowest INTID of equal priority, starve every other interrupt
	 * of this CPU (console input, OP-TEE's notifications). Turn it off.
	 */
	sysreg_write(cntv_ctl_el0, 0);
	/* Likewise the virtual interface: the last vCPU's list registers (and its underflow request) would keep signalling. */
	gic_virtual_off();
	/* IRQs stay masked at EL2: WFI still wakes on a pending one, which is then acknowledged here. */
	__asm__ volatile("dsb sy; wfi" ::: "memory");
	return core_enter_interrupt(cpu, gic_acknowledge());
}

__attribute__((noreturn)) void hyp_main(unsigned cpu)
{
	/* Every per-CPU table (frames, recovery points, the core's own) has MAX_CPUS entries: a CPU beyond them
	 * never enters the core. */
	if (cpu >= MAX_CPUS) {
		console_printf("[hyp] cpu %u: beyond the %u CPUs the hypervisor supports: parking\n", cpu, MAX_CPUS);
		cpu_park();
	}
	cpu_running();
	vcpu_el2_init();
	uint32_t pmu_event = pmu_el2_init(cpu);
	if (cpu == 0)
		boot_cpu_init();
	while (!__atomic_load_n(&core_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("wfe");
	gic_cpu_init(cpu);

	struct frame *frame = frame_of(cpu);
	cpu_frames[cpu] = frame;
	lock_wait_init(frame);
	uint32_t action = core_enter_start(cpu);
	account_attach(cpu, frame, pmu_event);
	for (;;) {
		switch (ACTION_KIND(action)) {
		case ACTION_SMC:
			smc_call(frame->smc);
			action = core_enter_smc_returned(cpu);
			break;
		case ACTION_RUN_GUEST:
			action = run_guest(cpu, frame);
			break;
		case ACTION_WAIT:
			action = wait_for_interrupt(cpu);
			break;
		case ACTION_LOAD_GUEST: {
			uint32_t g = ACTION_GUEST(action);
			action = core_enter_guest_loaded(cpu, g, guest_load(g));
			break;
		}
		case ACTION_PARK:
			cpu_park();
		default:
			console_printf("[hyp] cpu %u: unknown action %u from the core: parking\n", cpu, action);
			cpu_park();
		}
	}
}
