/**
 * The seam between the core and a TEE mediator (the OP-TEE one today, hyp/tee/optee/mediator/ops.ts): what
 * the core asks of it, as one small abstract class, and how its handlers answer. Handlers never call back into
 * core/: they return a verdict (TEE_*) that core/tee.ts turns into what the CPU does next. main.ts registers
 * the mediator; until then (and on a board without a TEE) NoTee answers every Trusted-OS call as an OP-TEE
 * would answer an id it does not know. This file imports only the frame layout and the log: nothing in core/
 * depends on a mediator.
 */
import { setGuestReg } from "./percpu";
import { put, putHex } from "../lib/log";

/** The guest's registers hold the answer: the CPU goes on (back into its guest, or waiting). */
export const TEE_RESUME: u32 = 0;
/** An SMC for a guest's call is loaded in the CPU's frame: perform it, then hand its return to callReturned. */
export const TEE_FORWARD: u32 = 1;
/** An SMC reading a guest's notification values is loaded: perform it, then hand its return to notifReturned. */
export const TEE_NOTIF_SMC: u32 = 2;
/** The SMC returned for a guest that has ended (bits 8-15): it may be withdrawn now. Build it with teeGuestGone. */
export const TEE_GUEST_GONE: u32 = 3;

@inline export function teeGuestGone(g: u32): u32 {
  return TEE_GUEST_GONE | ((g & 0xff) << 8);
}

export abstract class Tee {
  /** Loads the first SMC of the boot probe into `cpu`'s frame. */
  abstract probeBegin(cpu: u32): void;
  /** A probe SMC returned on `cpu`: true when the next one is loaded, false when the probe is over. */
  abstract probeContinue(cpu: u32): bool;
  /** Can guests use the TEE (it is there and serves several)? */
  abstract usableForGuests(): bool;
  /** The next guest from g on that the TEE must be told about, or MAX_GUESTS. */
  abstract nextGuestToCreate(g: u32): u32;
  /** Loads "guest g exists" (VM_CREATED) into `cpu`'s frame; its return goes to guestCreatedReturned. */
  abstract loadGuestCreated(cpu: u32, g: u32): void;
  abstract guestCreatedReturned(cpu: u32, g: u32): void;
  /** Loads "guest g is gone" (VM_DESTROYED); false (nothing loaded) when the TEE never knew g. */
  abstract loadGuestDestroyed(cpu: u32, g: u32): bool;
  abstract guestDestroyedReturned(cpu: u32, g: u32): void;
  /** Guest g has ended: let go of what is idle (what an SMC in flight uses goes when it returns). */
  abstract guestForget(g: u32): void;
  /** Guest g's state is not trusted (a fault while serving it) and no SMC of it is in flight: throw it away. */
  abstract guestDiscard(g: u32): void;
  /** How many CPUs have an SMC in the secure world for guest g now. */
  abstract smcsInFlight(g: u32): u32;
  /** `cpu` was in the core, not in the secure world, whatever its records say (after a fault). */
  abstract cpuLeftSecureWorld(cpu: u32): void;
  /** Guest g's Trusted-OS call `fid` (SMCCC owners 50-63) from its vCPU on `cpu`. */
  abstract call(cpu: u32, g: u32, fid: u32): u32;
  /** The SMC a TEE_FORWARD asked for returned on `cpu`. */
  abstract callReturned(cpu: u32): u32;
  /** The SMC a TEE_NOTIF_SMC asked for returned on `cpu`. */
  abstract notifReturned(cpu: u32): u32;
  /** Is physical interrupt `intid` the TEE's own? */
  abstract ownsInterrupt(intid: u32): bool;
  /** The TEE's interrupt, taken on `cpu`. */
  abstract interrupt(cpu: u32, intid: u32): u32;
  /** `cpu` was kicked: work the TEE left for this CPU's guest (reading its notifications) may start here. */
  abstract kicked(cpu: u32): u32;
  /** Names a Trusted-OS function of the profile's key layout (core/account.ts) on the log line being built. */
  abstract putFunctionName(fid: u32, key: u32): void;
}

/** The core's answer without a mediator: the x0 of an SMCCC call nobody implements. */
const UNKNOWN_FUNCTION: u64 = 0xffff_ffff;

/** No TEE: every Trusted-OS call gets UNKNOWN_FUNCTION, no guest is announced, no interrupt is the TEE's. */
export class NoTee extends Tee {
  probeBegin(cpu: u32): void {}
  probeContinue(cpu: u32): bool { return false; }
  usableForGuests(): bool { return false; }
  nextGuestToCreate(g: u32): u32 { return 0xff; }
  loadGuestCreated(cpu: u32, g: u32): void {}
  guestCreatedReturned(cpu: u32, g: u32): void {}
  loadGuestDestroyed(cpu: u32, g: u32): bool { return false; }
  guestDestroyedReturned(cpu: u32, g: u32): void {}
  guestForget(g: u32): void {}
  guestDiscard(g: u32): void {}
  smcsInFlight(g: u32): u32 { return 0; }
  cpuLeftSecureWorld(cpu: u32): void {}
  call(cpu: u32, g: u32, fid: u32): u32 {
    noTeeAnswer(cpu);
    return TEE_RESUME;
  }
  callReturned(cpu: u32): u32 { return TEE_RESUME; }
  notifReturned(cpu: u32): u32 { return TEE_RESUME; }
  ownsInterrupt(intid: u32): bool { return false; }
  interrupt(cpu: u32, intid: u32): u32 { return TEE_RESUME; }
  kicked(cpu: u32): u32 { return TEE_RESUME; }
  putFunctionName(fid: u32, key: u32): void {
    put("tee:");
    putHex(fid);
  }
}

function noTeeAnswer(cpu: u32): void {
  setGuestReg(cpu, 0, UNKNOWN_FUNCTION);
}

let current: Tee = new NoTee();

/** The TEE mediator the core schedules (NoTee until main.ts registers one). */
@inline export function teeOps(): Tee {
  return current;
}

export function teeRegister(tee: Tee): void {
  current = tee;
}
