/**
 * `make bench` (boot to /init): how long the same kernel and initramfs take to reach /init
 *   native     on the native baseline (tools/run/native.ts: TF-A + non-virtualized OP-TEE + the kernel as BL33,
 *              -smp 2, the kernel limited to tee1's 512 MiB with mem=), no hypervisor;
 *   alone      as tee1 (2 vCPUs, 512 MiB), the hypervisor's only guest;
 *   alongside  as tee1, one of the default setup's three guests booting at once.
 * All on the same QEMU machine (the board's `virt,secure=on,virtualization=on,gic-version=3 -cpu max`) under
 * `-icount shift=0` (tools/bench/bench-lib.ts), so a guest second is 10^9 instructions of the whole machine.
 * Two clocks, both read by /init: the generic timer's counter, which counts from power-on (firmware, OP-TEE's
 * boot and the hypervisor's included: the figure), and the kernel's own uptime (its boot alone). Alongside, the
 * other guests' instructions count too (QEMU runs the CPUs one at a time). /init does nothing else (run=).
 * A third figure counts only the guest's own CPUs (tools/bench/cpu-insns.ts): what they had executed when /init
 * started, which is what one of three guests would take on hardware that runs them in parallel.
 * Figures, not tests: the goal is ≤ 1.2× native alone, ≤ 1.3× one of three. Writes the bootToInit section of
 * build/bench/end-to-end.json (and build/results/bench-boot.json, as before).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { setup } from "../../configs/qemu-virt.ts";
import { sharedInitramfs } from "../images/qemu-loads.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { RESULTS } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { bootNative, nativeFlash, withBootArgs } from "../run/native.ts";
import { BENCH_DIR, ICOUNT, ICOUNT_ARGS, RUNS, consoleLog, instructions, log, mergePart, ratio, spread } from "./bench-lib.ts";
import { cpuInsnsArgs, instructionsOnCpusIn } from "./cpu-insns.ts";

const GUEST = "tee1";
const TIMEOUT_S = 900;

/** Where /init was, by both clocks, in guest seconds, and what the guest's own CPUs had executed by then. */
export interface InitTimes {
  sincePowerOn: number | null;
  kernelUptime: number | null;
  onOwnCpus?: number | null;
}

/** The GUEST-READY line of `name` (tools/images/initramfs.ts) in a console. */
export function initTimes(name: string, lines: string[]): InitTimes {
  const line = lines.find((l) => l.startsWith(`[${name}] GUEST-READY `)) ?? "";
  const field = (key: string) => {
    const m = new RegExp(`\\b${key}=([\\d.]+)`).exec(line);
    return m ? Number(m[1]) : null;
  };
  return { sincePowerOn: field("since_power_on"), kernelUptime: field("seconds_to_init") };
}

function required(t: InitTimes, where: string): InitTimes {
  if (t.sincePowerOn === null) throw new UserError(`boot to /init, ${where}: no GUEST-READY line with since_power_on; see build/results/bench-boot-${where}.log`);
  return t;
}

const consoleOf = (where: string) => consoleLog(join(RESULTS, `bench-boot-${where}.log`));

/**
 * Every guest boots to /init and does nothing more; with `poweroffAt` it then stays up (idle) until the counter
 * reaches that many seconds, so that no guest powers off while tee1 is still booting: a powered-off guest's CPU
 * was seen to keep running (its timer interrupt stays pending), which would slow tee1 down.
 */
const bootOnly = (g: GuestConfig, poweroffAt?: number): GuestConfig =>
  ({ ...g, cmdline: withBootArgs(g.cmdline, { run: "", ...(poweroffAt ? { poweroff_at: poweroffAt.toFixed(1) } : {}) }) });
/** When the three guests power off: this many times as late as tee1 alone reached /init (three boots share the machine). */
const THREE_POWER_OFF_AFTER = 3.8;

const countsOf = (where: string) => join(BENCH_DIR, `cpuinsns-boot-${where}.txt`);

async function native(memMiB: number, cpus: number[]): Promise<InitTimes> {
  const out = consoleOf("native");
  const r = await bootNative({
    args: { run: "", mem: `${memMiB}M` }, timeoutSeconds: TIMEOUT_S, qemuArgs: [...ICOUNT_ARGS, ...cpuInsnsArgs(countsOf("native"))],
    secureLog: join(RESULTS, "bench-boot-native-secure.log"), onLine: out.line,
  });
  await out.close();
  return { ...required(initTimes("native", r.lines), "native"), onOwnCpus: instructionsOnCpusIn(countsOf("native"), cpus) };
}

async function underHypervisor(s: Setup, where: string, cpus: number[]): Promise<InitTimes> {
  const out = consoleOf(where);
  const r = await bootGuests(s, { timeoutSeconds: TIMEOUT_S, qemuArgs: [...ICOUNT_ARGS, ...cpuInsnsArgs(countsOf(where))], onLine: out.line });
  await out.close();
  return { ...required(initTimes(GUEST, r.result.lines), where), onOwnCpus: instructionsOnCpusIn(countsOf(where), cpus) };
}

async function main(): Promise<void> {
  const guest = setup.guests.find((g) => g.name === GUEST);
  if (!guest) throw new Error(`configs/qemu-virt.ts has no guest ${GUEST}`);
  nativeFlash();
  sharedInitramfs();
  const memMiB = guest.ram.size >> 20;
  log(`boot to /init: native (-smp 2, mem=${memMiB}M) / ${GUEST} alone / ${GUEST} one of three, ${RUNS} run(s), -icount ${ICOUNT}`);
  const alone: Setup = { ...setup, name: "bench-boot-alone", guests: [bootOnly(guest)] };
  const runs = { native: [] as InitTimes[], alone: [] as InitTimes[], alongside: [] as InitTimes[] };
  for (let i = 1; i <= RUNS; i++) {
    // Natively the kernel has -smp <tee1's vCPUs>: CPUs 0 and up are all its own.
    const nativeCpus = guest.cpus.map((_, i) => i);
    const [n, a] = await Promise.all([native(memMiB, nativeCpus), underHypervisor(alone, "alone", guest.cpus)]);
    const poweroffAt = (a.sincePowerOn ?? 2) * THREE_POWER_OFF_AFTER;
    const three: Setup = { ...setup, name: "bench-boot-three", guests: setup.guests.map((g) => bootOnly(g, poweroffAt)) };
    const s = await underHypervisor(three, "alongside", guest.cpus);
    runs.native.push(n);
    runs.alone.push(a);
    runs.alongside.push(s);
    log(`run ${i}/${RUNS}: since power-on native ${n.sincePowerOn} s, alone ${a.sincePowerOn} s, alongside ${s.sincePowerOn} s (kernel uptime ${n.kernelUptime} / ${a.kernelUptime} / ${s.kernelUptime}; on ${GUEST}'s CPUs ${g(n.onOwnCpus)} / ${g(a.onOwnCpus)} / ${g(s.onOwnCpus)})`);
  }
  const clock = (key: keyof InitTimes) => {
    const f = (xs: InitTimes[]) => spread(xs.map((t) => (key === "onOwnCpus" ? t.onOwnCpus ?? null : instructions(t[key] ?? null))));
    const native = f(runs.native), alone = f(runs.alone), alongside = f(runs.alongside);
    return { native, alone, alongside, ratioAlone: ratio(native.median, alone.median), ratioAlongside: ratio(native.median, alongside.median) };
  };
  const fromPowerOn = clock("sincePowerOn"), kernelOnly = clock("kernelUptime"), onOwnCpus = clock("onOwnCpus");
  const section = {
    what: `power-on to ${GUEST}'s /init (the generic timer's counter), instructions; kernelOnly: the kernel's own uptime at /init`,
    guest: GUEST, nativeMemory: `mem=${memMiB}M`, runs: RUNS,
    native: fromPowerOn.native.median, alone: fromPowerOn.alone.median, alongside: fromPowerOn.alongside.median,
    ratioAlone: fromPowerOn.ratioAlone, ratioAlongside: fromPowerOn.ratioAlongside,
    spread: { native: fromPowerOn.native, alone: fromPowerOn.alone, alongside: fromPowerOn.alongside },
    kernelOnly,
    onOwnCpus: { what: `instructions ${GUEST}'s own CPUs (natively all ${guest.cpus.length}) had executed when /init started (tools/bench/cpu-insns.ts)`, ...onOwnCpus },
  };
  log(`instructions to ${GUEST}'s /init from power-on (median of ${RUNS}; kernel alone in brackets):`);
  log(`  native                 ${g(section.native)}  (${g(kernelOnly.native.median)})`);
  log(`  alone, hypervisor      ${g(section.alone)}  ${section.ratioAlone}× native  (${g(kernelOnly.alone.median)}, ${kernelOnly.ratioAlone}×)`);
  log(`  one of three guests    ${g(section.alongside)}  ${section.ratioAlongside}× native  (${g(kernelOnly.alongside.median)}, ${kernelOnly.ratioAlongside}×)`);
  log(`instructions ${GUEST}'s own CPUs executed to /init (median of ${RUNS}; what parallel hardware would take):`);
  log(`  native                 ${g(onOwnCpus.native.median)}`);
  log(`  alone, hypervisor      ${g(onOwnCpus.alone.median)}  ${onOwnCpus.ratioAlone}× native`);
  log(`  one of three guests    ${g(onOwnCpus.alongside.median)}  ${onOwnCpus.ratioAlongside}× native`);
  writeFileSync(join(RESULTS, "bench-boot.json"), JSON.stringify({ runs: RUNS, icount: ICOUNT, results: runs, bootToInit: section }, null, 2) + "\n");
  log(`wrote ${mergePart("end-to-end", "bootToInit", section)}`);
}

const g = (x: number | null | undefined) => (x === null || x === undefined ? "?" : (x / 1e9).toFixed(3) + " G");

runMain("bench", main);
