/*
 * The loader that (re)starts a guest from pristine copies of its images, with
 * the RAM and images C's own table holds (guests.c): the core names the guest,
 * nothing else.
 *
 * guest_load runs in the run loop, outside the core's lock (ACTION_LOAD_GUEST):
 * clearing 512 MiB and copying ~45 MiB takes a while, and other CPUs keep
 * entering the core meanwhile. It is also what a guest rebooting in a loop
 * costs the machine, so it clears by cache block (DC ZVA) and copies 64 bytes a
 * turn: under TCG that is ~8x fewer instructions than libc's 16-byte loops.
 */
#include <string.h>

#include "arch.h"
#include "guests.h"
#include "hyp.h"

/* Smallest data and instruction cache lines (CTR_EL0.DminLine / IminLine are log2 of 4-byte words). */
static uint64_t dcache_line(void) { return 4ull << ((sysreg_read(ctr_el0) >> 16) & 0xf); }

/* The guest's code was written through the data side: no stale instruction may survive from its last run. */
static void sync_instruction_cache(uint64_t pa, uint64_t len)
{
	uint64_t step = dcache_line();
	for (uint64_t line = pa & ~(step - 1); line < pa + len; line += step)
		__asm__ volatile("dc cvau, %0" ::"r"(line) : "memory");
	__asm__ volatile("dsb ish; ic ialluis; dsb ish; isb" ::: "memory");
}

/*
 * Zeroes [pa, pa + len) a cache block at a time where DCZID_EL0 allows it (DZP clear); the unaligned ends and a
 * CPU that forbids DC ZVA fall back to memset. Guest RAM is Normal memory in our map, as DC ZVA requires.
 */
static void clear_ram(uint64_t pa, uint64_t len)
{
	uint64_t dczid = sysreg_read(dczid_el0);
	uint64_t block = 4ull << (dczid & 0xf);
	if (dczid & (1u << 4) || len < 2 * block) {
		memset((void *)(uintptr_t)pa, 0, len);
		return;
	}
	uint64_t first = (pa + block - 1) & ~(block - 1), end = (pa + len) & ~(block - 1);
	memset((void *)(uintptr_t)pa, 0, first - pa);
	uint64_t at = first;
	for (; at + 4 * block <= end; at += 4 * block)
		__asm__ volatile("dc zva, %0; dc zva, %1; dc zva, %2; dc zva, %3" ::"r"(at), "r"(at + block),
				 "r"(at + 2 * block), "r"(at + 3 * block) : "memory");
	for (; at < end; at += block)
		__asm__ volatile("dc zva, %0" ::"r"(at) : "memory");
	memset((void *)(uintptr_t)end, 0, pa + len - end);
	__asm__ volatile("dsb ish" ::: "memory");
}

/* Copies 64 bytes a turn with load/store pairs (the compiler's own loop took twice the instructions). */
static void copy_image(uint64_t to, uint64_t from, uint64_t len)
{
	for (; len >= 64; len -= 64, to += 64, from += 64)
		__asm__ volatile("ldp x2, x3, [%1]; ldp x4, x5, [%1, #16]; ldp x6, x7, [%1, #32]; ldp x8, x9, [%1, #48];"
				 "stp x2, x3, [%0]; stp x4, x5, [%0, #16]; stp x6, x7, [%0, #32]; stp x8, x9, [%0, #48]"
				 ::"r"(to), "r"(from) : "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "memory");
	memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)from, len);
}

/*
 * Clears guest g's RAM (nothing of its last run reaches the next) and copies its images in. Returns false for a
 * guest C does not know.
 */
bool guest_load(uint32_t g)
{
	const struct guest_ram *guest = guest_sealed(g);
	if (!guest)
		return false;
	clear_ram(guest->pa, guest->size);
	for (uint32_t slot = 0; slot < IMAGE_SLOTS; slot++) {
		const struct guest_image *image = &guest->images[slot];
		if (!image->size)
			continue;
		uint64_t to = guest->pa + image->ram_offset;
		copy_image(to, image->store_pa, image->size);
		sync_instruction_cache(to, image->size);
	}
	return true;
}
