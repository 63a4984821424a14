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
/**
 * Clear the RAM of the guest in bits 8-15 and copy its pristine images in (boot/guests.c), outside the core's
 * lock, then call the guestLoaded export. Build it with loadGuestAction.
 */
export const ACTION_LOAD_GUEST: u32 = 4;

@inline export function loadGuestAction(g: u32): u32 {
  return ACTION_LOAD_GUEST | ((g & 0xff) << 8);
}
