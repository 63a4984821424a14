/* The fake hardware and core the host-built C glue runs against (fake.c), and what the tests read back. */
#pragma once
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

/* this_cpu() */
extern unsigned fake_cpu;
/* The RAM the fake device tree calls usable (devtree_ram_usable). */
extern uint64_t fake_ram_base, fake_ram_size;
/* The core's linear memory (core_range). */
extern uint8_t fake_linear[65536];
/* What core_refusal_recover was told last, how many times, and whether it "resumes" (longjmp to fake_resume). */
extern char fake_refusal[160];
extern unsigned fake_refusals;
extern bool fake_refusal_contained;
extern jmp_buf fake_resume;
