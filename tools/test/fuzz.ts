/**
 * `make fuzz`: the hostile-guest fuzzer (test/fuzz/mediator-fuzz.ts) over many inputs — 10^7 by default — in
 * chunks of CHUNK inputs, each chunk a seed of its own, one worker process per core. Prints progress every few
 * seconds and a summary; exits 1 with the seed and input that reproduce the first failure.
 *
 * Usage: tsx tools/test/fuzz.ts [--inputs N] [--seed S] [--jobs J]      (FUZZ_INPUTS, FUZZ_SEED, FUZZ_JOBS)
 *        tsx tools/test/fuzz.ts --worker --seed S --inputs N            (one chunk; prints its result as JSON)
 */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { fuzzMediator, type FuzzResult } from "../../test/fuzz/mediator-fuzz.ts";
import { runMain, UserError } from "../lib/cli.ts";

const CHUNK = 200_000;
const log = (s: string) => console.log(`[fuzz] ${s}`);

function worker(seed: number, inputs: number): number {
  process.stdout.write(JSON.stringify(fuzzMediator(seed, inputs)) + "\n");
  return 0;
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
        resolve({ inputs: 0, machines: 0, failures: [`seed ${seed}: the worker died (exit ${code})`], kinds: {}, answers: {} });
      }
    });
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    worker: { type: "boolean", default: false }, seed: { type: "string" }, inputs: { type: "string" }, jobs: { type: "string" },
  } });
  const total = Number(values.inputs ?? process.env.FUZZ_INPUTS ?? 10_000_000);
  const firstSeed = Number(values.seed ?? process.env.FUZZ_SEED ?? 1);
  if (!Number.isInteger(total) || total < 1) throw new UserError(`--inputs ${values.inputs}: a positive whole number`);
  if (values.worker) return worker(firstSeed, total);
  const jobs = Math.max(1, Number(values.jobs ?? process.env.FUZZ_JOBS ?? availableParallelism()));

  const started = Date.now();
  const chunks = Array.from({ length: Math.ceil(total / CHUNK) }, (_, i) => ({ seed: firstSeed + i, inputs: Math.min(CHUNK, total - i * CHUNK) }));
  log(`${total.toLocaleString("en")} hostile inputs to the OP-TEE mediator, seeds ${firstSeed}-${firstSeed + chunks.length - 1}, ${jobs} workers`);
  let done = 0, machines = 0;
  const failures: string[] = [];
  const kinds: Record<string, number> = {};
  let lastReport = Date.now();
  const next = async (): Promise<void> => {
    for (let c = chunks.shift(); c && failures.length === 0; c = chunks.shift()) {
      const r = await runChunk(c.seed, c.inputs);
      done += r.inputs;
      machines += r.machines;
      failures.push(...r.failures);
      for (const [k, n] of Object.entries(r.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
      if (Date.now() - lastReport > 5000 || chunks.length === 0) {
        lastReport = Date.now();
        const rate = done / ((Date.now() - started) / 1000);
        log(`${done.toLocaleString("en")} / ${total.toLocaleString("en")} inputs (${Math.floor((100 * done) / total)} %), ` +
          `${failures.length} failures, ${Math.round(rate)}/s, ~${Math.ceil((total - done) / rate / 60)} min left`);
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, next));
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`${done.toLocaleString("en")} inputs on ${machines} machines in ${minutes} min: ` +
    Object.entries(kinds).map(([k, n]) => `${k} ${n.toLocaleString("en")}`).join(", "));
  if (failures.length) {
    for (const f of failures.slice(0, 5)) console.error(`[fuzz] FAIL ${f}`);
    console.error("[fuzz] reproduce: tsx tools/test/fuzz.ts --worker --seed <seed> --inputs <input + 1>");
    return 1;
  }
  log("PASS: the core never trapped, OP-TEE never saw an address that was not the caller's, every answer was OP-TEE's, and the honest guest kept working");
  return 0;
}

runMain("fuzz", main);
