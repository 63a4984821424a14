/**
 * Checks a setup before anything is built or booted: every guest's name, CPUs and RAM, that no two guests
 * (nor a guest and the hypervisor or anything the board reserves) share a byte of RAM, that the images fit
 * at GUEST_LAYOUT's offsets, and that OP-TEE can serve as many guests as want it.
 *
 * A failure throws ConfigError with one message that names the field, e.g.
 *   guests[1].ram (tee2): overlaps guests[0].ram (tee1) at 0x80000000-0x9fffffff
 * Nothing here is board-specific: the board's facts come from setup.board.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Range } from "../../configs/boards/board.ts";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { PROJECT_ROOT, kernelImage } from "../firmware/paths.ts";
import { UserError } from "../lib/cli.ts";
import { MAX_VCPUS } from "../abi/limits.ts";

/** A setup that cannot be booted: a person fixes it in the setup file (tools exit 2 on it, see lib/cli.ts). */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const MiB = 1024 * 1024;
export const NAME_PATTERN = /^[a-z0-9-]{1,15}$/i;
export { MAX_VCPUS } from "../abi/limits.ts";
export const MIN_GUEST_RAM = 64 * MiB;
export const RAM_ALIGN = 2 * MiB;
/** Linux's COMMAND_LINE_SIZE on arm64 (with its terminating NUL). */
export const MAX_CMDLINE = 2047;
/** How many guests each OP-TEE build can serve (design.md §5: Debian's virtualized build has room for 2). */
export const TEE_GUEST_LIMIT: Record<Setup["opteeVariant"], { count: number; why: string }> = {
  virt: { count: 2, why: "Debian's virtualized OP-TEE has room for 2 guests" },
  native: { count: 1, why: "the non-virtualized OP-TEE serves a single normal world" },
};

/** "0x80000000-0x9fffffff": a range with its last byte, as people read memory maps. */
export function formatRange(r: Range): string {
  return `0x${r.base.toString(16)}-0x${(r.base + r.size - 1).toString(16)}`;
}

/** The common part of two ranges, or null. */
export function intersect(a: Range, b: Range): Range | null {
  const base = Math.max(a.base, b.base);
  const end = Math.min(a.base + a.size, b.base + b.size);
  return end > base ? { base, size: end - base } : null;
}

/** Where the files behind a guest's "debian" (or explicit) kernel and initramfs are, when they exist. */
export interface ImageFiles {
  kernel(guest: GuestConfig): string | undefined;
  initramfs(guest: GuestConfig): string | undefined;
}

/** The shared initramfs tools/images builds from the cache. */
export const DEFAULT_INITRAMFS = join(PROJECT_ROOT, "build/images/initramfs.cpio.gz");

export function debianKernel(): string | undefined {
  try {
    return kernelImage();
  } catch {
    return undefined; // no firmware cache
  }
}

export const defaultImageFiles: ImageFiles = {
  kernel: (g) => (g.kernel === "debian" ? debianKernel() : g.kernel),
  initramfs: (g) => (g.initramfs === "debian" ? DEFAULT_INITRAMFS : g.initramfs),
};

/** The arm64 Image header: text_offset (u64 at 8), image_size (u64 at 16, memory incl. .bss), magic "ARM\x64" at 56. */
export function readImageHeader(path: string): { textOffset: number; imageSize: number } | null {
  const header = Buffer.alloc(64);
  const fd = openSync(path, "r");
  try {
    if (readSync(fd, header, 0, 64, 0) < 64) return null;
  } finally {
    closeSync(fd);
  }
  if (header.readUInt32LE(56) !== 0x644d5241) return null;
  return { textOffset: Number(header.readBigUInt64LE(8)), imageSize: Number(header.readBigUInt64LE(16)) };
}

const hex = (n: number) => `0x${n.toString(16)}`;
const mib = (n: number) => (n % MiB === 0 ? `${n / MiB} MiB` : `${hex(n)} bytes`);

/** Throws ConfigError on the first problem found. Files are only checked when they exist. */
export function checkSetup(setup: Setup, files: ImageFiles = defaultImageFiles): void {
  const { board, guests } = setup;
  if (!Array.isArray(guests)) throw new ConfigError("guests: must be a list (an empty one boots the hypervisor alone)");

  // What no guest may touch: everything the board reserves and the hypervisor's own regions.
  const forbidden: { what: string; range: Range }[] = [
    ...board.reserved.map((r) => ({ what: `board.reserved "${r.name}"`, range: r as Range })),
    { what: "board.hypervisor.image", range: board.hypervisor.image },
    { what: "board.hypervisor.bootConfig", range: board.hypervisor.bootConfig },
    { what: "board.hypervisor.wasmMemory", range: board.hypervisor.wasmMemory },
    { what: "board.hypervisor.imageStore", range: board.hypervisor.imageStore },
  ];

  const names = new Map<string, number>();
  const cpuOwner = new Map<number, number>();
  guests.forEach((g, i) => {
    const at = (field: string) => `guests[${i}].${field} (${g.name})`;

    if (typeof g.name !== "string" || !NAME_PATTERN.test(g.name)) {
      throw new ConfigError(`guests[${i}].name: "${g.name}" must be 1-15 letters, digits or '-'`);
    }
    const lower = g.name.toLowerCase();
    if (names.has(lower)) throw new ConfigError(`${at("name")}: the same name as guests[${names.get(lower)}]`);
    names.set(lower, i);

    // CPUs: one physical CPU per vCPU, each owned by one guest.
    if (!Array.isArray(g.cpus) || g.cpus.length === 0) throw new ConfigError(`${at("cpus")}: needs at least one CPU`);
    if (g.cpus.length > MAX_VCPUS) throw new ConfigError(`${at("cpus")}: ${g.cpus.length} vCPUs, at most ${MAX_VCPUS}`);
    g.cpus.forEach((cpu, v) => {
      if (!Number.isInteger(cpu) || cpu < 0 || cpu >= board.cpuCount) {
        throw new ConfigError(`${at(`cpus[${v}]`)}: CPU ${cpu} does not exist (${board.name} has CPUs 0-${board.cpuCount - 1})`);
      }
      const owner = cpuOwner.get(cpu);
      if (owner === i) throw new ConfigError(`${at(`cpus[${v}]`)}: CPU ${cpu} is listed twice`);
      if (owner !== undefined) throw new ConfigError(`${at(`cpus[${v}]`)}: CPU ${cpu} already belongs to guests[${owner}] (${guests[owner].name})`);
      cpuOwner.set(cpu, i);
    });

    // RAM: aligned, big enough, inside the board's RAM, owned by nobody else.
    const ram = g.ram;
    if (!ram || !Number.isInteger(ram.base) || !Number.isInteger(ram.size) || ram.base < 0) {
      throw new ConfigError(`${at("ram")}: needs an integer base and size`);
    }
    if (ram.base % RAM_ALIGN !== 0) throw new ConfigError(`${at("ram.base")}: ${hex(ram.base)} is not 2 MiB aligned`);
    if (ram.size % RAM_ALIGN !== 0) throw new ConfigError(`${at("ram.size")}: ${hex(ram.size)} is not a multiple of 2 MiB`);
    if (ram.size < MIN_GUEST_RAM) throw new ConfigError(`${at("ram.size")}: ${mib(ram.size)} is less than ${mib(MIN_GUEST_RAM)}`);
    if (ram.base < board.ram.base || ram.base + ram.size > board.ram.base + board.ram.size) {
      throw new ConfigError(`${at("ram")}: ${formatRange(ram)} is not inside board.ram ${formatRange(board.ram)}`);
    }
    for (let j = 0; j < i; j++) {
      const common = intersect(ram, guests[j].ram);
      if (common) throw new ConfigError(`${at("ram")}: overlaps guests[${j}].ram (${guests[j].name}) at ${formatRange(common)}`);
    }
    for (const f of forbidden) {
      const common = intersect(ram, f.range);
      if (common) throw new ConfigError(`${at("ram")}: overlaps ${f.what} at ${formatRange(common)}`);
    }

    if (typeof g.kernel !== "string" || g.kernel === "") throw new ConfigError(`${at("kernel")}: "debian" or a path`);
    if (typeof g.initramfs !== "string" || g.initramfs === "") throw new ConfigError(`${at("initramfs")}: "debian" or a path`);
    if (typeof g.cmdline !== "string" || g.cmdline.length > MAX_CMDLINE) {
      throw new ConfigError(`${at("cmdline")}: must be a string of at most ${MAX_CMDLINE} characters`);
    }

    if (g.onReset !== undefined && g.onReset !== "restart" && g.onReset !== "stop") {
      throw new ConfigError(`${at("onReset")}: "${g.onReset}" must be "restart" or "stop"`);
    }
    if (g.onCrash !== undefined && g.onCrash !== "restart" && g.onCrash !== "stop") {
      throw new ConfigError(`${at("onCrash")}: "${g.onCrash}" must be "stop" or "restart"`);
    }

    checkImages(g, at, files);
  });

  const teeGuests = guests.filter((g) => g.tee);
  const limit = TEE_GUEST_LIMIT[setup.opteeVariant];
  if (teeGuests.length > limit.count) {
    const i = guests.indexOf(teeGuests[limit.count]);
    throw new ConfigError(
      `guests[${i}].tee (${guests[i].name}): ${teeGuests.length} guests want OP-TEE, at most ${limit.count}: ${limit.why}`,
    );
  }
}

/** The images must fit at GUEST_LAYOUT's offsets: kernel (with its .bss) before the initramfs, the initramfs before the end of RAM. */
function checkImages(g: GuestConfig, at: (field: string) => string, files: ImageFiles): void {
  const L = GUEST_LAYOUT;
  const kernel = files.kernel(g);
  if (kernel && existsSync(kernel)) {
    const header = readImageHeader(kernel);
    if (!header) throw new ConfigError(`${at("kernel")}: ${kernel} is not an arm64 Image (no "ARM\\x64" magic)`);
    const size = header.imageSize || statSync(kernel).size; // image_size 0: a pre-3.17 kernel, use the file size
    const end = L.kernelOffset + header.textOffset + size;
    if (end > L.initramfsOffset) {
      throw new ConfigError(
        `${at("kernel")}: its image_size ${mib(size)} at offset ${hex(L.kernelOffset + header.textOffset)} runs into the initramfs at offset ${hex(L.initramfsOffset)}`,
      );
    }
  }
  const initramfs = files.initramfs(g);
  if (initramfs && existsSync(initramfs)) {
    const size = statSync(initramfs).size;
    if (L.initramfsOffset + size > g.ram.size) {
      throw new ConfigError(
        `${at("initramfs")}: ${size} bytes at offset ${hex(L.initramfsOffset)} do not fit in ${mib(g.ram.size)} of RAM`,
      );
    }
  }
}
