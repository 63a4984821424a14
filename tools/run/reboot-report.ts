/**
 * Guest restarts read back from the console (issue 14): each guest's lives (a GUEST-READY boot=N starts one)
 * with the xtest result of each, and what the hypervisor said at each restart: the reboot, VM_DESTROYED /
 * VM_CREATED, and the mediator's line on what the guest still held after VM_DESTROYED. Feeds
 * build/results/reboot.json.
 */

export interface Life {
  /** Which start of the guest (1 = the first), as the hypervisor wrote it into its device tree. */
  boot: number;
  /** xtest's exit status in this life (its failed case count), null when it did not finish. */
  xtestStatus: string | null;
  rebooted: boolean;
}

export interface RebootReport {
  name: string;
  lives: Life[];
  /** Reboots the guest asked for (its GUEST-REBOOT lines; the hypervisor logs a reboot loop by count only). */
  reboots: number;
  /** "[hyp] guest <name>: rebooting" lines. */
  rebootLines: number;
  vmCreated: number;
  vmDestroyed: number;
  /** After each VM_DESTROYED: what the mediator still held for the guest (all zero when nothing leaked). */
  heldAfter: { buffers: number; rpcBuffers: number; calls: number; poolPages: number }[];
  /** Every life ran xtest and it passed. */
  passed: boolean;
  /** What its restarts cost, step by step, as the hypervisor summed them at power-off (hyp/core/restart-time.ts). */
  restartCost: RestartCost | null;
}

/** Milliseconds, mean and worst over the restarts: from the guest's end to its vCPU 0 starting again, and each step. */
export interface RestartCost {
  restarts: number;
  endToStart: { meanMs: number; worstMs: number };
  inFlight: { meanMs: number; worstMs: number };
  vmDestroyed: { meanMs: number; worstMs: number };
  images: { meanMs: number; worstMs: number };
  vmCreated: { meanMs: number; worstMs: number };
}

/** The power-off line of hyp/core/restart-time.ts for guest `name`, or null. */
export function parseRestartCost(name: string, lines: string[]): RestartCost | null {
  const n = "([\\d.]+)";
  const re = new RegExp(`^\\[hyp\\] guest ${name}: (\\d+) restarts?, end to start mean ${n} ms, worst ${n} ms; mean/worst: ` +
    `calls in flight ${n}/${n} ms, VM_DESTROYED ${n}/${n} ms, RAM cleared and images copied ${n}/${n} ms, VM_CREATED ${n}/${n} ms`);
  for (const line of lines) {
    const m = re.exec(line);
    if (!m) continue;
    const pair = (i: number) => ({ meanMs: Number(m[i]), worstMs: Number(m[i + 1]) });
    return { restarts: Number(m[1]), endToStart: pair(2), inFlight: pair(4), vmDestroyed: pair(6), images: pair(8), vmCreated: pair(10) };
  }
  return null;
}

export function parseReboots(name: string, lines: string[]): RebootReport {
  const r: RebootReport = {
    name, lives: [], reboots: 0, rebootLines: 0, vmCreated: 0, vmDestroyed: 0, heldAfter: [], passed: false, restartCost: parseRestartCost(name, lines),
  };
  const prefix = `[${name}] `;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if (line.startsWith(`[hyp] guest ${name}: rebooting`)) r.rebootLines++;
    else if (line.startsWith(`[hyp] optee ${name}: VM_CREATED client`) && line.includes("-> OK")) r.vmCreated++;
    else if (line.startsWith(`[hyp] optee ${name}: VM_DESTROYED client`)) r.vmDestroyed++;
    else if ((m = new RegExp(`^\\[hyp\\] optee ${name}: after VM_DESTROYED it holds (\\d+) buffers, (\\d+) RPC buffers, (\\d+) calls, (\\d+) pool pages`).exec(line))) {
      r.heldAfter.push({ buffers: Number(m[1]), rpcBuffers: Number(m[2]), calls: Number(m[3]), poolPages: Number(m[4]) });
    }
    if (!line.startsWith(prefix)) continue;
    const text = line.slice(prefix.length);
    const life = r.lives[r.lives.length - 1];
    if ((m = /^GUEST-READY name=\S+ .* boot=(\d+)/.exec(text))) r.lives.push({ boot: Number(m[1]), xtestStatus: null, rebooted: false });
    else if (life && (m = /^XTEST-END name=\S+ status=(\S+)/.exec(text))) life.xtestStatus = m[1];
    else if (life && text.startsWith("GUEST-REBOOT ")) {
      life.rebooted = true;
      r.reboots++;
    }
  }
  r.passed = r.lives.length > 0 && r.lives.every((l) => l.xtestStatus === "0");
  return r;
}
