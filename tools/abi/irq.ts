/**
 * Interrupt numbers the core and C both use. The one description: boot's abi.h and the core's hyp/gen/irq.ts
 * are written from it by tools/build/abi-gen.ts.
 */

/** The SGI one CPU sends another to make it enter the core (a kick: its vCPU stopped, an SMC of its returned, …). */
export const KICK_SGI = 1;
/**
 * The SGI that wakes a CPU asleep in the core's lock when its turn comes (boot/lock.c), and nothing else: the woken
 * CPU clears it, and one taken as an interrupt anyway is ended in C and never reaches the core. Were it the kick,
 * the wake-up would stay pending and make the woken CPU's guest exit again at once, into the lock again: two CPUs
 * could wake each other that way for ever, starving their guests' timers (QEMU under host load, issue 14 notes).
 */
export const LOCK_SGI = 2;
/** The EL1 virtual timer's PPI (11 in a device tree: INTID 27), the same physically and as guests see it. */
export const VTIMER_PPI = 27;
/**
 * The virtual interface's maintenance interrupt (PPI 9: INTID 25 on the GICv3 and the GIC-400 alike), asked for
 * only as underflow when more interrupts wait than a vCPU's list registers hold (core/run.ts enterGuest).
 */
export const MAINTENANCE_PPI = 25;
/** What acknowledging answers when nothing is pending, and what the run loop passes for "no interrupt". */
export const INTID_SPURIOUS = 1023;
