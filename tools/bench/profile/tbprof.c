/*
 * A QEMU TCG plugin that counts executed instructions per translation block and writes one line per block at
 * exit: virtual address, instructions, executions, a hash of the block's bytes, how many WFIs it holds (a vCPU
 * waiting: QEMU's own idle callback never fires under -icount's round robin) and its first 16 bytes (to find it
 * again in an image whose addresses moved, as KASLR moves the kernel's), then the executions per vCPU (the first
 * eight, comma-separated). tools/bench/profile.ts
 * attributes the hypervisor's blocks with addr2line and compares the rest by content (the guest kernel's
 * addresses move with KASLR; its code does not).
 *
 * QEMU's plugin API as Debian lacks its header: plugin-api.h.
 * With marks=1, also a snapshot of the same lines, FILE.mark1, FILE.mark2 …, each time a guest program executes
 * the marker of cpuinsns.c (HINT #0x7f; init's xtest_marks runs it just before and just after xtest): the
 * difference of two snapshots is what ran between the marks.
 * With cpus=A:B:…, only what those vCPUs execute is counted, and only their marks snapshot (a guest's own CPUs,
 * beside another guest that boots and marks too); mark_cpus= (after cpus=) lets other vCPUs be counted while
 * only these snapshot.
 * Usage: -plugin tbprof.so,out=FILE[,marks=1][,cpus=0:1][,mark_cpus=0:1]
 * Which vCPU ran a block of code every guest runs (below 4 GiB: the hypervisor, TF-A, OP-TEE) is read from its
 * TPIDR_EL3 (running-cpu.h: under -icount the callback's own index names the vCPU that translated the block).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin-api.h"
#include "running-cpu.h"

/* Executions are also kept per vCPU for the first PER_CPU of them (the last field of a line). */
#define PER_CPU 8

struct block {
	uint64_t vaddr, hash, executions;
	uint64_t by_cpu[PER_CPU];
	uint32_t wfis;
	uint32_t insns;
	uint32_t marker; /* holds the marker: a snapshot each time it runs */
	uint8_t head[16];
	struct block *next;
};

static struct block *blocks;
static char out_path[512] = "tbprof.txt";
/* WFI, little-endian. */
static const uint8_t WFI[4] = { 0x7f, 0x20, 0x03, 0xd5 };
/* HINT #0x7f, cpuinsns.c's marker. */
static const uint8_t MARKER[4] = { 0xff, 0x2f, 0x03, 0xd5 };
/* Snapshots written at most: init marks a handful of times, a looping one must not fill the disk. */
#define MAX_MARKS 64
static int snapshots_on;
static unsigned marks;
/* The vCPUs counted, and those whose markers snapshot, one bit each: all unless cpus= / mark_cpus= say otherwise. */
static uint64_t cpu_mask = ~0ull, mark_mask = ~0ull;

static void write_blocks(const char *path);

static void marked(void)
{
	char path[600];
	if (marks >= MAX_MARKS)
		return;
	snprintf(path, sizeof(path), "%s.mark%u", out_path, ++marks);
	write_blocks(path);
}

/* Under -icount QEMU runs every vCPU in one thread, so plain increments are exact. */
static void executed(unsigned int vcpu, void *userdata)
{
	struct block *b = userdata;
	int counted = vcpu >= 64 || (cpu_mask >> vcpu & 1);
	if (b->marker && (vcpu >= 64 || (mark_mask >> vcpu & 1)))
		marked();
	if (!counted)
		return;
	b->executions++;
	if (vcpu < PER_CPU)
		b->by_cpu[vcpu]++;
}

static void shared_executed(unsigned int translator, void *userdata)
{
	executed(running_cpu(translator), userdata);
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	struct block *b = calloc(1, sizeof(*b));
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = qemu_plugin_tb_n_insns(tb);
	b->hash = 1469598103934665603ull; /* FNV-1a over the instruction bytes */
	for (size_t i = 0; i < b->insns; i++) {
		uint8_t bytes[16];
		size_t n = qemu_plugin_insn_data(qemu_plugin_tb_get_insn(tb, i), bytes, sizeof(bytes));
		if (n == 4 && !memcmp(bytes, WFI, 4))
			b->wfis++;
		if (snapshots_on && n == 4 && !memcmp(bytes, MARKER, 4))
			b->marker = 1;
		for (size_t k = 0; k < n; k++) {
			b->hash = (b->hash ^ bytes[k]) * 1099511628211ull;
			if (i * 4 + k < sizeof(b->head))
				b->head[i * 4 + k] = bytes[k];
		}
	}
	b->next = blocks;
	blocks = b;
	if (shared_block(b->vaddr) && !b->marker)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, shared_executed, QEMU_PLUGIN_CB_R_REGS, b);
	else
		qemu_plugin_register_vcpu_tb_exec_cb(tb, executed, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void finished(qemu_plugin_id_t id, void *userdata)
{
	(void)id, (void)userdata;
	write_blocks(out_path);
	running_cpu_report();
}

static void write_blocks(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	for (struct block *b = blocks; b; b = b->next)
		if (b->executions) {
			fprintf(f, "%llx %u %llu %016llx %u ", (unsigned long long)b->vaddr, b->insns,
				(unsigned long long)b->executions, (unsigned long long)b->hash, b->wfis);
			for (size_t k = 0; k < sizeof(b->head); k++)
				fprintf(f, "%02x", b->head[k]);
			for (size_t c = 0; c < PER_CPU; c++)
				fprintf(f, "%c%llu", c ? ',' : ' ', (unsigned long long)b->by_cpu[c]);
			fputc('\n', f);
		}
	fclose(f);
}

/* "0:1" -> 0b11. */
static uint64_t cpus_of(const char *list)
{
	uint64_t mask = 0;
	for (char *end; *list; list = *end ? end + 1 : end) {
		unsigned long cpu = strtoul(list, &end, 10);
		if (end == list)
			break;
		if (cpu < 64)
			mask |= 1ull << cpu;
	}
	return mask;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
							      int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			snprintf(out_path, sizeof(out_path), "%s", argv[i] + 4);
		else if (!strcmp(argv[i], "marks=1"))
			snapshots_on = 1;
		else if (!strncmp(argv[i], "cpus=", 5))
			cpu_mask = mark_mask = cpus_of(argv[i] + 5);
		else if (!strncmp(argv[i], "mark_cpus=", 10))
			mark_mask = cpus_of(argv[i] + 10);
	running_cpu_setup(id);
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, finished, NULL);
	return 0;
}
