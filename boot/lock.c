/*
 * Ticket locks: each CPU takes the next ticket and waits until the lock serves it, so the lock is granted in
 * the order it was asked for (a test-and-set lock lets a CPU that just released it take it again at once, and
 * a CPU whose guest exits often could starve the others). Only used with the MMU on: atomics need Normal memory.
 */
#include "arch.h"
#include "gic.h"
#include "hyp.h"

void spin_lock(spinlock_t *lock)
{
	uint32_t ticket = __atomic_fetch_add(&lock->next, 1u, __ATOMIC_RELAXED);
	while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
		__asm__ volatile("yield");
}

void spin_unlock(spinlock_t *lock)
{
	/* Only the holder writes owner: a plain increment, published with release semantics. */
	__atomic_store_n(&lock->owner, lock->owner + 1u, __ATOMIC_RELEASE);
}

/*
 * How long a waiter spins before it sleeps: 1/50000 s = 20 us, several times a core entry on hardware (500 to
 * 3,000 instructions). The longest, REGISTER_SHM of the largest buffer allowed, is ~60,000 (README): a waiter
 * behind it sleeps and is woken by LOCK_SGI, later but correctly. A longer wait than that means the holder is not
 * running: under QEMU its vCPU thread was descheduled by the host, and a waiter spinning on would keep a host
 * core from the very thread it waits for.
 */
#define SPIN_BEFORE_SLEEP_DIVISOR 50000u

void sleep_lock_wait(sleeplock_t *lock, unsigned cpu, uint32_t ticket)
{
	uint64_t start = sysreg_read(cntpct_el0), patience = sysreg_read(cntfrq_el0) / SPIN_BEFORE_SLEEP_DIVISOR;
	while (__atomic_load_n(&lock->ticket.owner, __ATOMIC_ACQUIRE) != ticket) {
		if (sysreg_read(cntpct_el0) - start < patience) {
			__asm__ volatile("yield");
			continue;
		}
		/*
		 * Say which ticket this CPU sleeps for, then look once more (both sides fence between their store and
		 * their load, so either the unlocker sees this CPU asleep or this CPU sees its turn). IRQs stay masked:
		 * the unlocker's LOCK_SGI ends the WFI and stays pending until cleared here, so that it costs the guest
		 * no exit later. Any other pending interrupt ends it too; the loop then looks and waits again.
		 */
		lock->waits_for[cpu] = ticket;
		__atomic_fetch_or(&lock->sleepers, 1u << cpu, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		while (__atomic_load_n(&lock->ticket.owner, __ATOMIC_ACQUIRE) != ticket)
			__asm__ volatile("dsb sy; wfi" ::: "memory");
		__atomic_fetch_and(&lock->sleepers, ~(1u << cpu), __ATOMIC_RELAXED);
		gic_lock_wake_clear();
		return;
	}
}

void sleep_unlock_wake(sleeplock_t *lock, uint32_t next)
{
	/* Only the CPU whose turn it is now is woken: the others sleep on until theirs. */
	for (uint32_t sleepers = __atomic_load_n(&lock->sleepers, __ATOMIC_ACQUIRE); sleepers; sleepers &= sleepers - 1) {
		unsigned cpu = (unsigned)__builtin_ctz(sleepers);
		if (cpu < MAX_CPUS && lock->waits_for[cpu] == next)
			gic_lock_wake(cpu);
	}
}
