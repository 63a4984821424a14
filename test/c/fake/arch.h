/*
 * The host build's arch.h (test/unit/c-glue.test.ts): the same interface as boot/include/arch.h, with system
 * registers kept in a table the tests read and MMIO refused, so the C glue runs on the host against fake
 * hardware (as Hafnium tests its arch layer). Found before boot/include by the include path.
 */
#pragma once
#include <stdint.h>

uint64_t fake_sysreg_read(const char *name);
void fake_sysreg_write(const char *name, uint64_t value);
__attribute__((noreturn)) void fake_mmio(uintptr_t address);

#define sysreg_write(name, v) fake_sysreg_write(#name, (uint64_t)(v))
#define sysreg_read(name) fake_sysreg_read(#name)

static inline uint32_t mmio_read32(uintptr_t a) { fake_mmio(a); }
static inline uint64_t mmio_read64(uintptr_t a) { fake_mmio(a); }
static inline void mmio_write8(uintptr_t a, uint8_t v) { (void)v; fake_mmio(a); }
static inline void mmio_write32(uintptr_t a, uint32_t v) { (void)v; fake_mmio(a); }
static inline void mmio_write64(uintptr_t a, uint64_t v) { (void)v; fake_mmio(a); }
/* The host's caches are coherent: nothing to clean. */
static inline void cache_clean_range(const void *start, uint64_t len) { (void)start, (void)len; }
