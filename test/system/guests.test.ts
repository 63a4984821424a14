/**
 * Static partitioning on the real stack: the default setup's three Debian
 * guests boot at once under the hypervisor (TF-A + OP-TEE in the secure
 * world), each in its own CPUs and RAM; plain's /init reads past its RAM and
 * must get a bus error while everything keeps running. Writes
 * build/results/guests.json.
 *
 * The same boot shows OP-TEE's asynchronous notifications routed per guest
 * (issue 10): OP-TEE's own watchdog, which sends each TEE guest DO_BOTTOM_HALF
 * every second once it enabled notifications, must see both guests served
 * on time, and plain must take no notification interrupt.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup as defaultSetup } from "../setups/three-guests.ts";
import type { Setup } from "../../configs/setup.ts";
import { withBootArgs } from "../../tools/run/native.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { EMPTY_WAKES_ALLOWED, mostEmptyWakes, bootGuests, type GuestsRun } from "../../tools/run/guests-lib.ts";
import { notifInterrupts, parseWatchdog } from "../../tools/run/notif-report.ts";

let run: GuestsRun | undefined;

/**
 * The default setup, its TEE guests staying up 5 s longer after their xtest selection (idle, notifications on):
 * the watchdog check below wants at least 5 of OP-TEE's once-a-second calls per guest, and a fast selection
 * can end sooner.
 */
const setup: Setup = {
  ...defaultSetup,
  guests: defaultSetup.guests.map((g) => (g.tee ? { ...g, cmdline: withBootArgs(g.cmdline, { run: "teecheck,xtest,idle", hold: "5" }) } : g)),
};

test("three guests boot side by side; plain's read past its RAM is a bus error", async () => {
  run = await bootGuests(setup, { timeoutSeconds: 900 });
  writeFileSync(join(RESULTS, "guests.json"), JSON.stringify({ guests: run.guests.map(({ lines, ...g }) => g) }, null, 2) + "\n");
  writeFileSync(join(RESULTS, "guests-console.log"), run.result.lines.join("\n") + "\n");
  const by = Object.fromEntries(run.guests.map((g) => [g.name, g]));
  for (const name of ["tee1", "tee2", "plain"]) assert.ok(by[name].booted, `${name} booted (see build/results/guests-console.log)`);
  assert.is(by.tee1.nproc, 2);
  assert.is(by.tee2.nproc, 1);
  assert.is(by.plain.nproc, 1);
  for (const g of run.guests) assert.match(g.kernel ?? "", /^6\.12\./);
  assert.is(by.plain.isolation, "bus-error");
  for (const g of run.guests) assert.ok(g.done, `${g.name} ran its /init to the end`);
  assert.is(run.result.timedOut, false, "the machine powered off when the last guest did");
  // A CPU whose guest is off waits in WFI; if it spun instead (its virtual interface left signalling), it would
  // starve QEMU's timers and the guests still running would stall.
  assert.ok(mostEmptyWakes(run.result.lines) <= EMPTY_WAKES_ALLOWED, `waiting CPUs woke for nothing ${mostEmptyWakes(run.result.lines)} times (see build/results/guests-console.log)`);

  // Lines of different guests never mix: every guest line carries exactly one known prefix.
  for (const line of run.result.lines) {
    const m = /^\[(tee1|tee2|plain)\] (.*)$/.exec(line);
    if (m) assert.not.match(m[2], /\[(tee1|tee2|plain)\] /);
  }
});

test("OP-TEE's watchdog sees both TEE guests served every second; plain takes no notification", () => {
  assert.ok(run, "the boot above ran");
  const secure = readFileSync(join(RESULTS, `${setup.name}-secure.log`), "latin1");
  const wd = parseWatchdog(secure);
  for (const [name, id] of [["tee1", 1], ["tee2", 2]] as const) {
    const w = wd.get(id);
    assert.ok(w, `OP-TEE's log has "WD ${id} call_count" lines (${name}); see build/results/${setup.name}-secure.log`);
    assert.ok(w!.calls >= 5, `${name}: watchdog call_count ${w!.calls}, want at least 5`);
    assert.is(w!.timeouts, 0, `${name}: watchdog timeout_count`);
    assert.ok((notifInterrupts(run!.result.lines, name) ?? 0) >= 1, `${name} took notification interrupts`);
  }
  assert.equal([...wd.keys()].sort(), [1, 2], "the watchdog runs for the two TEE clients only");
  assert.is(notifInterrupts(run!.result.lines, "plain"), 0, "plain's /proc/interrupts has no optee notification");
});

test.run();
