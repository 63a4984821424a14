/*
 * C's own table of the guests (guests.c): each guest's RAM, images and stage-2
 * tables as the core declared them once at boot, and which guest each physical
 * CPU runs. Everything the core hands C later is checked against it: the
 * mediator's guest-memory copies (glue.c) and the state a guest is entered
 * with (runloop.c, vcpu.c). Pure C: also compiled for the host and unit-tested
 * there (test/unit/c-glue.test.ts).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "abi.h"
#include "frame.h"

struct guest_image {
	uint64_t store_pa;
	uint32_t size;
	uint32_t ram_offset;
};

struct guest_ram {
	uint64_t pa, size;
	/* Its stage-2 translation (guestStage2Declare): the only VTTBR_EL2 C loads for it. 0: none declared. */
	uint64_t vttbr;
	struct guest_image images[IMAGE_SLOTS];
};

/* The guest physical CPU `cpu` runs (NO_GUEST: none). */
uint32_t guest_of(unsigned cpu);
/* Guest g's entry, sealing the table (no declaration after the first load); NULL for one not declared. */
const struct guest_ram *guest_sealed(uint32_t g);
/* Is [pa, pa + len) inside the RAM of the guest physical CPU `cpu` runs? */
bool guest_ram_allows(unsigned cpu, uint64_t pa, uint64_t len);
/* The VTTBR_EL2 of the guest `cpu` runs (0: none). */
uint64_t guest_vttbr(unsigned cpu);

/*
 * SPSR_EL2.M[4:0] a guest may be entered in: EL0t (0b00000), EL1t (0b00100), EL1h (0b00101). M[4] = 1 would be
 * AArch32; EL2t/EL2h would run the guest with the hypervisor's privilege.
 */
#define SPSR_GUEST_MODES ((1u << SPSR_M_EL0T) | (1u << SPSR_M_EL1T) | (1u << SPSR_M_EL1H))

/* The cheap check of every entry (runloop.c): a shift and a test. */
static inline bool guest_spsr_allowed(uint64_t spsr)
{
	return (SPSR_GUEST_MODES >> (spsr & 0x1f)) & 1u;
}

/*
 * Why the guest on `cpu` cannot be entered in `spsr` (read once by the caller) with the state in `f`, or NULL:
 * an SPSR that is not EL0t/EL1t/EL1h, or, when the core asks for its EL2 controls to be loaded, a VTTBR that is
 * not the guest's own. Writes the offending value to *value.
 */
const char *guest_entry_refused(unsigned cpu, uint64_t spsr, const struct frame *f, uint64_t *value);

/* HCR_EL2 as C loads it: the core's choice with the isolation bits forced on and the forbidden ones off (abi.h). */
static inline uint64_t guest_hcr(uint64_t hcr)
{
	return (hcr | HCR_ISOLATION) & ~HCR_FORBIDDEN;
}
