/**
 * Where the fetched and built firmware lives: the one place other tools look up cache paths.
 *
 * Everything is under the ignored `cache/` at the project root. Paths are absolute (resolved from
 * this file's location) because TF-A's make runs in its own source directory.
 */
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../lib/cli.ts";

/** The project root: this file is tools/firmware/paths.ts. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/**
 * The cache, by its real path: several checkouts of the project may share one cache through a `cache` symlink,
 * and TF-A's build directories are wiped whenever their options (which hold these paths) change. Spelled the
 * same from every checkout, they stay built.
 */
export const CACHE = realCache(join(PROJECT_ROOT, "cache"));

function realCache(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // not there yet: make deps creates it
  }
}

/** Private apt configuration for Debian trixie arm64 (never touches the host's apt state). */
export const APT_DIR = join(CACHE, "apt");

/** Downloaded .debs, and all of them extracted (`dpkg-deb -x`) into one merged tree. */
export const DEBS_DIR = join(CACHE, "debs");
export const ROOT = join(DEBS_DIR, "root");
/** Build-only packages (headers, start files for guest/teebench), downloaded and extracted apart from the runtime. */
export const DEV_DEBS_DIR = join(CACHE, "debs-dev");
export const DEV_ROOT = join(DEV_DEBS_DIR, "root");

/** The Raspberry Pi 4's firmware, fetched and extracted apart (fetch.ts RPI4_PACKAGES). */
export const RPI4_DEBS_DIR = join(CACHE, "debs-rpi4");
export const RPI4_ROOT = join(RPI4_DEBS_DIR, "root");
/** Debian's TF-A BL31 for the Pi 4 (RESET_TO_BL31, loaded at 0: the armstub). */
export const RPI4_BL31 = join(RPI4_ROOT, "usr/lib/arm-trusted-firmware/rpi4/bl31.bin");
/** The VideoCore firmware the Pi 4's boot EEPROM loads from the SD card. */
export const RPI4_START4 = join(RPI4_ROOT, "usr/lib/raspi-firmware/start4.elf");
export const RPI4_FIXUP4 = join(RPI4_ROOT, "usr/lib/raspi-firmware/fixup4.dat");

/**
 * TF-A builds, one build directory each, by the OP-TEE build in the optee-os package they carry:
 * `virt` (with CFG_NS_VIRTUALIZATION, our target), `native` (without), and `native-linux`, the same as
 * `native` but kept apart because its BL33 is Debian's kernel (the native baseline), not the hypervisor.
 */
export type Variant = "virt" | "native" | "native-linux";
export const VARIANTS: readonly Variant[] = ["virt", "native", "native-linux"];
const OPTEE_PLATFORM: Record<Variant, string> = {
  virt: "vexpress-qemu_armv8a-virtualized",
  native: "vexpress-qemu_armv8a",
  "native-linux": "vexpress-qemu_armv8a",
};
export const opteeDir = (v: Variant): string => join(ROOT, "usr/lib/optee", OPTEE_PLATFORM[v]);
export const opteeHeader = (v: Variant): string => join(opteeDir(v), "tee-header_v2.bin");
export const opteePager = (v: Variant): string => join(opteeDir(v), "tee-pager_v2.bin");

/** Normal-world userland from the debs. */
export const XTEST = join(ROOT, "usr/bin/xtest");
export const TEE_SUPPLICANT = join(ROOT, "usr/sbin/tee-supplicant");
export const TA_DIR = join(ROOT, "usr/lib/optee_armtz");
export const SUPPLICANT_PLUGIN_DIR = join(ROOT, "usr/lib/tee-supplicant/plugins");
export const BUSYBOX = join(ROOT, "usr/bin/busybox");
export const LIB_DIR = join(ROOT, "usr/lib/aarch64-linux-gnu");

/** The kernel release (e.g. "6.12.107+deb13-arm64"): the one directory under usr/lib/modules. */
export function kernelRelease(): string {
  const dir = join(ROOT, "usr/lib/modules");
  const releases = existsSync(dir) ? readdirSync(dir) : [];
  if (releases.length !== 1) {
    throw new UserError(`expected one kernel under ${shown(dir)}, found ${releases.length}: run make deps (it fetches the firmware cache)`);
  }
  return releases[0];
}
/** Debian's arm64 `vmlinuz` is an uncompressed arm64 Image (loadable as-is). */
export const kernelImage = (): string => join(ROOT, "boot", `vmlinuz-${kernelRelease()}`);
/** The board's device tree as Debian's kernel ships it. */
export const rpi4BoardDtb = (): string => join(ROOT, "usr/lib", `linux-image-${kernelRelease()}`, "broadcom/bcm2711-rpi-4-b.dtb");
export const moduleDir = (): string => join(ROOT, "usr/lib/modules", kernelRelease());
/** xz-compressed modules; optee depends on tee and there is no modules.dep. */
export const teeModule = (): string => join(moduleDir(), "kernel/drivers/tee/tee.ko.xz");
export const opteeModule = (): string => join(moduleDir(), "kernel/drivers/tee/optee/optee.ko.xz");

/** TF-A: Debian's source package unpacked here; one BUILD_BASE per OP-TEE variant. */
export const TFA_SRC = join(CACHE, "tfa/src");
export const tfaBuildBase = (v: Variant): string => join(CACHE, "tfa", v);
/** The QEMU `-bios` image TF-A's `fip` target writes (bl1 at 0, fip at 0x40000). */
export const tfaBios = (v: Variant): string => join(tfaBuildBase(v), "qemu/release/qemu_fw.bios");
export const tfaBuildLog = (v: Variant): string => join(CACHE, "tfa", `${v}.log`);

/** Stamp files marking finished steps, so re-runs skip them. */
export const stamp = (name: string): string => join(CACHE, "stamps", name);

/** A path as shown in progress lines: relative to the project root when inside it (the cache as cache/). */
export function shown(p: string): string {
  if (p.startsWith(CACHE + "/")) return `cache/${p.slice(CACHE.length + 1)}`;
  return p.startsWith(PROJECT_ROOT + "/") ? p.slice(PROJECT_ROOT.length + 1) : p;
}
