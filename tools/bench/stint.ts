/**
 * `make bench` (stints): where the hypervisor's EL2 instructions go for one call, function by function. Boots the
 * micro-benchmark (N = 1) under the hypervisor with QEMU's gdbstub, and tools/debug/stint.py steps through one
 * EL2 stint — from the guest's trap to the ERET back — stepping over the SMC into the secure world. Grouped by
 * where the instructions are: trap entry and exit (vectors, run loop, list registers, controls), the core's
 * lock, the core, the mediator, the virtual GIC, copies, the C side of imports, the profile itself.
 * Writes build/bench/stint.json. Needs gdb-multiarch (make deps-debug). Figures, not tests.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setup } from "../../configs/microbench.ts";
import { PROJECT_ROOT } from "../firmware/paths.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { BUILD } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { prepareImage } from "./micro.ts";

const BENCH_DIR = join(BUILD, "bench");
const PORT = Number(process.env.STINT_GDB_PORT ?? 1236);
const log = (s: string) => console.log(`[bench] ${s}`);

/** The calls followed: the x0 the guest traps with, and which such trap (guest/microbench's order, N = 1). */
export const TRACED: { path: string; fid: number; nth: number }[] = [
  { path: "null-hvc", fid: 0x80000000, nth: 1 },
  { path: "calls-uid", fid: 0xbf00ff01, nth: 1 },
  { path: "register-shm-1", fid: 0x32000004, nth: 1 },
  // CALL_WITH_ARG: REGISTER/UNREGISTER_SHM ×3 sizes, OPEN/CLOSE, OPEN, then the 10th is INVOKE with 4 values.
  { path: "invoke-values", fid: 0x32000004, nth: 10 },
];

const GROUPS: [RegExp, string][] = [
  [/^(hyp_vectors|vector_\d+|guest_exit_common|guest_run|hyp_main|run_guest|vcpu_load_controls)$/, "trap entry/exit"],
  [/^gic_/, "list registers (C)"],
  [/^(account_|pmu_)/, "profile"],
  [/^(core_enter_|spin_lock|spin_unlock|sleep_lock|sleep_unlock|core_range|this_cpu|cpu_frame)/, "core entry, lock"],
  [/^(memcpy|memset|memmove|memcmp)$/, "copies"],
  [/^Z_hwZ_/, "imports (C)"],
  [/^w2c_hyp_tee_/, "mediator"],
  [/^w2c_hyp_vgic_/, "virtual GIC"],
  [/^(w2c_|Z_hypcoreZ_|i32_|i64_)/, "core"],
  [/^smc_call$/, "SMC"],
];

export function groupOf(fn: string): string {
  return GROUPS.find(([re]) => re.test(fn))?.[1] ?? "other";
}

async function traceOne(t: { path: string; fid: number; nth: number }): Promise<Record<string, unknown>> {
  const out = join(BENCH_DIR, `stint-${t.path}.raw.json`);
  const qemu = bootGuests(setup, { timeoutSeconds: 900, qemuArgs: ["-icount", "shift=0", "-S", "-gdb", `tcp:localhost:${PORT}`] });
  await new Promise((r) => setTimeout(r, 1500)); // QEMU opens its gdbstub
  const gdb = spawn("gdb-multiarch", ["-q", "-batch", "-ex", `target remote localhost:${PORT}`, "-x", "tools/debug/stint.py", "build/hyp.elf"], {
    cwd: PROJECT_ROOT, stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, STINT_FID: `0x${t.fid.toString(16)}`, STINT_NTH: String(t.nth), STINT_OUT: out },
  });
  let err = "";
  gdb.stderr.on("data", (c) => (err += c));
  const code: number = await new Promise((r) => gdb.on("close", (c) => r(c ?? 1)));
  await qemu.catch(() => undefined);
  let raw: { instructions: number; functions: Record<string, number> };
  try {
    raw = JSON.parse(readFileSync(out, "utf8"));
  } catch {
    throw new Error(`${t.path}: gdb wrote no trace (exit ${code}): ${err.trim().split("\n").slice(-2).join(" | ")}`);
  }
  const groups: Record<string, number> = {};
  for (const [fn, n] of Object.entries(raw.functions)) groups[groupOf(fn)] = (groups[groupOf(fn)] ?? 0) + n;
  const top = Object.entries(raw.functions).sort((a, b) => b[1] - a[1]).slice(0, 12);
  return { path: t.path, instructions: raw.instructions, groups, topFunctions: Object.fromEntries(top) };
}

async function main(): Promise<number> {
  if (spawnSync("gdb-multiarch", ["--version"]).error) throw new UserError("gdb-multiarch is not installed: run make deps-debug");
  prepareImage(1);
  const results = [];
  for (const t of TRACED) {
    const r = await traceOne(t);
    // Every stint runs the core (its export at least). A trace without it lost its way (seen since the ticket
    // lock and the console queue came in: one stepi there runs through the whole core call) and would mislead.
    if (!(r.groups as Record<string, number>).core) {
      console.error(`[bench] ${t.path}: the trace skipped the core (gdb stepping lost its way): not reported`);
      return 1;
    }
    results.push(r);
    const groups = Object.entries(r.groups as Record<string, number>).sort((a, b) => b[1] - a[1]);
    log(`${t.path}: ${r.instructions} EL2 instructions in one stint: ${groups.map(([g, n]) => `${g} ${n}`).join(", ")}`);
  }
  writeFileSync(join(BENCH_DIR, "stint.json"), JSON.stringify({ unit: "instructions", stints: results }, null, 2) + "\n");
  log(`wrote ${join(BENCH_DIR, "stint.json")}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) runMain("bench", main);
