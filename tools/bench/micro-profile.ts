/**
 * `make bench-micro-profile`: where each micro-benchmark path's EL2 instructions go, by function. The bare-metal
 * guest (guest/microbench) runs as the hypervisor's only guest under -icount with the QEMU plugin
 * tools/bench/profile/tbprof.c, which snapshots its per-block counts each time the guest executes the marker
 * (HINT #0x7f): main.c marks just before and just after each path's calls, so the difference of two snapshots
 * is that path's alone. The hypervisor's blocks are named by the function that holds them (the symbols of
 * build/hyp.elf; the core's AssemblyScript is compiled into C functions named w2c_hyp_<file>_<function>, and what
 * the C compiler inlined counts for its caller). Per call, in instructions. Writes build/bench/micro-profile.json.
 *
 * Usage: tsx tools/bench/micro-profile.ts [--n N] [--top K]
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setup } from "../../configs/microbench.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { runMain, UserError } from "../lib/cli.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { BENCH_DIR, log } from "./bench-lib.ts";
import { prepareImage } from "./micro.ts";

/**
 * The windows between guest/microbench/main.c's marks, in the order it runs them: each path's start mark and its
 * report's mark (register/unregister and open/close run in pairs, one of each per iteration, so share a window;
 * the other windows between marks only print the reports).
 */
const MARKS = 22;
export const WINDOWS: { name: string; from: number }[] = [
  { name: "null-hvc", from: 1 }, { name: "calls-uid", from: 3 }, { name: "get-thread-count", from: 5 },
  { name: "register-shm-1 + unregister-shm-1", from: 7 }, { name: "register-shm-16 + unregister-shm-16", from: 10 },
  { name: "register-shm-256 + unregister-shm-256", from: 13 }, { name: "open-session + close-session", from: 16 },
  { name: "invoke-values", from: 19 }, { name: "invoke-memref", from: 21 },
];

export interface Sym { addr: number; name: string }

/** The text symbols of an ELF, by address. */
export function symbols(elf: string): Sym[] {
  const out = execFileSync("aarch64-linux-gnu-nm", ["-n", "--defined-only", elf], { encoding: "utf8" });
  return out.split("\n").map((l) => l.split(" ")).filter((p) => p.length >= 3 && /^[tTwW]$/.test(p[1]))
    .map(([a, , n]) => ({ addr: parseInt(a, 16), name: n }));
}

export function symbolAt(syms: Sym[], addr: number): string {
  let lo = 0, hi = syms.length - 1, best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (syms[mid].addr <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return best < 0 ? "?" : syms[best].name;
}

/** One tbprof snapshot: instructions executed in the hypervisor's image so far, by function. */
export function el2ByFunction(text: string, syms: Sym[], base: number, size: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [va, insns, executions] = line.split(" ");
    if (!executions) continue;
    const addr = parseInt(va, 16);
    if (addr < base || addr >= base + size) continue;
    const f = symbolAt(syms, addr);
    m.set(f, (m.get(f) ?? 0) + Number(insns) * Number(executions));
  }
  return m;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { n: { type: "string" }, top: { type: "string" } } });
  const n = Number(values.n ?? 200), top = Number(values.top ?? 12);
  if (!Number.isInteger(n) || n < 1 || n > 2000) throw new UserError(`--n ${values.n}: a whole number of iterations from 1 to 2000`);
  const plugin = join(BENCH_DIR, "tbprof.so"), out = join(BENCH_DIR, "micro-profile.txt");
  for (let k = 1; existsSync(`${out}.mark${k}`); k++) rmSync(`${out}.mark${k}`);
  prepareImage(n);
  log(`micro-benchmark profile: each path ${n} times as the hypervisor's only guest, -icount shift=0, blocks counted at each mark`);
  await bootGuests(setup, { timeoutSeconds: 900, qemuArgs: ["-icount", "shift=0", "-plugin", `${plugin},out=${out},marks=1`] });
  const hyp = qemuVirt.hypervisor.image;
  const syms = symbols(join("build", "hyp.elf"));
  const snaps: Map<string, number>[] = [];
  for (let k = 1; existsSync(`${out}.mark${k}`); k++) snaps.push(el2ByFunction(readFileSync(`${out}.mark${k}`, "utf8"), syms, hyp.base, hyp.size));
  if (snaps.length !== MARKS) throw new Error(`${snaps.length} marks, not the ${MARKS} guest/microbench/main.c makes: WINDOWS is out of date`);
  const result: Record<string, { el2PerCall: number; functions: Record<string, number> }> = {};
  for (const w of WINDOWS) {
    const a = snaps[w.from - 1], b = snaps[w.from];
    const perCall = new Map<string, number>();
    for (const [f, v] of b) {
      const d = (v - (a.get(f) ?? 0)) / n;
      if (d > 0) perCall.set(f, Math.round(d * 10) / 10);
    }
    const sorted = [...perCall].sort((x, y) => y[1] - x[1]);
    const total = Math.round(sorted.reduce((s, [, v]) => s + v, 0));
    result[w.name] = { el2PerCall: total, functions: Object.fromEntries(sorted) };
    log(`${w.name}: ${total} EL2 instructions a call; ${sorted.slice(0, top).map(([f, v]) => `${f.replace(/^w2c_hyp_/, "")} ${Math.round(v)}`).join(", ")}`);
  }
  writeFileSync(join(BENCH_DIR, "micro-profile.json"), JSON.stringify({ n, paths: result }, null, 2) + "\n");
  log(`wrote ${join(BENCH_DIR, "micro-profile.json")}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) runMain("bench", main);
