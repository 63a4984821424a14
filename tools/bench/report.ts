/**
 * `make bench`'s last step: one report from the parts the benchmarks left in build/bench/ (micro.json,
 * el2-exits.json, end-to-end.json, teec.json; see tools/bench/report-lib.ts). Writes build/bench/report.json
 * (every figure, with units, N, medians and spreads, the commit and the QEMU version), build/bench/report.md and
 * its SVG charts in build/bench/charts/ (Vega-Lite, rendered in Node). A missing part is "not measured".
 *
 * Usage: tsx tools/bench/report.ts [--dir build/bench]
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, shown } from "../firmware/paths.ts";
import { runMain } from "../lib/cli.ts";
import { QEMU } from "../run/qemu.ts";
import { BENCH_DIR, log } from "./bench-lib.ts";
import { chartSpecs, renderSvg } from "./charts.ts";
import { buildReport, type Meta, type Parts } from "./report-lib.ts";
import { reportMarkdown } from "./report-md.ts";

const PART_FILES: Record<keyof Parts, string> = { micro: "micro.json", el2Exits: "el2-exits.json", endToEnd: "end-to-end.json", teec: "teec.json" };

/** A part's JSON, or undefined when it is missing or unreadable (said once, not fatal). */
function readPart(dir: string, file: string): unknown {
  const path = join(dir, file);
  if (!existsSync(path)) {
    log(`${shown(path)}: not there (not measured)`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    log(`${shown(path)}: not JSON (${(e as Error).message}): left out`);
    return undefined;
  }
}

export function readParts(dir: string): Parts {
  return Object.fromEntries(Object.entries(PART_FILES).map(([key, file]) => [key, readPart(dir, file)])) as Parts;
}

function output(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: PROJECT_ROOT });
  return r.status === 0 ? r.stdout.trim() : null;
}

function meta(): Meta {
  const commit = output("git", ["rev-parse", "--short=12", "HEAD"]) ?? "unknown";
  const dirty = output("git", ["status", "--porcelain", "--untracked-files=no"]);
  const qemu = output(QEMU, ["--version"])?.split("\n")[0].replace(/^QEMU emulator version/, "QEMU") ?? "QEMU (not found)";
  return { commit: dirty ? `${commit}+changes` : commit, qemu, generated: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
}

/** Writes report.json, report.md and the charts into `dir`; returns the chart file names. */
export async function writeReport(dir: string, parts: Parts, m: Meta): Promise<string[]> {
  const report = buildReport(parts, m);
  const chartsDir = join(dir, "charts");
  rmSync(chartsDir, { recursive: true, force: true });
  mkdirSync(chartsDir, { recursive: true });
  const charts: string[] = [];
  for (const [file, spec] of Object.entries(chartSpecs(report))) {
    writeFileSync(join(chartsDir, file), await renderSvg(spec));
    charts.push(file);
  }
  writeFileSync(join(dir, "report.json"), JSON.stringify({ ...report, charts: charts.map((c) => `charts/${c}`) }, null, 2) + "\n");
  writeFileSync(join(dir, "report.md"), reportMarkdown(report, charts));
  return charts;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf("--dir");
  const dir = at > 0 ? process.argv[at + 1] : BENCH_DIR;
  mkdirSync(dir, { recursive: true });
  const charts = await writeReport(dir, readParts(dir), meta());
  log(`wrote ${shown(join(dir, "report.json"))}, ${shown(join(dir, "report.md"))} and ${charts.length} chart(s): ${charts.join(", ")}`);
}

if (import.meta.url === `file://${process.argv[1]}`) runMain("bench", main);
