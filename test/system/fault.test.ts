/**
 * Fault containment on the real stack (issue 14): with the planted fault on, the core traps while serving
 * tee2's 50th OP-TEE call. Only tee2 pays: it is withdrawn from OP-TEE and, as its setup says, restarts and
 * passes its selection; tee1's selection passes; the machine powers off normally. Writes
 * build/results/fault.json.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { plantedFault, setup } from "../setups/fault.ts";
import { BUILD, RESULTS } from "../../tools/run/boot-lib.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";
import { parseFault } from "../../tools/run/fault-report.ts";

test("a planted core fault in tee2's OP-TEE call stops only tee2; it restarts and passes, tee1 passes", async () => {
  const run = await bootGuests(setup, { timeoutSeconds: 900, bootOptions: { faultTest: plantedFault } });
  const log = join(RESULTS, "fault-console.log");
  writeFileSync(log, run.result.lines.join("\n") + "\n");
  const report = parseFault(setup.guests.map((g) => g.name), run.result.lines, join(BUILD, "hyp.elf"));
  writeFileSync(join(RESULTS, "fault.json"), JSON.stringify(report, null, 2) + "\n");
  const see = ` (see ${log})`;
  assert.ok(run.result.lines.some((l) => l.includes("PLANTED FAULT ON (test only)")), `the image says the planted fault is on${see}`);
  assert.ok(report.fault, `the core trapped and said so${see}`);
  assert.is(report.fault!.guest, "tee2");
  assert.match(report.fault!.what, /out-of-bounds memory access/);
  // The planted trap is in faultTestCheck, or in whichever caller binaryen inlined it into.
  assert.match(report.fault!.function ?? "", /fault|teeCall|smccc|guestSync|guestExit/, "the pc is symbolised");
  assert.is(report.action, "restarts");
  const { tee1, tee2 } = report.guests;
  assert.equal(tee2.lives.map((l) => l.boot), [1, 2], `tee2 started twice${see}`);
  assert.is(tee2.lives[1].xtestStatus, "0", `tee2's selection passed after its restart${see}`);
  assert.is(tee2.vmDestroyed, 2, "VM_DESTROYED after the fault and at its power-off");
  assert.equal(tee2.heldAfter[0], { buffers: 0, rpcBuffers: 0, calls: 0, poolPages: 0 }, "nothing of tee2's survives the fault");
  assert.ok(tee1.passed, `tee1's selection passed${see}`);
  assert.equal(tee1.lives.length, 1);
  assert.is(run.result.timedOut, false, "the machine powered off normally after the last guest");
});

test.run();
