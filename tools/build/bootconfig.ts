/**
 * Writes the boot configuration blob the hypervisor reads at boot (layout:
 * tools/abi/bootconfig.ts, from which the core's reader is generated; the Node
 * fakes read blobs with the same constants): flags, the planted-fault and
 * guard tests, then one record per guest of the setup with where its images
 * wait in the image store.
 * Usage:
 *   tsx tools/build/bootconfig.ts <out.bin> [--no-guests] [--selftest-oob]
 */
import { writeFileSync } from "node:fs";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { setup as defaultSetup } from "../../configs/qemu-virt.ts";
import * as L from "../abi/bootconfig.ts";
import { IMAGE_SLOT_NAMES, MAX_GUESTS, MAX_VCPUS } from "../abi/limits.ts";


export interface BootOptions {
  /** Make the core read past its linear memory at boot, to prove the sandbox traps. */
  selfTestOutOfBounds?: boolean;
  /** Test only: make the core trap while serving guest `guest`'s `call`-th OP-TEE call (CALL_WITH_ARG, from 1). */
  faultTest?: { guest: number; call: number };
  /**
   * Test only: the core hands C another guest's RAM for a copy at guest `foreignRam`'s first Trusted-OS call, and
   * an EL2h SPSR at guest `badSpsr`'s first (core/guard-test.ts): C must refuse both and stop only those guests.
   */
  guardTest?: { foreignRam: number; badSpsr: number };
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
  let flags = g.tee ? L.GUEST_FLAG_TEE : 0;
  if ((g.onReset ?? "restart") === "restart") flags |= L.GUEST_FLAG_RESTART_ON_RESET;
  if ((g.onCrash ?? "stop") === "restart") flags |= L.GUEST_FLAG_RESTART_ON_CRASH;
  return flags;
}

function guestRecord(g: GuestConfig, images?: GuestImages): Buffer {
  const r = Buffer.alloc(L.GUEST_RECORD);
  if (g.cpus.length > MAX_VCPUS) throw new Error(`guest ${g.name}: at most ${MAX_VCPUS} vCPUs`);
  r.write(g.name.slice(0, L.GR_NAME_SIZE - 1), L.GR_NAME_AT, "ascii");
  r.writeBigUInt64LE(BigInt(g.ram.base), L.GR_RAM_PA_AT);
  r.writeBigUInt64LE(BigInt(g.ram.size), L.GR_RAM_SIZE_AT);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa), L.GR_RAM_IPA_AT);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa + GUEST_LAYOUT.kernelOffset), L.GR_ENTRY_IPA_AT);
  r.writeBigUInt64LE(BigInt(GUEST_LAYOUT.ramIpa + GUEST_LAYOUT.dtbOffset), L.GR_DTB_IPA_AT);
  g.cpus.forEach((cpu, v) => r.writeUInt8(cpu, L.GR_CPUS_AT + v));
  r.writeUInt32LE(g.cpus.length, L.GR_VCPU_COUNT_AT);
  r.writeUInt32LE(guestFlags(g), L.GR_FLAGS_AT);
  IMAGE_SLOT_NAMES.forEach((slot, i) => {
    const at = L.GR_IMAGES_AT + i * L.IMAGE_RECORD;
    const image = images?.[slot];
    r.writeBigUInt64LE(BigInt(image?.pa ?? 0), at + L.IMAGE_STORE_PA_AT);
    r.writeUInt32LE(image?.size ?? 0, at + L.IMAGE_SIZE_AT);
    r.writeUInt32LE(RAM_OFFSET[slot], at + L.IMAGE_RAM_OFFSET_AT);
  });
  r.writeUInt32LE(images?.bootCountOffset ?? L.NO_BOOT_COUNT, L.GR_BOOT_COUNT_AT);
  return r;
}

/** The blob for `guests` (default: none, the hypervisor alone); `images[i]` are guest i's images in the store. */
export function bootConfigBlob(options: BootOptions = {}, guests: GuestConfig[] = [], images: (GuestImages | undefined)[] = []): Buffer {
  if (guests.length > MAX_GUESTS) throw new Error(`at most ${MAX_GUESTS} guests`);
  const blob = Buffer.alloc(L.BOOT_CONFIG_SIZE);
  blob.writeUInt32LE(L.BOOT_CONFIG_MAGIC, L.BC_MAGIC_AT);
  blob.writeUInt32LE(L.BOOT_CONFIG_VERSION, L.BC_VERSION_AT);
  const flags = (options.selfTestOutOfBounds ? L.BOOT_FLAG_SELFTEST_OOB : 0) | (options.faultTest ? L.BOOT_FLAG_FAULT_TEST : 0) |
    (options.guardTest ? L.BOOT_FLAG_GUARD_TEST : 0);
  blob.writeUInt32LE(flags, L.BC_FLAGS_AT);
  blob.writeUInt32LE(guests.length, L.BC_GUEST_COUNT_AT);
  blob.writeUInt32LE(options.faultTest?.guest ?? 0, L.BC_FAULT_GUEST_AT);
  blob.writeUInt32LE(options.faultTest?.call ?? 0, L.BC_FAULT_CALL_AT);
  blob.writeUInt32LE(options.guardTest?.foreignRam ?? 0, L.BC_GUARD_FOREIGN_RAM_AT);
  blob.writeUInt32LE(options.guardTest?.badSpsr ?? 0, L.BC_GUARD_BAD_SPSR_AT);
  guests.forEach((g, i) => guestRecord(g, images[i]).copy(blob, L.BOOT_CONFIG_HEADER + i * L.GUEST_RECORD));
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
