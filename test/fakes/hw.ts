/**
 * The "hw" imports of the core (hyp/hw/imports.ts), implemented for Node.
 * Like boot/glue.c, every pointer is checked against linear memory (core_range)
 * and an import handed one outside does nothing (as in C, the core's abort
 * message is read only as far as it lies in linear memory); the fake also records it in
 * `linearRefusals`, which test/fakes/tee-guest.ts's misdeeds() reports.
 *
 * Physical memory: linear memory is at `linearMemoryPa`; each guest's RAM
 * window (from the boot configuration's guest records) is backed lazily by
 * 4 KiB pages, so a 512 MiB window costs nothing until written.
 *
 * C's own checks are mirrored exactly (boot/guests.c, boot/glue.c, boot/core.c):
 * the guestRamRead/guestRamWrite imports copy only ranges wholly inside the RAM
 * of the guest the calling CPU runs; a refusal is recorded in `ramRefusals`,
 * said in one line, and, while the core serves a guest, contained like a trap
 * (the Machine calls guestFault) — else the import answers 0. Before every
 * guest entry the Machine checks the SPSR and VTTBR as boot/runloop.c does
 * (entryRefused) and "loads" the EL2 controls as boot/vcpu.c does (`loaded`).
 */

export class CorePanic extends Error {}
/** C refused what the core handed it while serving a guest: contained like a trap (the Machine calls guestFault). */
export class CRefusal extends Error {}

/** Every guest sees its RAM at this IPA (configs/guest-layout.ts). */
export const GUEST_RAM_IPA = BigInt(GUEST_LAYOUT.ramIpa);
export const PAGE = 4096;
const PAGE_N = 4096n;
import {
  BOOT_CONFIG_HEADER as BC_HEADER, BOOT_CONFIG_MAGIC as BC_MAGIC, BC_GUEST_COUNT_AT, GR_FLAGS_AT, GR_NAME_AT, GR_NAME_SIZE,
  GR_RAM_IPA_AT, GR_RAM_PA_AT, GR_RAM_SIZE_AT, GUEST_FLAG_TEE, GUEST_RECORD as BC_RECORD,
} from "../../tools/abi/bootconfig.ts";
import { HCR_FORBIDDEN, HCR_ISOLATION, SPSR_M_EL0T, SPSR_M_EL1H, SPSR_M_EL1T, VTCR_GUEST } from "../../tools/abi/el2.ts";
import { IMAGE_SLOTS, MAX_CPUS, MAX_GUESTS, NO_GUEST } from "../../tools/abi/limits.ts";
import * as P from "../../tools/abi/platform.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";

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
  const count = Math.min(v.getUint32(BC_GUEST_COUNT_AT, true), Math.floor((blob.length - BC_HEADER) / BC_RECORD));
  const regions: RamRegion[] = [];
  for (let i = 0; i < count; i++) {
    const r = BC_HEADER + i * BC_RECORD;
    const at = r + GR_NAME_AT;
    const name = Buffer.from(blob.subarray(at, at + GR_NAME_SIZE)).toString("latin1").replace(/\0.*$/s, "");
    regions.push({
      index: i, name,
      pa: v.getBigUint64(r + GR_RAM_PA_AT, true), size: v.getBigUint64(r + GR_RAM_SIZE_AT, true),
      ipa: v.getBigUint64(r + GR_RAM_IPA_AT, true), tee: (v.getUint32(r + GR_FLAGS_AT, true) & GUEST_FLAG_TEE) !== 0,
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
  /** The board's CPUs (boot/platform.c's BOARD_CPU_COUNT). */
  cpuCount: number;
  /** The hypervisor's own memory (image to the end of linear memory) and its image store: never a guest's. */
  hypervisor: { base: bigint; size: bigint };
  imageStore: { base: bigint; size: bigint };
}


/** QEMU virt's hypervisor regions (configs/boards/qemu-virt.ts, as boot's board.h has them). */
const HYP = qemuVirt.hypervisor;

export function qemuVirtPlatform(): FakePlatform {
  return {
    gicVersion: 3, listRegisters: 4, consoleIntid: qemuVirt.uart0Intid, gicvPa: 0n, deviceTree: true, psci: true, cpuCount: qemuVirt.cpuCount,
    ram: [{ base: 0x4000_0000n, size: 0xc000_0000n }],
    // QEMU's device tree itself (the C reserves the blob it read) and OP-TEE's reserved-memory nodes.
    reserved: [{ base: 0x4000_0000n, size: 0x10_0000n }, { base: 0x0e10_0000n, size: 0xf0_0000n }, { base: 0x4200_0000n, size: 0x20_0000n }],
    hypervisor: { base: BigInt(HYP.image.base), size: BigInt(HYP.wasmMemory.base + HYP.wasmMemory.size - HYP.image.base) },
    imageStore: { base: BigInt(HYP.imageStore.base), size: BigInt(HYP.imageStore.size) },
  };
}

const overlaps = (a: bigint, alen: bigint, b: bigint, blen: bigint) => a < b + blen && b < a + alen;
/** boot/guests.c's inside(): [pa, pa + len) in [base, base + size), len not 0. */
const inside = (pa: bigint, len: bigint, base: bigint, size: bigint) => len !== 0n && pa >= base && len <= size && pa - base <= size - len;

interface DeclaredGuest {
  pa: bigint;
  size: bigint;
  vttbr: bigint;
  images: { storePa: bigint; size: number; ramOffset: number }[];
}

export class FakeHardware {
  /** The machine boot/platform.c would describe (platformInfoCopy), and what boot/guests.c checks RAM against. */
  platform: FakePlatform = qemuVirtPlatform();
  /** Everything the core printed, line by line, without the newline. */
  readonly console: string[] = [];
  /** The boot configuration blob the loader "placed in RAM" (undefined: nothing there). */
  bootConfig: Uint8Array | undefined;
  memory: WebAssembly.Memory | undefined;
  /** Where linear memory "is" in physical memory (the board's HYP_WASM_MEM_PA on QEMU virt). */
  linearMemoryPa = BigInt(HYP.wasmMemory.base);
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
  /** Pointers into linear memory C would have refused (boot/core.c's core_range): outside it, or misaligned. */
  readonly linearRefusals: { what: string; ptr: number; len: number }[] = [];
  /** guestRamRead/guestRamWrite calls C refused: not wholly inside the RAM of the guest the calling CPU runs. */
  readonly ramRefusals: { op: "read" | "write"; pa: bigint; len: number }[] = [];
  /** What the timeNs import answers (the generic timer, in nanoseconds): a test moves it. */
  nowNs = 0n;
  /** Guest RAM windows added by a test, besides those of the boot configuration. */
  readonly extraRegions: RamRegion[] = [];
  /** C's guest table (boot/guests.c), as the core declared it; sealed at the first load. */
  readonly declared = new Map<number, DeclaredGuest>();
  private sealed = false;
  /** Which guest each physical CPU runs, as declared (boot/guests.c's guest_of_cpu). */
  readonly guestOfCpu = new Map<number, number>();
  /** The CPU in the core now (the Machine sets it before each export call, as this_cpu() is in C). */
  currentCpu = 0;
  /** The export the CPU is in (boot/core.c's current_export; undefined: none), set by the Machine. */
  currentExport: string | undefined;
  /** The guest the core serves on the current CPU (its frame's serving), read by the Machine. */
  serving: () => number = () => NO_GUEST;
  /** Guests loaded by ACTION_LOAD_GUEST, in order. */
  readonly loads: number[] = [];
  /** The EL2 controls C loaded on each CPU before its last entry (boot/vcpu.c's vcpu_load_controls). */
  readonly loaded = new Map<number, { hcr: bigint; vttbr: bigint; vtcr: bigint; vmpidr: bigint }>();
  /** Sparse backing of guest RAM: page number (pa / 4096) → its bytes. */
  private readonly pages = new Map<bigint, Uint8Array>();
  private regionsCache: { blob: Uint8Array | undefined; regions: RamRegion[] } | undefined;

  /** As boot/guests.c: free RAM of the device tree (devtree_ram_usable), not the hypervisor's, no other guest's. */
  private guestDeclare(g: number, pa: bigint, size: bigint, cpus: number): number {
    const p = this.platform;
    const inRam = p.deviceTree && size > 0n && p.ram.some((r) => pa >= r.base && pa + size <= r.base + r.size);
    if (this.sealed || g >= MAX_GUESTS || !inRam || p.reserved.some((r) => overlaps(pa, size, r.base, r.size))) return 0;
    if (overlaps(pa, size, p.hypervisor.base, p.hypervisor.size)) return 0;
    if (overlaps(pa, size, p.imageStore.base, p.imageStore.size)) return 0;
    if (cpus === 0 || cpus >>> MAX_CPUS !== 0) return 0;
    for (const [other, d] of this.declared) if (other < g && overlaps(pa, size, d.pa, d.size)) return 0;
    for (let cpu = 0; cpu < MAX_CPUS; cpu++) {
      const owner = this.guestOfCpu.get(cpu);
      if ((cpus >>> cpu) & 1 && owner !== undefined && owner < g) return 0;
    }
    for (const [cpu, owner] of [...this.guestOfCpu]) if (owner === g) this.guestOfCpu.delete(cpu);
    for (let cpu = 0; cpu < MAX_CPUS; cpu++) if ((cpus >>> cpu) & 1) this.guestOfCpu.set(cpu, g);
    this.declared.set(g, { pa, size, vttbr: 0n, images: [] });
    return 1;
  }

  private guestImageDeclare(g: number, slot: number, storePa: bigint, size: number, ramOffset: number): number {
    const d = this.declared.get(g), store = this.platform.imageStore;
    if (this.sealed || !d || slot >= IMAGE_SLOTS) return 0;
    if (!inside(storePa, BigInt(size), store.base, store.size) || !inside(d.pa + BigInt(ramOffset), BigInt(size), d.pa, d.size)) return 0;
    d.images[slot] = { storePa, size, ramOffset };
    return 1;
  }

  /** As boot/guests.c: tables in linear memory, 4 KiB aligned, a VMID that is not 0 and no other guest's. */
  private guestStage2Declare(g: number, vttbr: bigint): number {
    const d = this.declared.get(g);
    vttbr = BigInt.asUintN(64, vttbr);
    const vmid = vttbr >> 48n, base = vttbr & 0x0000_ffff_ffff_f000n;
    if (this.sealed || !d || vttbr !== ((vmid << 48n) | base) || vmid === 0n) return 0;
    if (!inside(base, 4096n, this.linearMemoryPa, BigInt(this.memory?.buffer.byteLength ?? 0))) return 0;
    for (const [other, o] of this.declared) if (other !== g && o.vttbr !== 0n && o.vttbr >> 48n === vmid) return 0;
    d.vttbr = vttbr;
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

  /** boot/guests.c's guest_of: the guest `cpu` runs, or NO_GUEST. */
  guestOf(cpu: number): number {
    return this.guestOfCpu.get(cpu) ?? NO_GUEST;
  }

  /** boot/guests.c's guest_entry_refused: why the guest on `cpu` cannot be entered with this state, or undefined. */
  entryRefused(cpu: number, spsr: bigint, controlsDirty: bigint, vttbr: bigint): { why: string; value: bigint } | undefined {
    const mode = Number(spsr & 0x1fn);
    if (![SPSR_M_EL0T, SPSR_M_EL1T, SPSR_M_EL1H].includes(mode)) return { why: "SPSR_EL2 is not EL0t, EL1t or EL1h (AArch64)", value: spsr };
    if (controlsDirty === 0n) return undefined;
    const own = this.declared.get(this.guestOf(cpu))?.vttbr ?? 0n;
    if (own === 0n) return { why: "C has no stage-2 tables declared for it", value: vttbr };
    if (vttbr !== own) return { why: "VTTBR_EL2 is not its own", value: vttbr };
    return undefined;
  }

  /** boot/vcpu.c's vcpu_load_controls: C's own VTTBR and VTCR, HCR with the isolation bits forced. */
  loadControls(cpu: number, hcr: bigint, vmpidr: bigint): void {
    const vttbr = this.declared.get(this.guestOf(cpu))?.vttbr ?? 0n;
    this.loaded.set(cpu, { hcr: (hcr | BigInt(HCR_ISOLATION)) & ~BigInt(HCR_FORBIDDEN), vttbr, vtcr: BigInt(VTCR_GUEST), vmpidr });
  }

  imports(): WebAssembly.Imports {
    return {
      hw: {
        consoleWrite: (ptr: number, len: number) => this.consoleWrite(ptr, len),
        bootConfigCopy: (dst: number, max: number) => this.bootConfigCopy(dst, max),
        linearMemoryPa: () => this.linearMemoryPa,
        cpuEntryPa: () => BigInt(HYP.image.base),
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
        guestStage2Declare: (g: number, vttbr: bigint) => this.guestStage2Declare(g, vttbr),
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

  /** boot/guests.c's guest_ram_allows: the range lies in the RAM of the guest the calling CPU runs. */
  private callerOwns(pa: bigint, len: number): boolean {
    const d = this.declared.get(this.guestOf(this.currentCpu));
    return d !== undefined && inside(pa, BigInt(len), d.pa, d.size);
  }

  /** The guestRamRead/guestRamWrite imports (boot/glue.c): `ptr` is in linear memory (checked, throws), `pa` the caller's. */
  private guestRamCopy(op: "read" | "write", pa: bigint, ptr: number, len: number): number {
    const linear = this.coreRange(`guestRam${op === "read" ? "Read" : "Write"}`, ptr, len >>> 0);
    if (!linear) return 0;
    pa = BigInt.asUintN(64, pa);
    if (!this.callerOwns(pa, len >>> 0)) {
      this.ramRefusals.push({ op, pa, len: len >>> 0 });
      const g = this.guestOf(this.currentCpu);
      this.refuse(`a guest RAM copy of 0x${pa.toString(16)}+${len >>> 0} (not the RAM of guest ${g}, which this CPU runs)`);
      return 0;
    }
    if (op === "read") linear.set(this.ramRead(pa, len >>> 0));
    else this.ramWrite(pa, linear.slice());
    return 1;
  }

  /** boot/core.c's core_refusal_recover: contained to the guest being served (throws CRefusal), else one line. */
  private refuse(what: string): void {
    const cpu = this.currentCpu, where = this.currentExport ?? "(none)";
    const g = this.currentExport && this.currentExport !== "guestFault" ? this.serving() : NO_GUEST;
    if (g >= NO_GUEST) {
      this.console.push(`[hyp] cpu ${cpu}: C refused ${what} in export ${where}, serving no guest`);
      return;
    }
    this.console.push(`[hyp] cpu ${cpu}: C refused ${what} in export ${where} while serving guest ${g}: only that guest is stopped`);
    throw new CRefusal(what);
  }

  /** boot/core.c's core_range: [ptr, ptr + len) of linear memory, or undefined (recorded) when C would refuse it. */
  private coreRange(what: string, ptr: number, len: number, align = 1): Uint8Array | undefined {
    const size = this.memory!.buffer.byteLength;
    if (ptr < 0 || len < 0 || ptr + len > size || ptr % align !== 0) {
      this.linearRefusals.push({ what, ptr, len });
      return undefined;
    }
    return new Uint8Array(this.memory!.buffer, ptr, len);
  }

  private consoleWrite(ptr: number, len: number): void {
    const bytes = this.coreRange("consoleWrite", ptr, len);
    if (!bytes) return;
    const text = Buffer.from(bytes).toString("latin1");
    for (const line of text.split("\n").slice(0, -1)) this.console.push(line);
    if (!text.endsWith("\n")) throw new Error(`console write without a line end: ${JSON.stringify(text)}`);
  }

  /** As boot/glue.c: the platform record (tools/abi/platform.ts), at most `max` bytes. */
  private platformInfoCopy(dst: number, max: number): number {
    const p = this.platform;
    const rec = Buffer.alloc(P.PLATFORM_INFO_SIZE);
    rec.writeUInt32LE(P.PLATFORM_INFO_VERSION, P.PI_VERSION_AT);
    rec.writeUInt32LE(p.gicVersion, P.PI_GIC_VERSION_AT);
    rec.writeUInt32LE(p.listRegisters, P.PI_LIST_REGISTERS_AT);
    rec.writeUInt32LE(p.consoleIntid, P.PI_CONSOLE_INTID_AT);
    rec.writeBigUInt64LE(p.gicvPa, P.PI_GICV_PA_AT);
    rec.writeUInt32LE((p.deviceTree ? P.PLATFORM_FLAG_DEVICE_TREE : 0) | (p.psci ? P.PLATFORM_FLAG_PSCI : 0), P.PI_FLAGS_AT);
    const ram = p.deviceTree ? p.ram.slice(0, P.PLATFORM_MAX_RAM) : [];
    rec.writeUInt32LE(ram.length, P.PI_RAM_COUNT_AT);
    ram.forEach((r, i) => {
      rec.writeBigUInt64LE(r.base, P.PI_RAM_AT + P.PI_RAM_RECORD * i);
      rec.writeBigUInt64LE(r.size, P.PI_RAM_AT + P.PI_RAM_RECORD * i + 8);
    });
    rec.writeUInt32LE(p.reserved.length, P.PI_RESERVED_COUNT_AT);
    rec.writeUInt32LE(p.cpuCount, P.PI_CPU_COUNT_AT);
    const n = Math.min(max >>> 0, P.PLATFORM_INFO_SIZE);
    const to = this.coreRange("platformInfoCopy", dst, n);
    if (!to) return 0;
    to.set(rec.subarray(0, n));
    return n;
  }

  private bootConfigCopy(dst: number, max: number): number {
    // Like the board: the region is always there, holding zeros when the loader put nothing in it.
    const region = new Uint8Array(HYP.bootConfig.size);
    if (this.bootConfig) region.set(this.bootConfig);
    const n = Math.min(max >>> 0, region.length);
    const to = this.coreRange("bootConfigCopy", dst, n);
    if (!to) return 0;
    to.set(region.subarray(0, n));
    return n;
  }

  /** An AssemblyScript string: UTF-16, byte length in the u32 before it. */
  private string(ptr: number): string {
    const size = this.memory!.buffer.byteLength;
    if (ptr < 4 || ptr > size) return ""; // as boot/glue.c's string_ascii: nothing it cannot read
    const len = new DataView(this.memory!.buffer).getUint32(ptr - 4, true);
    return ptr + len <= size ? Buffer.from(this.bytes(ptr, len)).toString("utf16le") : "";
  }
}
