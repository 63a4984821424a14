/*
 * The C side of every import the core declares in hyp/hw/imports.ts. Each is
 * a few lines; every pointer from the core is checked with core_range before
 * use, so a bug in the core can at worst make an import do nothing.
 */
#include "arch.h"
#include "hyp.h"
#include "hyp_core.h"
#include "devtree.h"
#include "guests.h"
#include "platform.h"

void Z_hwZ_consoleWrite(struct Z_hw_instance_t *hw, u32 ptr, u32 len)
{
	(void)hw;
	const char *text = core_range(ptr, len, 1);
	if (text)
		console_queue(this_cpu(), text, len); /* written once this CPU has left the core (core.c) */
}

/* Copies the blob tools/ placed at HYP_BOOT_CONFIG_PA; the core checks its magic and version. */
u32 Z_hwZ_bootConfigCopy(struct Z_hw_instance_t *hw, u32 dst, u32 max)
{
	(void)hw;
	uint32_t len = max < HYP_BOOT_CONFIG_SIZE ? max : HYP_BOOT_CONFIG_SIZE;
	void *to = core_range(dst, len, 1);
	if (!to)
		return 0;
	memcpy(to, (const void *)HYP_BOOT_CONFIG_PA, len);
	return len;
}

/* An AssemblyScript string as ASCII: UTF-16 code units, byte length in the u32 before it. */
static void string_ascii(u32 ptr, char *out, size_t size)
{
	out[0] = 0;
	const uint32_t *length = ptr >= 4 ? core_range(ptr - 4, 4, 4) : NULL;
	const uint16_t *units = length ? core_range(ptr, *length, 2) : NULL;
	if (!units)
		return;
	size_t n = 0;
	for (uint32_t i = 0; i < *length / 2 && n + 1 < size; i++)
		out[n++] = units[i] >= 0x20 && units[i] < 0x7f ? (char)units[i] : '?';
	out[n] = 0;
}

void Z_hwZ_panic(struct Z_hw_instance_t *hw, u32 msg, u32 file, u32 line, u32 col)
{
	(void)hw;
	char message[128], where[96];
	string_ascii(msg, message, sizeof message);
	string_ascii(file, where, sizeof where);
	unsigned cpu = this_cpu();
	console_printf("[hyp] cpu %u: core aborted in export %s: %s at %s:%u:%u\n", cpu,
		       core_current_export(cpu), message, where, line, col);
	core_trap_recover("abort", (uintptr_t)__builtin_return_address(0));
	cpu_stop_after_core_fault();
}

u64 Z_hwZ_linearMemoryPa(struct Z_hw_instance_t *hw)
{
	(void)hw;
	return HYP_WASM_MEM_PA;
}

u64 Z_hwZ_cpuEntryPa(struct Z_hw_instance_t *hw)
{
	(void)hw;
	return (uint64_t)(uintptr_t)_start;
}

void Z_hwZ_kickCpu(struct Z_hw_instance_t *hw, u32 cpu)
{
	(void)hw;
	if (cpu < MAX_CPUS)
		gic_kick(cpu);
}

/* Only the calling CPU's own vCPU can take an exception now: its EL1 registers are the live ones. */
void Z_hwZ_injectException(struct Z_hw_instance_t *hw, u32 cpu, u64 esr, u64 far)
{
	(void)hw;
	if (cpu == this_cpu())
		vcpu_inject_sync(cpu_frame(cpu), esr, far);
}

u64 Z_hwZ_timeNs(struct Z_hw_instance_t *hw)
{
	(void)hw;
	uint64_t ticks = sysreg_read(cntpct_el0), freq = sysreg_read(cntfrq_el0);
	if (!freq)
		return 0;
	return ticks / freq * 1000000000ull + ticks % freq * 1000000000ull / freq;
}

void Z_hwZ_gicDeactivate(struct Z_hw_instance_t *hw, u32 intid)
{
	(void)hw;
	gic_deactivate(intid);
}

void Z_hwZ_stage2Invalidate(struct Z_hw_instance_t *hw, u32 vmid)
{
	(void)hw;
	stage2_invalidate(vmid);
}

/* Linear memory a guest reads through a Device (uncached) mapping: its UART's register page. */
void Z_hwZ_cacheClean(struct Z_hw_instance_t *hw, u32 ptr, u32 len)
{
	(void)hw;
	const char *start = core_range(ptr, len, 1);
	if (!start)
		return;
	cache_clean_range(start, len);
}

u32 Z_hwZ_consoleRead(struct Z_hw_instance_t *hw)
{
	(void)hw;
	return (u32)console_read(); /* -1 stays -1 as an i32 in the core */
}

void Z_hwZ_consoleInputEnable(struct Z_hw_instance_t *hw, u32 on)
{
	(void)hw;
	console_input_mask(on == 0);
}

/*
 * Guest RAM for the OP-TEE mediator's copies. The core has checked that the
 * range is the calling guest's own RAM; C checks it again against its own
 * table (guests.c): the RAM of the guest this CPU runs, and nothing else, so
 * that even a wrong answer from the core can neither touch the hypervisor nor
 * another guest. A refusal is a fault of the core while serving that guest:
 * the guest is stopped (core.c), the others carry on.
 */
static bool guest_ram_range(u64 pa, u32 len)
{
	unsigned cpu = this_cpu();
	if (guest_ram_allows(cpu, pa, len))
		return true;
	core_refusal_recover("a guest RAM copy of 0x%lx+%u (not the RAM of guest %u, which this CPU runs)", (unsigned long)pa,
			     (unsigned)len, (unsigned)guest_of(cpu));
	return false;
}

u32 Z_hwZ_guestRamRead(struct Z_hw_instance_t *hw, u64 pa, u32 dst, u32 len)
{
	(void)hw;
	void *to = core_range(dst, len, 1);
	if (!to || !guest_ram_range(pa, len))
		return 0;
	memcpy(to, (const void *)(uintptr_t)pa, len);
	return 1;
}

u32 Z_hwZ_guestRamWrite(struct Z_hw_instance_t *hw, u64 pa, u32 src, u32 len)
{
	(void)hw;
	const void *from = core_range(src, len, 1);
	if (!from || !guest_ram_range(pa, len))
		return 0;
	memcpy((void *)(uintptr_t)pa, from, len);
	return 1;
}

/* The platform record (platform.h) for the core; returns its size, or 0 when `dst` is not in linear memory. */
u32 Z_hwZ_platformInfoCopy(struct Z_hw_instance_t *hw, u32 dst, u32 max)
{
	(void)hw;
	struct platform_info info;
	platform_info_fill(&info);
	uint32_t len = max < sizeof info ? max : (uint32_t)sizeof info;
	void *to = core_range(dst, len, 1);
	if (!to)
		return 0;
	memcpy(to, &info, len);
	return len;
}
