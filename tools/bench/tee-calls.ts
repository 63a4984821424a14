/**
 * `make bench` (TEE calls): what the OP-TEE mediator costs per call, against native. The same xtest selection,
 * one dominated by many small TEEC_InvokeCommand calls, runs
 *   native   on the native baseline (tools/run/native.ts: TF-A + non-virtualized OP-TEE + the guests' kernel
 *            as BL33, no hypervisor, -smp 2);
 *   hyp      in tee1 (2 vCPUs, like native's 2 CPUs) as the only guest of the hypervisor, on the virtualized
 *            OP-TEE, every call through the mediator.
 * Both on the same QEMU machine (the board's options) under `-icount shift=0,sleep=off` (tools/bench/bench-lib.ts).
 * The figure is xtest's run time as the guest's own clock measures it (/init's XTEST-END seconds, to 10 ms):
 * under -icount that is an instruction count (1 ns each) — of the guest, the hypervisor, TF-A and OP-TEE
 * together — independent of the host's speed and load (so the two runs share the host); it says nothing of
 * what traps and TLB flushes cost on real hardware. Not exact: the vCPUs' interleaving and the console's pace
 * still move a run by up to ~10 %, hence medians. BENCH_ICOUNT=0 measures host wall time instead (noisy: the
 * host is shared; the runs then take turns), BENCH_ICOUNT_SHIFT another shift, BENCH_RUNS runs each (default 3;
 * medians), BENCH_TEE_SELECTION another selection (`xtest=` syntax, commas for spaces), BENCH_XTEST_STATS=1 has
 * both guests print each CPU's times and the interrupt counts around xtest (init's xtest_stats=1; XTEST-GUEST_ARGS
 * lines in the consoles) and counts, with the plugin tools/bench/profile/cpuinsns.c, what each CPU executed
 * during xtest by region (the hypervisor, the kernel, user space, the secure world): where a slower run waited,
 * and on which CPU the extra instructions ran.
 * Figures, not tests. Writes the teeSelection section of build/bench/end-to-end.json (and, as before,
 * build/results/bench-tee.json) and the consoles to build/results/bench-tee-*.log.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setup } from "../../configs/qemu-virt.ts";
import { sharedInitramfs } from "../images/qemu-loads.ts";
import { RESULTS } from "../run/boot-lib.ts";
import { nativeFlash } from "../run/native.ts";
import { hypXtest, nativeXtest } from "../run/xtest-lib.ts";
import type { XtestReport } from "../run/xtest-report.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { cpuInsnsArgs, lastWindowByRegion } from "./cpu-insns.ts";
import { BENCH_DIR, ICOUNT_ARGS, ICOUNT_SHIFT as SHIFT, RUNS, instructions, mergePart, ratio as ratioOf, spread } from "./bench-lib.ts";

const ICOUNT = process.env.BENCH_ICOUNT !== "0";
/**
 * Cases made of many short calls: 4001–4003 and 4005 (hashes, MACs, ciphers, AEAD over GlobalPlatform's test
 * vectors, each step — allocate, init, update, final, free — its own TEEC_InvokeCommand with small memrefs
 * into the crypt TA), 1005 (many sessions opened and closed), 1016 and 1017 (TA-to-TA memrefs, coalesced
 * registered memrefs). Left out: cases whose time is computation or sleeps (1006, 1008, 4006, 4007) and 1013,
 * whose concurrent large TAs run out of a guest's share of TA memory and so do less work than natively.
 * (Debian's xtest has no call-throughput benchmark: its benchmark_1xxx time secure storage, and 2xxx need the
 * sha/aes perf TAs it does not ship.)
 */
const SELECTION = process.env.BENCH_TEE_SELECTION ?? "-t,regression,1005,1016,1017,4001,4002,4003,4005";
/**
 * When xtest starts in both runs, in seconds of the machine's counter since power-on: after the guest kernel's
 * own work from boot (its crypto self-tests: RSA in mpihelp_*, ECC in vli_*, SHA-256; ~0.56 G instructions, still
 * running ~0.5 s after /init; natively it ends before xtest begins, under the hypervisor, whose guest reaches /init
 * sooner, it ran 0–95 M instructions into xtest, and that, not the hypervisor, was the runs' spread). Under
 * -icount the wait costs no host time (QEMU skips ahead while every CPU waits). BENCH_XTEST_AT=0: at once.
 */
const XTEST_AT = process.env.BENCH_XTEST_AT ?? "4";
const GUEST_ARGS: Record<string, string> = {
  ...(XTEST_AT !== "0" ? { xtest_at: XTEST_AT } : {}),
  ...(process.env.BENCH_XTEST_STATS === "1" ? { xtest_stats: "1" } : {}),
  ...(process.env.BENCH_XTEST_MARKS === "1" ? { xtest_marks: "1" } : {}),
  ...(process.env.BENCH_XTEST_TRACE === "1" ? { xtest_trace: "1" } : {}),
};
/** The cpuinsns plugin counts: xtest_stats and xtest_marks run its marker around xtest. */
const COUNTED = Boolean(GUEST_ARGS.xtest_stats || GUEST_ARGS.xtest_marks);
const QEMU_ARGS = ICOUNT ? ICOUNT_ARGS : [];
/** With BENCH_XTEST_STATS=1, where each run's per-CPU counts go (cpuinsns.c). */
const insnsFile = (run: "native" | "hyp") => join(BENCH_DIR, `tee-calls-${run}-cpuinsns.txt`);
const statsArgs = (run: "native" | "hyp") =>
  COUNTED ? cpuInsnsArgs(insnsFile(run), run === "hyp" ? qemuVirt.hypervisor.image : undefined) : [];

/** xtest's window, per CPU and region, in millions of instructions: one line. */
function windowLine(run: "native" | "hyp"): string {
  const w = existsSync(insnsFile(run)) ? lastWindowByRegion(readFileSync(insnsFile(run), "utf8")) : null;
  if (!w) return `${run}: no counts`;
  const cpus = Math.max(...Object.values(w).map((c) => c.length));
  const parts: string[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const by = Object.entries(w).filter(([, c]) => (c[cpu] ?? 0) > 0).map(([r, c]) => `${r} ${(c[cpu] / 1e6).toFixed(1)}`);
    if (by.length) parts.push(`CPU ${cpu}: ${by.join(", ")}`);
  }
  return `${run} (M instructions during xtest): ${parts.join("; ")}`;
}
/**
 * With xtest_marks: the clock between init's two marks against the instructions the plugin counted between them.
 * Under -icount shift=0 each instruction advances the clock 1 ns, so the rest is time in which every CPU waited.
 */
function idleLine(run: "native" | "hyp"): string {
  const logText = readFileSync(join(RESULTS, `bench-tee-${run}.log`), "utf8");
  const m = /XTEST-MARKS name=\S+ before=([\d.]+) after=([\d.]+)/.exec(logText);
  const w = existsSync(insnsFile(run)) ? lastWindowByRegion(readFileSync(insnsFile(run), "utf8")) : null;
  if (!m || !w) return `${run}: no marks`;
  const seconds = Number(m[2]) - Number(m[1]);
  const executed = Object.values(w).flat().reduce((a, b) => a + b, 0);
  const idle = seconds - executed * 2 ** SHIFT / 1e9;
  return `${run}: ${seconds.toFixed(4)} s between the marks, ${(executed / 1e9).toFixed(4)} G instructions executed, every CPU waiting ${(idle * 1000).toFixed(1)} ms`;
}

/** Per QEMU run; icount makes QEMU single-threaded. */
const TIMEOUT_S = 1800;

const log = (s: string) => console.log(`[bench] ${s}`);
const tee1 = setup.guests.find((g) => g.name === "tee1")!;

/** The run's xtest seconds, or why there are none. */
function seconds(r: XtestReport): number {
  if (r.status === null || r.seconds === null) throw new Error(`${r.name}: xtest did not finish${r.currentCase ? ` (last case ${r.currentCase})` : ""}`);
  if (r.status !== "0") throw new Error(`${r.name}: xtest status ${r.status} (${r.failedCases.join(" ") || "no summary"}): not a run to time`);
  return r.seconds;
}

/** Host seconds each QEMU ran: what TCG's emulation costs, not a figure of the hypervisor. */
const qemuSeconds = { native: [] as number[], hyp: [] as number[] };

async function native(): Promise<number> {
  const n = await nativeXtest({
    selection: SELECTION, timeoutSeconds: TIMEOUT_S, qemuArgs: [...QEMU_ARGS, ...statsArgs("native")], bootArgs: GUEST_ARGS,
    log: join(RESULTS, "bench-tee-native.log"), secureLog: join(RESULTS, "bench-tee-native-secure.log"),
  });
  qemuSeconds.native.push(Math.round(n.result.seconds));
  return seconds(n.native);
}

async function hyp(): Promise<number> {
  const h = await hypXtest({ ...setup, guests: [tee1] }, {
    selection: SELECTION, name: "bench-tee", timeoutSeconds: TIMEOUT_S, qemuArgs: [...QEMU_ARGS, ...statsArgs("hyp")], bootArgs: { tee1: GUEST_ARGS },
    log: join(RESULTS, "bench-tee-hyp.log"),
  });
  qemuSeconds.hyp.push(Math.round(h.run.result.seconds));
  return seconds(h.guests[0]);
}

/** Both results; if one run fails, waits for the other's QEMU to end before saying so. */
async function both(a: Promise<number>, b: Promise<number>): Promise<[number, number]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === "rejected") throw x.reason;
  if (y.status === "rejected") throw y.reason;
  return [x.value, y.value];
}


async function main(): Promise<void> {
  // Build what both runs share before they run side by side.
  nativeFlash();
  sharedInitramfs();
  const unit = ICOUNT ? `virtual seconds (-icount shift=${SHIFT}: ${2 ** SHIFT} ns per instruction)` : "wall seconds";
  log(`TEE calls: xtest=${SELECTION}, native vs tee1 (2 vCPUs) alone under the hypervisor, ${RUNS} run(s), ${unit}`);
  const started = Date.now();
  const results = { native: [] as number[], hyp: [] as number[] };
  for (let i = 1; i <= RUNS; i++) {
    // Under icount each QEMU counts its own instructions whatever else runs: the two can share the host.
    const [n, h] = ICOUNT ? await both(native(), hyp()) : [await native(), await hyp()];
    results.native.push(n);
    results.hyp.push(h);
    log(`run ${i}/${RUNS}: native ${n} s, hypervisor ${h} s (QEMU ran ${qemuSeconds.native.at(-1)} s and ${qemuSeconds.hyp.at(-1)} s)`);
    if (COUNTED) for (const run of ["native", "hyp"] as const) log(`  ${windowLine(run)}`);
    if (GUEST_ARGS.xtest_marks) for (const run of ["native", "hyp"] as const) log(`  ${idleLine(run)}`);
  }
  const nativeRuns = spread(results.native), hypRuns = spread(results.hyp);
  const n = nativeRuns.median!, h = hypRuns.median!;
  const ratio = ratioOf(n, h)!;
  const insns = (s: number) => (ICOUNT ? `  (${(s / 2 ** SHIFT).toFixed(2)} G instructions)` : "");
  log(`xtest ${SELECTION.replace(/,/g, " ")}: ${unit}, median of ${RUNS}`);
  log(`  native (no hypervisor, -smp 2)     ${n.toFixed(2).padStart(6)}${insns(n)}`);
  log(`  tee1 (2 vCPUs) alone, hypervisor   ${h.toFixed(2).padStart(6)}${insns(h)}  ${ratio.toFixed(2)}× native`);
  log(`bench took ${((Date.now() - started) / 60000).toFixed(1)} min`);
  const out = {
    selection: SELECTION, icount: ICOUNT ? QEMU_ARGS.join(" ") : false,
    unit: ICOUNT ? `virtual seconds, ${2 ** SHIFT} ns per instruction` : "wall seconds",
    runs: RUNS, results, median: { native: n, hyp: h }, ratio, qemuSeconds,
  };
  writeFileSync(join(RESULTS, "bench-tee.json"), JSON.stringify(out, null, 2) + "\n");
  log(`wrote ${join(RESULTS, "bench-tee.json")}`);
  if (!ICOUNT) return; // wall seconds are not instructions: the report keeps the last -icount figures
  const inInstructions = (x: typeof nativeRuns) => ({ ...x, median: instructions(x.median), min: instructions(x.min), max: instructions(x.max), runs: x.runs.map(instructions) });
  log(`wrote ${mergePart("end-to-end", "teeSelection", {
    what: `xtest ${SELECTION.replace(/,/g, " ")}: its run time in the guest (XTEST-END, 10 ms), instructions`,
    selection: SELECTION, runs: RUNS, native: instructions(n), hyp: instructions(h), ratio,
    spread: { native: inInstructions(nativeRuns), hyp: inInstructions(hypRuns) },
  })}`);
}

main().catch((e: Error) => {
  console.error(`[bench] ${e.message}`);
  process.exit(1);
});
