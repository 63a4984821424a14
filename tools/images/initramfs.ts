/**
 * The guests' shared initramfs, built from the firmware cache (never from the host): busybox-static and a
 * link per applet /init uses, the dynamic loader and libc (for xtest and tee-supplicant later), the tee and
 * optee modules decompressed, and /init. Staged in a temporary directory, archived by `cpio -H newc`
 * (sorted, root-owned, fixed mtimes: the same inputs give the same bytes) and gzip'ed by node:zlib.
 *
 * /init reads the guest's `key=value` boot arguments from its environment:
 *   guest=<name>        printed in its marker lines
 *   run=isolation       read one word past the end of its RAM (probe_addr, default 0x50000000) and say what happened
 * and prints, on the console:
 *   GUEST-READY name=<guest> kernel=<release> nproc=<n> mem_kb=<MemTotal> seconds_to_init=<uptime at /init>
 *   ISOLATION-PROBE start addr=<addr>
 *   ISOLATION-PROBE result=bus-error | result=read value=<v> | result=exit-<status>
 *   RUN unknown: <run>
 *   GUEST-DONE name=<guest>
 * then powers the guest off (PSCI SYSTEM_OFF).
 *
 * Usage: tsx tools/images/initramfs.ts <out.cpio.gz>
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync, copyFileSync, existsSync, lutimesSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync,
  symlinkSync, writeFileSync, lstatSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { BUSYBOX, LIB_DIR, opteeModule, shown, teeModule } from "../firmware/paths.ts";

/** The applets /init (and a person at a guest's shell) needs; each must be in the busybox binary. */
export const APPLETS = [
  "sh", "mount", "umount", "mkdir", "cat", "echo", "ls", "ln", "insmod", "modprobe", "ip", "ifconfig", "devmem",
  "poweroff", "reboot", "sleep", "uname", "nproc", "grep", "sed", "awk", "head", "tail", "dmesg", "cut", "tr", "wc",
  "ps", "kill", "test", "[", "true", "false", "hexdump", "xxd", "env", "printf", "date", "mdev",
];

/** The loader and the libraries from usr/lib/aarch64-linux-gnu (glibc's PT_INTERP is /lib/ld-linux-aarch64.so.1). */
export const LIBS = ["ld-linux-aarch64.so.1", "libc.so.6"];

/** Every entry gets this mtime, so the archive depends only on its contents (SOURCE_DATE_EPOCH wins if set). */
const FIXED_MTIME = Number(process.env.SOURCE_DATE_EPOCH ?? 1_700_000_000);

export const INIT_SCRIPT = `#!/bin/sh
# /init of every guest, written by tools/images/initramfs.ts. The kernel hands the boot arguments it does not
# know (guest=, run=, probe_addr=) to us as environment variables.
export PATH=/bin:/usr/bin:/sbin:/usr/sbin

# The archive has no device nodes, so the kernel started us without a console: get one from devtmpfs first.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
read -r up _ </proc/uptime
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
ip link set lo up

guest=\${guest:-unnamed}
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
echo "GUEST-READY name=$guest kernel=$(uname -r) nproc=$(nproc) mem_kb=$mem_kb seconds_to_init=$up"

# Read one 32-bit word at probe_addr (default: just past 256 MiB of RAM at 0x40000000). Outside our RAM the
# hypervisor must refuse it: the read dies of SIGBUS (status 128 + 7).
isolation_probe() {
  addr=\${probe_addr:-0x50000000}
  echo "ISOLATION-PROBE start addr=$addr"
  value=$( (devmem "$addr" 32) )
  status=$?
  if [ "$status" -eq 135 ]; then
    echo "ISOLATION-PROBE result=bus-error"
  elif [ "$status" -eq 0 ]; then
    echo "ISOLATION-PROBE result=read value=$value"
  else
    echo "ISOLATION-PROBE result=exit-$status"
  fi
}

case "\${run:-}" in
  "") ;;
  isolation) isolation_probe ;;
  *) echo "RUN unknown: $run" ;;
esac

echo "GUEST-DONE name=$guest"
# shell=1 (make run at a terminal): stay up for a person; the console reaches us through the hypervisor.
if [ "\${shell:-}" = 1 ]; then
  echo "GUEST-SHELL name=$guest: exit the shell to power this guest off"
  setsid cttyhack sh
fi
poweroff -f
sleep 5
echo "GUEST-DONE poweroff failed"
`;

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
  return [BUSYBOX, ...LIBS.map((l) => join(LIB_DIR, l)), teeModule(), opteeModule(), fileURLToPath(import.meta.url)];
}

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
  for (const d of ["bin", "dev", "etc", "proc", "root", "sys", "usr/bin", "usr/lib/aarch64-linux-gnu", "usr/lib/modules", "usr/sbin"]) dir(d);
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

  for (const lib of LIBS) {
    const from = join(LIB_DIR, lib);
    if (!existsSync(from)) throw new Error(`${shown(from)} is missing: run make deps (fetches libc6)`);
    copyFileSync(from, join(root, "usr/lib/aarch64-linux-gnu", lib));
    chmodSync(join(root, "usr/lib/aarch64-linux-gnu", lib), 0o755);
  }

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
    writeFileSync(outPath, gz);
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
