/*
 * The C side's only ways to touch hardware registers: system registers by
 * name (or S3_… encoding for ones the assembler does not know) and MMIO.
 */
#pragma once
#include <stdint.h>

#define sysreg_write(name, v) __asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(v)) : "memory")
#define sysreg_read(name) ({ uint64_t v_; __asm__ volatile("mrs %0, " #name : "=r"(v_)); v_; })

static inline uint32_t mmio_read32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline uint64_t mmio_read64(uintptr_t a) { return *(volatile uint64_t *)a; }
static inline void mmio_write8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void mmio_write32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void mmio_write64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

/* Cleans [start, start + len) to the point of coherency: for memory a guest reads through an uncached mapping. */
static inline void cache_clean_range(const void *start, uint64_t len)
{
	for (uintptr_t line = (uintptr_t)start & ~63ul; line < (uintptr_t)start + len; line += 64)
		__asm__ volatile("dc cvac, %0" ::"r"(line) : "memory");
	__asm__ volatile("dsb ish" ::: "memory");
}
