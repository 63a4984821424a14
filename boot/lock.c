/*
 * A ticket lock: each CPU takes the next ticket and waits until the lock serves it, so the lock is granted in
 * the order it was asked for (a test-and-set lock lets a CPU that just released it take it again at once, and
 * a CPU whose guest exits often could starve the others). Only used with the MMU on: atomics need Normal memory.
 */
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
