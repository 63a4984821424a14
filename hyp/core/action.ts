/**
 * What the core asks its host to do next for a CPU: the answer of every
 * export that handles an event. Written once, with what each one asks, in
 * tools/abi/action.ts: hyp/gen/action.ts and boot's action.h are generated from it.
 */
export * from "../gen/action";
import { ACTION_GUEST_SHIFT, ACTION_LOAD_GUEST } from "../gen/action";

/** ACTION_LOAD_GUEST for guest g: the run loop loads it, then calls guestLoaded. */
@inline export function loadGuestAction(g: u32): u32 {
  return ACTION_LOAD_GUEST | ((g & 0xff) << ACTION_GUEST_SHIFT);
}
