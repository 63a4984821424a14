/**
 * Everything QEMU's loader device must put in RAM for a setup's guests: each distinct image (kernels,
 * initramfs, one DTB per guest) once, in the board's image store; the hypervisor copies a guest's images
 * to GUEST_LAYOUT's offsets in its RAM at every start. buildGuestImages checks the setup, builds the
 * shared initramfs (only when its inputs changed) and one DTB per guest.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { checkSetup, ConfigError } from "../config/check.ts";
import { PROJECT_ROOT, kernelImage, shown } from "../firmware/paths.ts";
import { runMain } from "../lib/cli.ts";
import { buildGuestDtb } from "./dtb.ts";
import type { GuestImages, StoredImage } from "../build/bootconfig.ts";
import { buildInitramfs, initramfsInputs } from "./initramfs.ts";

/** One file for QEMU's `-device loader,file=…,addr=…,force-raw=on` (the same shape as tools/run/qemu.ts's Load). */
export interface Load {
  file: string;
  addr: number;
}

/** The three files one guest boots from. */
export interface GuestImagePaths {
  kernel: string;
  initramfs: string;
  dtb: string;
}

export const IMAGES_DIR = join(PROJECT_ROOT, "build/images");

/** Images in the store start on this boundary. */
const STORE_ALIGN = 0x1_0000;

/**
 * Lays every distinct image file of the setup out in the board's image store (the hypervisor copies each
 * guest's images into its RAM at every start, so they are loaded once, nowhere a guest can reach). Returns
 * the loader's files and, per guest, where its images are; throws a ConfigError when they do not fit.
 */
export function storeLayout(
  setup: Setup,
  paths: Record<string, GuestImagePaths>,
  bootCountOffsets: Record<string, number> = {},
): { loads: Load[]; images: Record<string, GuestImages> } {
  const store = setup.board.hypervisor.imageStore;
  const placed = new Map<string, StoredImage>();
  let next = store.base;
  const place = (file: string): StoredImage => {
    const known = placed.get(file);
    if (known) return known;
    const image = { pa: next, size: statSync(file).size };
    next = Math.ceil((next + image.size) / STORE_ALIGN) * STORE_ALIGN;
    if (next > store.base + store.size) {
      throw new ConfigError(`board.hypervisor.imageStore: the guests' images need ${((next - store.base) / 1048576).toFixed(1)} MiB, the store has ${store.size / 1048576} MiB`);
    }
    placed.set(file, image);
    return image;
  };
  const images: Record<string, GuestImages> = {};
  for (const g of setup.guests) {
    const p = paths[g.name];
    if (!p) throw new Error(`storeLayout: no image paths for guest ${g.name}`);
    images[g.name] = { dtb: place(p.dtb), kernel: place(p.kernel), initramfs: place(p.initramfs), bootCountOffset: bootCountOffsets[g.name] };
  }
  return { loads: [...placed].map(([file, image]) => ({ file, addr: image.pa })), images };
}

/** True if `out` exists and is newer than every input. */
export function upToDate(out: string, inputs: string[]): boolean {
  if (!existsSync(out)) return false;
  const built = statSync(out).mtimeMs;
  return inputs.every((i) => existsSync(i) && statSync(i).mtimeMs < built);
}

/** The shared initramfs, outDir/initramfs.cpio.gz, built when its inputs are newer. Used by the native baseline too. */
export function sharedInitramfs(outDir: string = IMAGES_DIR): string {
  const shared = join(outDir, "initramfs.cpio.gz");
  if (!upToDate(shared, initramfsInputs())) {
    const started = Date.now();
    const size = buildInitramfs(shared);
    console.log(`[images] ${shown(shared)}: ${(size / 1048576).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return shared;
}

function resolveKernel(g: GuestConfig, i: number): string {
  const path = g.kernel === "debian" ? kernelImage() : g.kernel;
  if (!existsSync(path)) throw new ConfigError(`guests[${i}].kernel (${g.name}): ${path} does not exist`);
  return path;
}

/**
 * Checks the setup, then builds what its guests boot from into outDir (default build/images):
 * initramfs.cpio.gz once if any guest uses "debian", and <guest>.dtb per guest in dtbDir (default outDir;
 * a directory per setup keeps runs of differently configured setups from rewriting each other's DTBs).
 */
export async function buildGuestImages(
  setup: Setup,
  outDir: string = IMAGES_DIR,
  dtbDir: string = outDir,
): Promise<{ loads: Load[]; dtbs: Record<string, string>; images: Record<string, GuestImages> }> {
  checkSetup(setup, { kernel: () => undefined, initramfs: () => undefined }); // the structure, before building anything
  const shared = setup.guests.some((g) => g.initramfs === "debian") ? sharedInitramfs(outDir) : join(outDir, "initramfs.cpio.gz");

  const paths: Record<string, GuestImagePaths> = {};
  const dtbs: Record<string, string> = {};
  setup.guests.forEach((g, i) => {
    const initramfs = g.initramfs === "debian" ? shared : g.initramfs;
    if (!existsSync(initramfs)) throw new ConfigError(`guests[${i}].initramfs (${g.name}): ${initramfs} does not exist`);
    const dtb = join(dtbDir, `${g.name}.dtb`);
    paths[g.name] = { kernel: resolveKernel(g, i), initramfs, dtb };
    dtbs[g.name] = dtb;
  });
  // Now that every file exists: do the images fit at the layout's offsets?
  checkSetup(setup, { kernel: (g) => paths[g.name].kernel, initramfs: (g) => paths[g.name].initramfs });
  const bootCountOffsets: Record<string, number> = {};
  for (const g of setup.guests) {
    bootCountOffsets[g.name] = buildGuestDtb(setup, g, statSync(paths[g.name].initramfs).size, dtbs[g.name]).bootCountOffset;
  }
  const { loads, images } = storeLayout(setup, paths, bootCountOffsets);
  return { loads, dtbs, images };
}

/** Usage: tsx tools/images/qemu-loads.ts [configs/<setup>.ts]: builds the images, prints the loader arguments. */
async function main(file: string): Promise<void> {
  const { setup } = (await import(file.startsWith("/") ? file : join(process.cwd(), file))) as { setup: Setup };
  const { loads } = await buildGuestImages(setup);
  for (const l of loads) console.log(`-device loader,file=${shown(l.file)},addr=0x${l.addr.toString(16)},force-raw=on`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain("images", () => main(process.argv[2] ?? join(PROJECT_ROOT, "configs/qemu-virt.ts")));
}
