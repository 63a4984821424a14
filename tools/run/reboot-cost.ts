/**
 * `make reboot-cost` (issue 14): what a guest rebooting in a loop costs the others, against a control. tee1 runs
 * an xtest selection while tee2, for the same span of the machine's clock, either
 *   reboots: runs a short selection and reboots (`reboot -f`), over and over (what `make xtest-reboot` does), or
 *   repeats: runs the same short selection over and over in one life (the same work, no restarts), or
 *   busy:    keeps both its vCPUs in a busy loop (the most a neighbour can take of the host without restarting),
 *   forks:   the same, each loop starting /bin/true over and over: the TLB invalidations of processes ending
 *            (TLBI …IS, which QEMU makes a stop-the-world flush of every vCPU), as a booting kernel issues them,
 * and the two runs are compared on what tee1 sees: its xtest seconds and result, OP-TEE's watchdog timeouts for
 * it, and the notification latencies the hypervisor measured for it (to its DO_BOTTOM_HALF call, and to that
 * call's return). Under QEMU the guests share the host's cores, so any busy neighbour slows tee1: the restarts cost
 * tee1 nothing measurable when the reboot run is no worse than the busy one. Wall-clock runs, one after the
 * other: the host must be otherwise idle.
 *
 * With --icount the machine runs under -icount (QEMU runs the CPUs one at a time, so tee1's seconds then count
 * tee2's work too and mean nothing) and the cpuinsns plugin counts what tee1's own CPUs executed during its xtest,
 * by region: on hardware, where each guest has its own cores, that is what tee1's xtest costs, and any work the
 * hypervisor or OP-TEE did on tee1's CPUs because of tee2's restarts (the lock, OP-TEE's partition list) shows
 * there as more than beside a tee2 repeating the same work (the last line compares the two). Needs make bench's
 * plugin (make build/bench/cpuinsns.so).
 *
 * With --profile (implies --icount) the tbprof plugin counts tee1's CPUs' blocks instead (tools/run/reboot-profile.ts):
 * what they ran during tee1's xtest by region, how much of it in likely spin loops, and the code that ran most more
 * in each mode than in the first.
 *
 * Usage: tsx tools/run/reboot-cost.ts [--runs N] [--modes busy,forks,repeats,reboots] [--selection <tee1's xtest=…>] [--until <s>] [--icount] [--profile]
 * Writes build/results/reboot-cost.json (reboot-cost-icount.json with --icount, reboot-cost-profile.json with --profile).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setup } from "../../configs/qemu-virt.ts";
import type { Setup } from "../../configs/setup.ts";
import { BUILD, RESULTS } from "./boot-lib.ts";
import { symbols } from "../bench/micro-profile.ts";
import { parseLatency, parseWatchdog } from "./notif-report.ts";
import { parseReboots, type RestartCost } from "./reboot-report.ts";
import { hypXtest } from "./xtest-lib.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { ICOUNT_ARGS } from "../bench/bench-lib.ts";
import { cpuInsnsArgs, type RegionCounts } from "../bench/cpu-insns.ts";
import { clearSnapshots, moreIn, opteeText, readSecure, summarize, tbprofArgs, windowBlocks, type Place, type Summary } from "./reboot-profile.ts";

const log = (s: string) => console.log(`[reboot-cost] ${s}`);
/**
 * What the restarts cost tee1's own CPUs, by instructions (--icount): each region beside `reboots` against beside
 * `repeats` (the same rounds of work without restarting), and in all. The plugins count code all guests run (the
 * hypervisor, TF-A, OP-TEE) on the vCPU that ran it (tools/bench/profile/running-cpu.h).
 */
function restartCostLine(outcomes: Outcome[]): string | null {
  const counts = (o: Outcome | undefined) => o?.tee1Profile?.byRegion ?? o?.tee1InstructionsM ?? null;
  const control = counts(outcomes.find((o) => o.mode === "repeats")), reboots = counts(outcomes.find((o) => o.mode === "reboots"));
  if (!control || !reboots) return null;
  const sum = (c: Record<string, number>) => Object.entries(c).reduce((s, [r, n]) => s + (r === "all" ? 0 : n), 0);
  const change = (a: number, b: number) => `${b >= a ? "+" : ""}${((b - a) / a * 100).toFixed(1)} %`;
  const regions = Object.keys(reboots).filter((r) => r !== "all" && control[r] !== undefined)
    .map((r) => `${r} ${control[r]} → ${reboots[r]} (${change(control[r], reboots[r])})`);
  const spinning = (mode: Mode) => sum(outcomes.find((o) => o.mode === mode)?.tee1Profile?.spinning ?? {});
  const [spinA, spinB] = [spinning("repeats"), spinning("reboots")];
  const [restA, restB] = [sum(control) - spinA, sum(reboots) - spinB];
  const apart = spinA > 0 && spinB > 0
    ? `; all but spin loops (round robin stretches those) ${restA.toFixed(0)} → ${restB.toFixed(0)} (${change(restA, restB)})` : "";
  return `tee1's CPUs during its selection, M instructions, beside repeats → beside reboots: ${regions.join(", ")}; ` +
    `in all ${sum(control).toFixed(0)} → ${sum(reboots).toFixed(0)} (${change(sum(control), sum(reboots))})${apart}`;
}
/** tee1's default selection: the cases during which make xtest-reboot's tee1 counted its watchdog timeouts. */
const TEE1_SELECTION = "-t,regression,1011,1013,1016,1017";
const TEE2_SELECTION = "-t,regression,1001,4001";
type Mode = "reboots" | "repeats" | "busy" | "forks";
const MODES: Mode[] = ["busy", "forks", "repeats", "reboots"];

function modeSetup(mode: Mode): Setup {
  return { ...setup, guests: setup.guests.map((g) => (g.name === "tee2" && mode === "reboots" ? { ...g, onReset: "restart" as const } : g)) };
}

interface Outcome {
  mode: Mode; tee1Seconds: number | null; tee1Status: string | null; watchdogCalls: number | null; watchdogTimeouts: number | null;
  toBottomHalfCallMaxUs: number | null; toBottomHalfMaxUs: number | null; toBottomHalfMedianUs: number | null;
  /** Of the time to a DO_BOTTOM_HALF call, the most with one of tee1's OP-TEE threads free (the rest it waited for its own calls). */
  threadFreeMaxUs: number | null;
  /** tee1's CPUs' waits for the core's lock, in all (ms), from the power-off line. */
  tee1LockWaitMs: number | null;
  tee2Rounds: number; tee2Passed: number; tee2Reboots: number;
  /** The hypervisor's own share of each of tee2's restarts (hyp/core/restart-time.ts), in reboots mode. */
  tee2RestartCost: RestartCost | null;
  /** With --icount: what tee1's CPUs executed during its xtest, per region (el2, kernel, user, low), in millions. */
  tee1InstructionsM?: Record<string, number> | null;
  /** With --profile: the same from tbprof's blocks, with the part in likely spin loops. */
  tee1Profile?: Summary | null;
}

/** With --profile: each run's window of blocks, to compare the modes by code. */
const windows: { mode: Mode; blocks: NonNullable<ReturnType<typeof windowBlocks>>; place: Place }[] = [];
const TEE1_CPUS = setup.guests.find((g) => g.name === "tee1")!.cpus;

/** tee1's CPUs' counts between their last two marks (init's xtest_marks: just before and just after xtest). */
function tee1Window(text: string, cpus: number[]): Record<string, number> | null {
  const marks: RegionCounts[] = [];
  let current: RegionCounts | null = null;
  for (const line of text.split("\n")) {
    const [kind, name, ...counts] = line.trim().split(/\s+/);
    if (kind === "mark") current = cpus.includes(Number(name)) ? (marks.push({}), marks[marks.length - 1]) : null;
    else if (kind === "region" && current) current[name] = counts.map(Number);
    else current = null;
  }
  if (marks.length < 2) return null;
  const [a, b] = marks.slice(-2);
  const out: Record<string, number> = {};
  for (const [region, counts] of Object.entries(b)) {
    out[region] = Math.round(cpus.reduce((sum, c) => sum + counts[c] - (a[region]?.[c] ?? 0), 0) / 1e4) / 100;
  }
  out.all = Math.round(Object.values(out).reduce((x, y) => x + y, 0) * 100) / 100;
  return out;
}

async function one(mode: Mode, selection: string, until: number, i: number, icount: boolean, profile: boolean): Promise<Outcome> {
  // The hypervisor's run writes OP-TEE's log under its setup's name (guests-lib.ts).
  const secureLog = join(RESULTS, `reboot-cost-${mode}-secure.log`);
  const tee2 = mode === "busy" || mode === "forks" ? { run: mode, hold: String(until) }
    : { run: "xtest", xtest: TEE2_SELECTION, ...(mode === "reboots" ? { reboot_until: String(until) } : { repeat_until: String(until) }) };
  const counts = join(RESULTS, `reboot-cost-${mode}-${i}-cpuinsns.txt`);
  const blocksOut = join(RESULTS, `reboot-cost-${mode}-${i}-tbprof.txt`);
  if (profile) clearSnapshots(blocksOut);
  const plugin = !icount ? [] : profile ? tbprofArgs(blocksOut, TEE1_CPUS) : cpuInsnsArgs(counts, qemuVirt.hypervisor.image);
  const h = await hypXtest(modeSetup(mode), {
    selection, name: `reboot-cost-${mode}`, timeoutSeconds: icount ? 7200 : 2400, log: join(RESULTS, `reboot-cost-${mode}-${i}.log`),
    bootArgs: { tee2, ...(icount ? { tee1: { xtest_marks: "1" } } : {}) },
    ...(icount ? { qemuArgs: [...ICOUNT_ARGS, ...plugin] } : {}),
  });
  const lines = h.run.result.lines;
  const tee1 = h.guests.find((g) => g.name === "tee1")!;
  const wd = parseWatchdog(existsSync(secureLog) ? readFileSync(secureLog, "latin1") : "").get(1);
  const lat = parseLatency(lines, "tee1");
  const ends = lines.filter((l) => l.startsWith("[tee2] XTEST-END "));
  const loop = parseReboots("tee2", lines);
  let tee1Profile: Summary | null | undefined;
  if (profile) {
    const blocks = windowBlocks(blocksOut, TEE1_CPUS);
    const place: Place = { el2: qemuVirt.hypervisor.image, optee: opteeText(readSecure(secureLog)), el2Symbols: symbols(join(BUILD, "hyp.elf")) };
    if (blocks) windows.push({ mode, blocks, place });
    tee1Profile = blocks ? summarize(blocks, place) : null;
  }
  return {
    mode, tee1Seconds: tee1.seconds, tee1Status: tee1.status, watchdogCalls: wd?.calls ?? null, watchdogTimeouts: wd?.timeouts ?? null,
    toBottomHalfCallMaxUs: lat?.toBottomHalfCall.maxUs ?? null, toBottomHalfMaxUs: lat?.toBottomHalf.maxUs ?? null,
    toBottomHalfMedianUs: lat?.toBottomHalf.medianUs ?? null, threadFreeMaxUs: lat?.toBottomHalfCallThreadFree.maxUs ?? null,
    tee1LockWaitMs: lockWaitMs(lines, setup.guests.find((g) => g.name === "tee1")!.cpus),
    tee2Rounds: ends.length, tee2Passed: ends.filter((l) => / status=0 /.test(l)).length, tee2Reboots: loop.reboots,
    tee2RestartCost: loop.restartCost,
    ...(icount && !profile ? { tee1InstructionsM: existsSync(counts) ? tee1Window(readFileSync(counts, "utf8"), TEE1_CPUS) : null } : {}),
    ...(profile ? { tee1Profile } : {}),
  };
}

/** What `[hyp] lock: waits for the core's lock …` says CPUs `cpus` waited in all, in ms; null without the line. */
function lockWaitMs(lines: string[], cpus: number[]): number | null {
  const line = lines.find((l) => l.startsWith("[hyp] lock: waits for the core's lock"));
  if (!line) return null;
  let total = 0;
  for (const cpu of cpus) {
    const m = new RegExp(`CPU ${cpu} [\\d.]+ / ([\\d.]+) (m?s)`).exec(line);
    if (m) total += Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  }
  return Math.round(total);
}

const show = (o: Outcome) =>
  `${o.mode.padEnd(7)} tee1 xtest ${o.tee1Seconds ?? "-"} s (status ${o.tee1Status ?? "-"}); watchdog ${o.watchdogTimeouts ?? "-"} timeouts in ${o.watchdogCalls ?? "-"} calls; ` +
  `DO_BOTTOM_HALF called max ${ms(o.toBottomHalfCallMaxUs)} (with a thread free at most ${ms(o.threadFreeMaxUs)}), done median ${ms(o.toBottomHalfMedianUs)} max ${ms(o.toBottomHalfMaxUs)}; ` +
  (o.tee1InstructionsM !== undefined ? `tee1's CPUs executed (M instructions) ${o.tee1InstructionsM ? Object.entries(o.tee1InstructionsM).map(([r, n]) => `${r} ${n}`).join(", ") : "-"}; ` : "") +
  (o.tee1Profile !== undefined ? `tee1's CPUs executed (M instructions, of which in likely spin loops) ${o.tee1Profile ? Object.entries(o.tee1Profile.byRegion).map(([r, n]) => `${r} ${n} (${o.tee1Profile!.spinning[r] ?? 0})`).join(", ") : "-"}; ` : "") +
  `tee2 ${o.tee2Passed}/${o.tee2Rounds} rounds passed, ${o.tee2Reboots} reboots; tee1's CPUs waited ${o.tee1LockWaitMs ?? "-"} ms for the core's lock` + restartShare(o.tee2RestartCost);
/** What each restart cost the machine outside tee2's own kernel: the hypervisor's steps, mean (worst). */
const restartShare = (c: RestartCost | null) => c === null ? "" :
  `; each restart: end to start ${c.endToStart.meanMs} ms (worst ${c.endToStart.worstMs}), of which RAM and images ${c.images.meanMs} ms, ` +
  `VM_DESTROYED ${c.vmDestroyed.meanMs} ms, VM_CREATED ${c.vmCreated.meanMs} ms, waiting for calls ${c.inFlight.meanMs} ms`;
const ms = (us: number | null) => (us === null ? "-" : `${(us / 1000).toFixed(1)} ms`);

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    runs: { type: "string", default: "1" }, modes: { type: "string", default: MODES.join(",") }, selection: { type: "string", default: TEE1_SELECTION }, until: { type: "string", default: "240" },
    icount: { type: "boolean", default: false }, profile: { type: "boolean", default: false },
  } });
  const profile = values.profile!, icount = values.icount! || profile;
  const runs = Number(values.runs), until = Number(values.until);
  const modes = values.modes!.split(",") as Mode[];
  if (!modes.every((m) => MODES.includes(m))) throw new Error(`--modes: some of ${MODES.join(",")}`);
  log(`tee1 runs xtest=${values.selection}; until ${until} s tee2 ${modes.map((m) => ({ busy: "spins on both vCPUs", forks: "starts processes on both vCPUs", repeats: `runs xtest=${TEE2_SELECTION} over and over`, reboots: "does the same, rebooting after each round" })[m]).join(" / ")}; ${runs} run(s) of each`);
  const outcomes: Outcome[] = [];
  for (let i = 1; i <= runs; i++) {
    for (const mode of modes) {
      const o = await one(mode, values.selection!, until, i, icount, profile);
      outcomes.push(o);
      log(`run ${i}: ${show(o)}`);
    }
  }
  const comparisons: Record<string, string[]> = {};
  for (const w of windows.slice(1)) {
    const title = `${w.mode} against ${windows[0].mode}`;
    comparisons[title] = moreIn(windows[0], w);
    log(`code tee1's CPUs ran more, ${title} (M instructions, where, first bytes):\n${comparisons[title].join("\n")}`);
  }
  const verdict = icount ? restartCostLine(outcomes) : null;
  if (verdict) log(verdict);
  const kind = profile ? "-profile" : icount ? "-icount" : "";
  const out = join(RESULTS, `reboot-cost${kind}${values.modes === MODES.join(",") ? "" : `-${modes.join("-")}`}.json`);
  writeFileSync(out, JSON.stringify({ tee1Selection: values.selection, tee2Selection: TEE2_SELECTION, until, outcomes, ...(verdict ? { restartCostToTee1: verdict } : {}), ...(profile ? { comparisons } : {}) }, null, 2) + "\n");
  log(`wrote ${out}`);
  return 0;
}

main().then((c) => process.exit(c), (e: Error) => {
  console.error(`[reboot-cost] ${e.message}`);
  process.exit(1);
});
