/**
 * Instructions executed by a guest's own CPUs (tools/bench/profile/cpuinsns.c, a QEMU plugin): under -icount
 * QEMU runs the CPUs one at a time and the guest clock counts every CPU's instructions, so a guest booting beside
 * two others seems to take three boots' time. What its own CPUs executed by the time it reached /init (the
 * firmware, the hypervisor and OP-TEE on those CPUs included) is what it would take on hardware that runs the
 * guests in parallel, waits for one another (the core's lock) included.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../lib/cli.ts";
import { BENCH_DIR } from "./bench-lib.ts";

export const CPU_INSNS_PLUGIN = join(BENCH_DIR, "cpuinsns.so");

/** QEMU's arguments that load the plugin and have it write to `out`; `el2`, the hypervisor's image, is a region of its own. */
export function cpuInsnsArgs(out: string, el2?: { base: number; size: number }): string[] {
  if (!existsSync(CPU_INSNS_PLUGIN)) throw new UserError(`${CPU_INSNS_PLUGIN} is missing: run make bench (it builds the plugin)`);
  const region = el2 ? `,el2_base=${el2.base},el2_size=${el2.size}` : "";
  return ["-plugin", `${CPU_INSNS_PLUGIN},out=${out}${region}`];
}

/** Per CPU, per region (el2, kernel, user, low: the plugin's), the instructions between the last two marks. */
export type RegionCounts = Record<string, number[]>;

/**
 * What each CPU executed, by region, between the last two markers (init's xtest_stats runs one just before
 * xtest and one just after it): null with fewer than two.
 */
export function lastWindowByRegion(text: string): RegionCounts | null {
  const marks: RegionCounts[] = [];
  let current: RegionCounts | null = null; // the region lines that follow a mark line are that mark's
  for (const line of text.split("\n")) {
    const [kind, name, ...counts] = line.trim().split(/\s+/);
    if (kind === "mark") marks.push((current = {}));
    else if (kind === "region" && current) current[name] = counts.map(Number);
    else current = null;
  }
  if (marks.length < 2) return null;
  const [a, b] = marks.slice(-2);
  return Object.fromEntries(Object.entries(b).map(([name, counts]) => [name, counts.map((n, cpu) => n - (a[name]?.[cpu] ?? 0))]));
}

/**
 * What `cpus` had executed, together, when one of them first ran the marker (teebench --since-power-on, which
 * /init runs for its GUEST-READY line): null if none did.
 */
export function instructionsOnCpus(text: string, cpus: number[]): number | null {
  for (const line of text.split("\n")) {
    const [kind, cpu, ...counts] = line.trim().split(/\s+/);
    if (kind !== "mark" || !cpus.includes(Number(cpu))) continue;
    return cpus.reduce((sum, c) => sum + Number(counts[c] ?? 0), 0);
  }
  return null;
}

/** instructionsOnCpus of a plugin output file (null if QEMU wrote none). */
export function instructionsOnCpusIn(file: string, cpus: number[]): number | null {
  return existsSync(file) ? instructionsOnCpus(readFileSync(file, "utf8"), cpus) : null;
}
