/**
 * What the core asks its host to do next for a CPU: the answer of every
 * export that handles an event. Mirrored in boot/include/action.h; the two
 * must agree number for number.
 */

/** Park this CPU: nothing to do until an interrupt (or forever). */
export const ACTION_PARK: u32 = 0;
/**
 * Perform the SMC held in this CPU's frame (x0..x7) outside the core's lock,
 * write x0..x7 back into the frame, then call the smcReturned export.
 */
export const ACTION_SMC: u32 = 1;
