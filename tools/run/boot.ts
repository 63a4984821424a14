/**
 * `make run` (for now): boots the hypervisor on QEMU with the real TF-A and
 * OP-TEE, shows its console, and writes what the OP-TEE probe found to
 * build/results/boot.json. Exits non-zero when the probe did not complete.
 *
 * Usage: tsx tools/run/boot.ts [--quiet]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setup } from "../../configs/qemu-virt.ts";
import { runMain } from "../lib/cli.ts";
import { bootHypervisor, RESULTS } from "./boot-lib.ts";

async function main(): Promise<number> {
  const quiet = process.argv.includes("--quiet");
  console.log(`[run] booting ${setup.name}: TF-A + OP-TEE (${setup.opteeVariant}) + hypervisor in QEMU`);
  const { result, report } = await bootHypervisor(setup, { onLine: quiet ? undefined : (l) => console.log(`  | ${l}`) });
  mkdirSync(RESULTS, { recursive: true });
  const out = join(RESULTS, "boot.json");
  const json = { setup: setup.name, ...report, qemu: { exitCode: result.exitCode, timedOut: result.timedOut, seconds: result.seconds } };
  writeFileSync(out, JSON.stringify(json, null, 2) + "\n");
  console.log(`[run] OP-TEE ${report.osRevision ?? "?"}, virtualization ${report.virtualization ? "yes" : "no"}, ` +
    `${report.threadCount ?? "?"} threads per guest; wrote ${out}`);
  if (result.timedOut) {
    console.error("[run] QEMU did not power off in time: see the console above and build/results/secure.log");
    return 1;
  }
  if (!report.hypervisorStarted || !report.verdict) {
    console.error("[run] the probe did not complete: see the console above and build/results/secure.log");
    return 1;
  }
  return 0;
}

runMain("run", main);
