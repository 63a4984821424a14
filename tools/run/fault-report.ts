/**
 * A contained core fault read back from the console (issue 14): which guest the core was serving, in which
 * export and where (the pc symbolised with the hypervisor's ELF), what the hypervisor did with that guest, and
 * how every guest's xtest went. Feeds build/results/fault.json.
 */
import { spawnSync } from "node:child_process";
import { parseReboots, type RebootReport } from "./reboot-report.ts";

export interface FaultReport {
  /** The "core trapped" line's facts, or null when the core never trapped. */
  fault: { cpu: number; what: string; export: string; pc: string; function: string | null; guestIndex: number; guest: string | null } | null;
  /** What the hypervisor said it did with the faulting guest ("restarts", "stays off"), or null. */
  action: string | null;
  guests: Record<string, RebootReport>;
}

/**
 * The function of the hypervisor's ELF at a trap's `pc`, or null without addr2line or a match. A trap the
 * runtime raises (unreachable, an integer trap) reports the return address of its call into the runtime,
 * which never returns, so the address may already be the next function's: the call instruction, 4 bytes
 * before, is looked up. An out-of-bounds access reports the faulting load or store itself, 4 bytes before is
 * the same function. Of the inlining chain, the innermost function that is not one of wasm2c's memory
 * accessors (i32_load, i64_store, …) is the one that names the place.
 */
export function symbolise(elf: string, pc: string): string | null {
  const call = `0x${(BigInt(pc) - 4n).toString(16)}`;
  const r = spawnSync("aarch64-linux-gnu-addr2line", ["-f", "-i", "-e", elf, call], { encoding: "utf8" });
  if (r.status !== 0) return null;
  const chain = r.stdout.split("\n").filter((_, i) => i % 2 === 0).filter((f) => f && f !== "??");
  return chain.find((f) => !/^[if](32|64)_(load|store)/.test(f)) ?? null;
}

export function parseFault(names: string[], lines: string[], elf: string): FaultReport {
  const report: FaultReport = { fault: null, action: null, guests: {} };
  for (const line of lines) {
    const m = /^\[hyp\] cpu (\d+): core trapped: (.*) in export (\S+) at pc (0x[0-9a-f]+) while serving guest (\d+)/.exec(line);
    if (m && !report.fault) {
      const guestIndex = Number(m[5]);
      report.fault = { cpu: Number(m[1]), what: m[2], export: m[3], pc: m[4], function: symbolise(elf, m[4]), guestIndex, guest: names[guestIndex] ?? null };
    }
    const a = /^\[hyp\] guest (\S+): the core faulted while serving it .*; (it restarts|it stays off)/.exec(line);
    if (a && !report.action) report.action = a[2].replace(/^it /, "");
  }
  for (const name of names) report.guests[name] = parseReboots(name, lines);
  return report;
}
