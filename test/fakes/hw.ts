/**
 * The "hw" imports of the core (hyp/hw/imports.ts), implemented for Node.
 * Like boot/glue.c, every pointer is checked against linear memory; unlike
 * it, a violation throws, so a test sees it at once.
 *
 * Physical memory: linear memory is at `linearMemoryPa`; each guest's RAM
 * window (from the boot configuration's guest records) is backed lazily by
 * 4 KiB pages, so a 512 MiB window costs nothing until written. The
 * guestRamRead/guestRamWrite imports copy only ranges wholly inside one
 * guest's RAM, as boot/glue.c does; anything else (the hypervisor's region
 * 0x60000000-0x617fffff, secure memory, a range straddling two guests) is
 * refused with 0 and recorded in `ramRefusals`.
 */

export class CorePanic extends Error {}

/** Every guest sees its RAM at this IPA (configs/guest-layout.ts). */
export const GUEST_RAM_IPA = 0x4000_0000n;
export const PAGE = 4096;
const PAGE_N = 4096n;
import {
  BOOT_CONFIG_HEADER as BC_HEADER, BOOT_CONFIG_MAGIC as BC_MAGIC, GUEST_FLAG_TEE, GUEST_RECORD as BC_RECORD,
} from "../../tools/build/bootconfig.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";

export interface RamRegion {
  /** The guest's index in the boot configuration. */
  index: number;
  name: string;
  pa: bigint;
  size: bigint;
  ipa: bigint;
  tee: boolean;
}

/** What a physical address is, as the secure world would tell it. */
export type PaKind =
  | { kind: "linear"; offset: number }
  | { kind: "guest"; region: RamRegion }
  | { kind: "other" };

/** The guest RAM windows a boot configuration blob declares (none for anything invalid). */
export function ramRegionsOf(blob: Uint8Array | undefined): RamRegion[] {
  if (!blob || blob.length < BC_HEADER) return [];
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (v.getUint32(0, true) !== BC_MAGIC) return [];
  const count = Math.min(v.getUint32(12, true), Math.floor((blob.length - BC_HEADER) / BC_RECORD));
  const regions: RamRegion[] = [];
  for (let i = 0; i < count; i++) {
    const r = BC_HEADER + i * BC_RECORD;
    const name = Buffer.from(blob.subarray(r, r + 16)).toString("latin1").replace(/\0.*$/s, "");
    regions.push({
      index: i, name,
      pa: v.getBigUint64(r + 16, true), size: v.getBigUint64(r + 24, true), ipa: v.getBigUint64(r + 32, true),
      tee: (v.getUint32(r + 68, true) & GUEST_FLAG_TEE) !== 0,
    });
  }
  return regions;
}

/** What boot/platform.c reports (boot/include/platform.h): QEMU virt's by default, a test may change it. */
export interface FakePlatform {
  gicVersion: 2 | 3;
  listRegisters: number;
  consoleIntid: number;
  gicvPa: bigint;
  /** A device tree was found; it has a /psci node. */
  deviceTree: boolean;
  psci: boolean;
  /** The device tree's /memory ranges (below 4 GiB) and its reserved regions. */
  ram: { base: bigint; size: bigint }[];
  reserved: { base: bigint; size: bigint }[];
  /** The hypervisor's own memory (image to the end of linear memory) and its image store: never a guest's. */
  hypervisor: { base: bigint; size: bigint };
  imageStore: { base: bigint; size: bigint };
}

const PLATFORM_INFO_SIZE = 104;
const PLATFORM_FLAG_DEVICE_TREE = 1, PLATFORM_FLAG_PSCI = 2;

export function qemuVirtPlatform(): FakePlatform {
  return {
    gicVersion: 3, listRegisters: 4, consoleIntid: 33, gicvPa: 0n, deviceTree: true, psci: true,
    ram: [{ base: 0x4000_0000n, size: 0xc000_0000n }],
    // QEMU's device tree itself (the C reserves the blob it read) and OP-TEE's reserved-memory nodes.
    reserved: [{ base: 0x4000_0000n, size: 0x10_0000n }, { base: 0x0e10_0000n, size: 0xf0_0000n }, { base: 0x4200_0000n, size: 0x20_0000n }],
    hypervisor: { base: 0x6000_0000n, size: 0x180_0000n },
    imageStore: { base: BigInt(qemuVirt.hypervisor.imageStore.base), size: BigInt(qemuVirt.hypervisor.imageStore.size) },
  };
}

const overlaps = (a: bigint, alen: bigint, b: bigint, blen: bigint) => a < b + blen && b < a + alen;

export class FakeHardware {
  /** The machine boot/platform.c would describe (platformInfoCopy), and what boot/guests.c checks RAM against. */
  platform: FakePlatform = qemuVirtPlatform();
  /** Everything the core printed, line by line, without the newline. */
  readonly console: string[] = [];
  /** The boot configuration blob the loader "placed in RAM" (undefined: nothing there). */
  bootConfig: Uint8Array | undefined;
  memory: WebAssembly.Memory | undefined;
  /** Where linear memory "is" in physical memory (the board's HYP_WASM_MEM_PA on QEMU virt). */
  linearMemoryPa = 0x6080_0000n;
  /** Physical CPUs kicked, in order. */
  readonly kicks: number[] = [];
  /** Exceptions injected: the CPU, ESR_EL1 and FAR_EL1. */
  readonly injected: { cpu: number; esr: bigint; far: bigint }[] = [];
  /** Physical interrupts the core deactivated. */
  readonly deactivated: number[] = [];
  /** Bytes "typed" on the console, read by the core through consoleRead. */
  readonly typed: number[] = [];
  /** Whether the console UART's receive interrupt is unmasked. */
  consoleInputOn = true;
  /** Linear-memory ranges cleaned to the point of coherency (cacheClean), in order. */
  readonly cleaned: { ptr: number; len: number }[] = [];
  /** VMIDs whose stage-2 TLB entries were invalidated. */
  readonly invalidated: number[] = [];
  /** guestRamRead/guestRamWrite calls the fake refused (0 returned): not wholly inside one guest's RAM. */
  readonly ramRefusals: { op: "read" | "write"; pa: bigint; len: number }[] = [];
  /** What the timeNs import answers (the generic timer, in nanoseconds): a test moves it. */
  nowNs = 0n;
  /** Guest RAM windows added by a test, besides those of the boot configuration. */
  readonly extraRegions: RamRegion[] = [];
  /** C's guest table (boot/guests.c), as the core declared it; sealed at the first load. */
  readonly declared = new Map<number, { pa: bigint; size: bigint; images: { storePa: bigint; size: number; ramOffset: number }[] }>();
  private sealed = false;
  /** Which guest each physical CPU runs, as declared (boot/guests.c's guest_of_cpu). */
  readonly guestOfCpu = new Map<number, number>();
  /** The CPU in the core now (the Machine sets it before each export call, as this_cpu() is in C). */
  currentCpu = 0;
  /** Guests loaded by ACTION_LOAD_GUEST, in order. */
  readonly loads: number[] = [];
  /** Sparse backing of guest RAM: page number (pa / 4096) → its bytes. */
  private readonly pages = new Map<bigint, Uint8Array>();
  private regionsCache: { blob: Uint8Array | undefined; regions: RamRegion[] } | undefined;

  /** As boot/guests.c: free RAM of the device tree (devtree_ram_usable), not the hypervisor's, no other guest's. */
  private guestDeclare(g: number, pa: bigint, size: bigint, cpus: number): number {
    const p = this.platform;
    const inRam = p.deviceTree && size > 0n && p.ram.some((r) => pa >= r.base && pa + size <= r.base + r.size);
    if (this.sealed || g >= 4 || !inRam || p.reserved.some((r) => overlaps(pa, size, r.base, r.size))) return 0;
    if (overlaps(pa, size, p.hypervisor.base, p.hypervisor.size)) return 0;
    if (overlaps(pa, size, p.imageStore.base, p.imageStore.size)) return 0;
    for (const [other, d] of this.declared) if (other < g && overlaps(pa, size, d.pa, d.size)) return 0;
    if (cpus === 0 || cpus >>> 8 !== 0) return 0;
    for (let cpu = 0; cpu < 8; cpu++) {
      const owner = this.guestOfCpu.get(cpu);
      if ((cpus >>> cpu) & 1 && owner !== undefined && owner < g) return 0;
    }
    for (const [cpu, owner] of [...this.guestOfCpu]) if (owner === g) this.guestOfCpu.delete(cpu);
    for (let cpu = 0; cpu < 8; cpu++) if ((cpus >>> cpu) & 1) this.guestOfCpu.set(cpu, g);
    this.declared.set(g, { pa, size, images: [] });
    return 1;
  }

  private guestImageDeclare(g: number, slot: number, storePa: bigint, size: number, ramOffset: number): number {
    const d = this.declared.get(g), store = this.platform.imageStore;
    if (this.sealed || !d || slot >= 3 || size === 0) return 0;
    if (storePa < store.base || storePa + BigInt(size) > store.base + store.size) return 0;
    if (BigInt(ramOffset) + BigInt(size) > d.size) return 0;
    d.images[slot] = { storePa, size, ramOffset };
    return 1;
  }

  /** ACTION_LOAD_GUEST: guest g's RAM is cleared (the fake has no image bytes to copy). False for an unknown guest. */
  loadGuest(g: number): boolean {
    this.sealed = true;
    const d = this.declared.get(g);
    if (!d) return false;
    for (const page of [...this.pages.keys()]) if (page * PAGE_N >= d.pa && page * PAGE_N < d.pa + d.size) this.pages.delete(page);
    this.loads.push(g);
    return true;
  }

  imports(): WebAssembly.Imports {
    return {
      hw: {
        consoleWrite: (ptr: number, len: number) => this.consoleWrite(ptr, len),
        bootConfigCopy: (dst: number, max: number) => this.bootConfigCopy(dst, max),
        linearMemoryPa: () => this.linearMemoryPa,
        cpuEntryPa: () => 0x6000_0000n,
        kickCpu: (cpu: number) => void this.kicks.push(cpu),
        injectException: (cpu: number, esr: bigint, far: bigint) => void this.injected.push({ cpu, esr, far }),
        gicDeactivate: (intid: number) => void this.deactivated.push(intid),
        timeNs: () => this.nowNs,
        stage2Invalidate: (vmid: number) => void this.invalidated.push(vmid),
        cacheClean: (ptr: number, len: number) => void this.cleaned.push({ ptr, len: this.bytes(ptr, len).length }),
        consoleRead: () => this.typed.shift() ?? -1,
        consoleInputEnable: (on: number) => void (this.consoleInputOn = on !== 0),
        platformInfoCopy: (dst: number, max: number) => this.platformInfoCopy(dst, max),
        guestRamRead: (pa: bigint, dst: number, len: number) => this.guestRamCopy("read", pa, dst, len),
        guestRamWrite: (pa: bigint, src: number, len: number) => this.guestRamCopy("write", pa, src, len),
        guestDeclare: (g: number, pa: bigint, size: bigint, cpus: number) => this.guestDeclare(g, pa, size, cpus),
        guestImageDeclare: (g: number, slot: number, storePa: bigint, size: number, ramOffset: number) =>
          this.guestImageDeclare(g, slot, storePa, size, ramOffset),
        panic: (msg: number, file: number, line: number, col: number) => {
          throw new CorePanic(`core aborted: ${this.string(msg)} at ${this.string(file)}:${line}:${col}`);
        },
      },
    };
  }

  bytes(ptr: number, len: number): Uint8Array {
    const mem = new Uint8Array(this.memory!.buffer);
    if (ptr < 0 || len < 0 || ptr + len > mem.length) throw new RangeError(`core pointer ${ptr}+${len} outside linear memory`);
    return mem.subarray(ptr, ptr + len);
  }

  /** Every guest RAM window: the boot configuration's, then any a test added. */
  get ramRegions(): RamRegion[] {
    if (this.regionsCache?.blob !== this.bootConfig) {
      this.regionsCache = { blob: this.bootConfig, regions: ramRegionsOf(this.bootConfig) };
    }
    return this.regionsCache.regions.concat(this.extraRegions);
  }

  /** The guest RAM window holding all of [pa, pa + len), if one does. */
  regionOf(pa: bigint, len: number | bigint): RamRegion | undefined {
    const end = pa + BigInt(len);
    return this.ramRegions.find((r) => pa >= r.pa && end <= r.pa + r.size && end >= pa);
  }

  /** What the secure world finds at [pa, pa + len): linear memory, one guest's RAM, or something else. */
  classify(pa: bigint, len: number | bigint): PaKind {
    const base = this.linearMemoryPa, size = BigInt(this.memory?.buffer.byteLength ?? 0);
    const end = pa + BigInt(len);
    if (pa >= base && end <= base + size) return { kind: "linear", offset: Number(pa - base) };
    const region = this.regionOf(pa, len);
    return region ? { kind: "guest", region } : { kind: "other" };
  }

  /** The PA behind a guest's IPA (guest `index` in the boot configuration); undefined outside its RAM. */
  ipaToPa(index: number, ipa: bigint): bigint | undefined {
    const r = this.ramRegions.find((g) => g.index === index);
    if (!r || ipa < r.ipa || ipa >= r.ipa + r.size) return undefined;
    return r.pa + (ipa - r.ipa);
  }

  /** Reads guest RAM by physical address (a test's view: no refusal is recorded; throws outside guest RAM). */
  ramRead(pa: bigint, len: number): Uint8Array {
    if (!this.regionOf(pa, len)) throw new RangeError(`0x${pa.toString(16)}+${len} is not guest RAM`);
    const out = new Uint8Array(len);
    for (let done = 0; done < len;) {
      const at = pa + BigInt(done);
      const off = Number(at % PAGE_N);
      const n = Math.min(len - done, PAGE - off);
      const page = this.pages.get(at / PAGE_N);
      if (page) out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Writes guest RAM by physical address (throws outside guest RAM). */
  ramWrite(pa: bigint, data: Uint8Array): void {
    if (!this.regionOf(pa, data.length)) throw new RangeError(`0x${pa.toString(16)}+${data.length} is not guest RAM`);
    for (let done = 0; done < data.length;) {
      const at = pa + BigInt(done);
      const off = Number(at % PAGE_N);
      const n = Math.min(data.length - done, PAGE - off);
      let page = this.pages.get(at / PAGE_N);
      if (!page) this.pages.set(at / PAGE_N, (page = new Uint8Array(PAGE)));
      page.set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Reads a guest's RAM by IPA (guest `index` in the boot configuration). */
  guestRead(index: number, ipa: bigint, len: number): Uint8Array {
    return this.ramRead(this.mustPa(index, ipa), len);
  }

  /** Writes a guest's RAM by IPA. */
  guestWrite(index: number, ipa: bigint, data: Uint8Array): void {
    this.ramWrite(this.mustPa(index, ipa), data);
  }

  /** Reads any physical memory the fake has: linear memory or guest RAM; undefined for anything else. */
  physRead(pa: bigint, len: number): Uint8Array | undefined {
    const k = this.classify(pa, len);
    if (k.kind === "linear") return this.bytes(k.offset, len).slice();
    if (k.kind === "guest") return this.ramRead(pa, len);
    return undefined;
  }

  /** Writes any physical memory the fake has; false for anything else. */
  physWrite(pa: bigint, data: Uint8Array): boolean {
    const k = this.classify(pa, data.length);
    if (k.kind === "linear") this.bytes(k.offset, data.length).set(data);
    else if (k.kind === "guest") this.ramWrite(pa, data);
    else return false;
    return true;
  }

  private mustPa(index: number, ipa: bigint): bigint {
    const pa = this.ipaToPa(index, ipa);
    if (pa === undefined) throw new RangeError(`IPA 0x${ipa.toString(16)} is outside guest ${index}'s RAM`);
    return pa;
  }

  /** The guestRamRead/guestRamWrite imports: `ptr` is in linear memory (checked, throws), `pa` in one guest's RAM (else 0). */
  /** boot/guests.c's guest_ram_allows: the range lies in the RAM of the guest the calling CPU runs. */
  private callerOwns(pa: bigint, len: number): boolean {
    const g = this.guestOfCpu.get(this.currentCpu);
    const d = g === undefined ? undefined : this.declared.get(g);
    return d !== undefined && len > 0 && pa >= d.pa && pa + BigInt(len) <= d.pa + d.size;
  }

  private guestRamCopy(op: "read" | "write", pa: bigint, ptr: number, len: number): number {
    const linear = this.bytes(ptr, len >>> 0);
    pa = BigInt.asUintN(64, pa);
    if (!this.regionOf(pa, len >>> 0) || !this.callerOwns(pa, len >>> 0)) {
      this.ramRefusals.push({ op, pa, len: len >>> 0 });
      return 0;
    }
    if (op === "read") linear.set(this.ramRead(pa, len >>> 0));
    else this.ramWrite(pa, linear.slice());
    return 1;
  }

  private consoleWrite(ptr: number, len: number): void {
    const text = Buffer.from(this.bytes(ptr, len)).toString("latin1");
    for (const line of text.split("\n").slice(0, -1)) this.console.push(line);
    if (!text.endsWith("\n")) throw new Error(`console write without a line end: ${JSON.stringify(text)}`);
  }

  /** As boot/glue.c: the record of boot/include/platform.h, at most `max` bytes. */
  private platformInfoCopy(dst: number, max: number): number {
    const p = this.platform;
    const rec = Buffer.alloc(PLATFORM_INFO_SIZE);
    rec.writeUInt32LE(1, 0);
    rec.writeUInt32LE(p.gicVersion, 4);
    rec.writeUInt32LE(p.listRegisters, 8);
    rec.writeUInt32LE(p.consoleIntid, 12);
    rec.writeBigUInt64LE(p.gicvPa, 16);
    rec.writeUInt32LE((p.deviceTree ? PLATFORM_FLAG_DEVICE_TREE : 0) | (p.psci ? PLATFORM_FLAG_PSCI : 0), 24);
    const ram = p.deviceTree ? p.ram.slice(0, 4) : [];
    rec.writeUInt32LE(ram.length, 28);
    ram.forEach((r, i) => {
      rec.writeBigUInt64LE(r.base, 32 + 16 * i);
      rec.writeBigUInt64LE(r.size, 40 + 16 * i);
    });
    rec.writeUInt32LE(p.reserved.length, 96);
    const n = Math.min(max >>> 0, PLATFORM_INFO_SIZE);
    this.bytes(dst, n).set(rec.subarray(0, n));
    return n;
  }

  private bootConfigCopy(dst: number, max: number): number {
    // Like the board: the region is always there, holding zeros when the loader put nothing in it.
    const region = new Uint8Array(4096);
    if (this.bootConfig) region.set(this.bootConfig);
    const n = Math.min(max, region.length);
    this.bytes(dst, n).set(region.subarray(0, n));
    return n;
  }

  /** An AssemblyScript string: UTF-16, byte length in the u32 before it. */
  private string(ptr: number): string {
    if (ptr === 0) return "(null)";
    const len = new DataView(this.memory!.buffer).getUint32(ptr - 4, true);
    return Buffer.from(this.bytes(ptr, len)).toString("utf16le");
  }
}
