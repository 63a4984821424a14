/** build/bench/report.md from the report (tools/bench/report-lib.ts): tables a person reads at a glance, then the charts. */
import type { Goal, Num, Report } from "./report-lib.ts";

const NOT_MEASURED = "not measured";

/** 1234567 → "1,234,567"; null → "not measured". */
export const count = (x: Num): string => (x === null ? NOT_MEASURED : Math.round(x).toLocaleString("en"));
const times = (x: Num): string => (x === null ? NOT_MEASURED : `${x.toFixed(2)}×`);
const giga = (x: Num): string => (x === null ? NOT_MEASURED : `${(x / 1e9).toFixed(3)} G`);

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}

function goalText(g: Goal | undefined): string {
  if (!g) return "";
  const verdict = g.within === null ? "" : g.within ? " ✓ within" : " ✗ over";
  return `goal ${g.goal}${verdict}`;
}

const goalFor = (report: Report, figure: string) => report.goals.find((g) => g.figure.startsWith(figure));

function endToEnd(report: Report): string {
  const t = report.endToEnd.teeSelection, b = report.endToEnd.bootToInit;
  return table(["figure (instructions of the whole machine)", "native", "under the hypervisor", "× native", "goal"], [
    [`call-heavy xtest selection (${t.selection?.replace(/,/g, " ") ?? "?"}), tee1 alone`, giga(t.native), giga(t.hyp), times(t.ratio), goalText(goalFor(report, "call-heavy xtest selection"))],
    ["power-on to /init, tee1 alone", giga(b.native), giga(b.alone), times(b.ratioAlone), goalText(goalFor(report, "boot to /init, alone"))],
    ["power-on to /init, tee1 one of three guests", giga(b.native), giga(b.alongside), times(b.ratioAlongside), ""],
    ["the same, only what tee1's own CPUs executed", giga(b.ownCpus.native), giga(b.ownCpus.alongside), times(b.ownCpus.ratioAlongside), goalText(goalFor(report, "boot to /init, one of three"))],
  ]) + "\n\nOne of three: QEMU runs the CPUs one at a time under -icount, so tee1's clock also counts the two other guests' boots; on hardware they would run in parallel, and what tee1's own CPUs executed (the firmware, the hypervisor and any wait for its lock on them included) is what its boot would take.";
}

function perCallRows(report: Report, source: "micro" | "teec"): string[][] {
  return Object.entries(report.perCall).filter(([, p]) => p.source === source).map(([path, p]) => {
    const goal = source === "teec" && /invoke-(values|memref)/.test(path) ? goalFor(report, `TEEC_InvokeCommand (${path.slice(12)})`)
      : path === "calls-uid" ? goalFor(report, "forwarded fast call") : path === "invoke-values" ? goalFor(report, "INVOKE with 4")
      : /^register-shm-/.test(path) ? goalFor(report, "REGISTER_SHM") : undefined;
    const added = p.guestNative !== null && p.guestHyp !== null ? `+${count(p.guestHyp - p.guestNative)}` : NOT_MEASURED;
    return [path, count(p.el2Instructions), count(p.guestNative), count(p.guestHyp), added, times(p.ratio), p.n === null ? "" : String(p.n), goalText(goal)];
  });
}

function perCall(report: Report): string {
  const head = ["path", "EL2 instructions", "native (guest-observed)", "hypervisor (guest-observed)", "added", "× native", "N", "goal"];
  const micro = perCallRows(report, "micro"), teec = perCallRows(report, "teec");
  const shm = report.goals.find((g) => g.figure.startsWith("REGISTER_SHM"));
  return [
    "### One call from the bare-metal micro-benchmark guest",
    micro.length ? table(head, micro) : `_${NOT_MEASURED}_ (build/bench/micro.json is missing)`,
    micro.length && shm ? `\nREGISTER_SHM per page (slope from the smallest to the largest registration): ${shm.value === null ? NOT_MEASURED : `${shm.value} EL2 instructions`}, ${goalText(shm)}.` : "",
    "\n### TEEC calls from Linux user space (guest/teebench, tee1 alone)",
    teec.length ? table(head, teec) : `_${NOT_MEASURED}_ (build/bench/teec.json is missing)`,
  ].filter(Boolean).join("\n\n");
}

function alongside(report: Report): string {
  if (!report.teec) return "";
  const rows = Object.entries(report.teec.alongside).map(([p, a]) =>
    [p, count(a.tee1), count(a.tee2), times(a.ratio), count(a.nativeTwo), times(a.ratioToNativeTwo)]);
  const overlap = (report.teec.overlap ?? []).map((o: Num) => (o === null ? "?" : `${Math.round(o * 100)} %`)).join(", ");
  return `### TEEC calls in tee1 and tee2 at once\n\nEach guest's clock also counts the other guest's instructions (QEMU runs the CPUs one at a time): this is the machine's shared work, not parallel hardware. The fair baseline is two processes calling at once on the native baseline, over the same window of the counter. Measuring overlapped ${overlap || "?"} of tee1's time.\n\n${table(["path", "tee1 (instructions per call)", "tee2", "tee1 × native alone", "native, two processes at once", "tee1 × that"], rows)}`;
}

function exits(report: Report): string {
  const rows = Object.entries(report.exits).sort((a, b) => b[1].el2Instructions - a[1].el2Instructions)
    .map(([kind, e]) => [kind, count(e.count), count(e.el2Instructions), count(e.count ? e.el2Instructions / e.count : null)]);
  if (!rows.length) return `### EL2 instructions per exit kind\n\n_${NOT_MEASURED}_ (build/bench/el2-exits.json is missing)`;
  return `### EL2 instructions per exit kind\n\n${report.exitsSource ? `What ran: ${report.exitsSource}.\n\n` : ""}${table(["exit kind", "count", "EL2 instructions", "per exit"], rows)}`;
}

function goals(report: Report): string {
  return table(["goal (a target, not a test)", "figure", ""], report.goals.map((g) =>
    [`${g.figure}: ${g.goal}`, g.value === null ? NOT_MEASURED : g.unit === "× native" ? times(g.value) : `${g.value} ${g.unit}`,
      g.within === null ? "" : g.within ? "✓ within" : "✗ over"]));
}

export function reportMarkdown(report: Report, charts: string[]): string {
  return [
    "# tee-hyp benchmarks",
    `Commit ${report.commit}, ${report.qemu}, QEMU \`-icount ${report.icount ?? "?"}\`: every figure is a count of instructions (one guest nanosecond each), the same on any host. Generated ${report.generated} by \`make bench\`; every figure with its runs and spread is in report.json.`,
    "## Goals", goals(report),
    "## End to end", endToEnd(report),
    "## Per call", perCall(report),
    alongside(report),
    exits(report),
    "## Charts", charts.length ? charts.map((c) => `![${c}](charts/${c})`).join("\n\n") : `_${NOT_MEASURED}_`,
  ].filter(Boolean).join("\n\n") + "\n";
}
