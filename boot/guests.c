/*
 * C's own table of the guests: their RAM, images and stage-2 tables, and the
 * guest each physical CPU runs.
 *
 * The core declares each guest once at boot (guestDeclare, guestImageDeclare,
 * guestStage2Declare). C checks every range against the board and the
 * hypervisor's own regions here, so that later the core names a guest by
 * number and nothing else: it cannot make the loader (loader.c) clear or copy
 * anywhere but that guest's RAM. The table is sealed at the first load.
 *
 * It is also C's last line for what the core hands over at run time: a CPU
 * copies to and from the RAM of the guest it runs and nothing else (glue.c),
 * and enters that guest only in EL0 or EL1 (AArch64) with the guest's own
 * stage-2 tables (runloop.c, vcpu.c).
 *
 * No hardware is touched here: the file is also built for the host and
 * unit-tested (test/unit/c-glue.test.ts).
 */
#include "devtree.h"
#include "guests.h"
#include "hyp.h"
#include "hyp_core.h"

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

static bool cpus_free_for(uint32_t g, uint32_t cpus)
{
	for (unsigned cpu = 0; cpu < MAX_CPUS; cpu++)
		if ((cpus >> cpu & 1) && guest_of_cpu[cpu] && guest_of_cpu[cpu] < g + 1)
			return false; /* another guest's CPU */
	return true;
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
	if (!cpus_free_for(g, cpus))
		return 0;
	for (unsigned cpu = 0; cpu < MAX_CPUS; cpu++) {
		if (guest_of_cpu[cpu] == g + 1)
			guest_of_cpu[cpu] = 0; /* declared again: its old CPUs go */
		if (cpus >> cpu & 1)
			guest_of_cpu[cpu] = (uint8_t)(g + 1);
	}
	guests[g] = (struct guest_ram){ .pa = pa, .size = size };
	return 1;
}

u32 Z_hwZ_guestImageDeclare(struct Z_hw_instance_t *hw, u32 g, u32 slot, u64 store_pa, u32 size, u32 ram_offset)
{
	(void)hw;
	if (sealed || g >= MAX_GUESTS || slot >= IMAGE_SLOTS || !guests[g].size)
		return 0;
	if (!inside(store_pa, size, HYP_IMAGE_STORE_PA, HYP_IMAGE_STORE_SIZE) ||
	    !inside(guests[g].pa + ram_offset, size, guests[g].pa, guests[g].size))
		return 0;
	guests[g].images[slot] = (struct guest_image){ store_pa, size, ram_offset };
	return 1;
}

/* VTTBR_EL2: VMID in bits 48-63, the root table's address in bits 1-47 (4 KiB aligned here), CnP in bit 0. */
#define VTTBR_VMID(v) ((v) >> 48)
#define VTTBR_BADDR(v) ((v) & 0x0000fffffffff000ull)

/*
 * Declares guest g's stage-2 translation: the only VTTBR_EL2 C will load for it. Its tables must lie in the
 * core's linear memory (nowhere a guest or the secure world can write) and its VMID be non-zero and no other
 * guest's (a shared VMID would share TLB entries).
 */
u32 Z_hwZ_guestStage2Declare(struct Z_hw_instance_t *hw, u32 g, u64 vttbr)
{
	(void)hw;
	if (sealed || g >= MAX_GUESTS || !guests[g].size)
		return 0;
	if (vttbr != (VTTBR_VMID(vttbr) << 48 | VTTBR_BADDR(vttbr)) || VTTBR_VMID(vttbr) == 0 ||
	    !inside(VTTBR_BADDR(vttbr), 4096, HYP_WASM_MEM_PA, HYP_WASM_MEM_SIZE))
		return 0;
	for (u32 other = 0; other < MAX_GUESTS; other++)
		if (other != g && guests[other].vttbr && VTTBR_VMID(guests[other].vttbr) == VTTBR_VMID(vttbr))
			return 0;
	guests[g].vttbr = vttbr;
	return 1;
}

uint32_t guest_of(unsigned cpu)
{
	return cpu < MAX_CPUS && guest_of_cpu[cpu] ? guest_of_cpu[cpu] - 1u : NO_GUEST;
}

const struct guest_ram *guest_sealed(uint32_t g)
{
	sealed = true;
	return g < MAX_GUESTS && guests[g].size ? &guests[g] : NULL;
}

bool guest_ram_allows(unsigned cpu, uint64_t pa, uint64_t len)
{
	uint32_t g = guest_of(cpu);
	return g != NO_GUEST && inside(pa, len, guests[g].pa, guests[g].size);
}

uint64_t guest_vttbr(unsigned cpu)
{
	uint32_t g = guest_of(cpu);
	return g != NO_GUEST ? guests[g].vttbr : 0;
}

const char *guest_entry_refused(unsigned cpu, uint64_t spsr, const struct frame *f, uint64_t *value)
{
	*value = spsr;
	if (!guest_spsr_allowed(spsr))
		return "SPSR_EL2 is not EL0t, EL1t or EL1h (AArch64)";
	if (!f->controls_dirty)
		return NULL; /* the EL2 controls loaded last time stay */
	*value = f->vttbr;
	uint64_t own = guest_vttbr(cpu);
	if (!own)
		return "C has no stage-2 tables declared for it";
	if (f->vttbr != own)
		return "VTTBR_EL2 is not its own";
	return NULL;
}
