/**
 * `make bench` (micro): what each path costs, natively and as a guest, by the guest's own clock, and what the
 * hypervisor spends at EL2 for it, from its per-exit profile. guest/microbench times each call N times
 * (BENCH_MICRO_N, default 200) on the same QEMU machine options both ways, under `-icount shift=0`: one counter
 * tick is one instruction of whatever ran (guest, hypervisor, TF-A, OP-TEE), exact and independent of the host.
 *   native  the program as TF-A's BL33 on the non-virtualized OP-TEE (it drops itself to EL1);
 *   hyp     the program as the only guest of the hypervisor (configs/microbench.ts), every call trapped.
 * Writes build/bench/micro.json (per path: medians, spread, EL2 instructions per call) and el2-exits.json (the
 * hyp run's whole profile), and prints a table with the project's goals. Figures, not tests.
 *
 * Usage: tsx tools/bench/micro.ts [--n N] [--quiet]
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MICROBENCH_DIR, setup } from "../../configs/microbench.ts";
import { PROJECT_ROOT } from "../firmware/paths.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { BUILD } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { runQemu } from "../run/qemu.ts";
import { MICRO_GOALS, parseMicro, parseProfile, perCall, type MicroRun, type PathFigures, type Profile } from "./micro-report.ts";

const DIR = join(PROJECT_ROOT, MICROBENCH_DIR);
const BENCH_DIR = join(BUILD, "bench");
const ICOUNT = ["-icount", "shift=0"];
/** Where guest/microbench's header keeps N (the Image header's res4). */
const ITERATIONS_OFFSET = 0x30;
const log = (s: string) => console.log(`[bench] ${s}`);

/** The program with N patched in, as the setup names it, and the empty initramfs the setup needs. */
export function prepareImage(n: number): string {
  const image = readFileSync(join(DIR, "microbench.bin"));
  image.writeBigUInt64LE(BigInt(n), ITERATIONS_OFFSET);
  const out = join(PROJECT_ROOT, setup.guests[0].kernel);
  writeFileSync(out, image);
  writeFileSync(join(PROJECT_ROOT, setup.guests[0].initramfs), Buffer.alloc(16));
  return out;
}

async function runNative(image: string, quiet: boolean): Promise<MicroRun> {
  const flash = join(DIR, "flash-native.bin");
  const tfa = spawnSync(join(PROJECT_ROOT, "node_modules/.bin/tsx"),
    [join(PROJECT_ROOT, "tools/firmware/tfa.ts"), "--variant", "native", "--bl33", image, "--out", flash], { stdio: "inherit" });
  if (tfa.status !== 0) throw new Error("TF-A could not pack the native micro-benchmark image (see above)");
  const r = await runQemu({
    board: setup.board, flash, loads: [], secureLog: join(BENCH_DIR, "micro-native-secure.log"),
    timeoutSeconds: 900, extraArgs: ICOUNT, onLine: quiet ? undefined : (l) => console.log(`  native | ${l}`),
  });
  writeFileSync(join(BENCH_DIR, "micro-native.log"), r.lines.join("\n") + "\n");
  return parseMicro(r.lines);
}

async function runHyp(quiet: boolean): Promise<{ run: MicroRun; lines: string[] }> {
  const r = await bootGuests(setup, { timeoutSeconds: 900, qemuArgs: ICOUNT, onLine: quiet ? undefined : (l) => console.log(`  hyp | ${l}`) });
  writeFileSync(join(BENCH_DIR, "micro-hyp.log"), r.result.lines.join("\n") + "\n");
  return { run: parseMicro(r.result.lines.map((l) => l.replace(/^\[bench\] /, ""))), lines: r.result.lines };
}

const fmt = (v: number | null, digits = 0) => (v === null ? "-" : v.toFixed(digits));

export interface MicroResult {
  n: number;
  native: MicroRun;
  hyp: MicroRun;
  profile: Profile;
  table: Record<string, PathFigures>;
  /** What went wrong, one line each: a call that failed, a run that did not finish, no profile. */
  problems: string[];
}

/** Runs the program natively and under the hypervisor, N iterations per path; writes nothing. */
export async function runMicro(n: number, quiet = true): Promise<MicroResult> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const image = prepareImage(n);
  copyFileSync(image, join(DIR, "microbench-native.bin"));
  const native = await runNative(join(DIR, "microbench-native.bin"), quiet);
  const hyp = await runHyp(quiet);
  const profile = parseProfile(hyp.lines, "bench");
  const table = perCall(native, hyp.run, profile);
  const problems = [...native.errors.map((e) => `native: ${e}`), ...hyp.run.errors.map((e) => `hyp: ${e}`)];
  if (!native.ended) problems.push("native: the program did not finish (no MICROBENCH-END)");
  if (!hyp.run.ended) problems.push("hyp: the program did not finish (no MICROBENCH-END)");
  if (!profile.unit) problems.push("hyp: no EL2 profile was printed");
  return { n, native, hyp: hyp.run, profile, table, problems };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { n: { type: "string" }, quiet: { type: "boolean", default: false } } });
  const n = Number(values.n ?? process.env.BENCH_MICRO_N ?? 200);
  if (!Number.isInteger(n) || n < 1 || n > 2000) throw new UserError(`--n ${values.n}: a whole number of iterations from 1 to 2000`);
  log(`micro-benchmark: each path ${n} times, natively and as the hypervisor's only guest, under -icount shift=0`);
  const { profile, table, problems } = await runMicro(n, values.quiet);

  writeFileSync(join(BENCH_DIR, "micro.json"), JSON.stringify({ unit: "instructions", icount: "shift=0", n, perCall: table }, null, 2) + "\n");
  writeFileSync(join(BENCH_DIR, "el2-exits.json"), JSON.stringify({
    unit: profile.unit ?? "instructions", source: `guest/microbench, n=${n}`, exits: profile.kinds, perGuest: { bench: profile.kinds },
  }, null, 2) + "\n");

  log(`${"path".padEnd(20)} ${"native".padStart(9)} ${"hyp".padStart(9)} ${"ratio".padStart(6)} ${"EL2/call".padStart(9)}  goal`);
  for (const [path, p] of Object.entries(table)) {
    const goal = MICRO_GOALS[path];
    const goalText = goal ? `${goal.text} (${goal.met(p) ? "met" : "not met"})` : "";
    log(`${path.padEnd(20)} ${fmt(p.guestNative).padStart(9)} ${fmt(p.guestHyp).padStart(9)} ${fmt(p.ratio, 2).padStart(6)} ${fmt(p.el2Instructions).padStart(9)}  ${goalText}`);
  }
  log(`instructions per call (guest clock, medians of ${n}); EL2 = the hypervisor's own instructions per call, from its profile`);
  log(`wrote ${join(BENCH_DIR, "micro.json")} and el2-exits.json`);
  for (const p of problems) console.error(`[bench] FAIL ${p}`);
  return problems.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) runMain("bench", main);
