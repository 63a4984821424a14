/**
 * The boot configuration blob: what tools/ derives from a setup in configs/,
 * placed in RAM by the loader and read once at boot through the
 * bootConfigCopy import. Its layout (a header, then one record per guest:
 * name, RAM, entry and DTB IPAs, CPUs, flags, images, the boot-count cell) is
 * written once in tools/abi/bootconfig.ts; hyp/gen/bootconfig.ts is generated
 * from it, and tools/build/bootconfig.ts writes blobs with the same constants.
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

import * as L from "../gen/bootconfig";
export { BOOT_FLAG_FAULT_TEST, BOOT_FLAG_GUARD_TEST, BOOT_FLAG_SELFTEST_OOB } from "../gen/bootconfig";
export { IMAGE_SLOTS } from "../gen/limits";
import { IMAGE_SLOTS } from "../gen/limits";

const RAM_ALIGN: u64 = 2 << 20;

const blob = memory.data(<i32>L.BOOT_CONFIG_SIZE, 8);

export class BootConfig {
  valid: bool = false;
  flags: u32 = 0;
  faultGuest: u32 = 0;
  faultCall: u32 = 0;
  guardForeignRam: u32 = 0;
  guardBadSpsr: u32 = 0;
}

export const bootConfig = new BootConfig();

/** Reads and checks the blob and fills the partition table; returns whether it was valid. */
export function bootConfigLoad(): bool {
  platformLoad(); // the machine first: guests' RAM is checked against what its device tree says
  setGuestCount(0);
  const copied = bootConfigCopy(blob, L.BOOT_CONFIG_SIZE);
  const magic = load<u32>(blob, L.BC_MAGIC_AT);
  const version = load<u32>(blob, L.BC_VERSION_AT);
  bootConfig.valid = copied == L.BOOT_CONFIG_SIZE && magic == L.BOOT_CONFIG_MAGIC &&
    version == L.BOOT_CONFIG_VERSION;
  bootConfig.flags = 0;
  if (!bootConfig.valid) {
    if (copied < L.BOOT_CONFIG_SIZE || magic != L.BOOT_CONFIG_MAGIC) {
      logLine("config", "no boot configuration found: no guests");
    } else {
      lineStart("config");
      put("boot configuration version "); putHex(version); put(" not understood (want ");
      putHex(L.BOOT_CONFIG_VERSION); put("): no guests");
      lineEnd();
    }
    return false;
  }
  bootConfig.flags = load<u32>(blob, L.BC_FLAGS_AT);
  bootConfig.faultGuest = load<u32>(blob, L.BC_FAULT_GUEST_AT);
  bootConfig.faultCall = load<u32>(blob, L.BC_FAULT_CALL_AT);
  bootConfig.guardForeignRam = load<u32>(blob, L.BC_GUARD_FOREIGN_RAM_AT);
  bootConfig.guardBadSpsr = load<u32>(blob, L.BC_GUARD_BAD_SPSR_AT);
  loadGuests(load<u32>(blob, L.BC_GUEST_COUNT_AT));
  return true;
}

function loadGuests(declared: u32): void {
  let taken: u32 = 0; // physical CPUs already given to a guest
  let accepted: u32 = 0;
  const n = declared < MAX_GUESTS ? declared : MAX_GUESTS;
  if (declared > MAX_GUESTS) refuse(MAX_GUESTS, "more guests than the hypervisor supports (4): the rest are ignored");
  for (let i: u32 = 0; i < n; i++) {
    const rec = blob + <usize>(L.BOOT_CONFIG_HEADER + i * L.GUEST_RECORD);
    const why = checkRecord(rec, taken);
    if (why.length > 0) {
      refuse(i, why);
      continue;
    }
    const g = accepted++;
    const guest = guestAt(g);
    memory.copy(changetype<usize>(guest), rec + L.GR_NAME_AT, L.GR_NAME_SIZE);
    guest.ramPa = load<u64>(rec, L.GR_RAM_PA_AT);
    guest.ramSize = load<u64>(rec, L.GR_RAM_SIZE_AT);
    guest.ramIpa = load<u64>(rec, L.GR_RAM_IPA_AT);
    guest.entryIpa = load<u64>(rec, L.GR_ENTRY_IPA_AT);
    guest.dtbIpa = load<u64>(rec, L.GR_DTB_IPA_AT);
    guest.vcpuCount = load<u32>(rec, L.GR_VCPU_COUNT_AT);
    guest.flags = load<u32>(rec, L.GR_FLAGS_AT);
    guest.bootCountOffset = load<u32>(rec, L.GR_BOOT_COUNT_AT);
    guest.boots = 0;
    guest.state = 0;
    guest.vcpusOn = 0;
    guest.vttbr = 0;
    guest.cpus = 0;
    for (let v: u32 = 0; v < guest.vcpuCount; v++) {
      const cpu = <u32>load<u8>(rec + L.GR_CPUS_AT + <usize>v);
      setCpuOfVcpu(g, v, cpu);
      taken |= 1 << cpu;
    }
    const why2 = declareToHost(g, rec);
    if (why2.length > 0) {
      refuse(i, why2);
      accepted--;
      for (let v: u32 = 0; v < guest.vcpuCount; v++) taken &= ~(1 << <u32>load<u8>(rec + L.GR_CPUS_AT + <usize>v));
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
    const image = rec + L.GR_IMAGES_AT + <usize>(i * L.IMAGE_RECORD);
    const size = load<u32>(image, L.IMAGE_SIZE_AT);
    if (size == 0) continue;
    if (guestImageDeclare(g, i, load<u64>(image, L.IMAGE_STORE_PA_AT), size, load<u32>(image, L.IMAGE_RAM_OFFSET_AT)) == 0) {
      return "an image lies outside the image store or does not fit its RAM (C refused it)";
    }
  }
  return "";
}

/** Why a guest record cannot be used, or "". */
function checkRecord(rec: usize, taken: u32): string {
  const vcpus = load<u32>(rec, L.GR_VCPU_COUNT_AT);
  if (vcpus == 0 || vcpus > MAX_VCPUS) return "needs 1 to 8 vCPUs";
  let mine: u32 = 0;
  for (let v: u32 = 0; v < vcpus; v++) {
    const cpu = <u32>load<u8>(rec + L.GR_CPUS_AT + <usize>v);
    if (cpu >= MAX_CPUS) return "names a physical CPU that does not exist";
    if (((taken | mine) & (1 << cpu)) != 0) return "shares a physical CPU with another vCPU";
    mine |= 1 << cpu;
  }
  const ramPa = load<u64>(rec, L.GR_RAM_PA_AT), ramSize = load<u64>(rec, L.GR_RAM_SIZE_AT), ramIpa = load<u64>(rec, L.GR_RAM_IPA_AT);
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
