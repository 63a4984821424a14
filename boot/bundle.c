/*
 * The boot bundle: on a board whose firmware loads whole files only (the
 * Raspberry Pi's VideoCore loads the kernel, one initramfs and the DTB), the
 * tools pack the boot configuration and every guest's images into one file
 * that the firmware puts at BOARD_BUNDLE_PA (config.txt's `initramfs … <addr>`),
 * and the boot CPU copies each piece to where QEMU's loader device would have
 * put it. Layout (little endian; written by tools/sdcard/bundle.ts):
 *
 *   +0  u32 magic BUNDLE_MAGIC ("HYPB")   +4 u32 version   +8 u32 count   +12 u32 total bytes
 *   +16 entry[count]: u64 destination PA, u32 offset in the bundle, u32 size
 *
 * Runs once with the MMU on, before the core. Nothing in it is trusted: an
 * entry is copied only if it lies inside the bundle and its destination is
 * the boot configuration's region or free RAM of the device tree that does
 * not overlap the bundle; any other entry is skipped with a line saying why.
 * No bundle (QEMU, whose loader places the files itself): nothing happens.
 */
#include <string.h>

#include "board.h"
#include "devtree.h"
#include "hyp.h"

#define BUNDLE_MAGIC 0x42505948u /* "HYPB" */
#define BUNDLE_VERSION 1u
#define BUNDLE_HEADER 16u
#define BUNDLE_ENTRY 16u
#define BUNDLE_MAX_ENTRIES 16u

struct bundle_entry {
	uint64_t dst;
	uint32_t offset, size;
};

/* Cleans [pa, pa + size) to the point of coherency: a guest starts with its caches off and reads memory. */
static void clean_to_poc(uint64_t pa, uint64_t size)
{
	uint64_t ctr;
	__asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
	uint64_t line = 4ull << ((ctr >> 16) & 0xf); /* DminLine: log2 of the words in the smallest line */
	for (uint64_t a = pa & ~(line - 1); a < pa + size; a += line)
		__asm__ volatile("dc cvac, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb sy" ::: "memory");
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool destination_ok(uint64_t dst, uint32_t size, uint64_t bundle_size)
{
	if (overlaps(dst, size, BOARD_BUNDLE_PA, bundle_size))
		return false;
	if (dst == HYP_BOOT_CONFIG_PA)
		return size <= HYP_BOOT_CONFIG_SIZE;
	return devtree_ram_usable(dst, size);
}

void boot_bundle_unpack(void)
{
	if (BOARD_BUNDLE_SIZE == 0 || !devtree_ram_contains(BOARD_BUNDLE_PA, BUNDLE_HEADER))
		return;
	const uint8_t *bundle = (const uint8_t *)(uintptr_t)BOARD_BUNDLE_PA;
	uint32_t header[4];
	memcpy(header, bundle, sizeof header);
	if (header[0] != BUNDLE_MAGIC)
		return;
	uint32_t count = header[2], total = header[3];
	if (header[1] != BUNDLE_VERSION || count > BUNDLE_MAX_ENTRIES || total > BOARD_BUNDLE_SIZE ||
	    total < BUNDLE_HEADER + count * BUNDLE_ENTRY) {
		console_printf("[hyp] bundle at 0x%lx: version %u, %u entries, %u bytes: not understood, ignored\n",
			       (unsigned long)BOARD_BUNDLE_PA, header[1], count, total);
		return;
	}
	unsigned copied = 0;
	for (uint32_t i = 0; i < count; i++) {
		struct bundle_entry e;
		memcpy(&e, bundle + BUNDLE_HEADER + i * BUNDLE_ENTRY, sizeof e);
		if (e.offset > total || e.size > total - e.offset || !destination_ok(e.dst, e.size, total)) {
			console_printf("[hyp] bundle entry %u (0x%x bytes to 0x%lx): outside the bundle or not free RAM, skipped\n",
				       i, e.size, (unsigned long)e.dst);
			continue;
		}
		memcpy((void *)(uintptr_t)e.dst, bundle + e.offset, e.size);
		clean_to_poc(e.dst, e.size);
		copied++;
	}
	console_printf("[hyp] bundle at 0x%lx: %u of %u files placed\n", (unsigned long)BOARD_BUNDLE_PA, copied, count);
}
