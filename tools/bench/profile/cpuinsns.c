/*
 * A QEMU TCG plugin that counts the instructions each vCPU (each CPU of the machine) executes, and writes every
 * CPU's count whenever a guest program executes the marker instruction (teebench --since-power-on does, at
 * /init). Under -icount QEMU runs the CPUs one at a time and the guest clock counts all of them; this says how
 * much work a guest's own CPUs did by the moment it reached /init, which is what its boot would take on
 * hardware that runs the guests in parallel. tools/bench/boot-time.ts reads it.
 *
 * The marker is HINT #0x7f: an unallocated hint, which the architecture executes as a NOP (nothing else in a
 * Debian kernel or user space uses it). Counting is per block, at its start: a block cut short by an exception
 * still counts whole (a few instructions per exception).
 *
 * Output, one line each: `mark <cpu> <count of CPU 0> <count of CPU 1> …` for each marker executed, then
 * `total <count of CPU 0> …` at exit. Each of those lines is followed by the same counts split by where the code
 * ran, by its virtual address: `region el2 …` (the hypervisor's image, when el2_base and el2_size are given),
 * `region kernel …` (the kernel's half of the address space), `region user …` (Linux user space: addresses from
 * 4 GiB) and `region low …` (the rest, below 4 GiB: TF-A, OP-TEE and its TAs).
 * Usage: -plugin cpuinsns.so,out=FILE[,el2_base=ADDR,el2_size=BYTES]
 *
 * Which vCPU: for code every guest runs (below 4 GiB), the one running it, by its TPIDR_EL3 (running-cpu.h says
 * why the callback's own index will not do under -icount); for a guest's own code, the callback's index.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin-api.h"
#include "running-cpu.h"

#define MAX_CPUS 16
/* Marks written at most: a guest's init marks a handful of times, a looping one must not fill the disk. */
#define MAX_MARKS 256
/* HINT #0x7f (0xd5032fff), little-endian. */
static const uint8_t MARKER[4] = { 0xff, 0x2f, 0x03, 0xd5 };

enum region { REGION_EL2, REGION_KERNEL, REGION_USER, REGION_LOW, REGIONS };
static const char *const REGION_NAMES[REGIONS] = { "el2", "kernel", "user", "low" };
static uint64_t el2_base, el2_size;

static uint64_t executed_by[MAX_CPUS];
static uint64_t executed_in[REGIONS][MAX_CPUS];
static unsigned cpus_seen;
static unsigned marks;
static FILE *out;

static void write_line(const char *what, const uint64_t *counts)
{
	fputs(what, out);
	for (unsigned c = 0; c < cpus_seen; c++)
		fprintf(out, " %llu", (unsigned long long)counts[c]);
	fputc('\n', out);
}

static void write_counts(const char *what)
{
	write_line(what, executed_by);
	for (unsigned r = 0; r < REGIONS; r++) {
		char name[32];
		snprintf(name, sizeof(name), "region %s", REGION_NAMES[r]);
		write_line(name, executed_in[r]);
	}
	fflush(out);
}

static enum region region_of(uint64_t vaddr)
{
	if (vaddr - el2_base < el2_size)
		return REGION_EL2;
	if (vaddr >= 0xffff000000000000ull)
		return REGION_KERNEL;
	return vaddr >= 0x100000000ull ? REGION_USER : REGION_LOW;
}

/* A block's userdata: its instruction count, and its region above bit 32. */
#define BLOCK_INSNS(data) ((uintptr_t)(data) & 0xffffffffu)
#define BLOCK_REGION(data) ((uintptr_t)(data) >> 32)

static void note_cpu(unsigned int cpu)
{
	if (cpu + 1 > cpus_seen)
		cpus_seen = cpu + 1;
}

/* Under -icount QEMU runs every vCPU in one thread, so plain increments are exact. */
static void block_ran(unsigned int cpu, void *data)
{
	if (cpu >= MAX_CPUS)
		return;
	note_cpu(cpu);
	executed_by[cpu] += BLOCK_INSNS(data);
	executed_in[BLOCK_REGION(data)][cpu] += BLOCK_INSNS(data);
}

static void shared_block_ran(unsigned int translator, void *data)
{
	block_ran(running_cpu(translator), data);
}

static void marker_ran(unsigned int cpu, void *data)
{
	block_ran(cpu, data);
	if (cpu >= MAX_CPUS || marks >= MAX_MARKS)
		return;
	marks++;
	char what[32];
	snprintf(what, sizeof(what), "mark %u", cpu);
	write_counts(what);
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t insns = qemu_plugin_tb_n_insns(tb);
	int marked = 0;
	for (size_t i = 0; i < insns && !marked; i++) {
		uint8_t bytes[4];
		marked = qemu_plugin_insn_data(qemu_plugin_tb_get_insn(tb, i), bytes, sizeof(bytes)) == 4 &&
			 !memcmp(bytes, MARKER, sizeof(MARKER));
	}
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	uintptr_t data = (uintptr_t)insns | (uintptr_t)region_of(vaddr) << 32;
	if (marked)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, marker_ran, QEMU_PLUGIN_CB_NO_REGS, (void *)data);
	else if (shared_block(vaddr))
		qemu_plugin_register_vcpu_tb_exec_cb(tb, shared_block_ran, QEMU_PLUGIN_CB_R_REGS, (void *)data);
	else
		qemu_plugin_register_vcpu_tb_exec_cb(tb, block_ran, QEMU_PLUGIN_CB_NO_REGS, (void *)data);
}

static void finished(qemu_plugin_id_t id, void *userdata)
{
	(void)id, (void)userdata;
	write_counts("total");
	fclose(out);
	running_cpu_report();
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
							      int argc, char **argv)
{
	(void)info;
	const char *path = "cpuinsns.txt";
	for (int i = 0; i < argc; i++)
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strncmp(argv[i], "el2_base=", 9))
			el2_base = strtoull(argv[i] + 9, NULL, 0);
		else if (!strncmp(argv[i], "el2_size=", 9))
			el2_size = strtoull(argv[i] + 9, NULL, 0);
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	running_cpu_setup(id);
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, finished, NULL);
	return 0;
}
