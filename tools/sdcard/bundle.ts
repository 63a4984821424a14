/**
 * The boot bundle (boot/bundle.c): the boot configuration and every guest's images in one file, for firmware
 * that loads whole files only. The Raspberry Pi's VideoCore firmware puts it at the board's bundle address
 * (config.txt `initramfs bundle.bin <addr>`); the hypervisor's boot CPU copies each file to the address QEMU's
 * loader device would have used. A file several guests boot (the kernel, the initramfs) is stored once.
 * Layout (little endian): u32 magic "HYPB", u32 version, u32 count, u32 total bytes, then per file
 * { u64 destination PA, u32 offset, u32 size }, then the files, each 8-byte aligned.
 */
import { readFileSync } from "node:fs";
import type { Load } from "../run/qemu.ts";

export const BUNDLE_MAGIC = 0x42505948; // "HYPB"
export const BUNDLE_VERSION = 1;
const HEADER = 16;
const ENTRY = 16;
/** boot/bundle.c BUNDLE_MAX_ENTRIES. */
export const BUNDLE_MAX_ENTRIES = 16;

const align8 = (n: number) => (n + 7) & ~7;

/** The bundle for `loads` (destination addresses and files); throws if it does not fit in `maxSize` bytes. */
export function buildBundle(loads: Load[], maxSize: number): Buffer {
  if (loads.length > BUNDLE_MAX_ENTRIES) throw new Error(`a bundle holds at most ${BUNDLE_MAX_ENTRIES} files, not ${loads.length}`);
  const stored = new Map<string, { offset: number; data: Buffer }>();
  let end = align8(HEADER + loads.length * ENTRY);
  for (const l of loads) {
    if (stored.has(l.file)) continue;
    const data = readFileSync(l.file);
    stored.set(l.file, { offset: end, data });
    end = align8(end + data.length);
  }
  if (end > maxSize) throw new Error(`the bundle is ${end} bytes, more than the ${maxSize} the board leaves for it`);
  const out = Buffer.alloc(end);
  out.writeUInt32LE(BUNDLE_MAGIC, 0);
  out.writeUInt32LE(BUNDLE_VERSION, 4);
  out.writeUInt32LE(loads.length, 8);
  out.writeUInt32LE(end, 12);
  loads.forEach((l, i) => {
    const s = stored.get(l.file)!;
    out.writeBigUInt64LE(BigInt(l.addr), HEADER + i * ENTRY);
    out.writeUInt32LE(s.offset, HEADER + i * ENTRY + 8);
    out.writeUInt32LE(s.data.length, HEADER + i * ENTRY + 12);
  });
  for (const s of stored.values()) s.data.copy(out, s.offset);
  return out;
}
