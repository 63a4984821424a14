/**
 * The boot configuration blob: what tools/ derives from a setup in configs/,
 * placed in RAM by the loader and read once at boot through the
 * bootConfigCopy import. Layout (little endian; written by tools/build/bootconfig.ts):
 *
 *   +0   u32 magic        BOOT_CONFIG_MAGIC ("HYPC")
 *   +4   u32 version      BOOT_CONFIG_VERSION
 *   +8   u32 flags        BOOT_FLAG_*
 *   +12  u32 guestCount   ≤ MAX_GUESTS
 *   +16  u32 faultGuest   +20 u32 faultCall   (BOOT_FLAG_FAULT_TEST only)
 *   +32  guest[guestCount], GUEST_RECORD bytes each:
 *        +0  name[16]  ASCII, NUL-padded
 *        +16 u64 ramPa     +24 u64 ramSize   +32 u64 ramIpa
 *        +40 u64 entryIpa  +48 u64 dtbIpa
 *        +56 u8 cpus[8]    physical CPU of vCPU i
 *        +64 u32 vcpuCount +68 u32 flags (GUEST_FLAG_*)
 *        +72 image[3] (DTB, kernel, initramfs), 16 bytes each:
 *            u64 storePa (in the image store), u32 size (0: none), u32 ramOffset (where in the guest's RAM)
 *        +120 u32 bootCountOffset  the DTB's /chosen/hyp,boot-count cell (0xffffffff: none)
 *
 * tools/ checks a setup thoroughly before writing it; the core still refuses
 * a guest whose record could hurt it (CPUs out of range or shared, RAM not
 * 2 MiB aligned, IPA range past the stage-2 limit, RAM that the firmware's
 * device tree does not describe as free) and says why.
 * Without a valid blob the hypervisor runs no guests and says so.
 */
import { bootConfigCopy, guestDeclare, guestImageDeclare } from "../hw/imports";
import { lineEnd, lineStart, logLine, put, putDec, putHex } from "../lib/log";
import { GUEST_IPA_LIMIT } from "../arch/el2";
import { cpuOfVcpu, guestAt, MAX_GUESTS, MAX_VCPUS, setCpuOfVcpu, setGuestCount } from "./guest";
import { MAX_CPUS } from "./percpu";
import { platformLoad } from "./platform";

export const BOOT_CONFIG_MAGIC: u32 = 0x43505948;
export const BOOT_CONFIG_VERSION: u32 = 3;
const HEADER: u32 = 32;
const GUEST_RECORD: u32 = 128;
const IMAGES_AT: usize = 72;
const IMAGE_RECORD: usize = 16;
export const IMAGE_SLOTS: u32 = 3;
const BOOT_COUNT_AT: usize = 120;
const BOOT_CONFIG_SIZE: u32 = HEADER + MAX_GUESTS * GUEST_RECORD;
const RAM_ALIGN: u64 = 2 << 20;

/** Test hook: read past the end of linear memory right after boot, to prove the sandbox traps. */
export const BOOT_FLAG_SELFTEST_OOB: u32 = 1 << 0;
/** Test only: the core traps while serving guest faultGuest's faultCall-th OP-TEE call (core/fault-test.ts). */
export const BOOT_FLAG_FAULT_TEST: u32 = 1 << 1;

const blob = memory.data(<i32>BOOT_CONFIG_SIZE, 8);

export class BootConfig {
  valid: bool = false;
  flags: u32 = 0;
  faultGuest: u32 = 0;
  faultCall: u32 = 0;
}

export const bootConfig = new BootConfig();

/** Reads and checks the blob and fills the partition table; returns whether it was valid. */
export function bootConfigLoad(): bool {
  platformLoad(); // the machine first: guests' RAM is checked against what its device tree says
  setGuestCount(0);
  const copied = bootConfigCopy(blob, BOOT_CONFIG_SIZE);
  const magic = load<u32>(blob);
  const version = load<u32>(blob, 4);
  bootConfig.valid = copied == BOOT_CONFIG_SIZE && magic == BOOT_CONFIG_MAGIC &&
    version == BOOT_CONFIG_VERSION;
  bootConfig.flags = 0;
  if (!bootConfig.valid) {
    if (copied < BOOT_CONFIG_SIZE || magic != BOOT_CONFIG_MAGIC) {
      logLine("config", "no boot configuration found: no guests");
    } else {
      lineStart("config");
      put("boot configuration version "); putHex(version); put(" not understood (want ");
      putHex(BOOT_CONFIG_VERSION); put("): no guests");
      lineEnd();
    }
    return false;
  }
  bootConfig.flags = load<u32>(blob, 8);
  bootConfig.faultGuest = load<u32>(blob, 16);
  bootConfig.faultCall = load<u32>(blob, 20);
  loadGuests(load<u32>(blob, 12));
  return true;
}

function loadGuests(declared: u32): void {
  let taken: u32 = 0; // physical CPUs already given to a guest
  let accepted: u32 = 0;
  const n = declared < MAX_GUESTS ? declared : MAX_GUESTS;
  if (declared > MAX_GUESTS) refuse(MAX_GUESTS, "more guests than the hypervisor supports (4): the rest are ignored");
  for (let i: u32 = 0; i < n; i++) {
    const rec = blob + <usize>(HEADER + i * GUEST_RECORD);
    const why = checkRecord(rec, taken);
    if (why.length > 0) {
      refuse(i, why);
      continue;
    }
    const g = accepted++;
    const guest = guestAt(g);
    memory.copy(changetype<usize>(guest), rec, 16); // name
    guest.ramPa = load<u64>(rec, 16);
    guest.ramSize = load<u64>(rec, 24);
    guest.ramIpa = load<u64>(rec, 32);
    guest.entryIpa = load<u64>(rec, 40);
    guest.dtbIpa = load<u64>(rec, 48);
    guest.vcpuCount = load<u32>(rec, 64);
    guest.flags = load<u32>(rec, 68);
    guest.bootCountOffset = load<u32>(rec, BOOT_COUNT_AT);
    guest.boots = 0;
    guest.state = 0;
    guest.vcpusOn = 0;
    guest.vttbr = 0;
    guest.cpus = 0;
    for (let v: u32 = 0; v < guest.vcpuCount; v++) {
      const cpu = <u32>load<u8>(rec + 56 + <usize>v);
      setCpuOfVcpu(g, v, cpu);
      taken |= 1 << cpu;
    }
    const why2 = declareToHost(g, rec);
    if (why2.length > 0) {
      refuse(i, why2);
      accepted--;
      for (let v: u32 = 0; v < guest.vcpuCount; v++) taken &= ~(1 << <u32>load<u8>(rec + 56 + <usize>v));
    }
  }
  setGuestCount(accepted);
}

/**
 * Tells C the guest's RAM and where its images wait in the store: C keeps its own table (boot/guests.c),
 * checks it against the board and the hypervisor's regions, and is the only one that copies the images.
 */
function declareToHost(g: u32, rec: usize): string {
  const guest = guestAt(g);
  let cpus: u32 = 0;
  for (let v: u32 = 0; v < guest.vcpuCount; v++) cpus |= 1 << cpuOfVcpu(g, v);
  if (guestDeclare(g, guest.ramPa, guest.ramSize, cpus) == 0) {
    return "its RAM is not free RAM in the firmware's device tree (/memory minus reserved regions), or is the hypervisor's or another guest's (C refused it)";
  }
  for (let i: u32 = 0; i < IMAGE_SLOTS; i++) {
    const image = rec + IMAGES_AT + <usize>i * IMAGE_RECORD;
    const size = load<u32>(image, 8);
    if (size == 0) continue;
    if (guestImageDeclare(g, i, load<u64>(image), size, load<u32>(image, 12)) == 0) {
      return "an image lies outside the image store or does not fit its RAM (C refused it)";
    }
  }
  return "";
}

/** Why a guest record cannot be used, or "". */
function checkRecord(rec: usize, taken: u32): string {
  const vcpus = load<u32>(rec, 64);
  if (vcpus == 0 || vcpus > MAX_VCPUS) return "needs 1 to 8 vCPUs";
  let mine: u32 = 0;
  for (let v: u32 = 0; v < vcpus; v++) {
    const cpu = <u32>load<u8>(rec + 56 + <usize>v);
    if (cpu >= MAX_CPUS) return "names a physical CPU that does not exist";
    if (((taken | mine) & (1 << cpu)) != 0) return "shares a physical CPU with another vCPU";
    mine |= 1 << cpu;
  }
  const ramPa = load<u64>(rec, 16), ramSize = load<u64>(rec, 24), ramIpa = load<u64>(rec, 32);
  if (ramSize == 0 || ((ramPa | ramSize | ramIpa) & (RAM_ALIGN - 1)) != 0) return "RAM is empty or not 2 MiB aligned";
  if (ramIpa >= GUEST_IPA_LIMIT || ramSize > GUEST_IPA_LIMIT - ramIpa) return "RAM does not fit the 4 GiB guest address space";
  if (ramPa + ramSize < ramPa) return "RAM wraps around the address space";
  return "";
}

function refuse(index: u32, why: string): void {
  lineStart("config");
  put("guest record "); putDec(index); put(" refused: "); put(why);
  lineEnd();
}
