/**
 * `make bench-profile`: where the TEE-call selection's extra instructions go, block by block. The selection of
 * tools/bench/tee-calls.ts runs natively and in tee1 under the hypervisor, each with the QEMU plugin
 * tools/bench/profile/tbprof.c counting every translation block executed, and again with a one-case selection
 * (`-t regression 1001`) from the same boot path: the difference of the two is the selection's own window, with
 * boot work (guest RAM clears, image copies, kernel boot) taken out.
 *
 * The report (build/bench/profile.json, and the lines printed):
 *   - instructions in the window per region: the hypervisor's image (EL2), kernel addresses, the rest;
 *   - the hypervisor's functions by instructions (addr2line through wasm2c's inlining: innermost function and the
 *     export or C function it was inlined into);
 *   - the code that runs more under the hypervisor than natively, matched by the bytes of its blocks (KASLR
 *     moves the kernel, not its code); kernel blocks named by symbol: init prints where _text is in the
 *     hypervisor's run (xtest_stats=1, KERNEL-TEXT), and one more native boot (run=ksyms) names the offsets
 *     from /proc/kallsyms, since Debian ships no System.map.
 * Figures, not tests: under `-icount`, so the counts do not depend on the host.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { setup } from "../../configs/qemu-virt.ts";
import { sharedInitramfs } from "../images/qemu-loads.ts";
import { BUILD } from "../run/boot-lib.ts";
import { bootNative, nativeFlash } from "../run/native.ts";
import { hypXtest, nativeXtest } from "../run/xtest-lib.ts";
import { BENCH_DIR, ICOUNT_ARGS, log } from "./bench-lib.ts";

const PLUGIN = join(BENCH_DIR, "tbprof.so");
const SELECTION = process.env.BENCH_TEE_SELECTION ?? "-t,regression,1005,1016,1017,4001,4002,4003,4005";
const BASE = "-t,regression,1001";
const TIMEOUT_S = 1800;
const HYP = qemuVirt.hypervisor.image;
const KERNEL_VA = 0xffff_0000_0000_0000n;

interface Block { vaddr: bigint; insns: number; executions: number; hash: string; wfis: number }
type Run = "native" | "hyp";

function readBlocks(file: string): Block[] {
  return readFileSync(file, "utf8").trim().split("\n").map((l) => {
    const [va, n, e, h, wfis] = l.split(" ");
    return { vaddr: BigInt(`0x${va}`), insns: Number(n), executions: Number(e), hash: h, wfis: Number(wfis ?? 0) };
  });
}

async function profiled(run: Run, selection: string, tag: string): Promise<string> {
  const out = join(BENCH_DIR, `profile-${run}-${tag}.txt`);
  const qemuArgs = [...ICOUNT_ARGS, "-plugin", `${PLUGIN},out=${out}`];
  const logFile = join(BENCH_DIR, `profile-${run}-${tag}.log`);
  // KERNEL-TEXT: where this boot put the kernel; xtest at 4 s after power-on, past the guest kernel's own crypto
  // self-tests, as in tee-calls.ts (BENCH_XTEST_AT, 0 = at once).
  const at = process.env.BENCH_XTEST_AT ?? "4";
  const stats = { xtest_stats: "1", ...(at !== "0" ? { xtest_at: at } : {}) };
  const r = run === "native"
    ? (await nativeXtest({ selection, timeoutSeconds: TIMEOUT_S, qemuArgs, log: logFile, bootArgs: stats })).native
    : (await hypXtest({ ...setup, guests: [setup.guests.find((g) => g.name === "tee1")!] },
      { selection, name: `profile-${tag}`, timeoutSeconds: TIMEOUT_S, qemuArgs, log: logFile, bootArgs: { tee1: stats } })).guests[0];
  if (r.status !== "0") throw new Error(`${run} ${selection}: xtest status ${r.status ?? "none"} (see ${logFile})`);
  log(`profile: ${run} ${selection.replace(/,/g, " ")}: xtest ${r.seconds} s`);
  return out;
}

/** Window counts: per key, the selection's instructions minus the base run's. */
function window(sel: Block[], base: Block[], key: (b: Block) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const b of sel) m.set(key(b), (m.get(key(b)) ?? 0) + b.insns * b.executions);
  for (const b of base) m.set(key(b), (m.get(key(b)) ?? 0) - b.insns * b.executions);
  return m;
}

const inHyp = (b: Block) => b.vaddr >= BigInt(HYP.base) && b.vaddr < BigInt(HYP.base + HYP.size);
const region = (b: Block) => (inHyp(b) ? "hypervisor (EL2)" : b.vaddr >= KERNEL_VA ? "kernel addresses" : "other (user, OP-TEE, TF-A)");

function regions(sel: Block[], base: Block[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of window(sel, base, region)) out[k] = v;
  return out;
}

/** The hypervisor's window by function: `inner ← outer` through the inlining chain addr2line reports. */
function hypFunctions(sel: Block[], base: Block[]): [string, number][] {
  const byAddr = window(sel.filter(inHyp), base.filter(inHyp), (b) => `0x${b.vaddr.toString(16)}`);
  const addrs = [...byAddr.keys()];
  const names = new Map<string, string>();
  for (let i = 0; i < addrs.length; i += 2000) {
    const chunk = addrs.slice(i, i + 2000);
    const text = execFileSync("aarch64-linux-gnu-addr2line", ["-f", "-i", "-a", "-e", join(BUILD, "hyp.elf"), ...chunk],
      { encoding: "utf8", maxBuffer: 1 << 28 });
    let current = "", chain: string[] = [];
    const flush = () => { if (current) names.set(current, chain.length > 1 ? `${chain[0]} ← ${chain.at(-1)}` : chain[0] ?? "?"); };
    for (const line of text.split("\n")) {
      if (/^0x[0-9a-f]+$/.test(line)) { flush(); current = `0x${BigInt(line).toString(16)}`; chain = []; }
      else if (line && !line.includes(":")) chain.push(line);
    }
    flush();
  }
  const byName = new Map<string, number>();
  for (const [a, v] of byAddr) byName.set(names.get(a) ?? a, (byName.get(names.get(a) ?? a) ?? 0) + v);
  return [...byName].sort((x, y) => y[1] - x[1]).slice(0, 25);
}

/** Code outside EL2 that runs more in the hypervisor's window than in native's, matched by content. */
function extraCode(n: { sel: Block[]; base: Block[] }, h: { sel: Block[]; base: Block[] }): { hash: string; vaddr: string; region: string; extra: number }[] {
  const key = (b: Block) => b.hash;
  const nw = window(n.sel, n.base, key), hw = window(h.sel.filter((b) => !inHyp(b)), h.base.filter((b) => !inHyp(b)), key);
  const where = new Map(h.sel.map((b) => [b.hash, b]));
  return [...hw].map(([hash, v]) => ({ hash, extra: v - (nw.get(hash) ?? 0) }))
    .sort((a, b) => b.extra - a.extra).slice(0, 25)
    .map(({ hash, extra }) => ({ hash, extra, vaddr: `0x${where.get(hash)!.vaddr.toString(16)}`, region: region(where.get(hash)!) }));
}

/** WFIs executed in the window (a vCPU waiting for an interrupt): per region, and the blocks that execute most. */
function idles(sel: Block[], base: Block[]): { regions: Record<string, number>; top: { vaddr: string; region: string; idles: number }[] } {
  const byBlock = new Map<string, { b: Block; n: number }>();
  for (const [list, sign] of [[sel, 1], [base, -1]] as const) {
    for (const b of list) {
      if (!b.wfis) continue;
      const k = `${b.vaddr}`;
      const e = byBlock.get(k) ?? { b, n: 0 };
      e.n += sign * b.wfis * b.executions;
      byBlock.set(k, e);
    }
  }
  const regions: Record<string, number> = {};
  for (const { b, n } of byBlock.values()) regions[region(b)] = (regions[region(b)] ?? 0) + n;
  const top = [...byBlock.values()].sort((x, y) => y.n - x.n).slice(0, 8)
    .map(({ b, n }) => ({ vaddr: `0x${b.vaddr.toString(16)}`, region: region(b), idles: n }));
  return { regions, top };
}

const M = (x: number) => `${(x / 1e6).toFixed(1).padStart(7)} M`;

/** The kernel's _text in a run's console (init's KERNEL-TEXT line), or null. */
function kernelText(consoleText: string): bigint | null {
  const m = /KERNEL-TEXT name=\S+ addr=([0-9a-f]+)/.exec(consoleText);
  return m ? BigInt(`0x${m[1]}`) : null;
}

/** Names kernel addresses of a run whose _text was `text`: offsets named by one native boot (init's run=ksyms). */
async function kernelSymbols(addrs: bigint[], text: bigint): Promise<Map<bigint, string>> {
  const offs = addrs.map((a) => (a - text).toString(16));
  const r = await bootNative({ args: { run: "ksyms", ksyms: offs.join(",") }, timeoutSeconds: 600 });
  const byOff = new Map<string, string>();
  for (const l of r.lines) {
    const m = /KSYM name=\S+ off=([0-9a-f]+) (\S+)/.exec(l);
    if (m) byOff.set(m[1], m[2]);
  }
  return new Map(addrs.map((a, i) => [a, byOff.get(offs[i]) ?? "?"]));
}

async function main(): Promise<void> {
  mkdirSync(BENCH_DIR, { recursive: true });
  nativeFlash();
  sharedInitramfs();
  log(`profile: xtest=${SELECTION} minus ${BASE}, native and tee1 alone, -icount, with ${PLUGIN}`);
  // Two QEMUs at a time (each is one host thread under -icount).
  const [ns, hs] = await Promise.all([profiled("native", SELECTION, "sel"), profiled("hyp", SELECTION, "sel")]);
  const [nb, hb] = await Promise.all([profiled("native", BASE, "base"), profiled("hyp", BASE, "base")]);
  const n = { sel: readBlocks(ns), base: readBlocks(nb) }, h = { sel: readBlocks(hs), base: readBlocks(hb) };
  const nr = regions(n.sel, n.base), hr = regions(h.sel, h.base);
  const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  log("instructions in the window, by region:        native  hypervisor");
  for (const k of new Set([...Object.keys(nr), ...Object.keys(hr)]))
    log(`  ${k.padEnd(40)} ${M(nr[k] ?? 0)}  ${M(hr[k] ?? 0)}`);
  log(`  ${"total".padEnd(40)} ${M(total(nr))}  ${M(total(hr))}`);
  const fns = hypFunctions(h.sel, h.base);
  log("the hypervisor's window by function (innermost ← where it was inlined):");
  for (const [f, v] of fns) log(`  ${M(v)}  ${f}`);
  const extra = extraCode(n, h);
  const text = kernelText(readFileSync(join(BENCH_DIR, "profile-hyp-sel.log"), "latin1"));
  const kernel = extra.map((e) => BigInt(e.vaddr)).filter((a) => a >= KERNEL_VA);
  const names = text !== null && kernel.length ? await kernelSymbols(kernel, text) : new Map<bigint, string>();
  log("code outside EL2 running more than natively (by content):");
  for (const e of extra.slice(0, 12)) {
    const name = names.get(BigInt(e.vaddr));
    log(`  ${M(e.extra)}  ${e.region} at ${e.vaddr}${name ? ` (${name})` : ""}`);
  }
  for (const e of extra) (e as { symbol?: string }).symbol = names.get(BigInt(e.vaddr));
  const ni = idles(n.sel, n.base), hi = idles(h.sel, h.base);
  log("WFIs executed in the window (vCPUs waiting), by region:   native  hypervisor");
  for (const k of new Set([...Object.keys(ni.regions), ...Object.keys(hi.regions)]))
    log(`  ${k.padEnd(40)} ${String(ni.regions[k] ?? 0).padStart(8)}  ${String(hi.regions[k] ?? 0).padStart(8)}`);
  for (const [name, x] of [["native", ni], ["hypervisor", hi]] as const)
    log(`  ${name}'s WFIs most at: ${x.top.map((t) => `${t.vaddr} (${t.region.split(" ")[0]}) ${t.idles}`).join(", ")}`);
  const out = join(BENCH_DIR, "profile.json");
  writeFileSync(out, JSON.stringify({ selection: SELECTION, base: BASE, icount: ICOUNT_ARGS.join(" "),
    regions: { native: nr, hyp: hr }, hypFunctions: fns, extraOutsideEl2: extra, idle: { native: ni, hyp: hi } }, null, 2) + "\n");
  log(`wrote ${out}`);
}

main().catch((e) => {
  console.error(`[bench] profile failed: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
