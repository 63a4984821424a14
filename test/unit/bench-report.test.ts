/**
 * tools/bench/report.ts on fixtures shaped like the benchmarks' parts (test/unit/fixtures/bench/): the report
 * keeps the agreed shape, a missing part is "not measured" and never an error, the charts are real SVG. Figures,
 * not tests: nothing here asserts on a measured number, only on what the fixtures say.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseTeebench, overlap } from "../../tools/bench/teec-report.ts";
import { buildReport, shmPerPage } from "../../tools/bench/report-lib.ts";
import { readParts, writeReport } from "../../tools/bench/report.ts";
import { instructionsOnCpus, lastWindowByRegion } from "../../tools/bench/cpu-insns.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/bench/", import.meta.url));
const META = { commit: "abc123", qemu: "QEMU 10.0.2", generated: "2026-12-02T00:00:00Z" };

test("the report keeps the agreed shape, from every part", () => {
  const r = buildReport(readParts(FIXTURES), META);
  assert.is(r.commit, "abc123");
  assert.is(r.qemu, "QEMU 10.0.2");
  assert.is(r.icount, "shift=0");
  for (const key of ["native", "hyp", "ratio"]) assert.ok(key in r.endToEnd.teeSelection, `teeSelection.${key}`);
  for (const key of ["native", "alone", "alongside", "ratioAlone", "ratioAlongside"]) assert.ok(key in r.endToEnd.bootToInit, `bootToInit.${key}`);
  assert.is(r.endToEnd.bootToInit.ratioAlone, 1.1);
  assert.equal(Object.keys(r.perCall["calls-uid"]).slice(0, 5), ["el2Instructions", "guestNative", "guestHyp", "ratio", "n"]);
  assert.is(r.perCall["calls-uid"].el2Instructions, 140);
  assert.is(r.perCall["teec-invoke-values"].guestNative, 19384);
  assert.is(r.perCall["teec-invoke-values"].ratio, 1.921);
  assert.is(r.perCall["null-hvc"].ratio, null); // a bare HVC has no native counterpart
  assert.equal(r.exits["hvc:psci"], { count: 3, el2Instructions: 900 });
  assert.is(r.teec?.alongside["invoke-values"].tee2, 81000);
});

test("goals sit next to their figures; REGISTER_SHM per page is the slope", () => {
  const r = buildReport(readParts(FIXTURES), META);
  const goal = (f: string) => r.goals.find((g) => g.figure.startsWith(f))!;
  assert.is(goal("forwarded fast call").value, 140);
  assert.is(goal("forwarded fast call").within, true);
  assert.is(goal("INVOKE with 4").within, false);
  assert.is(shmPerPage(r.perCall), 32); // (9060 - 900) / 255
  assert.is(goal("TEEC_InvokeCommand (memref)").value, null);
  assert.is(goal("TEEC_InvokeCommand (memref)").within, null);
});

test("no parts at all: every figure is null, nothing throws", () => {
  const r = buildReport({}, META);
  assert.is(r.endToEnd.teeSelection.native, null);
  assert.is(r.endToEnd.bootToInit.ratioAlongside, null);
  assert.equal(r.perCall, {});
  assert.equal(r.exits, {});
  assert.ok(r.goals.every((g) => g.value === null && g.within === null));
});

test("report.md, report.json and SVG charts from fixtures; an empty directory says not measured", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
  try {
    const charts = await writeReport(dir, readParts(FIXTURES), META);
    assert.equal(charts.sort(), ["el2-exits.svg", "end-to-end-ratios.svg", "per-call-micro.svg", "per-call-teec.svg"]);
    for (const c of readdirSync(join(dir, "charts"))) assert.match(readFileSync(join(dir, "charts", c), "utf8"), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const json = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    assert.is(json.perCall["calls-uid"].n, 200);
    const md = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(md, /\| calls-uid \| 140 \|/);
    assert.match(md, /goal ≤ 150 EL2 instructions ✓ within/);
    assert.match(md, /!\[el2-exits.svg\]\(charts\/el2-exits.svg\)/);

    const empty = mkdtempSync(join(tmpdir(), "bench-report-empty-"));
    try {
      assert.equal(await writeReport(empty, readParts(empty), META), []);
      assert.match(readFileSync(join(empty, "report.md"), "utf8"), /not measured/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("teebench's lines, read back", () => {
  const lines = [
    "[tee1] TEEBENCH-START name=tee1 n=3 clock=CLOCK_MONOTONIC resolution_ns=1 since_power_on=2.0",
    "[tee2] TEEBENCH path=invoke-values n=3 median=9 min=9 p10=9 p90=9 max=9 mean=9",
    "[tee1] TEEBENCH path=invoke-values n=3 median=37235 min=37224 p10=37224 p90=37245 max=48401 mean=37583",
    "[tee1] TEEBENCH-END name=tee1 status=ok since_power_on=3.0",
  ];
  const r = parseTeebench("tee1", lines);
  assert.is(r.status, "ok");
  assert.is(r.n, 3);
  assert.equal(r.paths["invoke-values"], { n: 3, median: 37235, min: 37224, p10: 37224, p90: 37245, max: 48401, mean: 37583 });
  const failed = parseTeebench("tee1", ["[tee1] TEEBENCH-ERROR name=tee1 open-session: TEEC result 0xffff0008 origin 3", "[tee1] TEEBENCH-END name=tee1 status=failed"]);
  assert.is(failed.status, "failed");
  assert.match(failed.errors[0], /^open-session/);
  assert.is(parseTeebench("tee1", []).status, null);
  // Two processes on one console (teebench_procs=2): each read by its own name.
  const two = ["[native] TEEBENCH name=native.1 path=invoke-values n=1 median=1 min=1 p10=1 p90=1 max=1 mean=1",
    "[native] TEEBENCH name=native.2 path=invoke-values n=1 median=2 min=2 p10=2 p90=2 max=2 mean=2"];
  assert.is(parseTeebench("native", two, "native.2").paths["invoke-values"].median, 2);
  const other = { ...r, name: "tee2", startedAt: 2.5, endedAt: 4.0 };
  assert.is(overlap(r, other), 0.5);
});

test("a guest's own CPUs at its first marker: other guests' marks and CPUs are not counted", () => {
  const out = ["mark 3 100 200 300 400", "mark 1 110 210 310 410", "mark 0 120 220 320 420", "total 500 600 700 800"].join("\n");
  assert.is(instructionsOnCpus(out, [0, 1]), 110 + 210, "the first mark on CPU 0 or 1, both CPUs summed");
  assert.is(instructionsOnCpus(out, [3]), 400);
  assert.is(instructionsOnCpus(out, [2]), null, "no mark on CPU 2");
  assert.is(instructionsOnCpus("mark 0 5", [0, 1]), 5, "a CPU not run yet has executed nothing");
});

test("cpuinsns: what each CPU ran by region between the last two marks (xtest's window)", () => {
  const out = [
    "mark 1 10 20", "region el2 1 2", "region kernel 9 18",
    "mark 1 100 50", "region el2 10 5", "region kernel 90 45",
    "mark 0 300 70", "region el2 20 6", "region kernel 280 64",
    "total 400 80", "region el2 30 7", "region kernel 370 73",
  ].join("\n");
  assert.equal(lastWindowByRegion(out), { el2: [10, 1], kernel: [190, 19] }, "the marks' regions, not the total's");
  assert.is(lastWindowByRegion("mark 0 1\nregion el2 1"), null, "one mark is no window");
});

test.run();
