/*
 * A small reader of the flattened device tree (Devicetree Specification
 * v0.4, ch. 5) the firmware hands over: only what the hypervisor needs
 * (devtree.h). Runs on the boot CPU with the MMU off, so it is compiled with
 * -mstrict-align and reads the big-endian words byte by byte. It trusts
 * nothing in the blob: every offset is checked against its total size, and a
 * malformed tree leaves `devtree.valid` false (no RAM known: no guest runs).
 */
#include "devtree.h"
#include "board.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define FDT_MAX_SIZE (2u << 20)
#define FOUR_GIB (1ull << 32)

struct devtree_facts devtree;

struct blob {
	const uint8_t *base;
	uint32_t size, structs, strings, strings_size;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A big-endian number of `cells` 32-bit cells (1 or 2; more keep the low 64 bits). */
static uint64_t cells_value(const uint8_t *p, uint32_t cells)
{
	uint64_t v = 0;
	for (uint32_t i = 0; i < cells; i++)
		v = v << 32 | be32(p + 4 * i);
	return v;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* "memory" matches "memory" and "memory@0", not "memory-controller". */
static bool node_is(const char *name, const char *want)
{
	while (*want && *name == *want)
		name++, want++;
	return *want == 0 && (*name == 0 || *name == '@');
}

static void add_range(struct mem_range *table, unsigned *count, unsigned max, uint64_t base, uint64_t size)
{
	if (size == 0 || *count >= max || base >= FOUR_GIB)
		return;
	if (size > FOUR_GIB - base)
		size = FOUR_GIB - base; /* the EL2 map and guests' PAs stay below 4 GiB */
	table[*count].base = base;
	table[*count].size = size;
	(*count)++;
}

/* The (address, size) pairs of a reg property. */
static void add_reg(struct mem_range *table, unsigned *count, unsigned max, const uint8_t *value, uint32_t len,
		    uint32_t acells, uint32_t scells)
{
	uint32_t entry = 4 * (acells + scells);
	if (acells == 0 || acells > 2 || scells == 0 || scells > 2)
		return;
	for (uint32_t at = 0; at + entry <= len; at += entry)
		add_range(table, count, max, cells_value(value + at, acells), cells_value(value + at + 4 * acells, scells));
}

/* Where the walk is: the names of the nodes at depth 1 and 2, and the #cells in force. */
struct walk {
	const char *node[3];
	uint32_t root_acells, root_scells, resv_acells, resv_scells;
	uint32_t cpu_reg;
	bool cpu_spin;
	uint64_t cpu_release;
};

static void property(struct walk *w, unsigned depth, const char *name, const uint8_t *value, uint32_t len)
{
	if (depth == 0) {
		if (str_eq(name, "#address-cells") && len == 4)
			w->root_acells = w->resv_acells = be32(value);
		else if (str_eq(name, "#size-cells") && len == 4)
			w->root_scells = w->resv_scells = be32(value);
	} else if (depth == 1 && node_is(w->node[1], "memory") && str_eq(name, "reg")) {
		add_reg(devtree.ram, &devtree.ram_count, DEVTREE_MAX_RAM, value, len, w->root_acells, w->root_scells);
	} else if (depth == 1 && node_is(w->node[1], "reserved-memory")) {
		if (str_eq(name, "#address-cells") && len == 4)
			w->resv_acells = be32(value);
		else if (str_eq(name, "#size-cells") && len == 4)
			w->resv_scells = be32(value);
	} else if (depth == 2 && node_is(w->node[1], "reserved-memory") && str_eq(name, "reg")) {
		add_reg(devtree.reserved, &devtree.reserved_count, DEVTREE_MAX_RESERVED, value, len, w->resv_acells,
			w->resv_scells);
	} else if (depth == 2 && node_is(w->node[1], "cpus") && node_is(w->node[2], "cpu")) {
		if (str_eq(name, "reg") && len >= 4)
			w->cpu_reg = be32(value + len - 4) & 0xff; /* Aff0: the CPU number on our boards */
		else if (str_eq(name, "enable-method") && len >= 10)
			w->cpu_spin = str_eq((const char *)value, "spin-table");
		else if (str_eq(name, "cpu-release-addr") && (len == 8 || len == 4))
			w->cpu_release = cells_value(value, len / 4);
	}
}

static void node_end(struct walk *w, unsigned depth)
{
	if (depth == 2 && node_is(w->node[1], "cpus") && node_is(w->node[2], "cpu")) {
		if (w->cpu_spin && w->cpu_reg < DEVTREE_MAX_CPUS)
			devtree.release_addr[w->cpu_reg] = w->cpu_release;
		w->cpu_spin = false;
		w->cpu_release = 0;
	}
}

static void node_begin(struct walk *w, unsigned depth, const char *name)
{
	if (depth < 3)
		w->node[depth] = name;
	if (depth == 1 && node_is(name, "psci"))
		devtree.psci = true;
}

/* The next token at `*at` (4-byte aligned, inside the struct block), or FDT_END when out of bounds. */
static uint32_t token(const struct blob *b, uint32_t *at)
{
	if (*at + 4 > b->size)
		return FDT_END;
	uint32_t t = be32(b->base + *at);
	*at += 4;
	return t;
}

/* Length of the NUL-terminated string at `off`, or -1 if it runs past `end`. */
static int32_t bounded_strlen(const struct blob *b, uint32_t off, uint32_t end)
{
	for (uint32_t i = off; i < end; i++)
		if (b->base[i] == 0)
			return (int32_t)(i - off);
	return -1;
}

/* Depth 0 is the root node (its name is empty), 1 its children, and so on. */
static bool walk_structs(const struct blob *b)
{
	struct walk w = { .root_acells = 2, .root_scells = 1, .resv_acells = 2, .resv_scells = 1 };
	uint32_t at = b->structs;
	unsigned open = 0; /* nodes begun and not ended */
	for (;;) {
		switch (token(b, &at)) {
		case FDT_BEGIN_NODE: {
			int32_t len = bounded_strlen(b, at, b->size);
			if (len < 0)
				return false;
			node_begin(&w, open, (const char *)b->base + at);
			open++;
			at += ((uint32_t)len + 4) & ~3u;
			break;
		}
		case FDT_END_NODE:
			if (open == 0)
				return false;
			open--;
			node_end(&w, open);
			break;
		case FDT_PROP: {
			if (open == 0 || at + 8 > b->size)
				return false;
			uint32_t len = be32(b->base + at), nameoff = be32(b->base + at + 4);
			at += 8;
			if (len > b->size - at || nameoff >= b->strings_size ||
			    bounded_strlen(b, b->strings + nameoff, b->strings + b->strings_size) < 0)
				return false;
			property(&w, open - 1, (const char *)b->base + b->strings + nameoff, b->base + at, len);
			at += (len + 3) & ~3u;
			break;
		}
		case FDT_NOP:
			break;
		case FDT_END:
			return open == 0;
		default:
			return false;
		}
	}
}

/* /memreserve/ entries: (u64 address, u64 size) pairs ending with 0, 0. */
static void memreserve(const struct blob *b, uint32_t off)
{
	for (; off + 16 <= b->size; off += 16) {
		uint64_t base = cells_value(b->base + off, 2), size = cells_value(b->base + off + 8, 2);
		if (base == 0 && size == 0)
			return;
		add_range(devtree.reserved, &devtree.reserved_count, DEVTREE_MAX_RESERVED, base, size);
	}
}

void devtree_scan(uint64_t pa)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)(pa ? pa : BOARD_DTB_PA);
	if (be32(p) != FDT_MAGIC)
		return;
	struct blob b = { .base = p, .size = be32(p + 4), .structs = be32(p + 8), .strings = be32(p + 12) };
	b.strings_size = be32(p + 32);
	uint32_t rsvmap = be32(p + 16);
	if (b.size > FDT_MAX_SIZE || b.structs >= b.size || b.strings > b.size || b.strings_size > b.size - b.strings ||
	    rsvmap >= b.size || ((b.structs | rsvmap) & 3))
		return;
	devtree.blob_pa = (uint64_t)(uintptr_t)p;
	devtree.blob_size = b.size;
	memreserve(&b, rsvmap);
	devtree.valid = walk_structs(&b);
	if (!devtree.valid)
		devtree.ram_count = 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool devtree_ram_contains(uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < devtree.ram_count; i++) {
		const struct mem_range *r = &devtree.ram[i];
		if (len != 0 && pa >= r->base && pa - r->base <= r->size && len <= r->size - (pa - r->base))
			return true;
	}
	return false;
}

bool devtree_ram_usable(uint64_t pa, uint64_t len)
{
	if (!devtree_ram_contains(pa, len) || overlaps(pa, len, devtree.blob_pa, devtree.blob_size))
		return false;
	for (unsigned i = 0; i < devtree.reserved_count; i++)
		if (overlaps(pa, len, devtree.reserved[i].base, devtree.reserved[i].size))
			return false;
	return true;
}
