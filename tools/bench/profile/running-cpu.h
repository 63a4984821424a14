/*
 * Which vCPU is running a block, for code that every guest runs (the hypervisor, TF-A, OP-TEE).
 *
 * QEMU 9.1 and later hand a block's callback the index of the vCPU that *translated* it, as a constant, whenever
 * vCPUs do not run in parallel (accel/tcg/plugin-gen.c gen_cpu_index: no CF_PARALLEL) — always so under -icount,
 * and translated blocks are shared by every vCPU. A block of one guest's RAM is only ever run by that guest's CPUs,
 * so the index is right to the guest; a shared block counts on whichever CPU translated it first.
 *
 * So for shared code the callback reads a register of the running vCPU instead: TPIDR_EL3, which TF-A's BL31 sets
 * on each CPU to that CPU's entry in its per-CPU array (percpu_data[core position]) and never changes. Sorted, the
 * distinct values give the core positions, which on QEMU virt (core position = MPIDR's linear index) are QEMU's
 * vCPU indices. Before BL31 has
 * run on a CPU (the boot ROM, BL1, BL2) the register is 0 and the translator's index stands.
 *
 * Usage: running_cpu_setup(id) at install; shared_block(vaddr) to choose the callback (register reads cost, so
 * only blocks below 4 GiB read it: EL2, TF-A, OP-TEE, its TAs); running_cpu(translator) in a callback registered
 * with QEMU_PLUGIN_CB_R_REGS.
 */
#ifndef TEE_HYP_RUNNING_CPU_H
#define TEE_HYP_RUNNING_CPU_H
#include <stdio.h>
#include <string.h>

#include "plugin-api.h"

#define RUNNING_CPU_KEYS 64
static struct qemu_plugin_register *tpidr_el3;
static GByteArray *register_bytes;
static uint64_t cpu_keys[RUNNING_CPU_KEYS];
static unsigned cpu_key_count;
/* How many callbacks could not read TPIDR_EL3 and fell back to the translator: printed at exit. */
static uint64_t running_cpu_fallbacks;

static void running_cpu_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu)
{
	(void)id;
	if (tpidr_el3)
		return;
	GArray *registers = qemu_plugin_get_registers();
	qemu_plugin_reg_descriptor *d = (qemu_plugin_reg_descriptor *)registers->data;
	for (unsigned i = 0; i < registers->len; i++)
		if (d[i].name && !strcmp(d[i].name, "TPIDR_EL3"))
			tpidr_el3 = d[i].handle;
	if (!tpidr_el3 && vcpu == 0)
		fprintf(stderr, "running-cpu: QEMU offers no TPIDR_EL3: shared code counts on its translating vCPU\n");
}

static void running_cpu_setup(qemu_plugin_id_t id)
{
	register_bytes = g_byte_array_new();
	qemu_plugin_register_vcpu_init_cb(id, running_cpu_vcpu_init);
}

static int shared_block(uint64_t vaddr)
{
	return vaddr < 0x100000000ull;
}

/* The vCPU running the current callback: its key's rank among all keys seen (a new key only while CPUs boot). */
static unsigned running_cpu(unsigned translator)
{
	uint64_t key = 0;
	g_byte_array_set_size(register_bytes, 0);
	if (!tpidr_el3 || qemu_plugin_read_register(tpidr_el3, register_bytes) <= 0 || register_bytes->len < 8) {
		running_cpu_fallbacks++;
		return translator;
	}
	memcpy(&key, register_bytes->data, 8);
	if (!key)
		return translator;
	unsigned rank = 0, known = 0;
	for (unsigned i = 0; i < cpu_key_count; i++) {
		rank += cpu_keys[i] < key;
		known |= cpu_keys[i] == key;
	}
	if (!known && cpu_key_count < RUNNING_CPU_KEYS)
		cpu_keys[cpu_key_count++] = key;
	return rank;
}

/* To stderr at exit: a person checking the attribution sees the keys (one per CPU) and any fallbacks. */
static void running_cpu_report(void)
{
	fprintf(stderr, "running-cpu: %u CPUs by TPIDR_EL3, %llu reads failed\n", cpu_key_count,
		(unsigned long long)running_cpu_fallbacks);
}
#endif
