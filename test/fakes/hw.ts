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
/** The boot configuration's layout (hyp/core/bootconfig.ts). */
const BC_HEADER = 16, BC_RECORD = 72, BC_MAGIC = 0x43505948;
const GUEST_FLAG_TEE = 1;

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
  /** The hypervisor's own memory (image to the end of linear memory), never usable by a guest. */
  hypervisor: { base: bigint; size: bigint };
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
  };
}

const overlaps = (a: bigint, alen: bigint, b: bigint, blen: bigint) => a < b + blen && b < a + alen;

export class FakeHardware {
  /** The machine boot/platform.c would describe (platformInfoCopy, ramUsable). */
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
  /** VMIDs whose stage-2 TLB entries were invalidated. */
  readonly invalidated: number[] = [];
  /** guestRamRead/guestRamWrite calls the fake refused (0 returned): not wholly inside one guest's RAM. */
  readonly ramRefusals: { op: "read" | "write"; pa: bigint; len: number }[] = [];
  /** What the timeNs import answers (the generic timer, in nanoseconds): a test moves it. */
  nowNs = 0n;
  /** Guest RAM windows added by a test, besides those of the boot configuration. */
  readonly extraRegions: RamRegion[] = [];
  /** Sparse backing of guest RAM: page number (pa / 4096) → its bytes. */
  private readonly pages = new Map<bigint, Uint8Array>();
  private regionsCache: { blob: Uint8Array | undefined; regions: RamRegion[] } | undefined;

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
        consoleRead: () => this.typed.shift() ?? -1,
        consoleInputEnable: (on: number) => void (this.consoleInputOn = on !== 0),
        platformInfoCopy: (dst: number, max: number) => this.platformInfoCopy(dst, max),
        ramUsable: (pa: bigint, size: bigint) => this.ramUsable(pa, size),
        guestRamRead: (pa: bigint, dst: number, len: number) => this.guestRamCopy("read", pa, dst, len),
        guestRamWrite: (pa: bigint, src: number, len: number) => this.guestRamCopy("write", pa, src, len),
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
  private guestRamCopy(op: "read" | "write", pa: bigint, ptr: number, len: number): number {
    const linear = this.bytes(ptr, len >>> 0);
    pa = BigInt.asUintN(64, pa);
    if (!this.regionOf(pa, len >>> 0)) {
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

  /** As boot/glue.c: inside one /memory range, overlapping no reserved region nor the hypervisor. */
  private ramUsable(pa: bigint, size: bigint): number {
    const p = this.platform;
    pa = BigInt.asUintN(64, pa);
    size = BigInt.asUintN(64, size);
    if (!p.deviceTree || size === 0n || pa + size >= 1n << 64n) return 0;
    if (overlaps(pa, size, p.hypervisor.base, p.hypervisor.size)) return 0;
    if (!p.ram.some((r) => pa >= r.base && pa + size <= r.base + r.size)) return 0;
    return p.reserved.some((r) => overlaps(pa, size, r.base, r.size)) ? 0 : 1;
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
