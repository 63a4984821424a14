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

/** QEMU's arguments that load the plugin and have it write to `out`. */
export function cpuInsnsArgs(out: string): string[] {
  if (!existsSync(CPU_INSNS_PLUGIN)) throw new UserError(`${CPU_INSNS_PLUGIN} is missing: run make bench (it builds the plugin)`);
  return ["-plugin", `${CPU_INSNS_PLUGIN},out=${out}`];
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
