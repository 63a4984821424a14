/*
 * Layout of a CPU's frame in the core's linear memory; mirrors
 * hyp/core/percpu.ts offset for offset. Usable from assembly.
 */
#pragma once

#define FRAME_SIZE 0x400
#define FRAME_SMC 0x000
#define FRAME_X0 0x040
#define FRAME_PC 0x138
#define FRAME_PSTATE 0x140
#define FRAME_ESR 0x148
#define FRAME_FAR 0x150
#define FRAME_HPFAR 0x158
#define FRAME_EXIT_KIND 0x160
#define FRAME_SERVING 0x168
#define FRAME_HCR 0x180
#define FRAME_VTTBR 0x188
#define FRAME_VTCR 0x190
#define FRAME_VMPIDR 0x198
#define FRAME_CONTROLS_DIRTY 0x1a0
#define FRAME_LR_UNDERFLOW 0x1a8
#define FRAME_LR 0x1c0
#define FRAME_LR_COUNT 4
#define FRAME_ACCOUNT_KEY 0x1e0
#define FRAME_ACCOUNT_TABLE 0x1e8
#define FRAME_ACCOUNT_SLOTS 0x1ec
#define FRAME_ACCOUNT_EVENT 0x1f0
#define FRAME_ACCOUNT_LAST 0x1f8

#define EXIT_SYNC 0
#define EXIT_IRQ 1
#define EXIT_FIQ 2
#define EXIT_SERROR 3

#ifndef __ASSEMBLER__
#include <stdint.h>

struct frame {
	uint64_t smc[8];
	uint64_t x[31];
	uint64_t pc, pstate, esr, far, hpfar, exit_kind;
	/* The guest whose event the core is handling (0xff: none), for fault containment (core.c). C clears it
	 * before every core call; the core sets it. */
	uint32_t serving, pad_serving;
	uint64_t pad0[2];
	uint64_t hcr, vttbr, vtcr, vmpidr;
	uint64_t controls_dirty;
	/* Non-zero: more interrupts wait than the list registers hold; enter with the underflow maintenance
	 * interrupt on, so the guest's completing them brings the rest in at once (hyp/core/run.ts). */
	uint32_t lr_underflow, pad_underflow;
	uint64_t pad1[2];
	uint64_t lr[FRAME_LR_COUNT];
	/* The per-exit profile (boot/pmu.c, hyp/core/account.ts): the exit kind the core named for the EL2 stint
	 * under way, where its per-CPU table is in linear memory and how many slots it has, the PMU event the
	 * counter counts (0: no profile), the counter's value at the last guest entry. */
	uint32_t account_key, pad2;
	uint32_t account_table, account_slots;
	uint64_t account_event;
	uint64_t account_last;
};

_Static_assert(__builtin_offsetof(struct frame, x) == FRAME_X0, "frame.x");
_Static_assert(__builtin_offsetof(struct frame, pc) == FRAME_PC, "frame.pc");
_Static_assert(__builtin_offsetof(struct frame, exit_kind) == FRAME_EXIT_KIND, "frame.exit_kind");
_Static_assert(__builtin_offsetof(struct frame, serving) == FRAME_SERVING, "frame.serving");
_Static_assert(__builtin_offsetof(struct frame, hcr) == FRAME_HCR, "frame.hcr");
_Static_assert(__builtin_offsetof(struct frame, controls_dirty) == FRAME_CONTROLS_DIRTY, "frame.controls_dirty");
_Static_assert(__builtin_offsetof(struct frame, lr_underflow) == FRAME_LR_UNDERFLOW, "frame.lr_underflow");
_Static_assert(__builtin_offsetof(struct frame, lr) == FRAME_LR, "frame.lr");
_Static_assert(__builtin_offsetof(struct frame, account_key) == FRAME_ACCOUNT_KEY, "frame.account_key");
_Static_assert(__builtin_offsetof(struct frame, account_table) == FRAME_ACCOUNT_TABLE, "frame.account_table");
_Static_assert(__builtin_offsetof(struct frame, account_slots) == FRAME_ACCOUNT_SLOTS, "frame.account_slots");
_Static_assert(__builtin_offsetof(struct frame, account_event) == FRAME_ACCOUNT_EVENT, "frame.account_event");
_Static_assert(__builtin_offsetof(struct frame, account_last) == FRAME_ACCOUNT_LAST, "frame.account_last");
_Static_assert(sizeof(struct frame) <= FRAME_SIZE, "frame size");

/* Enters the guest whose state is in `f`; returns the EXIT_* kind when it traps back. */
uint64_t guest_run(struct frame *f);
#endif
