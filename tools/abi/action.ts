/**
 * What the core asks its host to do next for a CPU: the answer of every export that handles an event. The one
 * description: tools/build/abi-gen.ts writes boot's action.h and the core's hyp/gen/action.ts from it; the
 * Node fakes import it.
 */
export interface Action {
  name: string;
  code: number;
  doc: string;
}

export const ACTIONS: readonly Action[] = [
  { name: "ACTION_PARK", code: 0, doc: "park this CPU for good: nothing will ever run on it" },
  {
    name: "ACTION_SMC", code: 1,
    doc: "perform the SMC held in this CPU's frame (x0..x7) outside the core's lock, write x0..x7 back, then call smcReturned",
  },
  { name: "ACTION_RUN_GUEST", code: 2, doc: "enter (or resume) the guest in this CPU's frame; call guestExit/interrupt when it leaves" },
  { name: "ACTION_WAIT", code: 3, doc: "wait for a physical interrupt (a kick from another CPU, a timer), then call interrupt" },
  {
    name: "ACTION_LOAD_GUEST", code: 4,
    doc: "bits 8-15 = guest: clear its RAM and copy its pristine images in (boot/guests.c) outside the lock, then call guestLoaded",
  },
];

/** The action word: kind in bits 0-7, the guest (ACTION_LOAD_GUEST) in bits 8-15. */
export const ACTION_KIND_MASK = 0xff;
export const ACTION_GUEST_SHIFT = 8;

export const ACTION = Object.fromEntries(ACTIONS.map((a) => [a.name, a.code])) as Readonly<Record<string, number>>;
