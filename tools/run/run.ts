/**
 * `make run`: boots the default setup (configs/qemu-virt.ts) on QEMU with the
 * real TF-A and OP-TEE: the hypervisor probes OP-TEE, then runs its guests,
 * each on its own CPUs and RAM, their consoles prefixed with their names:
 * tee1 and tee2 run a short xtest selection at the same time, plain reads
 * past its RAM and checks it has no TEE. Writes build/results/boot.json (the
 * probe) and guests.json (with each guest's xtest summary), prints a summary,
 * and exits non-zero if a guest did not boot or a guest's xtest did not pass.
 *
 * Usage: tsx tools/run/run.ts [--quiet] [--setup <name> | configs/<name>.ts] [--armstub]   (make run SETUP=<name>)
 *   --armstub: the Raspberry Pi 4 booted as its VideoCore firmware's own armstub does (no TF-A, no PSCI)
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runMain } from "../lib/cli.ts";
import { loadSetup } from "../lib/setup-file.ts";
import { RESULTS } from "./boot-lib.ts";
import { bootGuests } from "./guests-lib.ts";
import { caseRanges, parseXtest, type XtestReport } from "./xtest-report.ts";

/** One line about a guest's xtest run (or its TEE check), for the summary. */
function xtestFacts(x: XtestReport): string {
  const tee = x.teeDevice === null ? "" : `, /dev/tee0 ${x.teeDevice ? "present" : "absent"}`;
  if (!x.started) return tee;
  if (x.status === "no-tee") return `${tee}, xtest: no OP-TEE (${x.errors[0] ?? "/dev/teepriv0 never appeared"})`;
  if (x.subtests === null) return `${tee}, xtest: no summary (status ${x.status ?? "none"}${x.currentCase ? `, last case ${x.currentCase}` : ""})`;
  const failed = x.failedCases.length ? ` (${caseRanges(x.failedCases)})` : "";
  return `${tee}, xtest ${x.args}: ${x.cases} cases, ${x.failedCases.length} failed${failed}; ${x.subtests} subtests, ${x.failed} failed; ${x.seconds} s`;
}

async function main(): Promise<number> {
  const setup = await loadSetup();
  const quiet = process.argv.includes("--quiet");
  // At a terminal, guests stay up in a shell after their /init and the keyboard reaches them; in CI, or with
  // --quiet, they run /init and power off, and nothing is read from stdin.
  const interactive = Boolean(process.stdin.isTTY) && !quiet && !process.env.CI;
  const names = setup.guests.map((g) => `${g.name} (${g.cpus.length} vCPU${g.cpus.length > 1 ? "s" : ""}${g.tee ? ", TEE" : ""})`);
  const firmware = process.argv.includes("--armstub") ? "the firmware's armstub (no TF-A)"
    : setup.board.opteeNotifIntid !== undefined ? "TF-A + OP-TEE 4.5" : "TF-A (no TEE on this board)";
  console.log(`[run] booting ${setup.name} on ${setup.board.qemu.machine}: ${firmware} + hypervisor + ${names.join(", ")}`);
  if (interactive) {
    console.log("[run] interactive: Ctrl-A n moves the keyboard to the next guest, Ctrl-A 1-3 to that guest;");
    console.log("[run] each guest powers off when you leave its shell (exit); Ctrl-C stops QEMU at once");
  }
  const guests0 = interactive ? setup.guests.map((g) => ({ ...g, cmdline: `${g.cmdline} shell=1` })) : setup.guests;
  const armstub = process.argv.includes("--armstub");
  const run = await bootGuests({ ...setup, guests: guests0 }, {
    armstub,
    interactive,
    timeoutSeconds: interactive ? 24 * 3600 : 900,
    onLine: quiet ? undefined : (l) => process.stdout.write(`  | ${l}\n`),
  });
  const { probe, guests, result } = run;
  writeFileSync(join(RESULTS, "boot.json"), JSON.stringify({ setup: setup.name, ...probe }, null, 2) + "\n");
  const xtests = Object.fromEntries(guests.map((g) => [g.name, parseXtest(g.name, run.result.lines)]));
  const xtestJson = (x: XtestReport) => ({
    teeDevice: x.teeDevice,
    xtest: x.started ? { args: x.args, status: x.status, subtests: x.subtests, failed: x.failed, cases: x.cases,
      failedCases: x.failedCases, skipped: x.skipped, seconds: x.seconds, oomIgnored: x.oomIgnored } : null,
  });
  writeFileSync(join(RESULTS, "guests.json"), JSON.stringify({ guests: guests.map(({ lines, ...g }) => ({ ...g, ...xtestJson(xtests[g.name]) })) }, null, 2) + "\n");
  console.log(`[run] OP-TEE ${probe.osRevision ?? "?"}: ${probe.verdict ?? "no verdict"}`);
  for (const g of guests) {
    const facts = g.booted ? `kernel ${g.kernel}, ${g.nproc} CPU(s), ${Math.round((g.mem ?? 0) / 1024)} MiB, /init after ${g.secondsToInit} s` : "did not boot";
    console.log(`[run] ${g.name.padEnd(6)} ${facts}${g.isolation ? `, isolation probe: ${g.isolation}` : ""}${xtestFacts(xtests[g.name])}`);
  }
  console.log(`[run] wrote ${join(RESULTS, "boot.json")} and guests.json (${result.seconds.toFixed(1)} s)`);
  if (result.timedOut) console.error("[run] QEMU did not power off in time");
  // A TEE guest's xtest selection must pass in full (it holds none of the cases that fail natively).
  const xtestFailed = setup.guests.filter((g) => {
    const x = xtests[g.name];
    return x.started && (x.subtests === null || x.failed !== 0 || x.failedCases.length > 0);
  });
  for (const g of xtestFailed) console.error(`[run] ${g.name}: xtest did not pass (see its lines above, or run without --quiet)`);
  return guests.every((g) => g.booted) && !result.timedOut && !xtestFailed.length ? 0 : 1;
}

runMain("run", main);
