/*
 * What the C side of the hypervisor shares between its files: the console,
 * the core's lock, the SMC conduit, and the Wasm instance of the core.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "board.h"

struct frame;

/* console.c: PL011 output, whole lines under the console lock. */
void console_write(const char *text, size_t len);
void console_queue(unsigned cpu, const char *text, size_t len);
void console_drain(unsigned cpu);
extern uint32_t console_queued[];
/* After every core entry (core.c): most leave nothing queued, and that costs no call. */
static inline void console_drain_queued(unsigned cpu)
{
	if (cpu < MAX_CPUS && console_queued[cpu])
		console_drain(cpu);
}
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void console_init(void);
void console_input_enable(void);
void console_input_mask(bool masked);
int console_read(void);

/* lock.c: a ticket lock (the core is one Wasm instance: one lock, no threads in wasm2c 1.0.32): CPUs get it
 * in the order they asked, so a CPU whose guest exits often cannot keep another CPU out. */
typedef struct { volatile uint32_t next, owner; } spinlock_t;
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
/* The core's lock: the same ticket lock, but a waiter the holder keeps longer than any core entry takes sleeps
 * in WFI until the unlocker wakes it (LOCK_SGI) when its turn comes. Only for CPUs whose GIC interface is up
 * (every core entry comes after gic_cpu_init). */
typedef struct {
	spinlock_t ticket;
	volatile uint32_t sleepers;              /* bit per CPU asleep in sleep_lock */
	volatile uint32_t waits_for[MAX_CPUS];   /* the ticket each of them waits for */
} sleeplock_t;
/* The slow halves (lock.c): waiting for `ticket`, and waking the CPU asleep for `next`. */
void sleep_lock_wait(sleeplock_t *lock, unsigned cpu, uint32_t ticket);
void sleep_unlock_wake(sleeplock_t *lock, uint32_t next);

/* Taken on every core entry: the uncontended path is inline, a few instructions. */
static inline void sleep_lock(sleeplock_t *lock, unsigned cpu)
{
	uint32_t ticket = __atomic_fetch_add(&lock->ticket.next, 1u, __ATOMIC_RELAXED);
	if (__builtin_expect(__atomic_load_n(&lock->ticket.owner, __ATOMIC_ACQUIRE) != ticket, 0))
		sleep_lock_wait(lock, cpu, ticket);
}

static inline void sleep_unlock(sleeplock_t *lock)
{
	uint32_t next = lock->ticket.owner + 1u;
	__atomic_store_n(&lock->ticket.owner, next, __ATOMIC_RELEASE);
	/* Between the store and the look at the sleepers: either a waiter about to sleep sees its turn, or this
	 * CPU sees it asleep (the waiter fences the same way, lock.c). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(__atomic_load_n(&lock->sleepers, __ATOMIC_ACQUIRE) != 0, 0))
		sleep_unlock_wake(lock, next);
}

/* smc.S: performs an SMC with x0..x7 from regs and writes x0..x7 back. */
void smc_to_el3(uint64_t regs[8]);
/* firmware.c: the same, or its answer made here when the firmware has no secure monitor (no /psci). */
void smc_call(uint64_t regs[8]);

/* mmu.c: the core's linear memory seen at WASM_MEMORY_VA, with an unmapped guard after it big enough for any
 * Wasm address plus offset (2 × 4 GiB and a page): the core's out-of-bounds accesses fault there. */
#define WASM_MEMORY_VA (16ull << 30)
#define WASM_MEMORY_GUARD ((8ull << 30) + (64ull << 10))
void mmu_map_wasm_memory(uint64_t bytes);
bool mmu_in_wasm_guard(uint64_t va);

/* core.c: the Wasm core instance and the checked way into its linear memory. */
void core_instantiate(void);
void *core_range(uint32_t offset, uint32_t len, uint32_t align);
uint32_t core_enter_start(unsigned cpu);
uint32_t core_enter_smc_returned(unsigned cpu);
uint32_t core_enter_guest_exit(unsigned cpu, uint32_t intid);
uint32_t core_enter_interrupt(unsigned cpu, uint32_t intid);
uint32_t core_frame_offset(unsigned cpu);
uint32_t core_enter_guest_loaded(unsigned cpu, uint32_t g, bool loaded);
/* C refused to enter the guest on `cpu` (guests.h): says why, then the core stops it as after a fault. */
uint32_t core_enter_guest_refused(unsigned cpu, const char *why, uint64_t value);

/* loader.c: the loader behind ACTION_LOAD_GUEST, from C's own table of the guests (guests.h). */
bool guest_load(uint32_t g);
/* The generic timer's frequency into the CPU's frame, for the core's report of its lock waits (core.c). */
void lock_wait_init(struct frame *f);
/* Each CPU's frame, once the run loop has it from the core (NULL before): read on every core entry, so inline. */
extern struct frame *cpu_frames[MAX_CPUS];
static inline struct frame *cpu_frame(unsigned cpu)
{
	return cpu < MAX_CPUS ? cpu_frames[cpu] : NULL;
}

/* gic_v2.c / gic_v3.c: the physical GIC at EL2 (gic.h). */
#include "gic.h"

/* vcpu.c: EL2/EL1 state around the vCPU of this CPU. */
void vcpu_el2_init(void);
void vcpu_load_controls(unsigned cpu, struct frame *f);
void vcpu_inject_sync(struct frame *f, uint64_t esr, uint64_t far);
void stage2_invalidate(uint32_t vmid);

/* pmu.c: the EL2-only counter behind the per-exit profile (hyp/core/account.ts). */
uint32_t pmu_el2_init(unsigned cpu);
void account_attach(unsigned cpu, struct frame *f, uint32_t event);
void account_stint(unsigned cpu, struct frame *f);

/* guest.S: enters the guest whose state is in `f`, in `spsr` (checked: guests.h); returns the EXIT_* kind when it
 * traps back. */
uint64_t guest_run(struct frame *f, uint64_t spsr);

/* entry.S */
void _start(void);

/* stop.c: the ways a CPU stops. */
__attribute__((noreturn)) void cpu_park(void);
__attribute__((noreturn)) void cpu_stop(void);
__attribute__((noreturn)) void cpu_stop_after_core_fault(void);
void cpu_running(void);
bool core_is_dead(void);
void psci_system_off(void);
