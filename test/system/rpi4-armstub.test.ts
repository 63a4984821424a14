/**
 * The Raspberry Pi 4's other boot path (issue 11): no TF-A, the firmware's own armstub — the hypervisor is
 * entered at EL2 with x0 = the DTB, the other CPUs wait on the spin table, there is no PSCI and SMC is
 * undefined. QEMU raspi4b's -kernel does exactly that. The hypervisor must start its guests' CPUs through the
 * spin table, answer its own OP-TEE probe (no secure world: absent), and power off through the PM watchdog.
 * The console goes to build/results/rpi4-armstub-console.log.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../../configs/rpi4.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { EMPTY_WAKES_ALLOWED, mostEmptyWakes, bootGuests } from "../../tools/run/guests-lib.ts";

test("rpi4 without TF-A: spin table, no SMC; three guests boot, no OP-TEE, power-off through the watchdog", async () => {
  const run = await bootGuests(setup, { timeoutSeconds: 600, armstub: true });
  const lines = run.result.lines;
  writeFileSync(join(RESULTS, "rpi4-armstub-console.log"), lines.join("\n") + "\n");
  const see = "see build/results/rpi4-armstub-console.log";
  assert.not.ok(lines.some((l) => /BL31/.test(l)), "no TF-A on this path");
  assert.ok(lines.some((l) => /^\[hyp\] platform: GICv2, .*no PSCI: spin table, no SMC$/.test(l)), `the device tree says spin table (${see})`);
  assert.match(run.probe.verdict ?? "", /^no OP-TEE/);
  const by = Object.fromEntries(run.guests.map((g) => [g.name, g]));
  for (const g of setup.guests) {
    assert.ok(by[g.name].booted, `${g.name} booted (${see})`);
    assert.is(by[g.name].nproc, g.cpus.length, `${g.name}: nproc (its CPUs released from the spin table)`);
  }
  assert.is(by.plain.isolation, "bus-error");
  assert.is(run.result.timedOut, false, "the machine powered off (PM watchdog) when the last guest did");
  // A CPU whose guest is off waits in WFI; if it spun instead (its virtual interface left signalling), it would
  // starve QEMU's timers and the guests still running would stall.
  assert.ok(mostEmptyWakes(run.result.lines) <= EMPTY_WAKES_ALLOWED, `waiting CPUs woke for nothing ${mostEmptyWakes(run.result.lines)} times (${see})`);
});

test.run();
