/**
 * What the core asks its host to do next for a CPU: the answer of every
 * export that handles an event. Mirrored in boot/include/action.h; the two
 * must agree number for number.
 */

/** Park this CPU for good: nothing will ever run on it. */
export const ACTION_PARK: u32 = 0;
/**
 * Perform the SMC held in this CPU's frame (x0..x7) outside the core's lock,
 * write x0..x7 back into the frame, then call the smcReturned export.
 */
export const ACTION_SMC: u32 = 1;
/** Enter (or resume) the guest whose state is in this CPU's frame; call guestExit/interrupt when it leaves. */
export const ACTION_RUN_GUEST: u32 = 2;
/** Wait for a physical interrupt (a kick from another CPU, a timer), then call the interrupt export. */
export const ACTION_WAIT: u32 = 3;
