/**
 * The shape of hyp/ (issue 11's seams): no import cycles anywhere, and core/ never imports a TEE mediator —
 * it reaches one only through core/tee-ops.ts, which main.ts fills in.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "uvu";
import * as assert from "uvu/assert";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HYP = join(ROOT, "hyp");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Each file of hyp/ (relative to hyp/) and the files of hyp/ it imports or re-exports from. */
function importGraph(): Map<string, string[]> {
  const files = sources(HYP);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const targets = [...text.matchAll(/(?:import|export)[^"';]*?from\s+"(\.[^"]+)"|import\s+"(\.[^"]+)"/g)]
      .map((m) => resolve(dirname(f), (m[1] ?? m[2]) + ".ts"))
      .filter((p) => files.includes(p));
    graph.set(relative(HYP, f), targets.map((p) => relative(HYP, p)));
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next); low.set(v, next); next++; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); component.push(w); } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test("hyp/ has no import cycles", () => {
  assert.equal(cycles(importGraph()), []);
});

test("core/ reaches the TEE mediator only through core/tee-ops.ts", () => {
  const wrong = [...importGraph()].flatMap(([f, targets]) =>
    f.startsWith("core/") ? targets.filter((t) => t.startsWith("tee/")).map((t) => `${f} imports ${t}`) : []);
  assert.equal(wrong, []);
});

test.run();
