/**
 * The machine as C found it at boot (the platformInfoCopy import): the GIC
 * version, which picks the virtual GIC's register front end (vgic/v3 or
 * vgic/v2) and how stage 2 gives a guest its CPU interface; how many list
 * registers the hardware has (ICH_VTR_EL2 or GICH_VTR); the console's
 * interrupt; what the firmware's device tree said about RAM. Layout
 * (little endian; boot/include/platform.h):
 *
 *   +0  u32 version         PLATFORM_INFO_VERSION
 *   +4  u32 gicVersion      2 or 3
 *   +8  u32 listRegisters
 *   +12 u32 consoleIntid
 *   +16 u64 gicvPa          GICv2: the virtual CPU interface; 0 on GICv3
 *   +24 u32 flags           PLATFORM_FLAG_*
 *   +28 u32 ramCount        ≤ 4
 *   +32 {u64 base, u64 size} ram[4]
 *   +96 u32 reservedCount
 *
 * Read once, by the boot CPU, before the partition table (bootconfig.ts).
 * Without a record the defaults are QEMU virt's (GICv3, 4 list registers).
 */
import { platformInfoCopy } from "../hw/imports";
import { lineEnd, lineStart, put, putDec, putHex } from "../lib/log";

export const PLATFORM_INFO_VERSION: u32 = 1;
const PLATFORM_INFO_SIZE: u32 = 104;
const MAX_RAM: u32 = 4;
export const PLATFORM_FLAG_DEVICE_TREE: u32 = 1 << 0;
export const PLATFORM_FLAG_PSCI: u32 = 1 << 1;

const record = memory.data(<i32>PLATFORM_INFO_SIZE, 8);

export class Platform {
  gicVersion: u32 = 3;
  /** List registers the vGIC may fill on every CPU. */
  listRegisters: u32 = 4;
  consoleIntid: u32 = 33;
  gicvPa: u64 = 0;
  flags: u32 = 0;
}

export const platform = new Platform();

/** Reads the record and says in one line what the hypervisor runs on. */
export function platformLoad(): void {
  const copied = platformInfoCopy(record, PLATFORM_INFO_SIZE);
  if (copied < PLATFORM_INFO_SIZE || load<u32>(record) != PLATFORM_INFO_VERSION) {
    lineStart("platform");
    put("no platform record from C (version "); putHex(load<u32>(record)); put("): assuming GICv3, 4 list registers");
    lineEnd();
    return;
  }
  const gic = load<u32>(record, 4);
  platform.gicVersion = gic == 2 ? 2 : 3;
  platform.listRegisters = load<u32>(record, 8);
  platform.consoleIntid = load<u32>(record, 12);
  platform.gicvPa = load<u64>(record, 16);
  platform.flags = load<u32>(record, 24);
  report();
}

function report(): void {
  lineStart("platform");
  put("GICv"); putDec(platform.gicVersion); put(", "); putDec(platform.listRegisters); put(" list registers; ");
  if ((platform.flags & PLATFORM_FLAG_DEVICE_TREE) == 0) {
    put("no device tree: no RAM to give guests");
  } else {
    put("RAM");
    const count = load<u32>(record, 28);
    for (let i: u32 = 0; i < count && i < MAX_RAM; i++) {
      const at = record + 32 + <usize>(i << 4);
      put(i == 0 ? " " : ", "); putHex(load<u64>(at)); put("+"); putDec(load<u64>(at, 8) >> 20); put(" MiB");
    }
    put(", "); putDec(load<u32>(record, 96)); put(" reserved regions (device tree); ");
    put((platform.flags & PLATFORM_FLAG_PSCI) != 0 ? "PSCI" : "no PSCI: spin table, no SMC");
  }
  lineEnd();
}

/** Is this a GICv2 machine (guests get a GICv2: distributor emulated, GICV mapped at their GICC)? */
@inline export function gicIsV2(): bool {
  return platform.gicVersion == 2;
}
