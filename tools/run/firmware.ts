/**
 * What a board's firmware boots from, built or prepared for QEMU: the hypervisor image for the board (built by
 * `make BOARD=<board> board-image` when the board is not the default) and the firmware around it.
 *   tfa-fip   QEMU virt: `make` builds build/flash.bin (TF-A bl1 + fip, OP-TEE, the hypervisor) for -bios.
 *   tfa-bl31  Raspberry Pi 4: Debian's BL31 at 0 with the stub fields the VideoCore firmware would fill (the
 *             DTB's and the hypervisor's addresses), the board's DTB with QEMU's fix-ups, the hypervisor at
 *             its image base; every CPU resets into BL31 at EL3, which enters the hypervisor at EL2.
 *             With `armstub`, the board's other boot path instead: no TF-A, the hypervisor as QEMU's -kernel
 *             (an arm64 Image), entered at EL2 with x0 = the DTB, secondaries on the spin table, no PSCI and no
 *             SMC — what the VideoCore firmware's own armstub does when config.txt has no armstub=.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Board } from "../../configs/boards/board.ts";
import * as P from "../firmware/paths.ts";
import { UserError } from "../lib/cli.ts";
import type { Load } from "./qemu.ts";

/** Where `make` puts what depends on the board (the Makefile's $(B)). */
export function boardBuildDir(board: Board): string {
  return board.name === "qemu-virt" ? join(P.PROJECT_ROOT, "build") : join(P.PROJECT_ROOT, "build", board.name);
}

/** Builds the board's hypervisor image if it is not the default board's (which `make` builds). */
export function ensureBoardImage(board: Board): void {
  if (board.name === "qemu-virt") return;
  const r = spawnSync("make", ["-s", "--no-print-directory", `BOARD=${board.name}`, "board-image"],
    { cwd: P.PROJECT_ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`make BOARD=${board.name} board-image failed (exit ${r.status})`);
}

/** TF-A's rpi4 stub header (plat/rpi/common/rpi4_bl31_setup.c): stub_magic, then dtb_ptr32 and kernel_entry32. */
const STUB_MAGIC_OFFSET = 0xf0;
const STUB_MAGIC = 0x5afe570b;
const STUB_DTB_PTR32 = 0xf8;
const STUB_KERNEL_ENTRY32 = 0xfc;

/** BL31 as the VideoCore firmware leaves it in RAM: magic cleared, the DTB's and BL33's addresses filled in. */
export function patchBl31Stub(bl31: Buffer, dtb: number, kernelEntry: number): Buffer {
  const out = Buffer.from(bl31);
  if (out.length < 0x100 || out.readUInt32LE(STUB_MAGIC_OFFSET) !== STUB_MAGIC) {
    throw new UserError(`${P.shown(P.RPI4_BL31)} has no TF-A stub magic at 0xf0: not Debian's rpi4 bl31.bin? run make deps`);
  }
  out.writeUInt32LE(0, STUB_MAGIC_OFFSET);
  out.writeUInt32LE(0, STUB_MAGIC_OFFSET + 4);
  out.writeUInt32LE(dtb, STUB_DTB_PTR32);
  out.writeUInt32LE(kernelEntry, STUB_KERNEL_ENTRY32);
  return out;
}

function fdtput(dtb: string, args: string[]): void {
  const r = spawnSync("fdtput", [dtb, ...args], { encoding: "utf8" });
  if (r.error) throw new UserError(`could not run fdtput (${r.error.message}): run make deps (device-tree-compiler)`);
  if (r.status !== 0) throw new Error(`fdtput ${args.join(" ")} on ${dtb}: ${r.stderr.trim()}`);
}

/**
 * The board's DTB as QEMU needs it: /memory says board.ram (the VideoCore firmware's job on the real board)
 * and the nodes QEMU lacks are disabled. Root cells on the BCM2711: 2 address, 1 size.
 */
export function qemuBoardDtb(board: Board, out: string): string {
  copyFileSync(P.rpi4BoardDtb(), out);
  fdtput(out, ["-t", "x", "/memory@0", "reg", "0", board.ram.base.toString(16), board.ram.size.toString(16)]);
  for (const node of board.qemu.dtbDisable ?? []) fdtput(out, ["-t", "s", node, "status", "disabled"]);
  return out;
}

export interface FirmwareFiles {
  /** QEMU's -bios image, when the board boots from one. */
  flash?: string;
  /** Firmware, device tree and hypervisor for QEMU's loader device. */
  loads: Load[];
  /** More QEMU arguments (-kernel and -dtb on the armstub path). */
  qemuArgs: string[];
}

/** Builds what the board's firmware needs and says where QEMU gets it. `flash` overrides the default -bios image. */
export function firmwareFiles(board: Board, flash?: string, armstub = false): FirmwareFiles {
  if (board.firmware.kind === "tfa-fip") {
    if (armstub) throw new UserError(`${board.name} boots through TF-A only: --armstub is for the Raspberry Pi 4`);
    return { flash: flash ?? join(boardBuildDir(board), "flash.bin"), loads: [], qemuArgs: [] };
  }
  ensureBoardImage(board);
  const dir = boardBuildDir(board);
  for (const f of [P.RPI4_BL31, P.rpi4BoardDtb()]) {
    if (!existsSync(f)) throw new UserError(`${P.shown(f)} is missing: run make deps (it fetches the board's firmware)`);
  }
  mkdirSync(dir, { recursive: true });
  const image = board.hypervisor.image.base;
  const dtb = qemuBoardDtb(board, join(dir, "board-qemu.dtb"));
  if (armstub) return { loads: [], qemuArgs: ["-kernel", join(dir, "hyp.bin"), "-dtb", dtb] };
  const bl31 = join(dir, "bl31-qemu.bin");
  writeFileSync(bl31, patchBl31Stub(readFileSync(P.RPI4_BL31), board.dtb, image));
  return {
    qemuArgs: [],
    loads: [
      { file: bl31, addr: 0 },
      { file: dtb, addr: board.dtb },
      { file: join(dir, "hyp.bin"), addr: image },
    ],
  };
}
