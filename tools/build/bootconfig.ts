/**
 * Writes the boot configuration blob the hypervisor reads at boot (layout:
 * hyp/core/bootconfig.ts, which must agree with the constants here; the Node
 * fakes read blobs with these same constants): flags, the planted-fault test,
 * then one record per guest of the setup with where its images wait in the
 * image store.
 * Usage:
 *   tsx tools/build/bootconfig.ts <out.bin> [--no-guests] [--selftest-oob]
 */
import { writeFileSync } from "node:fs";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { setup as defaultSetup } from "../../configs/qemu-virt.ts";

export const BOOT_CONFIG_MAGIC = 0x43505948; // "HYPC"
export const BOOT_CONFIG_VERSION = 3;
export const BOOT_FLAG_SELFTEST_OOB = 1 << 0;
export const BOOT_FLAG_FAULT_TEST = 1 << 1;
export const GUEST_FLAG_TEE = 1 << 0;
/** PSCI SYSTEM_RESET (a reboot) starts the guest again from its pristine images; without it the guest stays off. */
export const GUEST_FLAG_RESTART_ON_RESET = 1 << 1;
/** A fault in the core while serving the guest restarts it; without it the guest stays off. */
export const GUEST_FLAG_RESTART_ON_CRASH = 1 << 2;
export const BOOT_CONFIG_HEADER = 32;
export const GUEST_RECORD = 128;
/** Image slots of a guest record, in the order the hypervisor copies them. */
export const IMAGE_SLOTS = ["dtb", "kernel", "initramfs"] as const;
export const IMAGE_RECORD = 16;
export const IMAGES_AT = 72;
export const BOOT_COUNT_AT = 120;
/** No boot-count property in the guest's DTB. */
export const NO_BOOT_COUNT = 0xffff_ffff;
const MAX_GUESTS = 4;
const MAX_VCPUS = 8;

export interface BootOptions {
  /** Make the core read past its linear memory at boot, to prove the sandbox traps. */
  selfTestOutOfBounds?: boolean;
  /** Test only: make the core trap while serving guest `guest`'s `call`-th OP-TEE call (CALL_WITH_ARG, from 1). */
  faultTest?: { guest: number; call: number };
}

/** Where one image waits in the image store. */
export interface StoredImage {
  pa: number;
  size: number;
}

/** A guest's images in the store, and where its DTB holds the boot-count cell the hypervisor fills in. */
export interface GuestImages {
  dtb: StoredImage;
  kernel: StoredImage;
  initramfs: StoredImage;
  /** Offset in the DTB of the big-endian u32 `/chosen/hyp,boot-count`, or undefined. */
  bootCountOffset?: number;
}

const RAM_OFFSET = { dtb: GUEST_LAYOUT.dtbOffset, kernel: GUEST_LAYOUT.kernelOffset, initramfs: GUEST_LAYOUT.initramfsOffset };

function guestFlags(g: GuestConfig): number {
  let flags = g.tee ? GUEST_FLAG_TEE : 0;
  if ((g.onReset ?? "restart") === "restart") flags |= GUEST_FLAG_RESTART_ON_RESET;
  if ((g.onCrash ?? "stop") === "restart") flags |= GUEST_FLAG_RESTART_ON_CRASH;
  return flags;
}

function guestRecord(g: GuestConfig, images?: GuestImages): Buffer {
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
  r.writeUInt32LE(guestFlags(g), 68);
  IMAGE_SLOTS.forEach((slot, i) => {
    const at = IMAGES_AT + i * IMAGE_RECORD;
    const image = images?.[slot];
    r.writeBigUInt64LE(BigInt(image?.pa ?? 0), at);
    r.writeUInt32LE(image?.size ?? 0, at + 8);
    r.writeUInt32LE(RAM_OFFSET[slot], at + 12);
  });
  r.writeUInt32LE(images?.bootCountOffset ?? NO_BOOT_COUNT, BOOT_COUNT_AT);
  return r;
}

/** The blob for `guests` (default: none, the hypervisor alone); `images[i]` are guest i's images in the store. */
export function bootConfigBlob(options: BootOptions = {}, guests: GuestConfig[] = [], images: (GuestImages | undefined)[] = []): Buffer {
  if (guests.length > MAX_GUESTS) throw new Error(`at most ${MAX_GUESTS} guests`);
  const blob = Buffer.alloc(BOOT_CONFIG_HEADER + MAX_GUESTS * GUEST_RECORD);
  blob.writeUInt32LE(BOOT_CONFIG_MAGIC, 0);
  blob.writeUInt32LE(BOOT_CONFIG_VERSION, 4);
  const flags = (options.selfTestOutOfBounds ? BOOT_FLAG_SELFTEST_OOB : 0) | (options.faultTest ? BOOT_FLAG_FAULT_TEST : 0);
  blob.writeUInt32LE(flags, 8);
  blob.writeUInt32LE(guests.length, 12);
  blob.writeUInt32LE(options.faultTest?.guest ?? 0, 16);
  blob.writeUInt32LE(options.faultTest?.call ?? 0, 20);
  guests.forEach((g, i) => guestRecord(g, images[i]).copy(blob, BOOT_CONFIG_HEADER + i * GUEST_RECORD));
  return blob;
}

export function setupBootConfig(setup: Setup, options: BootOptions = {}, images: Record<string, GuestImages> = {}): Buffer {
  return bootConfigBlob(options, setup.guests, setup.guests.map((g) => images[g.name]));
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
