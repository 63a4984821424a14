/**
 * The OP-TEE mediator under property-based fuzzing (fast-check): sequences of guest inputs (commands.ts) from
 * both TEE guests, interleaved, on the core's real .wasm with the OP-TEE model, every invariant of invariants.ts
 * checked after every input. One fast-check run boots one machine and carries out up to MAX_COMMANDS inputs,
 * then drains what is left (held SMCs released, every RPC answered properly) and requires each guest to still
 * open, invoke and close a session with nothing left open. A failure is shrunk by fast-check to a short sequence
 * and can be saved and replayed (seed, path and the commands' replay path).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import fc from "fast-check";
import { stillWorks } from "../fakes/tee-guest.ts";
import { commands } from "./commands.ts";
import { checkHoldings, checkMachine, HOLDS_CALLS, holds } from "./invariants.ts";
import { World, type WorkBound } from "./world.ts";

/** Inputs per booted machine at most: long enough to build up state (held buffers, calls in RPCs, resets). */
export const MAX_COMMANDS = 600;
/** fast-check runs per fc.check call: a check is the unit a failure is reported and replayed in. */
const RUNS_PER_CHECK = 10;

export interface Failure {
  seed: number;
  path: string;
  replayPath: string | undefined;
  maxCommands: number;
  error: string;
  commands: string;
}

interface Tally {
  /** Inputs carried out until the first break; those of fast-check's shrinking after it are counted apart. */
  inputs: number;
  shrinkInputs: number;
  runs: number;
  /** The most work one guest event made the core do. */
  maxWork: WorkBound;
  /** Inputs by kind, and the a0 std calls and RPC returns got: for a person to see what was covered. */
  kinds: Record<string, number>;
  answers: Record<string, number>;
  /** A run broke an invariant: fast-check is shrinking it now. */
  broken: boolean;
}

export interface FuzzResult extends Tally {
  /** Invariant breaks found (each one shrunk). */
  failures: Failure[];
}

const newTally = (): Tally => ({ inputs: 0, shrinkInputs: 0, runs: 0, maxWork: { smcs: 0, lines: 0 }, kinds: {}, answers: {}, broken: false });

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** The property: a machine driven by the commands breaks no invariant, and drains to a clean state. */
function property(tally: Tally, maxCommands: number, replayPath?: string) {
  return fc.property(fc.commands(commands, { maxCommands, size: "max", replayPath }), (cmds) => {
    const w = new World();
    const shrinking = tally.broken;
    try {
      fc.modelRun(() => ({ model: w, real: w }), cmds);
      drain(w);
    } catch (e) {
      tally.broken = true;
      throw e;
    } finally {
      if (shrinking) tally.shrinkInputs += w.inputs;
      else tally.inputs += w.inputs;
      tally.runs++;
      tally.maxWork.smcs = Math.max(tally.maxWork.smcs, w.maxWork.smcs);
      tally.maxWork.lines = Math.max(tally.maxWork.lines, w.maxWork.lines);
      add(tally.kinds, w.kinds);
      add(tally.answers, w.answers);
    }
  });
}

/**
 * What is left at the end of a run: held SMCs come back, waiting CPUs are kicked, every RPC is answered as Linux
 * does. Then no call may be open anywhere, and every guest still running must still work.
 */
function drain(w: World): void {
  for (const cpu of [0, 1, 2]) {
    if (w.m.state.get(cpu) === "in SMC") w.took(cpu, (w.m.releaseSmc(cpu), Array.from({ length: 8 }, (_, i) => w.m.reg(cpu, i))));
  }
  for (const cpu of [0, 1, 2]) if (w.m.state.get(cpu) === "waiting") w.m.wake(cpu, 1);
  for (const a of w.actors) {
    for (let n = 0; a.pending.length && n < 500; n++) {
      const p = a.pending.shift()!;
      if (!w.running(p.cpu)) continue;
      const regs = w.guestOn(p.cpu).answer(p.regs);
      w.took(p.cpu, regs);
    }
  }
  const broken = [...checkMachine(w.m, w.seen), ...checkHoldings(w)];
  for (const a of w.actors) {
    if (a.off || !w.running(a.cpus[0])) continue;
    const open = holds(w.m, a.index, HOLDS_CALLS);
    if (open !== 0) broken.push(`guest ${a.index}: ${open} calls still open after every RPC was answered (lost call state)`);
    try {
      stillWorks(a.on(a.cpus[0]));
    } catch (e) {
      broken.push(`guest ${a.index} stopped working: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  broken.push(...checkMachine(w.m, w.seen));
  if (broken.length) throw new Error(`at the end of the run: ${broken.join("; ")}`);
}

/** An invariant break says what broke; anything else thrown also says where (a bug in the fakes, or a crash). */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.message.startsWith("after ") || e.message.startsWith("at the end")) return e.message;
  return `${e.message} | ${e.stack?.split("\n").slice(1, 4).map((l) => l.trim()).join(" | ")}`;
}

function failureOf(details: fc.RunDetails<[fc.Command<World, World>[]]>, maxCommands: number): Failure {
  const commandsText = String(details.counterexample?.[0] ?? "");
  return {
    seed: details.seed,
    path: details.counterexamplePath ?? "",
    replayPath: /replayPath="([^"]*)"/.exec(commandsText)?.[1],
    maxCommands,
    error: describe(details.errorInstance),
    commands: commandsText,
  };
}

/** At least `inputs` guest inputs from `seed` on; stops at the first invariant break (shrunk). */
export function fuzzMediator(seed: number, inputs: number, maxCommands = MAX_COMMANDS): FuzzResult {
  const tally = newTally();
  const failures: Failure[] = [];
  for (let k = 0; tally.inputs < inputs && failures.length === 0; k++) {
    const details = fc.check(property(tally, maxCommands), { seed: (seed * 100_003 + k) % 2 ** 31, numRuns: RUNS_PER_CHECK, interruptAfterTimeLimit: 300_000 });
    if (details.failed) failures.push(failureOf(details, maxCommands));
  }
  return { ...tally, failures };
}

export function saveFailure(f: Failure, dir = "build/fuzz"): string {
  const file = `${dir}/failure-${f.seed}.json`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(f, null, 2) + "\n");
  return file;
}

/** Runs a saved failure again (its shrunk command sequence): what it breaks now, or undefined if it passes. */
export function replayFailure(file: string): { error: string | undefined; commands: string } {
  const f = JSON.parse(readFileSync(file, "utf8")) as Failure;
  const details = fc.check(property(newTally(), f.maxCommands, f.replayPath), { seed: f.seed, path: f.path, endOnFailure: true });
  return { error: details.failed ? failureOf(details, f.maxCommands).error : undefined, commands: f.commands };
}
