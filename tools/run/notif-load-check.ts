/**
 * Evidence for `make xtest`'s notification verdict: are OP-TEE watchdog timeouts the hypervisor's routing, or
 * the host? Runs one xtest selection natively and under the hypervisor *at the same time* (so the native baseline
 * shares the host's load: 2 + 4 vCPUs on its cores), then prints each run's watchdog (calls, timeouts) and, for the
 * guests, the hypervisor's latency line (to GET, to a served DO_BOTTOM_HALF, DO_BOTTOM_HALF calls that found every
 * OP-TEE thread busy). Logs go to build/results/load-check-*.
 *
 * Usage: tsx tools/run/notif-load-check.ts [selection, xtest= syntax; default -t,regression,1013]
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setup } from "../../configs/qemu-virt.ts";
import { RESULTS } from "./boot-lib.ts";
import { NATIVE, parseLatency, parseWatchdog } from "./notif-report.ts";
import { hypXtest, nativeXtest } from "./xtest-lib.ts";

const selection = process.argv[2] ?? "-t,regression,1013";
const log = (s: string) => console.log(`[load-check] ${s}`);

async function main(): Promise<void> {
  log(`xtest=${selection} natively and in tee1 + tee2 under the hypervisor, at the same time`);
  const nativeSecure = join(RESULTS, "load-check-native-secure.log");
  const [n, h] = await Promise.all([
    nativeXtest({ selection, timeoutSeconds: 2400, log: join(RESULTS, "load-check-native.log"), secureLog: nativeSecure }),
    hypXtest(setup, { selection, name: "load-check", timeoutSeconds: 2400, log: join(RESULTS, "load-check-hyp.log") }),
  ]);
  const nw = parseWatchdog(readFileSync(nativeSecure, "latin1")).get(NATIVE);
  log(`native: xtest ${n.native.seconds} s, status ${n.native.status}; watchdog ${nw?.calls ?? "-"} calls, ${nw?.timeouts ?? "-"} timeouts`);
  const hw = parseWatchdog(readFileSync(join(RESULTS, "load-check-secure.log"), "latin1"));
  for (const g of h.guests.filter((r) => r.started)) {
    const id = setup.guests.findIndex((c) => c.name === g.name) + 1;
    const w = hw.get(id);
    const l = parseLatency(h.run.result.lines, g.name);
    log(`${g.name}: xtest ${g.seconds} s, status ${g.status}; watchdog ${w?.calls ?? "-"} calls, ${w?.timeouts ?? "-"} timeouts; ` +
      (l ? `to GET median ${l.toGet.medianUs} max ${l.toGet.maxUs} us, to DO_BOTTOM_HALF done median ${l.toBottomHalf.medianUs} max ${l.toBottomHalf.maxUs} us, ${l.bottomHalfNoThread} DO_BOTTOM_HALF calls found every thread busy` : "no latency line"));
  }
}

main().catch((e: Error) => {
  console.error(`[load-check] ${e.message}`);
  process.exit(1);
});
