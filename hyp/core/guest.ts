/**
 * The partition table: the guests this boot runs, each with its physical
 * CPUs and RAM, read from the boot configuration. Static for the whole boot.
 */
export { MAX_GUESTS, MAX_VCPUS, NO_GUEST } from "../gen/limits";
import { MAX_GUESTS } from "../gen/limits";
export { GUEST_FLAG_RESTART_ON_CRASH, GUEST_FLAG_RESTART_ON_RESET, GUEST_FLAG_TEE } from "../gen/bootconfig";

export const GUEST_OFF: u32 = 0;
export const GUEST_RUNNING: u32 = 1;
/** Between its end and its next start: withdrawn from OP-TEE, images being copied, created again (core/lifecycle.ts). */
export const GUEST_RESTARTING: u32 = 2;

@unmanaged export class Guest {
  /** ASCII, NUL-padded. */
  name0: u64;
  name1: u64;
  ramPa: u64;
  ramSize: u64;
  ramIpa: u64;
  entryIpa: u64;
  dtbIpa: u64;
  vttbr: u64;
  vcpuCount: u32;
  flags: u32;
  state: u32;
  vcpusOn: u32;
  /** Physical CPU of vCPU i, i < vcpuCount. */
  cpus: u64;
  /** Where its DTB holds /chosen/hyp,boot-count (0xffffffff: nowhere). */
  bootCountOffset: u32;
  /** How many times it has started (1 after its first start). */
  boots: u32;
  /** 1 while this start's lifecycle lines are left out: a reboot loop is logged by count, not line by line. */
  quiet: u32;
  /** Core faults while serving it. */
  faults: u32;
}

const table = memory.data(<i32>(MAX_GUESTS * offsetof<Guest>()), 8);
let count: u32 = 0;

export function guestCount(): u32 {
  return count;
}

export function setGuestCount(n: u32): void {
  count = n < MAX_GUESTS ? n : MAX_GUESTS;
}

/** Guest `g`, g < MAX_GUESTS (checked by the caller). */
@inline export function guestAt(g: u32): Guest {
  return changetype<Guest>(table + <usize>(g * offsetof<Guest>()));
}

@inline export function guestNamePtr(g: u32): usize {
  return changetype<usize>(guestAt(g));
}

/** The physical CPU that runs vCPU `v` of guest `g`. */
@inline export function cpuOfVcpu(g: u32, v: u32): u32 {
  return <u32>((guestAt(g).cpus >> (v << 3)) & 0xff);
}

export function setCpuOfVcpu(g: u32, v: u32, cpu: u32): void {
  const guest = guestAt(g);
  const shift = <u64>(v << 3);
  guest.cpus = (guest.cpus & ~(<u64>0xff << shift)) | (<u64>(cpu & 0xff) << shift);
}

/** Does [ipa, ipa + len) lie inside guest g's RAM? (len ≥ 1; no overflow.) */
export function ipaInRam(g: u32, ipa: u64, len: u64): bool {
  const guest = guestAt(g);
  return len != 0 && ipa >= guest.ramIpa && len <= guest.ramSize && ipa - guest.ramIpa <= guest.ramSize - len;
}
