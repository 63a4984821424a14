/**
 * Everything QEMU's loader device must put in RAM for a setup's guests: per guest its DTB, kernel and
 * initramfs at GUEST_LAYOUT's offsets inside the guest's RAM (physical addresses: the guest sees its RAM
 * at GUEST_LAYOUT.ramIpa). buildGuestImages checks the setup, builds the shared initramfs (only when its
 * inputs changed) and one DTB per guest.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { checkSetup, ConfigError } from "../config/check.ts";
import { PROJECT_ROOT, kernelImage, shown } from "../firmware/paths.ts";
import { runMain } from "../lib/cli.ts";
import { buildGuestDtb } from "./dtb.ts";
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

/** For each guest (in setup order): its DTB, kernel and initramfs at their addresses in its RAM. */
export function guestLoads(setup: Setup, paths: Record<string, GuestImagePaths>): Load[] {
  const L = GUEST_LAYOUT;
  return setup.guests.flatMap((g) => {
    const p = paths[g.name];
    if (!p) throw new Error(`guestLoads: no image paths for guest ${g.name}`);
    return [
      { file: p.dtb, addr: g.ram.base + L.dtbOffset },
      { file: p.kernel, addr: g.ram.base + L.kernelOffset },
      { file: p.initramfs, addr: g.ram.base + L.initramfsOffset },
    ];
  });
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
): Promise<{ loads: Load[]; dtbs: Record<string, string> }> {
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
  for (const g of setup.guests) buildGuestDtb(setup, g, statSync(paths[g.name].initramfs).size, dtbs[g.name]);
  return { loads: guestLoads(setup, paths), dtbs };
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
