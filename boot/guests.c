/*
 * C's own table of the guests' RAM and images, and the loader that (re)starts
 * a guest from pristine copies.
 *
 * The core declares each guest once at boot (guestDeclare, guestImageDeclare):
 * its RAM, its physical CPUs and its images. C checks every range against the
 * board and the hypervisor's own regions here, so that later the core names a
 * guest by number and nothing else: it cannot make the loader clear or copy
 * anywhere but that guest's RAM. The table is sealed at the first load. It is
 * also C's last line for the mediator's copies (glue.c): a CPU copies to and
 * from the RAM of the guest it runs, and nothing else.
 *
 * guest_load runs in the run loop, outside the core's lock (ACTION_LOAD_GUEST):
 * clearing 512 MiB and copying ~45 MiB takes a while, and other CPUs keep
 * entering the core meanwhile.
 */
#include "arch.h"
#include "devtree.h"
#include "hyp.h"
#include "hyp_core.h"

#define MAX_GUESTS 4u
#define IMAGE_SLOTS 3u

struct image {
	uint64_t store_pa;
	uint32_t size;
	uint32_t ram_offset;
};

struct guest_ram {
	uint64_t pa, size;
	struct image images[IMAGE_SLOTS];
};

static struct guest_ram guests[MAX_GUESTS];
static volatile bool sealed;
/* The guest each physical CPU runs, + 1 (0: none). */
static uint8_t guest_of_cpu[MAX_CPUS];

/* [base, base + size) and [pa, pa + len) share a byte (no overflow: both lie in RAM). */
static bool overlaps(uint64_t pa, uint64_t len, uint64_t base, uint64_t size)
{
	return pa < base + size && base < pa + len;
}

static bool inside(uint64_t pa, uint64_t len, uint64_t base, uint64_t size)
{
	return len != 0 && pa >= base && len <= size && pa - base <= size - len;
}

/* Nothing the hypervisor lives in or keeps: its image, boot configuration, linear memory and the image store. */
static bool is_hypervisors(uint64_t pa, uint64_t len)
{
	return overlaps(pa, len, HYP_IMAGE_BASE, HYP_WASM_MEM_PA + HYP_WASM_MEM_SIZE - HYP_IMAGE_BASE) ||
	       overlaps(pa, len, HYP_IMAGE_STORE_PA, HYP_IMAGE_STORE_SIZE);
}

u32 Z_hwZ_guestDeclare(struct Z_hw_instance_t *hw, u32 g, u64 pa, u64 size, u32 cpus)
{
	(void)hw;
	/* RAM the firmware's device tree describes and reserves for nobody (devtree.c): never hard-coded. */
	if (sealed || g >= MAX_GUESTS || !devtree_ram_usable(pa, size) || is_hypervisors(pa, size))
		return 0;
	if (cpus == 0 || cpus >> MAX_CPUS)
		return 0;
	for (u32 other = 0; other < g; other++)
		if (guests[other].size && overlaps(pa, size, guests[other].pa, guests[other].size))
			return 0;
	for (unsigned cpu = 0; cpu < MAX_CPUS; cpu++)
		if ((cpus >> cpu & 1) && guest_of_cpu[cpu] && guest_of_cpu[cpu] < g + 1)
			return 0; /* another guest's CPU */
	for (unsigned cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (guest_of_cpu[cpu] == g + 1)
			guest_of_cpu[cpu] = 0; /* declared again: its old CPUs go */
		if (cpus >> cpu & 1)
			guest_of_cpu[cpu] = (uint8_t)(g + 1);
	}
	guests[g] = (struct guest_ram){ .pa = pa, .size = size };
	return 1;
}

bool guest_ram_allows(unsigned cpu, uint64_t pa, uint64_t len)
{
	if (cpu >= MAX_CPUS || !guest_of_cpu[cpu])
		return false;
	const struct guest_ram *guest = &guests[guest_of_cpu[cpu] - 1];
	return inside(pa, len, guest->pa, guest->size);
}

u32 Z_hwZ_guestImageDeclare(struct Z_hw_instance_t *hw, u32 g, u32 slot, u64 store_pa, u32 size, u32 ram_offset)
{
	(void)hw;
	if (sealed || g >= MAX_GUESTS || slot >= IMAGE_SLOTS || !guests[g].size)
		return 0;
	if (!inside(store_pa, size, HYP_IMAGE_STORE_PA, HYP_IMAGE_STORE_SIZE) ||
	    !inside(guests[g].pa + ram_offset, size, guests[g].pa, guests[g].size))
		return 0;
	guests[g].images[slot] = (struct image){ store_pa, size, ram_offset };
	return 1;
}

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
	sealed = true;
	if (g >= MAX_GUESTS || !guests[g].size)
		return false;
	const struct guest_ram *guest = &guests[g];
	memset((void *)(uintptr_t)guest->pa, 0, guest->size);
	for (u32 slot = 0; slot < IMAGE_SLOTS; slot++) {
		const struct image *image = &guest->images[slot];
		if (!image->size)
			continue;
		uint64_t to = guest->pa + image->ram_offset;
		memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)image->store_pa, image->size);
		sync_instruction_cache(to, image->size);
	}
	return true;
}
