/**
 * `make bench SETUP=rpi4`: how long the same Debian kernel and initramfs take to reach /init on QEMU raspi4b
 * with the board's options (configs/boards/rpi4.ts: -global has-security-extensions, cntfrq 54 MHz), all behind
 * Debian's TF-A rpi4 BL31:
 *   native     Linux directly as BL33 (the board's DTB with QEMU's fix-ups, bootargs and the initramfs in
 *              /chosen), limited to linux1's share with nr_cpus= and mem=; no hypervisor
 *   alone      as linux1 (2 vCPUs, 256 MiB), the hypervisor's only guest
 *   alongside  as linux1, one of the rpi4 setup's three guests booting at once
 * Under `-icount` (tools/bench/bench-lib.ts), so a guest second is 10^9 instructions of the whole machine, read
 * from the generic timer's counter at /init (since power-on: firmware and hypervisor included) and the kernel's
 * own uptime. Figures, not tests. Writes build/bench/rpi4-boot.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { setup } from "../../configs/rpi4.ts";
import * as P from "../firmware/paths.ts";
import { sharedInitramfs } from "../images/qemu-loads.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { patchBl31Stub, qemuBoardDtb } from "../run/firmware.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { withBootArgs } from "../run/native.ts";
import { runQemu } from "../run/qemu.ts";
import { BENCH_DIR, ICOUNT, ICOUNT_ARGS, RUNS, consoleLog, instructions, log, ratio, spread } from "./bench-lib.ts";

const GUEST = "linux1";
const TIMEOUT_S = 1200;
const board = setup.board;
/** Where the native run's kernel and initramfs go: the Image where BL31 enters BL33, the initramfs past it. */
const NATIVE_KERNEL = board.hypervisor.image.base;
const NATIVE_INITRD = 0x0400_0000;

/** Where /init was, by both clocks, in guest seconds (the GUEST-READY line of tools/images/init-script.ts). */
interface InitTimes {
  sincePowerOn: number | null;
  kernelUptime: number | null;
}

function initTimes(name: string, lines: string[]): InitTimes {
  const line = lines.find((l) => l.startsWith(`[${name}] GUEST-READY `)) ?? "";
  const field = (key: string) => {
    const m = new RegExp(`\\b${key}=([\\d.]+)`).exec(line);
    return m ? Number(m[1]) : null;
  };
  return { sincePowerOn: field("since_power_on"), kernelUptime: field("seconds_to_init") };
}

function fdtput(dtb: string, args: string[]): void {
  const r = spawnSync("fdtput", [dtb, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`fdtput ${args.join(" ")}: ${r.stderr}`);
}

/** Linux straight behind BL31 with linux1's command line (its earlycon on the board's PL011), CPUs and memory. */
async function native(guest: GuestConfig, dir: string): Promise<InitTimes> {
  const initramfs = sharedInitramfs();
  const dtb = qemuBoardDtb(board, join(dir, "native.dtb"));
  const cmdline = withBootArgs(guest.cmdline.replace(/earlycon=\S+/, `earlycon=pl011,0x${board.uart0.toString(16)}`),
    { guest: "native", run: "", nr_cpus: String(guest.cpus.length), mem: `${guest.ram.size >> 20}M` });
  fdtput(dtb, ["-t", "s", "/chosen", "bootargs", cmdline]);
  fdtput(dtb, ["-t", "x", "/chosen", "linux,initrd-start", "0", NATIVE_INITRD.toString(16)]);
  fdtput(dtb, ["-t", "x", "/chosen", "linux,initrd-end", "0", (NATIVE_INITRD + statSync(initramfs).size).toString(16)]);
  const bl31 = join(dir, "bl31-native.bin");
  writeFileSync(bl31, patchBl31Stub(readFileSync(P.RPI4_BL31), board.dtb, NATIVE_KERNEL));
  const out = consoleLog(join(dir, "native.log"));
  const r = await runQemu({
    board, loads: [{ file: bl31, addr: 0 }, { file: dtb, addr: board.dtb }, { file: P.kernelImage(), addr: NATIVE_KERNEL },
      { file: initramfs, addr: NATIVE_INITRD }],
    extraArgs: ICOUNT_ARGS, secureLog: join(dir, "native-serial1.log"), timeoutSeconds: TIMEOUT_S, onLine: out.line,
  });
  await out.close();
  return required(initTimes(GUEST, r.lines.map((l) => l.replace(/^GUEST-READY name=native/, `[${GUEST}] GUEST-READY name=native`))), "native", dir);
}

function required(t: InitTimes, where: string, dir: string): InitTimes {
  if (t.sincePowerOn === null) throw new UserError(`rpi4 boot to /init, ${where}: no GUEST-READY line; see ${P.shown(join(dir, `${where}.log`))}`);
  return t;
}

async function underHypervisor(s: Setup, where: string, dir: string): Promise<InitTimes> {
  const out = consoleLog(join(dir, `${where}.log`));
  const r = await bootGuests(s, { timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS, onLine: out.line });
  await out.close();
  return required(initTimes(GUEST, r.result.lines), where, dir);
}

async function main(): Promise<void> {
  const guest = setup.guests.find((g) => g.name === GUEST);
  if (!guest) throw new Error(`configs/rpi4.ts has no guest ${GUEST}`);
  const dir = join(BENCH_DIR, "rpi4");
  mkdirSync(dir, { recursive: true });
  const bootOnly = (g: GuestConfig): GuestConfig => ({ ...g, cmdline: withBootArgs(g.cmdline, { run: "" }) });
  const alone: Setup = { ...setup, name: "bench-rpi4-alone", guests: [bootOnly(guest)] };
  const three: Setup = { ...setup, name: "bench-rpi4-three", guests: setup.guests.map(bootOnly) };
  log(`rpi4 boot to /init on raspi4b: native (nr_cpus=${guest.cpus.length} mem=${guest.ram.size >> 20}M) / ${GUEST} alone / ${GUEST} one of three, ${RUNS} run(s), -icount ${ICOUNT}`);
  const runs = { native: [] as InitTimes[], alone: [] as InitTimes[], alongside: [] as InitTimes[] };
  for (let i = 1; i <= RUNS; i++) {
    runs.native.push(await native(guest, dir));
    runs.alone.push(await underHypervisor(alone, "alone", dir));
    runs.alongside.push(await underHypervisor(three, "alongside", dir));
    const [n, a, s] = [runs.native[i - 1], runs.alone[i - 1], runs.alongside[i - 1]];
    log(`run ${i}/${RUNS}: since power-on native ${n.sincePowerOn} s, alone ${a.sincePowerOn} s, alongside ${s.sincePowerOn} s (kernel uptime ${n.kernelUptime} / ${a.kernelUptime} / ${s.kernelUptime})`);
  }
  const clock = (key: keyof InitTimes) => {
    const f = (xs: InitTimes[]) => spread(xs.map((t) => instructions(t[key])));
    const n = f(runs.native), a = f(runs.alone), s = f(runs.alongside);
    return { native: n, alone: a, alongside: s, ratioAlone: ratio(n.median, a.median), ratioAlongside: ratio(n.median, s.median) };
  };
  const fromPowerOn = clock("sincePowerOn"), kernelOnly = clock("kernelUptime");
  const g = (x: number | null) => (x === null ? "?" : (x / 1e9).toFixed(3) + " G");
  log(`instructions to ${GUEST}'s /init from power-on (median of ${RUNS}; the kernel's own uptime in brackets):`);
  log(`  native                 ${g(fromPowerOn.native.median)}  (${g(kernelOnly.native.median)})`);
  log(`  alone, hypervisor      ${g(fromPowerOn.alone.median)}  ${fromPowerOn.ratioAlone}× native  (${g(kernelOnly.alone.median)}, ${kernelOnly.ratioAlone}×)`);
  log(`  one of three guests    ${g(fromPowerOn.alongside.median)}  ${fromPowerOn.ratioAlongside}× native  (${g(kernelOnly.alongside.median)}, ${kernelOnly.ratioAlongside}×)`);
  const file = join(BENCH_DIR, "rpi4-boot.json");
  writeFileSync(file, JSON.stringify({ board: board.name, machine: board.qemu.machine, globals: board.qemu.globals, guest: GUEST,
    runs: RUNS, icount: ICOUNT, results: runs, fromPowerOn, kernelOnly }, null, 2) + "\n");
  log(`wrote ${P.shown(file)}`);
}

runMain("bench", main);
