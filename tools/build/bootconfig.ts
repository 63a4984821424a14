/**
 * Writes the boot configuration blob the hypervisor reads at boot (layout:
 * hyp/core/bootconfig.ts): flags, then one record per guest of the setup.
 * Usage:
 *   tsx tools/build/bootconfig.ts <out.bin> [--no-guests] [--selftest-oob]
 */
import { writeFileSync } from "node:fs";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { setup as defaultSetup } from "../../configs/qemu-virt.ts";

export const BOOT_CONFIG_MAGIC = 0x43505948; // "HYPC"
export const BOOT_CONFIG_VERSION = 2;
export const BOOT_FLAG_SELFTEST_OOB = 1 << 0;
export const GUEST_FLAG_TEE = 1 << 0;
const HEADER = 16;
const GUEST_RECORD = 72;
const MAX_GUESTS = 4;
const MAX_VCPUS = 8;

export interface BootOptions {
  /** Make the core read past its linear memory at boot, to prove the sandbox traps. */
  selfTestOutOfBounds?: boolean;
}

function guestRecord(g: GuestConfig): Buffer {
  const r = Buffer.alloc(GUEST_RECORD);
  if (g.cpus.length > MAX_VCPUS) throw new Error(`guest ${g.name}: at most ${MAX_VCPUS} vCPUs`);
  r.write(g.name.slice(0, 15), 0, "ascii");
  r.writeBigUInt64LE(BigInt(g.ram.base), 16);
  r.writeBigUInt64LE(BigInt(g.ram.size), 24);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa), 32);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa + GUEST_LAYOUT.kernelOffset), 40);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa + GUEST_LAYOUT.dtbOffset), 48);
  g.cpus.forEach((cpu, v) => r.writeUInt8(cpu, 56 + v));
  r.writeUInt32LE(g.cpus.length, 64);
  r.writeUInt32LE(g.tee ? GUEST_FLAG_TEE : 0, 68);
  return r;
}

/** The blob for `guests` (default: none, the hypervisor alone). */
export function bootConfigBlob(options: BootOptions = {}, guests: GuestConfig[] = []): Buffer {
  if (guests.length > MAX_GUESTS) throw new Error(`at most ${MAX_GUESTS} guests`);
  const blob = Buffer.alloc(HEADER + MAX_GUESTS * GUEST_RECORD);
  blob.writeUInt32LE(BOOT_CONFIG_MAGIC, 0);
  blob.writeUInt32LE(BOOT_CONFIG_VERSION, 4);
  blob.writeUInt32LE(options.selfTestOutOfBounds ? BOOT_FLAG_SELFTEST_OOB : 0, 8);
  blob.writeUInt32LE(guests.length, 12);
  guests.forEach((g, i) => guestRecord(g).copy(blob, HEADER + i * GUEST_RECORD));
  return blob;
}

export function setupBootConfig(setup: Setup, options: BootOptions = {}): Buffer {
  return bootConfigBlob(options, setup.guests);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [out, ...flags] = process.argv.slice(2);
  if (!out) {
    console.error("usage: bootconfig.ts <out.bin> [--no-guests] [--selftest-oob]");
    process.exit(2);
  }
  const guests = flags.includes("--no-guests") ? [] : defaultSetup.guests;
  writeFileSync(out, bootConfigBlob({ selfTestOutOfBounds: flags.includes("--selftest-oob") }, guests));
}
