/**
 * `make bench` (notifications): how long OP-TEE's asynchronous notifications take to reach a guest under the
 * hypervisor. The default setup's two TEE guests load the optee driver, then hold for BENCH_NOTIF_HOLD seconds
 * (default 30) while OP-TEE's test watchdog sends each of them DO_BOTTOM_HALF every second, in two boots:
 *   idle   every vCPU idles in WFI: the kick (an SGI to the vCPU's CPU) has to wake it;
 *   busy   one busy loop per vCPU: the kick has to interrupt a running guest, and the guest's interrupt thread
 *          (which makes the DO_BOTTOM_HALF call) competes with the loops for its vCPUs.
 * The hypervisor measures on the generic timer (CNTPCT_EL0; without -icount QEMU's virtual clock follows the
 * host's) from taking INTID 219 to the guest's first GET_ASYNC_NOTIF_VALUE that returns the value, and to OP-TEE's
 * return from its OPTEE_MSG_CMD_DO_BOTTOM_HALF call, and says n, median and max per guest as it leaves OP-TEE
 * (hyp/tee/optee/mediator/latency.ts). tee1's notification is routed (Linux's default) to its vCPU 0, which runs
 * on CPU 0, the CPU that takes INTID 219: no IPI on its path. tee2's vCPU runs on CPU 2: its path has the SGI.
 * These are wall-clock figures of an emulated machine (TCG, 4 vCPUs on the host's cores, shared with whatever
 * else runs): compare idle with busy and tee1 with tee2, not with hardware. Not under -icount: there QEMU runs
 * every vCPU in one thread, round robin, and a kick waits for the target's turn, which is QEMU's latency, not
 * ours. Writes build/results/bench-notif.json and the consoles to build/results/bench-notif-<load>.log.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setup } from "../../configs/qemu-virt.ts";
import { RESULTS } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { withBootArgs } from "../run/native.ts";
import { parseLatency, parseWatchdog, type Figure, type GuestLatency } from "../run/notif-report.ts";

const HOLD_S = Number(process.env.BENCH_NOTIF_HOLD ?? 30);
const LOADS = ["idle", "busy"] as const;
type Load = (typeof LOADS)[number];

const log = (s: string) => console.log(`[bench] ${s}`);

async function boot(load: Load): Promise<Record<string, GuestLatency>> {
  const tees = setup.guests.filter((g) => g.tee);
  const s = {
    ...setup,
    name: `bench-notif-${load}`,
    guests: tees.map((g) => ({ ...g, cmdline: withBootArgs(g.cmdline, { run: load, hold: String(HOLD_S) }) })),
  };
  const run = await bootGuests(s, { timeoutSeconds: HOLD_S + 300 });
  writeFileSync(join(RESULTS, `bench-notif-${load}.log`), run.result.lines.join("\n") + "\n");
  const wd = parseWatchdog(readFileSync(join(RESULTS, `${s.name}-secure.log`), "latin1"));
  const out: Record<string, GuestLatency> = {};
  tees.forEach((g, i) => {
    const l = parseLatency(run.result.lines, g.name);
    if (!l) throw new Error(`${load}: the hypervisor gave no latency line for ${g.name} (see build/results/bench-notif-${load}.log)`);
    out[g.name] = { ...l, watchdogTimeouts: wd.get(i + 1)?.timeouts ?? null };
  });
  return out;
}

const us = (f: Figure) => (f.medianUs === null ? "-" : `${f.medianUs} / ${f.maxUs} µs (n ${f.n})`);

async function main(): Promise<void> {
  log(`notification latency: tee1 and tee2 hold ${HOLD_S} s idle, then busy; generic timer, host wall clock`);
  const results: Record<string, Record<string, GuestLatency>> = {};
  for (const load of LOADS) results[load] = await boot(load);
  log("INTID 219 taken by the hypervisor → the guest's GET_ASYNC_NOTIF_VALUE | → OP-TEE has run its DO_BOTTOM_HALF (median / max)");
  for (const load of LOADS) {
    for (const [name, g] of Object.entries(results[load])) {
      log(`  ${load.padEnd(4)} ${name} (${name === "tee1" ? "same CPU as the drain" : "IPI to CPU 2"}): ${us(g.toGet).padEnd(28)} | ${us(g.toBottomHalf)}; watchdog timeouts ${g.watchdogTimeouts ?? "-"}`);
    }
  }
  const out = { holdSeconds: HOLD_S, clock: "generic timer (CNTPCT_EL0), QEMU without -icount: host wall time", results };
  writeFileSync(join(RESULTS, "bench-notif.json"), JSON.stringify(out, null, 2) + "\n");
  log(`wrote ${join(RESULTS, "bench-notif.json")}`);
}

main().catch((e: Error) => {
  console.error(`[bench] ${e.message}`);
  process.exit(1);
});
