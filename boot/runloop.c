/*
 * The run loop of each physical CPU: hand the event to the core, then carry
 * out the action it answers. Anything that waits happens here, outside the
 * core's lock: above all the SMC into the secure world, which can take
 * seconds (key generation in OP-TEE).
 */
#include "action.h"
#include "frame.h"
#include "hyp.h"
#include "hyp_core.h"

static volatile bool core_ready;

static struct frame *frame_of(unsigned cpu)
{
	struct frame *frame = core_range(core_frame_offset(cpu), FRAME_SIZE, 16);
	if (!frame) {
		console_printf("[hyp] cpu %u: the core gave no valid frame: parking\n", cpu);
		cpu_park();
	}
	return frame;
}

static void boot_cpu_init(void)
{
	console_printf("\n[hyp] EL2 hypervisor (%s), MMU on, console up\n", BOARD_NAME);
	core_instantiate();
	__atomic_store_n(&core_ready, true, __ATOMIC_RELEASE);
}

__attribute__((noreturn)) void hyp_main(unsigned cpu)
{
	cpu_running();
	if (cpu == 0)
		boot_cpu_init();
	while (!__atomic_load_n(&core_ready, __ATOMIC_ACQUIRE))
		__asm__ volatile("wfe");

	struct frame *frame = frame_of(cpu);
	uint32_t action = core_enter_start(cpu);
	for (;;) {
		switch (action) {
		case ACTION_SMC:
			smc_call(frame->smc);
			action = core_enter_smc_returned(cpu);
			break;
		case ACTION_PARK:
			cpu_park();
		default:
			console_printf("[hyp] cpu %u: unknown action %u from the core: parking\n", cpu, action);
			cpu_park();
		}
	}
}
