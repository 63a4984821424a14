/**
 * The per-exit profile's tables (hyp/core/account.ts, boot/pmu.c): one per CPU in the core's linear memory,
 * filled by C outside the lock, read by the core. The one description of a slot and of the PMU events the
 * profile counts: boot's abi.h (checked against C's struct account_entry) and the core's hyp/gen/account.ts.
 */
/** A slot: u32 key (the exit kind), u32 count, u64 total (counter ticks at EL2). */
export const ACCOUNT_ENTRY = 16;
export const ACCOUNT_KEY_AT = 0;
export const ACCOUNT_COUNT_AT = 4;
export const ACCOUNT_TOTAL_AT = 8;
/** PMU events C may count at EL2: instructions retired (under QEMU's -icount, exact), CPU cycles. */
export const PMU_EVENT_INST_RETIRED = 0x08;
export const PMU_EVENT_CPU_CYCLES = 0x11;
