/**
 * `make sdcard SETUP=rpi4`: build/<board>/sdcard.img, an SD card image for the real Raspberry Pi 4 with one
 * FAT32 partition holding what its boot EEPROM and VideoCore firmware load:
 *   start4.elf, fixup4.dat   the VideoCore firmware (Debian's raspi-firmware)
 *   config.txt               64-bit, the PL011 console, the GIC-400, TF-A as armstub, where each file goes
 *   bl31.bin                 Debian's TF-A for the board: the armstub, which enters the hypervisor at EL2
 *   bcm2711-rpi-4-b.dtb      the board's device tree from Debian's kernel (the firmware fills /memory in)
 *   tee-hyp.bin              the "kernel": the hypervisor built for the board, then, at its place past the image,
 *                            the boot configuration
 *   images.bin               the image store: every guest's kernel, initramfs and DTB where the boot configuration
 *                            says they are, loaded by the firmware as its `initramfs`
 * Made without root or loop devices: mkfs.vfat on a file, mtools' mcopy into it, and an MBR written here.
 * Usage: tsx tools/sdcard/sdcard.ts [--setup <name> | configs/<name>.ts]
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../../configs/boards/board.ts";
import type { Setup } from "../../configs/setup.ts";
import { setupBootConfig } from "../build/bootconfig.ts";
import * as P from "../firmware/paths.ts";
import { buildGuestImages, IMAGES_DIR, type Load } from "../images/qemu-loads.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { loadSetup } from "../lib/setup-file.ts";
import { boardBuildDir, ensureBoardImage } from "../run/firmware.ts";

const MiB = 1024 * 1024;
/** The partition starts 1 MiB in, as SD card tools align it. */
const PARTITION_OFFSET = MiB;
/** MBR partition type 0x0c: FAT32 with LBA, what the Pi's boot EEPROM reads. */
const MBR_TYPE_FAT32_LBA = 0x0c;
const SECTOR = 512;

/** config.txt for the board's firmware (Raspberry Pi config.txt documentation; design.md §8). */
export function configTxt(board: Board): string {
  const hex = (n: number) => `0x${n.toString(16)}`;
  return [
    "# Written by tools/sdcard/sdcard.ts for the tee-hyp hypervisor (make sdcard SETUP=rpi4).",
    "arm_64bit=1",
    "# The PL011 console: the hypervisor puts it back on GPIO14/15 (ALT0) itself.",
    "enable_uart=1",
    "# The GIC-400, not the legacy interrupt controller.",
    "enable_gic=1",
    "# Debian's TF-A at 0: PSCI, and the hypervisor entered at EL2 with x0 = the device tree.",
    "armstub=bl31.bin",
    "kernel=tee-hyp.bin",
    `kernel_address=${hex(board.hypervisor.image.base)}`,
    "device_tree=bcm2711-rpi-4-b.dtb",
    `device_tree_address=${hex(board.dtb)}`,
    "# The guests' images, in the hypervisor's image store: it copies them into a guest's RAM at every start.",
    `initramfs images.bin ${hex(board.hypervisor.imageStore.base)}`,
    "",
  ].join("\n");
}

/** The files of the FAT partition: name on the card → path here. */
export async function sdcardFiles(setup: Setup, dir: string): Promise<Record<string, string>> {
  const board = setup.board;
  if (board.firmware.kind !== "tfa-bl31") {
    throw new UserError(`setup ${setup.name} runs on ${board.name}, which boots from no SD card: make sdcard SETUP=rpi4`);
  }
  for (const f of [P.RPI4_BL31, P.RPI4_START4, P.RPI4_FIXUP4, P.rpi4BoardDtb()]) {
    try {
      statSync(f);
    } catch {
      throw new UserError(`${P.shown(f)} is missing: run make deps (it fetches the board's firmware)`);
    }
  }
  ensureBoardImage(board);
  const { loads, images } = await buildGuestImages(setup, IMAGES_DIR, join(IMAGES_DIR, setup.name));
  mkdirSync(dir, { recursive: true });
  const kernel = join(dir, "tee-hyp.bin");
  writeFileSync(kernel, withBootConfig(board, readFileSync(join(boardBuildDir(board), "hyp.bin")), setupBootConfig(setup, {}, images)));
  const store = join(dir, "images.bin");
  writeFileSync(store, imageStoreFile(board, loads));
  const configFile = join(dir, "config.txt");
  writeFileSync(configFile, configTxt(board));
  return {
    "start4.elf": P.RPI4_START4,
    "fixup4.dat": P.RPI4_FIXUP4,
    "config.txt": configFile,
    "bl31.bin": P.RPI4_BL31,
    "bcm2711-rpi-4-b.dtb": P.rpi4BoardDtb(),
    "tee-hyp.bin": kernel,
    "images.bin": store,
  };
}

/**
 * The firmware loads whole files only: the hypervisor's image, zero-padded to where the boot configuration
 * belongs (board.hypervisor.bootConfig, past the image), then the boot configuration, as one "kernel".
 */
export function withBootConfig(board: Board, hyp: Buffer, config: Buffer): Buffer {
  const at = board.hypervisor.bootConfig.base - board.hypervisor.image.base;
  if (hyp.length > at) throw new Error(`hyp.bin is ${hyp.length} bytes: it runs into the boot configuration at +0x${at.toString(16)}`);
  if (config.length > board.hypervisor.bootConfig.size) throw new Error(`the boot configuration is larger than board.hypervisor.bootConfig`);
  const out = Buffer.alloc(at + config.length);
  hyp.copy(out, 0);
  config.copy(out, at);
  return out;
}

/** The image store as one file from its base: each image at its address (tools/images/qemu-loads.ts storeLayout). */
export function imageStoreFile(board: Board, loads: Load[]): Buffer {
  const base = board.hypervisor.imageStore.base;
  const files = loads.map((l) => ({ at: l.addr - base, data: readFileSync(l.file) }));
  const end = Math.max(0, ...files.map((f) => f.at + f.data.length));
  const out = Buffer.alloc(end);
  for (const f of files) {
    if (f.at < 0) throw new Error(`an image at 0x${(f.at + base).toString(16)} lies below the image store`);
    f.data.copy(out, f.at);
  }
  return out;
}

function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new UserError(`could not run ${cmd} (${r.error.message}): run make deps (it installs dosfstools and mtools)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
}

/** An MBR with one partition of `sectors` sectors from PARTITION_OFFSET. */
function mbr(sectors: number): Buffer {
  const m = Buffer.alloc(SECTOR);
  const entry = 446;
  m.writeUInt8(0x80, entry); // bootable
  m.writeUInt8(0xfe, entry + 1); m.writeUInt8(0xff, entry + 2); m.writeUInt8(0xff, entry + 3); // CHS: use LBA
  m.writeUInt8(MBR_TYPE_FAT32_LBA, entry + 4);
  m.writeUInt8(0xfe, entry + 5); m.writeUInt8(0xff, entry + 6); m.writeUInt8(0xff, entry + 7);
  m.writeUInt32LE(PARTITION_OFFSET / SECTOR, entry + 8);
  m.writeUInt32LE(sectors, entry + 12);
  m.writeUInt16LE(0xaa55, 510);
  return m;
}

/** Writes `out`: MBR, then a FAT32 partition with `files`, sized to them with room to spare. */
export function writeImage(files: Record<string, string>, out: string): void {
  const content = Object.values(files).reduce((n, f) => n + statSync(f).size, 0);
  const partitionMiB = Math.max(64, Math.ceil((content * 1.1) / MiB) + 16);
  const fat = `${out}.fat`;
  rmSync(fat, { force: true });
  tool("mkfs.vfat", ["-F", "32", "-n", "TEEHYP", "-C", fat, String(partitionMiB * 1024)]);
  for (const [name, path] of Object.entries(files)) tool("mcopy", ["-i", fat, "-o", path, `::${name}`]);
  const image = openSync(out, "w");
  try {
    writeSync(image, mbr((partitionMiB * MiB) / SECTOR), 0, SECTOR, 0);
    writeSync(image, Buffer.alloc(PARTITION_OFFSET - SECTOR), 0, PARTITION_OFFSET - SECTOR, SECTOR);
    writeSync(image, readFileSync(fat), 0, partitionMiB * MiB, PARTITION_OFFSET);
  } finally {
    closeSync(image);
  }
  rmSync(fat);
}

/** Where the partition starts in the image, for `mdir -i sdcard.img@@1M` and friends. */
export const SDCARD_PARTITION_OFFSET = PARTITION_OFFSET;

export async function buildSdcard(setup: Setup): Promise<string> {
  const dir = join(boardBuildDir(setup.board), "sdcard");
  const files = await sdcardFiles(setup, dir);
  const out = join(boardBuildDir(setup.board), "sdcard.img");
  writeImage(files, out);
  return out;
}

async function main(): Promise<number> {
  const setup = await loadSetup();
  const out = await buildSdcard(setup);
  console.log(`[sdcard] wrote ${P.shown(out)} (${(statSync(out).size / MiB).toFixed(0)} MiB): write it with`);
  console.log(`[sdcard]   dd if=${P.shown(out)} of=/dev/<your SD card> bs=4M conv=fsync`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) runMain("sdcard", main);
