/**
 * Builds TF-A (Debian's arm-trusted-firmware source) for QEMU virt with OP-TEE as BL32 and our image as
 * BL33, and copies the resulting `-bios` image (bl1 + fip at 0x40000) to --out.
 *
 * Variants pick the OP-TEE build from the optee-os package:
 *   virt          OP-TEE with CFG_NS_VIRTUALIZATION; BL33 is the hypervisor (our target).
 *   native        plain OP-TEE; BL33 is the hypervisor (build/flash-native.bin: it must say "no virtualization").
 *   native-linux  plain OP-TEE; BL33 is Debian's kernel Image, entered at EL2 with x0 = QEMU's DTB at the
 *                 base of RAM (the native baseline, tools/run/native.ts). Its own build directory, so that
 *                 rebuilding flash-native.bin and the baseline's fip never race.
 * ENABLE_SVE_FOR_SWD=1 is required with `-cpu max` (see design.md §3); GICv3 because Debian's OP-TEE is built for it.
 *
 * Usage:
 *   npx tsx tools/firmware/tfa.ts --variant virt --bl33 build/hyp.bin --out build/flash.bin
 *   npx tsx tools/firmware/tfa.ts --variant native-linux --bl33 cache/debs/root/boot/vmlinuz-… --out build/flash-native-linux.bin
 *   npx tsx tools/firmware/tfa.ts --prebuild     (BL1/BL31 for `virt` with a placeholder BL33, so later runs are fast)
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as P from "./paths.ts";
import { EXIT_USER_ERROR, UserError } from "../lib/cli.ts";

class BuildError extends Error {}

const log = (msg: string): void => console.log(`[tfa] ${msg}`);
const JOBS = 2;

/** Options fixed per variant. A change here invalidates that variant's build directory (see configStamp). */
function makeOptions(variant: P.Variant): string[] {
  const opts = [
    "CROSS_COMPILE=aarch64-linux-gnu-",
    "PLAT=qemu",
    "SPD=opteed",
    "QEMU_USE_GIC_DRIVER=QEMU_GICV3",
    "ENABLE_SVE_FOR_SWD=1",
    `BL32=${P.opteeHeader(variant)}`,
    `BL32_EXTRA1=${P.opteePager(variant)}`,
    `BUILD_BASE=${P.tfaBuildBase(variant)}`,
  ];
  // The baseline boots Debian's kernel directly: BL31 passes QEMU's DTB (at the base of RAM) in x0. `native`
  // has the same options (the hypervisor ignores x0), so its build stays as it was measured.
  if (variant !== "virt") opts.push("ARM_LINUX_KERNEL_AS_BL33=1", "ARM_PRELOADED_DTB_BASE=0x40000000");
  return opts;
}

/** TF-A's make does not notice changed options, so a build directory is wiped when they differ. */
function checkConfig(variant: P.Variant, opts: string[]): void {
  const file = join(P.tfaBuildBase(variant), "options.txt");
  const want = opts.join("\n") + "\n";
  if (existsSync(file) && readFileSync(file, "utf8") === want) return;
  if (existsSync(P.tfaBuildBase(variant))) log(`build options changed: rebuilding ${variant} from scratch`);
  rmSync(P.tfaBuildBase(variant), { recursive: true, force: true });
  mkdirSync(P.tfaBuildBase(variant), { recursive: true });
  writeFileSync(file, want);
}

function build(variant: P.Variant, bl33: string): string {
  for (const f of [join(P.TFA_SRC, "Makefile"), P.opteeHeader(variant), P.opteePager(variant)]) {
    if (!existsSync(f)) throw new UserError(`${P.shown(f)} is missing: run make deps (it fetches the firmware)`);
  }
  if (!existsSync(bl33)) throw new UserError(`BL33 image ${bl33} does not exist: run make`);
  const opts = makeOptions(variant);
  checkConfig(variant, opts);
  const fresh = !existsSync(join(P.tfaBuildBase(variant), "qemu/release/bl31.bin"));
  log(fresh ? `building ${variant} from scratch (BL1, BL31, fip; about 10-30 s)…` : `${variant}: BL1/BL31 built, redoing the fip`);

  // The fip would be skipped if BL33 changed but kept an older mtime; it is cheap to always redo.
  const plat = join(P.tfaBuildBase(variant), "qemu/release");
  for (const f of ["fip.bin", "qemu_fw.bios", "qemu_fw.rom"]) rmSync(join(plat, f), { force: true });

  const t0 = Date.now();
  const args = ["-C", P.TFA_SRC, `-j${JOBS}`, ...opts, `BL33=${bl33}`, "all", "fip"];
  const r = spawnSync("make", args, { encoding: "utf8", maxBuffer: 256 << 20 });
  const logFile = P.tfaBuildLog(variant);
  writeFileSync(logFile, `$ make ${args.join(" ")}\n${r.stdout ?? ""}${r.stderr ?? ""}`);
  if (r.error || r.status !== 0) {
    const tail = `${r.stdout ?? ""}${r.stderr ?? ""}`.trimEnd().split("\n").slice(-30).join("\n");
    console.error(tail);
    throw new BuildError(`TF-A build failed (${r.error?.message ?? `exit ${r.status}`}); full log: ${P.shown(logFile)}`);
  }
  const bios = P.tfaBios(variant);
  if (!existsSync(bios)) throw new BuildError(`make succeeded but ${P.shown(bios)} was not produced; log: ${P.shown(logFile)}`);
  log(`built ${P.shown(bios)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return bios;
}

/** A BL33 that only spins: enough for TF-A to produce a fip during --prebuild. */
function placeholderBl33(): string {
  const file = join(P.CACHE, "tfa/placeholder-bl33.bin");
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, Buffer.from([0x00, 0x00, 0x00, 0x14])); // b .
  return file;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      variant: { type: "string", default: "virt" },
      bl33: { type: "string" },
      out: { type: "string" },
      prebuild: { type: "boolean", default: false },
    },
  });
  if (values.prebuild) {
    build("virt", placeholderBl33());
    return;
  }
  const variant = values.variant as P.Variant;
  if (!P.VARIANTS.includes(variant)) throw new BuildError(`--variant must be one of ${P.VARIANTS.join(", ")}`);
  if (!values.bl33 || !values.out) throw new BuildError(`usage: tfa.ts --variant ${P.VARIANTS.join("|")} --bl33 <image> --out <flash.bin> | --prebuild`);
  const bios = build(variant, resolve(values.bl33));
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  copyFileSync(bios, values.out);
  log(`wrote ${values.out}`);
}

try {
  main();
} catch (e) {
  if (e instanceof UserError) {
    console.error(`[tfa] ${e.message}`);
    process.exit(EXIT_USER_ERROR);
  }
  console.error(`[tfa] FAILED: ${e instanceof Error ? e.message : String(e)}`);
  console.error("[tfa] retry with: make deps (missing inputs) or fix the error above and re-run");
  process.exit(1);
}
