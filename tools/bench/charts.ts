/**
 * The report's charts: Vega-Lite specifications built from the report, compiled to Vega and rendered to SVG in
 * Node by Vega's headless view (renderer "none" needs no canvas; text is measured by estimate). A chart whose
 * data was not measured is left out; the report says "not measured" instead.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { Report } from "./report-lib.ts";

type Spec = vl.TopLevelSpec;

const WIDTH = 560;
const COLORS = { native: "#4c78a8", guest: "#9ecae9", el2: "#e45756", rest: "#f58518", hyp: "#f58518" };

/**
 * One bar per path and system: native is one piece; under the hypervisor the bar stacks what native costs,
 * the EL2 instructions (when the hypervisor's accounting measured them) and the rest (what the guest, TF-A and
 * OP-TEE spend beyond native). Instructions on a linear axis of its own per path, one chart per source.
 */
export function perCallSpec(report: Report, source: "micro" | "teec", title: string): Spec | null {
  const rows: { path: string; system: string; part: string; order: number; instructions: number }[] = [];
  for (const [path, p] of Object.entries(report.perCall)) {
    if (p.source !== source || p.guestNative === null || p.guestHyp === null) continue;
    const label = source === "teec" ? path.replace(/^teec-/, "") : path;
    rows.push({ path: label, system: "native", part: "native", order: 0, instructions: p.guestNative });
    const el2 = p.el2Instructions ?? 0;
    const rest = Math.max(0, p.guestHyp - p.guestNative - el2);
    rows.push({ path: label, system: "hypervisor", part: "as native", order: 0, instructions: Math.min(p.guestNative, p.guestHyp) });
    if (p.el2Instructions !== null) rows.push({ path: label, system: "hypervisor", part: "EL2 (hypervisor)", order: 1, instructions: el2 });
    rows.push({ path: label, system: "hypervisor", part: p.el2Instructions !== null ? "rest (guest, TF-A, OP-TEE)" : "added (not split: no EL2 figure)", order: 2, instructions: rest });
  }
  if (!rows.length) return null;
  const parts = ["native", "as native", "EL2 (hypervisor)", "rest (guest, TF-A, OP-TEE)", "added (not split: no EL2 figure)"];
  const colors = [COLORS.native, COLORS.guest, COLORS.el2, COLORS.rest, COLORS.hyp];
  const present = parts.map((p, i) => [p, colors[i]]).filter(([p]) => rows.some((r) => r.part === p));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: title, subtitle: `instructions per call, medians; QEMU -icount ${report.icount ?? "?"}; commit ${report.commit}` },
    data: { values: rows },
    width: 90,
    height: 260,
    mark: { type: "bar" },
    encoding: {
      column: { field: "path", type: "nominal", title: null, sort: [...new Set(rows.map((r) => r.path))], header: { labelAngle: 0, labelOrient: "bottom" } },
      x: { field: "system", type: "nominal", title: null, sort: ["native", "hypervisor"], axis: { labels: false, ticks: false } },
      y: { field: "instructions", type: "quantitative", title: "instructions per call", stack: "zero" },
      color: {
        field: "part", type: "nominal", title: null,
        scale: { domain: present.map((p) => p[0]), range: present.map((p) => p[1]) },
        legend: { orient: "bottom", direction: "horizontal", labelLimit: 400 },
      },
      order: { field: "order", type: "quantitative" },
      tooltip: [{ field: "path" }, { field: "system" }, { field: "part" }, { field: "instructions", format: "," }],
    },
    // Each path on its own scale: a call of 2,000 instructions next to one of 2,000,000 would not show.
    resolve: { scale: { y: "independent" } },
    config: { view: { stroke: null } },
  } as Spec;
}

/** EL2 instructions per exit kind (totals), each bar labelled with the count and the cost per exit. */
export function exitsSpec(report: Report): Spec | null {
  const rows = Object.entries(report.exits).map(([kind, e]) => ({
    kind, instructions: e.el2Instructions, count: e.count, perExit: e.count ? Math.round(e.el2Instructions / e.count) : 0,
  }));
  if (!rows.length) return null;
  rows.sort((a, b) => b.instructions - a.instructions);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "EL2 instructions per exit kind", subtitle: `${report.exitsSource ?? ""}; commit ${report.commit}` },
    data: { values: rows.map((r) => ({ ...r, label: `${r.count.toLocaleString("en")} × ${r.perExit}` })) },
    width: WIDTH - 200,
    height: { step: 18 },
    encoding: {
      y: { field: "kind", type: "nominal", sort: null, title: null, axis: { labelLimit: 300 } },
      x: { field: "instructions", type: "quantitative", title: "EL2 instructions, total" },
    },
    layer: [
      { mark: { type: "bar", color: COLORS.el2 } },
      { mark: { type: "text", align: "left", dx: 3, fontSize: 10 }, encoding: { text: { field: "label" } } },
    ],
  } as Spec;
}

/** Every end-to-end ratio to native, with the goal where the issue sets one. */
export function ratiosSpec(report: Report): Spec | null {
  const e = report.endToEnd;
  const rows = [
    { figure: "xtest selection, tee1 alone", ratio: e.teeSelection.ratio, goal: 1.1 as number | null },
    { figure: "boot to /init, alone", ratio: e.bootToInit.ratioAlone, goal: 1.2 },
    { figure: "boot to /init, one of three (tee1's CPUs)", ratio: e.bootToInit.ownCpus.ratioAlongside, goal: 1.3 },
    ...Object.entries(report.perCall).filter(([, p]) => p.source === "teec")
      .map(([path, p]) => ({ figure: `${path.replace(/^teec-/, "TEEC ")}, alone`, ratio: p.ratio, goal: /invoke/.test(path) ? 1.05 : null })),
  ].filter((r) => r.ratio !== null);
  if (!rows.length) return null;
  const y = { field: "figure", type: "nominal", sort: null, title: null, axis: { labelLimit: 300 } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "Under the hypervisor, × native", subtitle: `guest-observed instructions; | = goal; commit ${report.commit}` },
    data: { values: rows },
    width: WIDTH - 220,
    height: { step: 20 },
    layer: [
      { mark: { type: "bar", color: COLORS.hyp }, encoding: { y, x: { field: "ratio", type: "quantitative", title: "× native" } } },
      { mark: { type: "text", align: "left", dx: 3, fontSize: 10 }, encoding: { y, x: { field: "ratio", type: "quantitative" }, text: { field: "ratio", format: ".2f" } } },
      { mark: { type: "tick", color: "black", thickness: 2 }, encoding: { y, x: { field: "goal", type: "quantitative" } } },
      { data: { values: [{ one: 1 }] }, mark: { type: "rule", strokeDash: [3, 3], color: "#666" }, encoding: { x: { field: "one", type: "quantitative" } } },
    ],
  } as Spec;
}

export async function renderSvg(spec: Spec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** The charts this report has data for, by file name. */
export function chartSpecs(report: Report): Record<string, Spec> {
  const specs: Record<string, Spec | null> = {
    "per-call-teec.svg": perCallSpec(report, "teec", "TEEC calls from Linux user space (guest/teebench): native vs tee1 under the hypervisor"),
    "per-call-micro.svg": perCallSpec(report, "micro", "One call from the bare-metal micro-benchmark guest: native vs under the hypervisor"),
    "el2-exits.svg": exitsSpec(report),
    "end-to-end-ratios.svg": ratiosSpec(report),
  };
  return Object.fromEntries(Object.entries(specs).filter((e): e is [string, Spec] => e[1] !== null));
}
