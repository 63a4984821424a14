/**
 * Builds guest/teebench (the Linux-side TEEC benchmark, see its header) for the guests' initramfs, with the
 * host's cross compiler against the trixie arm64 packages in the firmware cache: the headers and start files of
 * the build-only tree (P.DEV_ROOT: optee-client-dev, libc6-dev, linux-libc-dev) and the libraries the guests run
 * (P.ROOT: libteec.so.2, libc.so.6).
 *
 * glibc's libc.so linker script names /lib/aarch64-linux-gnu/libc.so.6, which ld looks for under --sysroot only
 * when the script itself lies inside the sysroot (and the cache may be reached through a symlink). So the build
 * gets a sysroot of its own (usr -> the build-only tree's usr, lib -> usr/lib) and a libc.so that names its
 * members by soname, found through -L in the runtime tree.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_ROOT, LIB_DIR, PROJECT_ROOT, shown } from "../firmware/paths.ts";

export const TEEBENCH_SOURCE = join(PROJECT_ROOT, "guest/teebench/teebench.c");
const BUILD_DIR = join(PROJECT_ROOT, "build/teebench");
const CC = "aarch64-linux-gnu-gcc";
/** What the compile needs from the cache: if one is missing, the cache predates these packages in fetch.ts. */
const NEEDED = [...["usr/include/tee_client_api.h", "usr/include/stdio.h", "usr/include/linux/limits.h",
  "usr/lib/aarch64-linux-gnu/crt1.o"].map((f) => join(DEV_ROOT, f)), join(LIB_DIR, "libteec.so.2"), join(LIB_DIR, "libc.so.6")];

const LIBC_SCRIPT = `/* Written by tools/images/teebench.ts: glibc's libc.so with sonames instead of absolute paths. */
OUTPUT_FORMAT(elf64-littleaarch64)
GROUP ( libc.so.6 libc_nonshared.a AS_NEEDED ( ld-linux-aarch64.so.1 ) )
`;

/** The sysroot view of the cache and the libc.so override; returns [sysroot, library dir]. */
function prepareSysroot(): [string, string] {
  const sysroot = join(BUILD_DIR, "sysroot");
  const lib = join(BUILD_DIR, "lib");
  rmSync(sysroot, { recursive: true, force: true });
  mkdirSync(sysroot, { recursive: true });
  symlinkSync(join(DEV_ROOT, "usr"), join(sysroot, "usr"));
  symlinkSync("usr/lib", join(sysroot, "lib"));
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, "libc.so"), LIBC_SCRIPT);
  return [sysroot, lib];
}

/** Compiles teebench to `out` (an aarch64 Linux executable needing libteec.so.2 and libc.so.6). */
export function buildTeebench(out: string): void {
  const missing = NEEDED.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`${shown(missing[0])} is missing: run make deps (fetches optee-client-dev, libc6-dev, linux-libc-dev, libteec2)`);
  const [sysroot, lib] = prepareSysroot();
  const args = [`--sysroot=${sysroot}`, "-O2", "-Wall", "-Wextra", "-Werror", TEEBENCH_SOURCE, "-o", out, `-L${lib}`, `-L${LIB_DIR}`,
    join(LIB_DIR, "libteec.so.2")];
  const r = spawnSync(CC, args, { encoding: "utf8" });
  if (r.error) throw new Error(`could not run ${CC} (${r.error.message}): run make deps`);
  if (r.status !== 0) throw new Error(`compiling ${shown(TEEBENCH_SOURCE)} failed:\n${(r.stderr || r.stdout).trim()}`);
}
