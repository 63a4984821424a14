/**
 * The boot configuration blob: what tools/ derives from configs/ for this
 * run, placed in RAM by the loader and read once at boot through the
 * bootConfigCopy import. Layout (little endian, mirrored in tools/build/bootconfig.ts):
 *
 *   +0   u32 magic     BOOT_CONFIG_MAGIC ("HYPC")
 *   +4   u32 version   BOOT_CONFIG_VERSION
 *   +8   u32 flags     BOOT_FLAG_*
 *   +12  u32 reserved
 *
 * Without a valid blob the hypervisor uses defaults and says so.
 */
import { bootConfigCopy } from "../hw/imports";
import { lineEnd, lineStart, put, putHex, logLine } from "../lib/log";

export const BOOT_CONFIG_MAGIC: u32 = 0x43505948;
export const BOOT_CONFIG_VERSION: u32 = 1;
const BOOT_CONFIG_SIZE: u32 = 16;

/** Test hook: read past the end of linear memory right after boot, to prove the sandbox traps. */
export const BOOT_FLAG_SELFTEST_OOB: u32 = 1 << 0;

const blob = memory.data(<i32>BOOT_CONFIG_SIZE, 8);

export class BootConfig {
  valid: bool = false;
  flags: u32 = 0;
}

export const bootConfig = new BootConfig();

/** Reads and checks the blob; returns whether it was valid. */
export function bootConfigLoad(): bool {
  const copied = bootConfigCopy(blob, BOOT_CONFIG_SIZE);
  const magic = load<u32>(blob);
  const version = load<u32>(blob, 4);
  bootConfig.valid = copied == BOOT_CONFIG_SIZE && magic == BOOT_CONFIG_MAGIC &&
    version == BOOT_CONFIG_VERSION;
  if (!bootConfig.valid) {
    if (copied == 0 || magic != BOOT_CONFIG_MAGIC) {
      logLine("config", "no boot configuration found: using defaults");
    } else {
      lineStart("config");
      put("boot configuration version "); putHex(version); put(" not understood (want ");
      putHex(BOOT_CONFIG_VERSION); put("): using defaults");
      lineEnd();
    }
    bootConfig.flags = 0;
    return false;
  }
  bootConfig.flags = load<u32>(blob, 8);
  return true;
}
