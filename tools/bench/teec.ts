/**
 * `make bench` (TEEC calls): what one TEEC call to OP-TEE costs a Linux user program, natively and in a guest.
 * guest/teebench times each TEEC_InvokeCommand (values, a registered memref, a temporary memref),
 * TEEC_OpenSession and TEEC_CloseSession on OP-TEE's invoke-tests pseudo TA, BENCH_TEEC_N times each (default
 * 200), and prints each path's median; this runs it
 *   native     on the native baseline (tools/run/native.ts: TF-A + non-virtualized OP-TEE + the guests' kernel as
 *              BL33, -smp 2), where Linux's optee driver talks to OP-TEE directly;
 *   alone      in tee1 (2 vCPUs) as the hypervisor's only guest, every call through the mediator;
 *   alongside  in tee1 and tee2 at once, both starting at the same counter value (bench_at) so that they measure
 *              at the same time; how much their measuring overlapped is reported;
 *   two native two teebench processes at once on the native baseline, over the same counter window: what two
 *              callers at once cost without a hypervisor, the baseline "alongside" compares with.
 * Under `-icount shift=0` (tools/bench/bench-lib.ts) a call's guest-observed time is the number of instructions
 * the whole machine executed meanwhile: the guest, the hypervisor, TF-A and OP-TEE — and, alongside, the other
 * guest too (QEMU runs the CPUs one at a time), so "alongside" shows the machine's shared work, not what
 * parallel hardware would do. BENCH_RUNS runs each (medians of the runs' medians).
 * Figures, not tests. Writes build/bench/teec.json, the consoles to build/results/bench-teec-*.log.
 */
import { join } from "node:path";
import type { GuestConfig } from "../../configs/setup.ts";
import { setup } from "../../configs/qemu-virt.ts";
import { sharedInitramfs } from "../images/qemu-loads.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { RESULTS } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { bootNative, nativeFlash, withBootArgs } from "../run/native.ts";
import { ICOUNT, ICOUNT_ARGS, RUNS, consoleLog, log, ratio, spread, writePart } from "./bench-lib.ts";
import { overlap, parseTeebench, type TeebenchRun } from "./teec-report.ts";

const N = Number(process.env.BENCH_TEEC_N ?? 200);
/** Per QEMU run: -icount makes QEMU single-threaded. */
const TIMEOUT_S = 1800;
/**
 * When the guests side by side start measuring, in seconds of the machine's counter: this many times as late
 * as tee1 alone reached /init, since two guests booting together share the machine's instructions.
 */
const START_AFTER_BOOT = 2.8;
/** How long tee1 and tee2 measure side by side at least, in seconds of the counter (~100 rounds with contention). */
const ALONGSIDE_MIN_S = 1;
export const TEEC_PATHS = ["invoke-values", "invoke-memref", "invoke-tmpref", "open-session", "close-session"];

const guest = (name: string): GuestConfig => {
  const g = setup.guests.find((x) => x.name === name);
  if (!g) throw new Error(`configs/qemu-virt.ts has no guest ${name}`);
  return g;
};

/** How long after a round may end past bench_until (a round under contention was seen to take up to ~0.1 s; idle time under the hypervisor costs host time). */
const ROUND_MARGIN_S = 0.05;

/** `g` running teebench from `at` (0: at once) until `until` (0: N rounds), staying up until `until` + a margin. */
function teebenchGuest(g: GuestConfig, at: number, until = 0): GuestConfig {
  const window = until ? { bench_until: until.toFixed(3), poweroff_at: (until + ROUND_MARGIN_S).toFixed(3) } : {};
  const args = { run: "teebench", teebench_n: String(N), bench_at: at.toFixed(3), ...window };
  return { ...g, cmdline: withBootArgs(g.cmdline, args) };
}

/** The run, if teebench ended well; else an error naming what it printed. */
function checked(r: TeebenchRun, where: string): TeebenchRun {
  if (r.status === "ok") return r;
  const why = r.errors[0] ?? (r.status ? `status ${r.status}` : "it never finished (no TEEBENCH-END line)");
  throw new UserError(`teebench in ${where}: ${why}; the console is in ${join("build/results", `bench-teec-${where}.log`)}`);
}

const consoleOf = (where: string) => consoleLog(join(RESULTS, `bench-teec-${where}.log`));

async function native(): Promise<TeebenchRun> {
  const out = consoleOf("native");
  const r = await bootNative({
    args: { run: "teebench", teebench_n: String(N) }, timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS,
    secureLog: join(RESULTS, "bench-teec-native-secure.log"), onLine: out.line,
  });
  await out.close();
  return checked(parseTeebench("native", r.lines), "native");
}

/** tee1 alone; also when it reached /init (seconds since power-on). */
async function alone(): Promise<{ run: TeebenchRun; readyAt: number | null }> {
  const s = { ...setup, name: "bench-teec-alone", guests: [teebenchGuest(guest("tee1"), 0)] };
  const out = consoleOf("alone");
  const r = await bootGuests(s, { timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS, onLine: out.line });
  await out.close();
  const ready = r.result.lines.map((l) => /^\[tee1\] GUEST-READY .*since_power_on=([\d.]+)/.exec(l)).find(Boolean);
  return { run: checked(parseTeebench("tee1", r.result.lines), "alone"), readyAt: ready ? Number(ready[1]) : null };
}

/**
 * tee1 and tee2 measuring from `at` to `until` (up to N rounds); both then stay up a moment and power off together,
 * as a guest that powers off early was seen to keep its CPU running (its timer interrupt stays pending) and slow
 * the other down.
 */
/** Two teebench processes at once on the native baseline, from `at` to `until`. */
async function nativeTwo(at: number, until: number): Promise<[TeebenchRun, TeebenchRun]> {
  const out = consoleOf("native-two");
  const r = await bootNative({
    args: { run: "teebench", teebench_n: String(N), teebench_procs: "2", bench_at: at.toFixed(3), bench_until: until.toFixed(3) },
    timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS, secureLog: join(RESULTS, "bench-teec-native-two-secure.log"), onLine: out.line,
  });
  await out.close();
  return [checked(parseTeebench("native", r.lines, "native.1"), "native-two"), checked(parseTeebench("native", r.lines, "native.2"), "native-two")];
}

async function alongside(at: number, until: number): Promise<[TeebenchRun, TeebenchRun]> {
  const s = { ...setup, name: "bench-teec-alongside", guests: [teebenchGuest(guest("tee1"), at, until), teebenchGuest(guest("tee2"), at, until)] };
  const out = consoleOf("alongside");
  const r = await bootGuests(s, { timeoutSeconds: TIMEOUT_S, qemuArgs: ICOUNT_ARGS, onLine: out.line });
  await out.close();
  return [checked(parseTeebench("tee1", r.result.lines), "alongside"), checked(parseTeebench("tee2", r.result.lines), "alongside")];
}

/** Both results; if one fails, waits for the other's QEMU to end before saying so. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
  return [x.value, y.value];
}

const medianOf = (runs: TeebenchRun[], path: string) => spread(runs.map((r) => r.paths[path]?.median ?? null));

async function main(): Promise<void> {
  nativeFlash(); // built once before two runs need it
  sharedInitramfs();
  log(`TEEC calls: guest/teebench, ${N} calls per path, native / tee1 alone / tee1 + tee2, ${RUNS} run(s), -icount ${ICOUNT}`);
  const started = Date.now();
  const runs = { native: [] as TeebenchRun[], alone: [] as TeebenchRun[], alongside: [] as TeebenchRun[], alongsideTee2: [] as TeebenchRun[],
    nativeTwo: [] as TeebenchRun[], nativeTwoSecond: [] as TeebenchRun[] };
  const overlaps: (number | null)[] = [];
  let at: number | null = null, until: number | null = null;
  for (let i = 1; i <= RUNS; i++) {
    // Under -icount each QEMU counts its own instructions whatever else runs: these two can share the host.
    const [n, a] = await both(native(), alone());
    at ??= Number(((a.readyAt ?? 10) * START_AFTER_BOOT).toFixed(1));
    // Two guests measuring at once without getting in each other's way would take twice as long as one alone.
    until ??= Number((at + Math.max(ALONGSIDE_MIN_S, 2.5 * ((a.run.endedAt ?? 0) - (a.run.startedAt ?? 0)))).toFixed(2));
    const [[t1, t2], [n1, n2]] = await both(alongside(at, until), nativeTwo(at, until));
    runs.nativeTwo.push(n1);
    runs.nativeTwoSecond.push(n2);
    runs.native.push(n);
    runs.alone.push(a.run);
    runs.alongside.push(t1);
    runs.alongsideTee2.push(t2);
    overlaps.push(overlap(t1, t2));
    const m = (r: TeebenchRun) => r.paths["invoke-values"]?.median ?? "?";
    log(`run ${i}/${RUNS}: invoke-values native ${m(n)}, alone ${m(a.run)}, alongside ${m(t1)} / ${m(t2)}, native two at once ${m(n1)} / ${m(n2)} instructions (overlap ${overlaps.at(-1)})`);
  }
  const paths = Object.fromEntries(TEEC_PATHS.map((p) => {
    const native = medianOf(runs.native, p), alone = medianOf(runs.alone, p), alongside = medianOf(runs.alongside, p);
    return [p, {
      native, alone, alongside, alongsideTee2: medianOf(runs.alongsideTee2, p),
      nativeTwo: medianOf(runs.nativeTwo, p), nativeTwoSecond: medianOf(runs.nativeTwoSecond, p),
      ratioAlone: ratio(native.median, alone.median), ratioAlongside: ratio(native.median, alongside.median),
      // Two callers at once, under the hypervisor (tee1 and tee2) against natively (two processes).
      ratioAlongsideToNativeTwo: ratio(medianOf(runs.nativeTwo, p).median, alongside.median),
      // Within one run (the last): how many calls were timed (alongside: as many as fit before bench_until) and the
      // spread of single calls, 10th and 90th percentile.
      calls: Object.fromEntries(Object.entries(runs).map(([k, rs]) => [k, rs.at(-1)?.paths[p]?.n ?? null])),
      callSpread: {
        native: [runs.native.at(-1)?.paths[p]?.p10 ?? null, runs.native.at(-1)?.paths[p]?.p90 ?? null],
        alone: [runs.alone.at(-1)?.paths[p]?.p10 ?? null, runs.alone.at(-1)?.paths[p]?.p90 ?? null],
      },
    }];
  }));
  log(`${"path".padEnd(15)} ${"native".padStart(10)} ${"alone".padStart(10)} ${"ratio".padStart(6)} ${"alongside".padStart(10)} ${"ratio".padStart(6)} ${"native×2".padStart(10)}  (instructions per call, medians)`);
  for (const [p, f] of Object.entries(paths)) {
    log(`${p.padEnd(15)} ${String(f.native.median).padStart(10)} ${String(f.alone.median).padStart(10)} ${String(f.ratioAlone).padStart(6)} ${String(f.alongside.median).padStart(10)} ${String(f.ratioAlongside).padStart(6)} ${String(f.nativeTwo.median).padStart(10)}`);
  }
  const file = writePart("teec", {
    unit: "instructions", icount: ICOUNT, n: N, runs: RUNS, startAt: at, until, overlap: overlaps, paths,
    what: "guest-observed CLOCK_MONOTONIC per TEEC call (1 ns = 1 instruction of the whole machine); median per run, then median of runs",
    samples: runs,
  });
  log(`wrote ${file} (${((Date.now() - started) / 60000).toFixed(1)} min)`);
}

runMain("bench", main);
