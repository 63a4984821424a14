/*
 * The loader that (re)starts a guest from pristine copies of its images, with
 * the RAM and images C's own table holds (guests.c): the core names the guest,
 * nothing else.
 *
 * guest_load runs in the run loop, outside the core's lock (ACTION_LOAD_GUEST):
 * clearing 512 MiB and copying ~45 MiB takes a while, and other CPUs keep
 * entering the core meanwhile.
 */
#include <string.h>

#include "guests.h"
#include "hyp.h"

/* The guest's code was written through the data side: no stale instruction may survive from its last run. */
static void sync_instruction_cache(uint64_t pa, uint64_t len)
{
	for (uint64_t line = pa & ~63ull; line < pa + len; line += 64)
		__asm__ volatile("dc cvau, %0" ::"r"(line) : "memory");
	__asm__ volatile("dsb ish; ic ialluis; dsb ish; isb" ::: "memory");
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
	memset((void *)(uintptr_t)guest->pa, 0, guest->size);
	for (uint32_t slot = 0; slot < IMAGE_SLOTS; slot++) {
		const struct guest_image *image = &guest->images[slot];
		if (!image->size)
			continue;
		uint64_t to = guest->pa + image->ram_offset;
		memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)image->store_pa, image->size);
		sync_instruction_cache(to, image->size);
	}
	return true;
}
