/*
 * The core: one Wasm instance (hyp/ compiled by asc and wasm2c) shared by
 * all CPUs under one lock. Every way into it goes through core_enter_*,
 * which takes the lock and records which export this CPU is in, so that a
 * trap can say where it happened.
 *
 * Fault containment: each core call starts at a recovery point. The core
 * writes into the CPU's frame which guest it is serving (frame->serving); a
 * trap while it serves one (core_trap_recover) resumes at the recovery point,
 * still under the lock, and the core's guestFault export throws that guest's
 * state away and stops or restarts it. The trap can only have half-written
 * the state of what the core was doing: this CPU's records and that guest's
 * (see README, "When the core faults"). A trap while the core serves no
 * guest, or inside guestFault itself, stops the machine (stop.c).
 */
#include "action.h"
#include "arch.h"
#include "hyp.h"
#include "hyp_core.h"
#include "frame.h"
#include "guests.h"
#include "rt/format.h"
#include "rt/trap.h"

/* wasm2c passes this to every import; the imports keep no state in it. */
struct Z_hw_instance_t {
	int unused;
};

static Z_hypcore_instance_t instance;
static struct Z_hw_instance_t hw;
static sleeplock_t core_lock;
static const char *current_export[MAX_CPUS];

/* Where a core call began (recover.S), and the guest a recovered trap was serving. */
struct recovery {
	uint64_t regs[13];
};
int recovery_save(struct recovery *r) __attribute__((returns_twice));
__attribute__((noreturn)) void recovery_resume(struct recovery *r);
static struct recovery recovery[MAX_CPUS];
static uint32_t faulted_guest[MAX_CPUS];
/* What current_export names while guestFault runs: a trap there is not contained a second time. */
static const char GUEST_FAULT[] = "guestFault";

static void serving_clear(unsigned cpu)
{
	struct frame *f = cpu_frame(cpu);
	if (f)
		f->serving = NO_GUEST;
}

/* The guest a fault on this CPU now costs: in a core call, not already recovering, serving one. Else NO_GUEST. */
static uint32_t containable_guest(unsigned cpu)
{
	struct frame *f = cpu_frame(cpu);
	if (cpu >= MAX_CPUS || !current_export[cpu] || current_export[cpu] == GUEST_FAULT || !f || f->serving >= NO_GUEST)
		return NO_GUEST;
	return f->serving;
}

/*
 * A trap inside the core on this CPU: if the core was serving a guest and this is no second fault while
 * recovering, say so and resume at the call's recovery point (does not return). Otherwise returns.
 */
void core_trap_recover(const char *what, uintptr_t pc)
{
	unsigned cpu = this_cpu();
	uint32_t g = containable_guest(cpu);
	if (g == NO_GUEST)
		return;
	faulted_guest[cpu] = g;
	console_printf("[hyp] cpu %u: core trapped: %s in export %s at pc 0x%lx while serving guest %u: only that guest is stopped\n",
		       cpu, what, core_current_export(cpu), (unsigned long)pc, (unsigned)g);
	recovery_resume(&recovery[cpu]);
}

void core_refusal_recover(const char *fmt, ...)
{
	char what[128];
	va_list args;
	va_start(args, fmt);
	format_line(what, sizeof what, fmt, args);
	va_end(args);
	unsigned cpu = this_cpu();
	uint32_t g = containable_guest(cpu);
	if (g == NO_GUEST) {
		console_printf("[hyp] cpu %u: C refused %s in export %s, serving no guest\n", cpu, what, core_current_export(cpu));
		return;
	}
	faulted_guest[cpu] = g;
	console_printf("[hyp] cpu %u: C refused %s in export %s while serving guest %u: only that guest is stopped\n", cpu, what,
		       core_current_export(cpu), (unsigned)g);
	recovery_resume(&recovery[cpu]);
}

/* After a recovered trap, still under the lock: the core discards the guest's state and says what this CPU does. */
static uint32_t core_recover(unsigned cpu)
{
	current_export[cpu] = GUEST_FAULT;
	return Z_hypcoreZ_guestFault(&instance, cpu, faulted_guest[cpu]);
}

void core_instantiate(void)
{
	wasm_rt_init();
	Z_hypcore_init_module();
	Z_hypcore_instantiate(&instance, &hw); /* runs the module's start function */
}

/*
 * The host address of [offset, offset + len) in linear memory, or NULL when
 * any of it lies outside or `offset` is not a multiple of `align`. Every
 * pointer the core hands over passes through here.
 */
void *core_range(uint32_t offset, uint32_t len, uint32_t align)
{
	wasm_rt_memory_t *memory = &instance.w2c_memory;
	if ((uint64_t)offset + len > memory->size)
		return NULL;
	if (align > 1 && offset % align)
		return NULL;
	return memory->data + offset;
}

unsigned this_cpu(void)
{
	return (unsigned)(sysreg_read(mpidr_el1) & 0xff);
}

const char *core_current_export(unsigned cpu)
{
	return cpu < MAX_CPUS && current_export[cpu] ? current_export[cpu] : "(none)";
}

void core_release_after_fault(void)
{
	sleep_unlock(&core_lock);
}

/*
 * How long `cpu` waited for the core's lock, kept in its frame in generic-timer ticks (the core converts and
 * reports them at power-off): the lock is held only for a core entry's own work, so a long wait means the holder
 * was kept from running (under QEMU, by the host descheduling its thread), and every CPU behind it waited too.
 * On every core entry: no division here, and a wait of 1 ms in ticks worked out once (lock_wait_init).
 */
static uint64_t lock_wait_long_ticks = ~0ull;

void lock_wait_init(struct frame *f)
{
	uint64_t freq = sysreg_read(cntfrq_el0);
	f->counter_hz = freq;
	if (freq)
		lock_wait_long_ticks = freq / 1000;
}

static inline void lock_wait_note(unsigned cpu, uint64_t ticks)
{
	struct frame *f = cpu_frame(cpu);
	if (!f)
		return;
	f->lock_wait_total += ticks;
	if (ticks > f->lock_wait_worst)
		f->lock_wait_worst = ticks;
	if (ticks >= lock_wait_long_ticks)
		f->lock_wait_long++;
}

/* `cpu` < MAX_CPUS on every entry: hyp_main parks any other CPU before its first. */
#define CORE_ENTER(cpu, name, call)               \
	({                                        \
		if ((cpu) >= MAX_CPUS)            \
			__builtin_unreachable();  \
		uint64_t asked_ = sysreg_read(cntpct_el0); \
		sleep_lock(&core_lock, cpu);      \
		lock_wait_note(cpu, sysreg_read(cntpct_el0) - asked_); \
		if (core_is_dead()) {             \
			sleep_unlock(&core_lock); \
			cpu_stop();               \
		}                                 \
		current_export[cpu] = name;       \
		serving_clear(cpu);               \
		uint32_t result_;                 \
		if (recovery_save(&recovery[cpu]) == 0) \
			result_ = (call);         \
		else                              \
			result_ = core_recover(cpu); \
		current_export[cpu] = NULL;       \
		sleep_unlock(&core_lock);         \
		console_drain_queued(cpu);        \
		result_;                          \
	})

uint32_t core_enter_start(unsigned cpu)
{
	return CORE_ENTER(cpu, "cpuStart", Z_hypcoreZ_cpuStart(&instance, cpu));
}

uint32_t core_enter_smc_returned(unsigned cpu)
{
	return CORE_ENTER(cpu, "smcReturned", Z_hypcoreZ_smcReturned(&instance, cpu));
}

uint32_t core_enter_guest_exit(unsigned cpu, uint32_t intid)
{
	return CORE_ENTER(cpu, "guestExit", Z_hypcoreZ_guestExit(&instance, cpu, intid));
}

uint32_t core_enter_interrupt(unsigned cpu, uint32_t intid)
{
	return CORE_ENTER(cpu, "interrupt", Z_hypcoreZ_interrupt(&instance, cpu, intid));
}

uint32_t core_enter_guest_loaded(unsigned cpu, uint32_t g, bool loaded)
{
	return CORE_ENTER(cpu, "guestLoaded", Z_hypcoreZ_guestLoaded(&instance, cpu, g, loaded ? 1 : 0));
}

/*
 * C refused to enter the guest on `cpu` (runloop.c): the core treats it as a fault while serving that guest
 * (guestFault: thrown away, withdrawn, stopped or restarted). A trap inside is not contained a second time.
 */
uint32_t core_enter_guest_refused(unsigned cpu, const char *why, uint64_t value)
{
	uint32_t g = guest_of(cpu);
	if (g == NO_GUEST) {
		console_printf("[hyp] cpu %u: C refused to enter a guest on a CPU that runs none: %s (0x%lx): parking\n", cpu, why,
			       (unsigned long)value);
		return ACTION_PARK;
	}
	console_printf("[hyp] cpu %u: C refused to enter guest %u: %s (0x%lx): only that guest is stopped\n", cpu, (unsigned)g, why,
		       (unsigned long)value);
	return CORE_ENTER(cpu, GUEST_FAULT, Z_hypcoreZ_guestFault(&instance, cpu, g));
}

uint32_t core_frame_offset(unsigned cpu)
{
	return CORE_ENTER(cpu, "cpuFrame", Z_hypcoreZ_cpuFrame(&instance, cpu));
}
