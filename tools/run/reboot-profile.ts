/**
 * `reboot-cost --profile` (issue 14): which code tee1's own CPUs run more beside tee2's restarts than beside the
 * same work without them. The tbprof plugin (tools/bench/profile/tbprof.c) counts every vCPU's blocks, per vCPU,
 * and snapshots them at init's xtest_marks on tee1's vCPUs; the difference of the last two snapshots, on tee1's
 * vCPUs, is what they ran during tee1's xtest. Blocks are compared between runs by their bytes (KASLR moves the kernel, OP-TEE's core
 * ASLR moves OP-TEE, the loader moves TAs); OP-TEE's core blocks are also named by their offset in
 * tee-pager_v2.bin (the secure log says where its TEE_RAM_RX lies in this boot), to disassemble.
 * Code all guests run (the hypervisor, TF-A, OP-TEE) counts on the vCPU that ran it, read from the vCPU itself
 * (tools/bench/profile/running-cpu.h: under -icount QEMU's own index names the vCPU that translated the block).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { BENCH_DIR } from "../bench/bench-lib.ts";
import { symbolAt, type Sym } from "../bench/micro-profile.ts";

export const TBPROF_PLUGIN = join(BENCH_DIR, "tbprof.so");

/** QEMU's arguments: count every vCPU (per vCPU too), snapshot at `cpus`' marks, into `out` (out.mark1 …). */
export function tbprofArgs(out: string, cpus: number[]): string[] {
  if (!existsSync(TBPROF_PLUGIN)) throw new Error(`${TBPROF_PLUGIN} is missing: make build/bench/tbprof.so`);
  return ["-plugin", `${TBPROF_PLUGIN},out=${out},marks=1,mark_cpus=${cpus.join(":")}`];
}

interface Block { vaddr: bigint; insns: number; executions: number; hash: string; head: string }

/** The blocks of a snapshot, with their executions on `cpus` (all vCPUs when the line has no per-vCPU counts). */
function readBlocks(file: string, cpus: number[]): Map<string, Block> {
  const out = new Map<string, Block>();
  for (const l of readFileSync(file, "utf8").split("\n")) {
    if (!l) continue;
    const [va, n, e, hash, , head, byCpu] = l.split(" ");
    const perCpu = byCpu?.split(",").map(Number);
    const executions = perCpu ? cpus.reduce((sum, c) => sum + (perCpu[c] ?? 0), 0) : Number(e);
    // A block QEMU translated again (its page written, a flush) has a line per translation: their sum is its count.
    const key = `${va} ${hash}`, seen = out.get(key);
    if (seen) seen.executions += executions;
    else out.set(key, { vaddr: BigInt(`0x${va}`), insns: Number(n), executions, hash, head: head ?? "" });
  }
  return out;
}

function snapshotNumbers(out: string): number[] {
  const dir = dirname(out), stem = basename(out);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((f) => (f.startsWith(`${stem}.mark`) ? Number(f.slice(stem.length + 5)) : NaN))
    .filter((n) => Number.isInteger(n)).sort((a, b) => a - b);
}

/** An earlier run's snapshots go, so that the last two are this run's. */
export function clearSnapshots(out: string): void {
  for (const n of snapshotNumbers(out)) rmSync(`${out}.mark${n}`);
}

/** What `cpus` ran between the last two snapshots of `out`, per block (executions); null with fewer than two. */
export function windowBlocks(out: string, cpus: number[]): Block[] | null {
  const marks = snapshotNumbers(out);
  if (marks.length < 2) return null;
  const [a, b] = marks.slice(-2).map((n) => readBlocks(`${out}.mark${n}`, cpus));
  const blocks: Block[] = [];
  for (const [key, blk] of b) {
    const executions = blk.executions - (a.get(key)?.executions ?? 0);
    if (executions > 0) blocks.push({ ...blk, executions });
  }
  return blocks;
}

/** Where OP-TEE's core code lay in a boot, from its secure log's memory map. */
export function opteeText(secureLog: string): { va: bigint; size: bigint } | null {
  const m = /type TEE_RAM_RX\s+va (0x[0-9a-f]+)\.\.(0x[0-9a-f]+)/.exec(secureLog);
  return m ? { va: BigInt(m[1]), size: BigInt(m[2]) - BigInt(m[1]) + 1n } : null;
}

/** Where a run's code lay: the hypervisor's image (and its symbols, to name its blocks), OP-TEE's core. */
export interface Place { el2: { base: number; size: number }; optee: { va: bigint; size: bigint } | null; el2Symbols?: Sym[] }

function region(b: Block, p: Place): string {
  if (b.vaddr >= 0xffff_0000_0000_0000n) return "kernel";
  if (b.vaddr >= BigInt(p.el2.base) && b.vaddr < BigInt(p.el2.base + p.el2.size)) return p.el2Symbols ? `el2 ${symbolAt(p.el2Symbols, Number(b.vaddr))}` : "el2";
  if (p.optee && b.vaddr >= p.optee.va && b.vaddr < p.optee.va + p.optee.size) return `optee+0x${(b.vaddr - p.optee.va).toString(16)}`;
  return "low";
}

/** The i-th instruction word of a block's first 16 bytes (little-endian hex). */
function word(head: string, i: number): number {
  const h = head.slice(i * 8, i * 8 + 8);
  return parseInt(h.slice(6, 8) + h.slice(4, 6) + h.slice(2, 4) + h.slice(0, 2), 16) >>> 0;
}

/** A block that takes a lock or waits (LDAXR/LDAXRB…, WFE) among its first four instructions: likely a spin. */
function spins(head: string): boolean {
  for (let i = 0; (i + 1) * 8 <= head.length; i++) {
    const w = word(head, i);
    if ((w & 0x3ffffc00) === 0x085ffc00 || w === 0xd503205f) return true; // LDAXR*, WFE
  }
  return false;
}

/** Where a short block's last instruction branches: BL, or a conditional branch (B.cond, CBZ/CBNZ). */
function branchTarget(b: Block, kind: "call" | "conditional"): bigint | null {
  if (b.insns > 4 || b.head.length < b.insns * 8) return null;
  const w = word(b.head, b.insns - 1), pc = b.vaddr + BigInt(4 * (b.insns - 1));
  if (kind === "call" && ((w & 0xfc000000) >>> 0) === 0x94000000) return pc + BigInt(((w << 6) >> 6) * 4);
  const conditional = (w & 0xff000010) === 0x54000000 || (w & 0x7e000000) === 0x34000000;
  if (kind === "conditional" && conditional) return pc + BigInt(((w << 8) >> 13) * 4);
  return null;
}

/**
 * The blocks of spin loops: those that take a lock or wait, and, around them, a lock's retry (a short block that
 * calls one: OP-TEE's debug locks loop `mov x0, lock; bl trylock`) and its retry count (a short block that
 * branches back to the retry: `add; cmp; b.ne`). An uncontended first try counts too (a few instructions).
 */
function spinLoopBlocks(blocks: Block[]): Set<Block> {
  const at = new Map<bigint, Block>();
  for (const b of blocks) at.set(b.vaddr, b);
  const spin = new Set(blocks.filter((b) => spins(b.head)));
  const leadsTo = (b: Block, kind: "call" | "conditional") => {
    const t = branchTarget(b, kind);
    return t !== null && spin.has(at.get(t)!);
  };
  for (const b of blocks.filter((x) => leadsTo(x, "call"))) spin.add(b);
  for (const b of blocks.filter((x) => leadsTo(x, "conditional"))) spin.add(b);
  return spin;
}

export interface Summary { byRegion: Record<string, number>; spinning: Record<string, number> }

/** Instructions per region (OP-TEE's core as "optee"), and how many of them were in likely spin blocks, in millions. */
export function summarize(blocks: Block[], p: Place): Summary {
  const byRegion: Record<string, number> = {}, spinning: Record<string, number> = {};
  const spin = spinLoopBlocks(blocks);
  for (const b of blocks) {
    const r = region(b, p).split(/[ +]/)[0];
    const n = b.insns * b.executions / 1e6;
    byRegion[r] = (byRegion[r] ?? 0) + n;
    if (spin.has(b)) spinning[r] = (spinning[r] ?? 0) + n;
  }
  const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  return { byRegion: round(byRegion), spinning: round(spinning) };
}

/** The blocks (by content) that ran most more in `b` than in `a`: instructions in millions, where, first bytes. */
export function moreIn(a: { blocks: Block[]; place: Place }, b: { blocks: Block[]; place: Place }, top = 25): string[] {
  const key = (x: Block) => `${x.hash} ${x.insns}`;
  const total = (run: { blocks: Block[]; place: Place }) => {
    const m = new Map<string, { n: number; where: string; head: string }>();
    for (const x of run.blocks) {
      const k = key(x), prev = m.get(k);
      m.set(k, { n: (prev?.n ?? 0) + x.insns * x.executions, where: prev?.where ?? region(x, run.place), head: x.head });
    }
    return m;
  };
  const ta = total(a), tb = total(b);
  return [...tb.entries()].map(([k, v]) => ({ ...v, extra: v.n - (ta.get(k)?.n ?? 0) }))
    .sort((x, y) => y.extra - x.extra).slice(0, top)
    .map((x) => `${(x.extra / 1e6).toFixed(1).padStart(8)} M  ${x.where.padEnd(30)} ${spins(x.head) ? "spin? " : "      "}${x.head}`);
}

export function readSecure(file: string): string {
  return existsSync(file) ? readFileSync(file, "latin1") : "";
}
