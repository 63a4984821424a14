/**
 * The boot configuration blob: what tools/ derives from a setup in configs/,
 * placed in RAM by the loader and read once at boot through the
 * bootConfigCopy import. Layout (little endian; written by tools/build/bootconfig.ts):
 *
 *   +0   u32 magic        BOOT_CONFIG_MAGIC ("HYPC")
 *   +4   u32 version      BOOT_CONFIG_VERSION
 *   +8   u32 flags        BOOT_FLAG_*
 *   +12  u32 guestCount   ≤ MAX_GUESTS
 *   +16  guest[guestCount], GUEST_RECORD bytes each:
 *        +0  name[16]  ASCII, NUL-padded
 *        +16 u64 ramPa     +24 u64 ramSize   +32 u64 ramIpa
 *        +40 u64 entryIpa  +48 u64 dtbIpa
 *        +56 u8 cpus[8]    physical CPU of vCPU i
 *        +64 u32 vcpuCount +68 u32 flags (GUEST_FLAG_*)
 *
 * tools/ checks a setup thoroughly before writing it; the core still refuses
 * a guest whose record could hurt it (CPUs out of range or shared, RAM not
 * 2 MiB aligned, IPA range past the stage-2 limit, RAM that the firmware's
 * device tree does not describe as free) and says why.
 * Without a valid blob the hypervisor runs no guests and says so.
 */
import { bootConfigCopy, ramUsable } from "../hw/imports";
import { lineEnd, lineStart, logLine, put, putDec, putHex } from "../lib/log";
import { GUEST_IPA_LIMIT } from "../arch/el2";
import { guestAt, MAX_GUESTS, MAX_VCPUS, setCpuOfVcpu, setGuestCount } from "./guest";
import { MAX_CPUS } from "./percpu";
import { platformLoad } from "./platform";

export const BOOT_CONFIG_MAGIC: u32 = 0x43505948;
export const BOOT_CONFIG_VERSION: u32 = 2;
const HEADER: u32 = 16;
const GUEST_RECORD: u32 = 72;
const BOOT_CONFIG_SIZE: u32 = HEADER + MAX_GUESTS * GUEST_RECORD;
const RAM_ALIGN: u64 = 2 << 20;

/** Test hook: read past the end of linear memory right after boot, to prove the sandbox traps. */
export const BOOT_FLAG_SELFTEST_OOB: u32 = 1 << 0;

const blob = memory.data(<i32>BOOT_CONFIG_SIZE, 8);

export class BootConfig {
  valid: bool = false;
  flags: u32 = 0;
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
    guest.state = 0;
    guest.vcpusOn = 0;
    guest.vttbr = 0;
    guest.cpus = 0;
    for (let v: u32 = 0; v < guest.vcpuCount; v++) {
      const cpu = <u32>load<u8>(rec + 56 + <usize>v);
      setCpuOfVcpu(g, v, cpu);
      taken |= 1 << cpu;
    }
  }
  setGuestCount(accepted);
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
  if (ramUsable(ramPa, ramSize) == 0) return "RAM is not free RAM in the firmware's device tree (/memory minus reserved regions and the hypervisor)";
  return "";
}

function refuse(index: u32, why: string): void {
  lineStart("config");
  put("guest record "); putDec(index); put(" refused: "); put(why);
  lineEnd();
}
