/*
 * What the C side of the hypervisor shares between its files: the console,
 * the core's lock, the SMC conduit, and the Wasm instance of the core.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "board.h"

#define MAX_CPUS 8u

/* console.c: PL011 output, whole lines under the console lock. */
void console_write(const char *text, size_t len);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* lock.c: test-and-set spinlock (the core is one Wasm instance: one lock, no threads in wasm2c 1.0.32). */
typedef struct { volatile uint32_t taken; } spinlock_t;
void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);

/* smc.S: performs an SMC with x0..x7 from regs and writes x0..x7 back. */
void smc_call(uint64_t regs[8]);

/* core.c: the Wasm core instance and the checked way into its linear memory. */
void core_instantiate(void);
void *core_range(uint32_t offset, uint32_t len, uint32_t align);
uint32_t core_enter_start(unsigned cpu);
uint32_t core_enter_smc_returned(unsigned cpu);
uint32_t core_enter_selftest(unsigned cpu);
uint32_t core_frame_offset(unsigned cpu);

/* stop.c: the ways a CPU stops. */
__attribute__((noreturn)) void cpu_park(void);
__attribute__((noreturn)) void cpu_stop(void);
__attribute__((noreturn)) void cpu_stop_after_core_fault(void);
void cpu_running(void);
bool core_is_dead(void);
void psci_system_off(void);
