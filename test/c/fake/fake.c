/*
 * The fake hardware layer of the host build: what boot/glue.c and boot/guests.c call besides each other,
 * reduced to records the tests read (_start, which cpuEntryPa names, is the host program's own).
 * core_refusal_recover mirrors boot/core.c: when the fault can be contained
 * it does not return (here: longjmp to the test's fake_resume), otherwise it returns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake.h"
#include "hyp.h"
#include "hyp_core.h"
#include "platform.h"

unsigned fake_cpu;
uint64_t fake_ram_base, fake_ram_size;
uint8_t fake_linear[65536];
char fake_refusal[160];
unsigned fake_refusals;
bool fake_refusal_contained;
jmp_buf fake_resume;
struct frame *cpu_frames[MAX_CPUS];

uint64_t fake_sysreg_read(const char *name)
{
	(void)name;
	return 0;
}

void fake_sysreg_write(const char *name, uint64_t value)
{
	(void)name;
	(void)value;
}

void fake_mmio(uintptr_t address)
{
	fprintf(stderr, "MMIO at 0x%lx from the host build\n", (unsigned long)address);
	abort();
}

unsigned this_cpu(void)
{
	return fake_cpu;
}

bool devtree_ram_usable(uint64_t pa, uint64_t len)
{
	return len && pa >= fake_ram_base && len <= fake_ram_size && pa - fake_ram_base <= fake_ram_size - len;
}

void *core_range(uint32_t offset, uint32_t len, uint32_t align)
{
	if ((uint64_t)offset + len > sizeof fake_linear || (align > 1 && offset % align))
		return NULL;
	return fake_linear + offset;
}

void core_refusal_recover(const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(fake_refusal, sizeof fake_refusal, fmt, args);
	va_end(args);
	fake_refusals++;
	if (fake_refusal_contained)
		longjmp(fake_resume, 1);
}

const char *core_current_export(unsigned cpu)
{
	(void)cpu;
	return "test";
}

void core_trap_recover(const char *what, uintptr_t pc)
{
	(void)what;
	(void)pc;
}

void console_queue(unsigned cpu, const char *text, size_t len)
{
	(void)cpu;
	(void)text;
	(void)len;
}

void console_printf(const char *fmt, ...)
{
	(void)fmt;
}

void console_input_mask(bool masked)
{
	(void)masked;
}

int console_read(void)
{
	return -1;
}

void cpu_stop_after_core_fault(void)
{
	abort();
}

void gic_kick(unsigned cpu)
{
	(void)cpu;
}

void gic_deactivate(uint32_t intid)
{
	(void)intid;
}

void vcpu_inject_sync(struct frame *f, uint64_t esr, uint64_t far)
{
	(void)f;
	(void)esr;
	(void)far;
}

void stage2_invalidate(uint32_t vmid)
{
	(void)vmid;
}

void platform_info_fill(struct platform_info *info)
{
	memset(info, 0, sizeof *info);
}
