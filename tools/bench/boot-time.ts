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
 * Figures, not tests: the goal is ≤ 1.2× native. Writes the bootToInit section of build/bench/end-to-end.json
 * (and build/results/bench-boot.json, as before).
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
import { ICOUNT, ICOUNT_ARGS, RUNS, consoleLog, instructions, log, mergePart, ratio, spread } from "./bench-lib.ts";

const GUEST = "tee1";
const TIMEOUT_S = 900;

/** Where /init was, by both clocks, in guest seconds. */
export interface InitTimes {
  sincePowerOn: number | null;
  kernelUptime: number | null;
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

async function native(memMiB: number): Promise<InitTimes> {
  const out = consoleOf("native");
  const r = await bootNative({
    args: { run: "", mem: `${memMiB}M` }, timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS,
    secureLog: join(RESULTS, "bench-boot-native-secure.log"), onLine: out.line,
  });
  await out.close();
  return required(initTimes("native", r.lines), "native");
}

async function underHypervisor(s: Setup, where: string): Promise<InitTimes> {
  const out = consoleOf(where);
  const r = await bootGuests(s, { timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS, onLine: out.line });
  await out.close();
  return required(initTimes(GUEST, r.result.lines), where);
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
    const [n, a] = await Promise.all([native(memMiB), underHypervisor(alone, "alone")]);
    const poweroffAt = (a.sincePowerOn ?? 2) * THREE_POWER_OFF_AFTER;
    const three: Setup = { ...setup, name: "bench-boot-three", guests: setup.guests.map((g) => bootOnly(g, poweroffAt)) };
    const s = await underHypervisor(three, "alongside");
    runs.native.push(n);
    runs.alone.push(a);
    runs.alongside.push(s);
    log(`run ${i}/${RUNS}: since power-on native ${n.sincePowerOn} s, alone ${a.sincePowerOn} s, alongside ${s.sincePowerOn} s (kernel uptime ${n.kernelUptime} / ${a.kernelUptime} / ${s.kernelUptime})`);
  }
  const clock = (key: keyof InitTimes) => {
    const f = (xs: InitTimes[]) => spread(xs.map((t) => instructions(t[key])));
    const native = f(runs.native), alone = f(runs.alone), alongside = f(runs.alongside);
    return { native, alone, alongside, ratioAlone: ratio(native.median, alone.median), ratioAlongside: ratio(native.median, alongside.median) };
  };
  const fromPowerOn = clock("sincePowerOn"), kernelOnly = clock("kernelUptime");
  const section = {
    what: `power-on to ${GUEST}'s /init (the generic timer's counter), instructions; kernelOnly: the kernel's own uptime at /init`,
    guest: GUEST, nativeMemory: `mem=${memMiB}M`, runs: RUNS,
    native: fromPowerOn.native.median, alone: fromPowerOn.alone.median, alongside: fromPowerOn.alongside.median,
    ratioAlone: fromPowerOn.ratioAlone, ratioAlongside: fromPowerOn.ratioAlongside,
    spread: { native: fromPowerOn.native, alone: fromPowerOn.alone, alongside: fromPowerOn.alongside },
    kernelOnly,
  };
  const g = (x: number | null) => (x === null ? "?" : (x / 1e9).toFixed(3) + " G");
  log(`instructions to ${GUEST}'s /init from power-on (median of ${RUNS}; kernel alone in brackets):`);
  log(`  native                 ${g(section.native)}  (${g(kernelOnly.native.median)})`);
  log(`  alone, hypervisor      ${g(section.alone)}  ${section.ratioAlone}× native  (${g(kernelOnly.alone.median)}, ${kernelOnly.ratioAlone}×)`);
  log(`  one of three guests    ${g(section.alongside)}  ${section.ratioAlongside}× native  (${g(kernelOnly.alongside.median)}, ${kernelOnly.ratioAlongside}×)`);
  writeFileSync(join(RESULTS, "bench-boot.json"), JSON.stringify({ runs: RUNS, icount: ICOUNT, results: runs, bootToInit: section }, null, 2) + "\n");
  log(`wrote ${mergePart("end-to-end", "bootToInit", section)}`);
}

runMain("bench", main);
