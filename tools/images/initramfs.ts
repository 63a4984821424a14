/**
 * The guests' shared initramfs, built from the firmware cache (never from the host): busybox-static and a
 * link per applet /init uses; OP-TEE's normal-world userland — xtest, tee-supplicant, the test TAs in
 * /lib/optee_armtz (where tee-supplicant looks: TEEC_LOAD_PATH /lib + "optee_armtz"), its plugin in
 * /usr/lib/tee-supplicant/plugins/ — with their library closure (read from each binary's DT_NEEDED with
 * readelf: libteec, libckteec, libcrypto, libz, libzstd, libm, libc, the loader); the tee and optee modules
 * decompressed; teebench, the TEEC benchmark (guest/teebench/, compiled here by tools/images/teebench.ts);
 * and /init. Staged in a temporary directory, archived by `cpio -H newc` (sorted, root-owned,
 * fixed mtimes: the same inputs give the same bytes) and gzip'ed by node:zlib. The same archive serves the
 * guests under the hypervisor and the native baseline (tools/run/native.ts).
 *
 * /init itself, and the boot arguments and console lines it speaks, are in init-script.ts.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync, copyFileSync, existsSync, lutimesSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync,
  rmSync, symlinkSync, writeFileSync, lstatSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildTeebench, TEEBENCH_SOURCE } from "./teebench.ts";
import {
  BUSYBOX, LIB_DIR, SUPPLICANT_PLUGIN_DIR, TA_DIR, TEE_SUPPLICANT, XTEST, opteeModule, shown, teeModule,
} from "../firmware/paths.ts";
import { INIT_SCRIPT } from "./init-script.ts";

export { INIT_SCRIPT };

/** The applets /init (and a person at a guest's shell) needs; each must be in the busybox binary. */
export const APPLETS = [
  "sh", "seq", "mount", "umount", "mkdir", "cat", "echo", "ls", "ln", "insmod", "modprobe", "ip", "ifconfig", "devmem",
  "poweroff", "reboot", "sleep", "uname", "nproc", "grep", "sed", "awk", "head", "tail", "dmesg", "cut", "tr", "wc",
  "ps", "kill", "test", "[", "true", "false", "hexdump", "xxd", "env", "printf", "date", "mdev",
  "setsid", "cttyhack", "pidof", "usleep", "od", "gzip", "base64",
];

/** The loader and libc, always there (glibc's PT_INTERP is /lib/ld-linux-aarch64.so.1); the rest is the closure below. */
export const LIBS = ["ld-linux-aarch64.so.1", "libc.so.6"];

/** OP-TEE's normal-world programs: where they come from in the cache, where they go in the archive. */
export const TEE_PROGRAMS = [
  { from: XTEST, to: "usr/bin/xtest" },
  { from: TEE_SUPPLICANT, to: "usr/sbin/tee-supplicant" },
];
/** tee-supplicant's TA path (TEEC_LOAD_PATH "/lib" + DEFAULT_TA_DIR) and plugin path, in the archive. */
export const TA_PATH = "usr/lib/optee_armtz";
export const PLUGIN_PATH = "usr/lib/tee-supplicant/plugins";

/** Every entry gets this mtime, so the archive depends only on its contents (SOURCE_DATE_EPOCH wins if set). */
const FIXED_MTIME = Number(process.env.SOURCE_DATE_EPOCH ?? 1_700_000_000);


/** The applet names busybox carries: its table of NUL-separated names starts "[\0[[\0" (it cannot run on this host). */
export function busyboxApplets(binary: string): Set<string> {
  const data = readFileSync(binary);
  const start = data.indexOf(Buffer.from("[\0[[\0", "latin1"));
  if (start < 0) throw new Error(`${binary}: no applet table found (not a busybox binary?)`);
  const names = new Set<string>();
  let at = start;
  for (;;) {
    const end = data.indexOf(0, at);
    const name = data.toString("latin1", at, end);
    if (!/^[\x21-\x7e]+$/.test(name)) break;
    names.add(name);
    at = end + 1;
  }
  return names;
}

/** The files the archive is made of: it is stale when one of them is newer. */
export function initramfsInputs(): string[] {
  const dir = (d: string) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : [d]);
  return [BUSYBOX, ...LIBS.map((l) => join(LIB_DIR, l)), ...TEE_PROGRAMS.map((p) => p.from), ...dir(TA_DIR),
    ...dir(SUPPLICANT_PLUGIN_DIR), teeModule(), opteeModule(), TEEBENCH_SOURCE, fileURLToPath(new URL("./teebench.ts", import.meta.url)),
    fileURLToPath(new URL("./init-script.ts", import.meta.url)), fileURLToPath(import.meta.url)];
}

/** The DT_NEEDED entries of an ELF file, as `readelf -d` lists them. */
export function neededLibraries(elf: string): string[] {
  const out = run(READELF, ["-d", elf]).toString();
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/**
 * Every library the given programs load, transitively, by soname, in LIB_DIR (the loader and libc included).
 * A soname that is not there is an error naming who needs it: fetch.ts's package list lacks its package.
 */
export function libraryClosure(programs: string[]): string[] {
  const found = new Set<string>(LIBS);
  const todo = programs.map((p) => ({ file: p, by: p }));
  while (todo.length) {
    const { file } = todo.pop()!;
    for (const soname of neededLibraries(file)) {
      if (found.has(soname)) continue;
      const path = join(LIB_DIR, soname);
      if (!existsSync(path)) throw new Error(`${shown(file)} needs ${soname}, which is not in ${shown(LIB_DIR)}: add its package to tools/firmware/fetch.ts`);
      found.add(soname);
      todo.push({ file: path, by: file });
    }
  }
  return [...found].sort();
}

/** The cross binutils' readelf (make deps installs it); any readelf reads an aarch64 ELF's dynamic section. */
const READELF = "aarch64-linux-gnu-readelf";

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): Buffer {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`could not run ${cmd} (${r.error.message}): run make deps`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (status ${r.status}):\n${r.stderr.toString().trim()}`);
  return r.stdout;
}

/** Fills `root` with the guest's file system. */
export function stageInitramfs(root: string): void {
  if (!existsSync(BUSYBOX)) throw new Error(`${shown(BUSYBOX)} is missing: run make deps (fetches busybox-static)`);
  const dir = (p: string, mode = 0o755) => {
    mkdirSync(join(root, p), { recursive: true });
    chmodSync(join(root, p), mode);
  };
  for (const d of ["bin", "dev", "etc", "proc", "root", "sys", "usr/bin", "usr/lib/aarch64-linux-gnu", "usr/lib/modules", "usr/sbin",
    TA_PATH, PLUGIN_PATH, "var/lib/optee-client/data"]) dir(d);
  dir("tmp", 0o1777);
  // Merged /usr, as in Debian: /lib is usr/lib, and the loader is where PT_INTERP says.
  symlinkSync("usr/lib", join(root, "lib"));
  symlinkSync("bin", join(root, "sbin"));
  symlinkSync("aarch64-linux-gnu/ld-linux-aarch64.so.1", join(root, "usr/lib/ld-linux-aarch64.so.1"));

  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  const have = busyboxApplets(BUSYBOX);
  const missing = APPLETS.filter((a) => !have.has(a));
  if (missing.length) throw new Error(`${shown(BUSYBOX)} lacks applets /init needs: ${missing.join(" ")}`);
  for (const a of APPLETS) symlinkSync("busybox", join(root, "bin", a));

  // xtest, tee-supplicant and its plugin, and every library they load (each under its soname: the cache's
  // soname links are followed, so the archive holds one file per library and no dangling link).
  const plugins = existsSync(SUPPLICANT_PLUGIN_DIR) ? readdirSync(SUPPLICANT_PLUGIN_DIR).sort() : [];
  const tas = existsSync(TA_DIR) ? readdirSync(TA_DIR).filter((f) => f.endsWith(".ta")).sort() : [];
  for (const p of TEE_PROGRAMS) {
    if (!existsSync(p.from)) throw new Error(`${shown(p.from)} is missing: run make deps (fetches optee-test-qemu, tee-supplicant)`);
  }
  if (!tas.length) throw new Error(`no TAs in ${shown(TA_DIR)}: run make deps (fetches optee-test-qemu)`);
  const copy = (from: string, to: string, mode: number) => {
    copyFileSync(from, join(root, to));
    chmodSync(join(root, to), mode);
  };
  for (const p of TEE_PROGRAMS) copy(p.from, p.to, 0o755);
  for (const p of plugins) copy(join(SUPPLICANT_PLUGIN_DIR, p), `${PLUGIN_PATH}/${p}`, 0o644);
  for (const ta of tas) copy(join(TA_DIR, ta), `${TA_PATH}/${ta}`, 0o444);
  for (const lib of LIBS) {
    if (!existsSync(join(LIB_DIR, lib))) throw new Error(`${shown(join(LIB_DIR, lib))} is missing: run make deps (fetches libc6)`);
  }
  buildTeebench(join(root, "usr/bin/teebench"));
  const programs = [...TEE_PROGRAMS.map((p) => p.from), ...plugins.map((p) => join(SUPPLICANT_PLUGIN_DIR, p)), join(root, "usr/bin/teebench")];
  for (const lib of libraryClosure(programs)) copy(join(LIB_DIR, lib), `usr/lib/aarch64-linux-gnu/${lib}`, 0o755);

  // busybox insmod takes plain .ko; optee needs tee loaded first (there is no modules.dep).
  for (const [xz, name] of [[teeModule(), "tee.ko"], [opteeModule(), "optee.ko"]]) {
    if (!existsSync(xz)) throw new Error(`${shown(xz)} is missing: run make deps (fetches the kernel)`);
    const out = join(root, "usr/lib/modules", name);
    writeFileSync(out, run("xz", ["-dc", xz]));
    chmodSync(out, 0o644);
  }

  writeFileSync(join(root, "init"), INIT_SCRIPT);
  chmodSync(join(root, "init"), 0o755);
}

/** Every path under root, relative, sorted bytewise. */
function listTree(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...listTree(root, p));
  }
  return out;
}

/** Archives a staged tree: newc, root-owned, sorted, fixed mtimes, no device numbers; gzip'ed. */
export function archiveTree(root: string): Buffer {
  const entries = listTree(root).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  // Deepest first, so a directory's mtime is set after its entries stop changing it.
  for (const p of [...entries].reverse()) lutimesSync(join(root, p), FIXED_MTIME, FIXED_MTIME);
  const cpio = run("cpio", ["--quiet", "-o", "-H", "newc", "-R", "0:0", "--reproducible"], {
    cwd: root,
    input: entries.join("\n") + "\n",
  });
  return gzipSync(cpio, { level: 9 });
}

/** Builds the shared initramfs at outPath; returns its size in bytes. */
export function buildInitramfs(outPath: string): number {
  const root = mkdtempSync(join(tmpdir(), "initramfs-"));
  try {
    stageInitramfs(root);
    const gz = archiveTree(root);
    mkdirSync(dirname(outPath), { recursive: true });
    // Written aside and renamed: a QEMU run that is reading the old archive never sees half of the new one.
    const part = `${outPath}.${process.pid}.part`;
    writeFileSync(part, gz);
    renameSync(part, outPath);
    return gz.length;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: initramfs.ts <out.cpio.gz>");
    process.exit(2);
  }
  const started = Date.now();
  try {
    const size = buildInitramfs(out);
    console.log(`[images] ${shown(out)}: ${(size / 1048576).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`[images] initramfs: ${(e as Error).message}`);
    process.exit(1);
  }
}
