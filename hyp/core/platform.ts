/**
 * The machine as C found it at boot (the platformInfoCopy import): the GIC
 * version, which picks the virtual GIC's register front end (vgic/v3 or
 * vgic/v2) and how stage 2 gives a guest its CPU interface; how many list
 * registers the hardware has (ICH_VTR_EL2 or GICH_VTR); the console's
 * interrupt; what the firmware's device tree said about RAM. Its layout is
 * written once in tools/abi/platform.ts (hyp/gen/platform.ts here; C's
 * struct is checked against it).
 *
 * Read once, by the boot CPU, before the partition table (bootconfig.ts).
 * Without a record the defaults are QEMU virt's (GICv3, 4 list registers).
 */
import { platformInfoCopy } from "../hw/imports";
import { lineEnd, lineStart, put, putDec, putHex } from "../lib/log";

import * as P from "../gen/platform";
export { PLATFORM_FLAG_DEVICE_TREE, PLATFORM_FLAG_PSCI, PLATFORM_INFO_VERSION } from "../gen/platform";

const record = memory.data(<i32>P.PLATFORM_INFO_SIZE, 8);

export class Platform {
  gicVersion: u32 = 3;
  /** List registers the vGIC may fill on every CPU. */
  listRegisters: u32 = 4;
  consoleIntid: u32 = 33;
  gicvPa: u64 = 0;
  flags: u32 = 0;
  /** The board's CPUs; 0 when C did not say (then only the CPUs a guest uses are started). */
  cpuCount: u32 = 0;
}

export const platform = new Platform();

/** Reads the record and says in one line what the hypervisor runs on. */
export function platformLoad(): void {
  const copied = platformInfoCopy(record, P.PLATFORM_INFO_SIZE);
  if (copied < P.PLATFORM_INFO_SIZE || load<u32>(record, P.PI_VERSION_AT) != P.PLATFORM_INFO_VERSION) {
    lineStart("platform");
    put("no platform record from C (version "); putHex(load<u32>(record, P.PI_VERSION_AT)); put("): assuming GICv3, 4 list registers");
    lineEnd();
    return;
  }
  const gic = load<u32>(record, P.PI_GIC_VERSION_AT);
  platform.gicVersion = gic == 2 ? 2 : 3;
  platform.listRegisters = load<u32>(record, P.PI_LIST_REGISTERS_AT);
  platform.consoleIntid = load<u32>(record, P.PI_CONSOLE_INTID_AT);
  platform.gicvPa = load<u64>(record, P.PI_GICV_PA_AT);
  platform.flags = load<u32>(record, P.PI_FLAGS_AT);
  platform.cpuCount = load<u32>(record, P.PI_CPU_COUNT_AT);
  report();
}

function report(): void {
  lineStart("platform");
  put("GICv"); putDec(platform.gicVersion); put(", "); putDec(platform.listRegisters); put(" list registers; ");
  if ((platform.flags & P.PLATFORM_FLAG_DEVICE_TREE) == 0) {
    put("no device tree: no RAM to give guests");
  } else {
    put("RAM");
    const count = load<u32>(record, P.PI_RAM_COUNT_AT);
    for (let i: u32 = 0; i < count && i < P.PLATFORM_MAX_RAM; i++) {
      const at = record + P.PI_RAM_AT + <usize>(i * P.PI_RAM_RECORD);
      put(i == 0 ? " " : ", "); putHex(load<u64>(at)); put("+"); putDec(load<u64>(at, 8) >> 20); put(" MiB");
    }
    put(", "); putDec(load<u32>(record, P.PI_RESERVED_COUNT_AT)); put(" reserved regions (device tree); ");
    put((platform.flags & P.PLATFORM_FLAG_PSCI) != 0 ? "PSCI" : "no PSCI: spin table, no SMC");
  }
  lineEnd();
}

/** Is this a GICv2 machine (guests get a GICv2: distributor emulated, GICV mapped at their GICC)? */
@inline export function gicIsV2(): bool {
  return platform.gicVersion == 2;
}
