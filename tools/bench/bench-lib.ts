/**
 * What the benchmarks share: how QEMU counts (-icount), how many runs, the summary of a set of runs, and the
 * parts they write into build/bench/ for tools/bench/report.ts.
 *
 * Every benchmark runs QEMU with `-icount shift=0,sleep=off` and the board's own machine options
 * (configs/boards/qemu-virt.ts: `virt,secure=on,virtualization=on,gic-version=3 -cpu max`), natively and under
 * the hypervisor alike. Then the guest's clock (1 GHz on `-cpu max`) advances one nanosecond per instruction
 * executed by the whole machine — every CPU, every exception level, the secure world — and skips idle time: a
 * guest-measured time is an instruction count, the same on any host under any load. QEMU then runs the
 * CPUs one at a time, so a guest's clock also counts what the other CPUs execute meanwhile.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { BUILD } from "../run/boot-lib.ts";

export const BENCH_DIR = join(BUILD, "bench");
/** BENCH_RUNS (default 3): QEMU runs per figure; the figure is their median. */
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** 2^shift ns per instruction; 0 makes a guest-observed nanosecond one instruction. */
export const ICOUNT_SHIFT = Number(process.env.BENCH_ICOUNT_SHIFT ?? 0);
export const ICOUNT = `shift=${ICOUNT_SHIFT},sleep=off`;
export const ICOUNT_ARGS = ["-icount", ICOUNT];
/** Instructions per guest-observed second. */
export const INSTRUCTIONS_PER_SECOND = 1e9 / 2 ** ICOUNT_SHIFT;

export const log = (s: string): void => console.log(`[bench] ${s}`);

/** A figure over several runs: the median, the extremes, every run. */
export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  runs: (number | null)[];
}

/** The median (the upper one of an even count) of the numbers among `xs`; null if there are none. */
export function median(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
}

export function spread(runs: (number | null)[]): Spread {
  const v = runs.filter((x): x is number => x !== null && Number.isFinite(x));
  return { median: median(v), min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null, runs };
}

/** b / a to three decimals, or null when either is missing. */
export function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && a > 0 ? Number((b / a).toFixed(3)) : null;
}

/** Writes build/bench/<name>.json. */
export function writePart(name: string, part: unknown): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const file = join(BENCH_DIR, `${name}.json`);
  writeFileSync(file, JSON.stringify(part, null, 2) + "\n");
  return file;
}

/** Sets one section of build/bench/<name>.json, keeping the others (two tools write end-to-end.json). */
export function mergePart(name: string, section: string, value: unknown): string {
  const file = join(BENCH_DIR, `${name}.json`);
  let part: Record<string, unknown> = {};
  try {
    if (existsSync(file)) part = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    part = {}; // a broken part is rewritten, not fatal
  }
  return writePart(name, { ...part, unit: "instructions", icount: ICOUNT, [section]: value });
}

/** Seconds of guest time as instructions (rounded). */
export const instructions = (seconds: number | null): number | null =>
  seconds === null ? null : Math.round(seconds * INSTRUCTIONS_PER_SECOND);

/** A console log written line by line as QEMU prints (a stuck run can be read while it runs); close() when done. */
export function consoleLog(file: string): { line: (l: string) => void; close: () => Promise<void> } {
  mkdirSync(dirname(file), { recursive: true });
  const out = createWriteStream(file);
  return { line: (l) => out.write(`${l}\n`), close: () => new Promise((resolve) => out.end(resolve)) };
}
