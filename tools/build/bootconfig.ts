/**
 * Writes the boot configuration blob the hypervisor reads at boot (layout:
 * hyp/core/bootconfig.ts). Usage:
 *   tsx tools/build/bootconfig.ts <out.bin> [--selftest-oob]
 */
import { writeFileSync } from "node:fs";

export const BOOT_CONFIG_MAGIC = 0x43505948; // "HYPC"
export const BOOT_CONFIG_VERSION = 1;
export const BOOT_FLAG_SELFTEST_OOB = 1 << 0;

export interface BootOptions {
  /** Make the core read past its linear memory at boot, to prove the sandbox traps. */
  selfTestOutOfBounds?: boolean;
}

export function bootConfigBlob(options: BootOptions = {}): Buffer {
  const blob = Buffer.alloc(16);
  blob.writeUInt32LE(BOOT_CONFIG_MAGIC, 0);
  blob.writeUInt32LE(BOOT_CONFIG_VERSION, 4);
  blob.writeUInt32LE(options.selfTestOutOfBounds ? BOOT_FLAG_SELFTEST_OOB : 0, 8);
  return blob;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, ...flags] = process.argv.slice(2);
  if (!out) {
    console.error("usage: bootconfig.ts <out.bin> [--selftest-oob]");
    process.exit(2);
  }
  writeFileSync(out, bootConfigBlob({ selfTestOutOfBounds: flags.includes("--selftest-oob") }));
}
