/* The generated core (build/gen/hypcore.h, from hyp/ by asc and wasm2c) and what core.c says about it. */
#pragma once
#include "hypcore.h"
#include "hyp.h"

unsigned this_cpu(void);
const char *core_current_export(unsigned cpu);
/* Releases the core lock held by a CPU whose core call trapped or aborted. */
void core_release_after_fault(void);
/* A trap while the core serves a guest: resumes that core call's recovery point (never returns); returns when the
 * fault cannot be contained (no guest being served, or a fault while recovering). */
void core_trap_recover(const char *what, uintptr_t pc);
/* C refused what the core handed an import (what, formatted: one line's worth): like a trap, contained to the guest
 * being served (does not return); returns when none is. */
void core_refusal_recover(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
