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
 * /init reads the guest's `key=value` boot arguments from its environment (the kernel hands over the ones it
 * does not know; a value cannot hold a space):
 *   guest=<name>        printed in its marker lines
 *   run=<step>,<step>…  what to do, in order:
 *     isolation         read one word past the end of its RAM (probe_addr, default 0x50000000), say what happened
 *     teecheck          load tee + optee, then say whether /dev/tee0 exists (a guest without TEE must say absent)
 *     xtest             load tee + optee, wait for /dev/teepriv0 (tee_wait seconds, default 30), start
 *                       `tee-supplicant -d`, run xtest with the `xtest=` selection, print all of its output
 *     idle              load tee + optee, then sit idle (every vCPU in WFI) for hold= seconds: OP-TEE's watchdog
 *                       sends a notification every second (the notification-latency bench)
 *     busy              the same with one busy loop per CPU, so that no vCPU waits in WFI
 *   hold=<seconds>      how long idle and busy last (default 30)
 *   xtest=<args>        xtest's arguments with commas for spaces (`xtest=-t,regression,1001,4001` runs
 *                       `xtest -t regression 1001 4001`); `all` (the default) runs the whole default suite
 *                       (regression + pkcs11). A bare number is a substring match on case names.
 *     teebench          load tee + optee, wait for /dev/tee0, run guest/teebench (TEEC calls to OP-TEE's
 *                       invoke-tests pseudo TA, timed one by one; no tee-supplicant) and print its lines
 *   teebench_n=<N>      calls per teebench path (default 200)
 *   teebench_procs=<n>  n teebench processes at once, named <guest>.1 … <guest>.n (default 1: one, named <guest>)
 *   teebench_samples=1  teebench also prints every call's time (TEEBENCH-SAMPLES lines)
 *   bench_at=<seconds>  teebench starts once the machine's counter reaches this many seconds since power-on
 *                       (guests that finish booting at different times then measure at the same time)
 *   bench_until=<s>     and stops after the round during which it reaches this many (so they stop together)
 *   tee_wait=<seconds>  how long the xtest and teebench steps wait for the optee driver's devices
 *   shell=1             stay in a shell after the steps (a person at `make run`)
 *   poweroff_at=<s>     after the steps, stay up (idle) until the machine's counter reaches <s> seconds since
 *                       power-on: the benchmarks keep every guest up until all are measured, as a powered-off
 *                       guest's CPU can cost the others instructions
 * and prints, on the console:
 *   GUEST-READY name=<guest> kernel=<release> nproc=<n> mem_kb=<MemTotal> seconds_to_init=<uptime at /init>
 *               since_power_on=<the generic timer's counter at /init, in seconds: firmware and hypervisor included>
 *   ISOLATION-PROBE start addr=<addr>
 *   ISOLATION-PROBE result=bus-error | result=read value=<v> | result=exit-<status>
 *   TEE-DEVICE present | TEE-DEVICE absent
 *   XTEST-START name=<guest> args=<xtest=, as given>
 *   XTEST-ERROR name=<guest> <what went wrong, in words>
 *   XTEST-END name=<guest> status=<xtest's exit status (its failed case count) | no-tee | no-supplicant> seconds=<wall>
 *   HOLD-START name=<guest> load=idle|busy seconds=<n>, HOLD-END name=<guest> load=idle|busy
 *   TEEBENCH-START … / TEEBENCH path=… / TEEBENCH-ERROR … / TEEBENCH-END name=<guest> status=ok|failed|no-tee
 *                       (guest/teebench/teebench.c documents them)
 *   RUN unknown: <step>
 *   TEE-NOTIF-IRQS name=<guest> count=<n>   OP-TEE notification interrupts the optee driver took (its
 *                       /proc/interrupts line "optee_notification", all CPUs); 0 without one
 *   GUEST-DONE name=<guest>
 * then powers the guest off (PSCI SYSTEM_OFF). Kernel messages stop reaching the console while xtest runs
 * (`dmesg -n 1`), so they cannot split xtest's lines.
 *
 * Usage: tsx tools/images/initramfs.ts <out.cpio.gz>
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

/** The applets /init (and a person at a guest's shell) needs; each must be in the busybox binary. */
export const APPLETS = [
  "sh", "seq", "mount", "umount", "mkdir", "cat", "echo", "ls", "ln", "insmod", "modprobe", "ip", "ifconfig", "devmem",
  "poweroff", "reboot", "sleep", "uname", "nproc", "grep", "sed", "awk", "head", "tail", "dmesg", "cut", "tr", "wc",
  "ps", "kill", "test", "[", "true", "false", "hexdump", "xxd", "env", "printf", "date", "mdev",
  "setsid", "cttyhack", "pidof", "usleep",
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

export const INIT_SCRIPT = `#!/bin/sh
# /init of every guest, written by tools/images/initramfs.ts. The kernel hands the boot arguments it does not
# know (guest=, run=, probe_addr=, xtest=, tee_wait=, shell=) to us as environment variables.
export PATH=/bin:/usr/bin:/sbin:/usr/sbin

# The archive has no device nodes, so the kernel started us without a console: get one from devtmpfs first.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
read -r up _ </proc/uptime
since_power_on=$(teebench --since-power-on 2>/dev/null || echo unknown)
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
ip link set lo up

guest=\${guest:-unnamed}
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
echo "GUEST-READY name=$guest kernel=$(uname -r) nproc=$(nproc) mem_kb=$mem_kb seconds_to_init=$up since_power_on=$since_power_on"

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

now() { read -r t _ </proc/uptime; echo "$t"; }
# To /proc/uptime's 10 ms: under -icount shift=0 a short xtest selection takes ~1.5 s of guest time.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# tee, then optee (there is no modules.dep). The optee driver probes while it loads if the device tree has
# /firmware/optee and OP-TEE answers; its devices appear in devtmpfs a moment later.
tee_loaded=
load_tee() {
  [ -n "$tee_loaded" ] && return
  tee_loaded=1
  insmod /lib/modules/tee.ko && insmod /lib/modules/optee.ko
}

# wait_for <path> <seconds>: succeeds once <path> exists.
wait_for() {
  n=0
  while [ ! -e "$1" ]; do
    [ "$n" -ge $(($2 * 10)) ] && return 1
    usleep 100000
    n=$((n + 1))
  done
}

tee_check() {
  load_tee
  if wait_for /dev/tee0 2; then echo "TEE-DEVICE present"; else echo "TEE-DEVICE absent"; fi
}

# xtest= with commas for spaces; "all" (or nothing) is the whole default suite.
run_xtest() {
  selection=\${xtest:-all}
  args=$(echo "$selection" | tr ',' ' ')
  [ "$args" = all ] && args=
  wait_s=\${tee_wait:-30}
  echo "XTEST-START name=$guest args=$selection"
  t0=$(now)
  load_tee
  if ! wait_for /dev/teepriv0 "$wait_s"; then
    echo "XTEST-ERROR name=$guest /dev/teepriv0 never appeared within $wait_s s: the optee driver found no OP-TEE (is the OP-TEE mediator in the hypervisor? does this guest's device tree have /firmware/optee?)"
    dmesg | grep -e ' optee: ' -e ' tee: ' | tail -n 5 | sed "s/^/XTEST-ERROR name=$guest dmesg: /"
    echo "XTEST-END name=$guest status=no-tee seconds=$(since "$t0")"
    return
  fi
  if ! tee-supplicant -d; then
    echo "XTEST-ERROR name=$guest tee-supplicant -d failed"
    echo "XTEST-END name=$guest status=no-supplicant seconds=$(since "$t0")"
    return
  fi
  dmesg -n 1
  t0=$(now)
  xtest $args # the selection splits into words on purpose
  status=$?
  echo "XTEST-END name=$guest status=$status seconds=$(since "$t0")"
}

# hold <idle|busy>: the TEE driver loaded, stay hold= seconds idle, or with every CPU in a busy loop.
hold() {
  load_tee
  wait_for /dev/teepriv0 \${tee_wait:-30}
  seconds=\${hold:-30}
  pids=
  if [ "$1" = busy ]; then
    for _ in $(seq "$(nproc)"); do
      sh -c 'while :; do :; done' &
      pids="$pids $!"
    done
  fi
  echo "HOLD-START name=$guest load=$1 seconds=$seconds"
  sleep "$seconds"
  [ -n "$pids" ] && kill $pids
  echo "HOLD-END name=$guest load=$1"
}

# TEEC calls to the invoke-tests pseudo TA, which lives in OP-TEE's core: no TA to load, so no tee-supplicant.
run_teebench() {
  load_tee
  wait_s=\${tee_wait:-30}
  if ! wait_for /dev/tee0 "$wait_s"; then
    echo "TEEBENCH-ERROR name=$guest /dev/tee0 never appeared within $wait_s s: the optee driver found no OP-TEE"
    echo "TEEBENCH-END name=$guest status=no-tee"
    return
  fi
  dmesg -n 1
  procs=\${teebench_procs:-1}
  if [ "$procs" -le 1 ]; then
    teebench_one "$guest"
    return
  fi
  i=1
  while [ "$i" -le "$procs" ]; do
    teebench_one "$guest.$i" &
    i=$((i + 1))
  done
  wait
}

teebench_one() {
  teebench -g "$1" -n "\${teebench_n:-200}" -a "\${bench_at:-0}" -u "\${bench_until:-0}" \${teebench_samples:+-v}
}

for step in $(echo "\${run:-}" | tr ',' ' '); do
  case "$step" in
    isolation) isolation_probe ;;
    teecheck) tee_check ;;
    xtest) run_xtest ;;
    idle) hold idle ;;
    busy) hold busy ;;
    teebench) run_teebench ;;
    *) echo "RUN unknown: $step" ;;
  esac
done

# OP-TEE's asynchronous notifications (issue 10): the interrupts the optee driver took, summed over CPUs.
count=$(awk '/optee_notification/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)
echo "TEE-NOTIF-IRQS name=$guest count=$count"
echo "GUEST-DONE name=$guest"
if [ -n "\${poweroff_at:-}" ]; then
  usleep "$(awk -v at="$poweroff_at" -v now="$(teebench --since-power-on)" 'BEGIN { d = at - now; printf "%d", (d > 0 ? d * 1e6 : 0) }')"
fi
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
  const dir = (d: string) => (existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : [d]);
  return [BUSYBOX, ...LIBS.map((l) => join(LIB_DIR, l)), ...TEE_PROGRAMS.map((p) => p.from), ...dir(TA_DIR),
    ...dir(SUPPLICANT_PLUGIN_DIR), teeModule(), opteeModule(), TEEBENCH_SOURCE, fileURLToPath(new URL("./teebench.ts", import.meta.url)),
    fileURLToPath(import.meta.url)];
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
