/* A test-and-set spinlock. Only used with the MMU on: exclusives need Normal memory. */
#include "hyp.h"

void spin_lock(spinlock_t *lock)
{
	while (__atomic_exchange_n(&lock->taken, 1u, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&lock->taken, __ATOMIC_RELAXED))
			__asm__ volatile("yield");
}

void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->taken, 0u, __ATOMIC_RELEASE);
}
