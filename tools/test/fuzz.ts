/**
 * `make fuzz`: the property-based mediator fuzzer (test/fuzz/mediator-fuzz.ts, fast-check) over many guest inputs —
 * 10^7 by default — in chunks of CHUNK inputs, each chunk a seed of its own, one worker process per core. Prints
 * progress every few seconds, then the executions, executions per second and invariant breaks. Each break is
 * shrunk by fast-check and saved as build/fuzz/failure-<seed>.json; exits 1 if there was any.
 *
 * Usage: tsx tools/test/fuzz.ts [--inputs N] [--seed S] [--jobs J]      (FUZZ_INPUTS, FUZZ_SEED, FUZZ_JOBS)
 *        tsx tools/test/fuzz.ts --replay build/fuzz/failure-<seed>.json (make fuzz-replay FILE=…)
 *        tsx tools/test/fuzz.ts --worker --seed S --inputs N            (one chunk; prints its result as JSON)
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { fuzzMediator, replayFailure, saveFailure, type FuzzResult } from "../../test/fuzz/mediator-fuzz.ts";
import { WORK_BOUND } from "../../test/fuzz/world.ts";
import { runMain, UserError } from "../lib/cli.ts";

const CHUNK = 200_000;
const log = (s: string) => console.log(`[fuzz] ${s}`);
const n = (x: number) => x.toLocaleString("en");

function worker(seed: number, inputs: number): number {
  process.stdout.write(JSON.stringify(fuzzMediator(seed, inputs)) + "\n");
  return 0;
}

function replay(file: string): number {
  const r = replayFailure(file);
  log(`replaying ${file}: ${r.commands}`);
  if (r.error === undefined) {
    log("PASS: the sequence breaks no invariant now");
    return 0;
  }
  console.error(`[fuzz] FAIL ${r.error}`);
  return 1;
}

function runChunk(seed: number, inputs: number): Promise<FuzzResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], "--worker", "--seed", String(seed), "--inputs", String(inputs)],
      { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.on("close", (code) => {
      try {
        resolve(JSON.parse(out.trim().split("\n").pop() ?? ""));
      } catch {
        const failure = { seed, path: "", replayPath: undefined, maxCommands: 0, error: `the worker died (exit ${code})`, commands: "" };
        resolve({ inputs: 0, shrinkInputs: 0, runs: 0, failures: [failure], maxWork: { smcs: 0, lines: 0 }, kinds: {}, answers: {}, broken: true });
      }
    });
  });
}

interface Totals {
  inputs: number;
  shrinkInputs: number;
  runs: number;
  breaks: number;
  maxWork: { smcs: number; lines: number };
  kinds: Record<string, number>;
}

function addResult(t: Totals, r: FuzzResult): void {
  t.inputs += r.inputs;
  t.shrinkInputs += r.shrinkInputs;
  t.runs += r.runs;
  t.breaks += r.failures.length;
  t.maxWork.smcs = Math.max(t.maxWork.smcs, r.maxWork.smcs);
  t.maxWork.lines = Math.max(t.maxWork.lines, r.maxWork.lines);
  for (const [k, c] of Object.entries(r.kinds)) t.kinds[k] = (t.kinds[k] ?? 0) + c;
  for (const f of r.failures) {
    const file = f.path ? saveFailure(f) : "(not replayable)";
    console.error(`[fuzz] BREAK seed ${f.seed}: ${f.error}`);
    console.error(`[fuzz]   shrunk to: ${f.commands.slice(0, 2000)}`);
    console.error(`[fuzz]   replay: make fuzz-replay FILE=${file}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    worker: { type: "boolean", default: false }, seed: { type: "string" }, inputs: { type: "string" }, jobs: { type: "string" },
    replay: { type: "string" },
  } });
  if (values.replay) return replay(values.replay);
  const total = Number(values.inputs ?? process.env.FUZZ_INPUTS ?? 10_000_000);
  const firstSeed = Number(values.seed ?? process.env.FUZZ_SEED ?? 1);
  if (!Number.isInteger(total) || total < 1) throw new UserError(`--inputs ${values.inputs}: a positive whole number`);
  if (values.worker) return worker(firstSeed, total);
  const jobs = Math.max(1, Number(values.jobs ?? process.env.FUZZ_JOBS ?? availableParallelism()));

  const started = Date.now();
  const chunks = Array.from({ length: Math.ceil(total / CHUNK) }, (_, i) => ({ seed: firstSeed + i, inputs: Math.min(CHUNK, total - i * CHUNK) }));
  log(`${n(total)} guest inputs to the OP-TEE mediator (fast-check), seeds ${firstSeed}-${firstSeed + chunks.length - 1}, ${jobs} workers`);
  const t: Totals = { inputs: 0, shrinkInputs: 0, runs: 0, breaks: 0, maxWork: { smcs: 0, lines: 0 }, kinds: {} };
  let lastReport = Date.now();
  const rate = () => Math.round(t.inputs / ((Date.now() - started) / 1000));
  const next = async (): Promise<void> => {
    for (let c = chunks.shift(); c; c = chunks.shift()) {
      addResult(t, await runChunk(c.seed, c.inputs));
      if (Date.now() - lastReport > 5000 || chunks.length === 0) {
        lastReport = Date.now();
        log(`${n(t.inputs)} / ${n(total)} inputs (${Math.floor((100 * t.inputs) / total)} %), ${t.breaks} invariant breaks, ` +
          `${n(rate())} executions/s, ~${Math.ceil((total - t.inputs) / Math.max(1, rate()) / 60)} min left`);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, next));
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`${n(t.inputs)} executions (guest inputs) in ${n(t.runs)} machine runs, ${minutes} min, ${n(rate())} executions/s, ${t.breaks} invariant breaks` +
    (t.shrinkInputs ? ` (and ${n(t.shrinkInputs)} more while shrinking them)` : ""));
  log(`inputs by kind: ${Object.entries(t.kinds).sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${n(c)}`).join(", ")}`);
  log(`most work for one guest event: ${t.maxWork.smcs} SMCs, ${t.maxWork.lines} console lines (bound ${WORK_BOUND.smcs}, ${WORK_BOUND.lines})`);
  if (t.breaks > 0 || t.inputs < total) return 1;
  log("PASS: no trap, no foreign address reached OP-TEE, the mediator held what OP-TEE held, nothing outlived VM_DESTROYED, " +
    "no call state was lost, work per event stayed bounded, and every guest kept working");
  return 0;
}

runMain("fuzz", main);
