/**
 * Guests that restart (issue 14): tee2 runs a short xtest selection and reboots itself twice; after each
 * reboot the hypervisor has withdrawn it from OP-TEE (VM_DESTROYED, nothing left held), reloaded its RAM
 * from pristine images and announced it again (VM_CREATED), and the selection passes again. tee1 runs its
 * own selection meanwhile and passes. Writes build/results/reboot.json.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/reboot.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";
import { parseReboots } from "../../tools/run/reboot-report.ts";

test("tee2 reboots twice mid-run and passes after each boot; tee1 never notices", async () => {
  const run = await bootGuests(setup, { timeoutSeconds: 900 });
  const log = join(RESULTS, "reboot-console.log");
  writeFileSync(log, run.result.lines.join("\n") + "\n");
  const tee1 = parseReboots("tee1", run.result.lines), tee2 = parseReboots("tee2", run.result.lines);
  writeFileSync(join(RESULTS, "reboot.json"), JSON.stringify({ guests: { tee1, tee2 } }, null, 2) + "\n");
  const see = ` (see ${log})`;
  assert.equal(tee2.lives.map((l) => l.boot), [1, 2, 3], `tee2 started three times${see}`);
  assert.ok(tee2.passed, `tee2's selection passed in every life: ${JSON.stringify(tee2.lives)}${see}`);
  assert.is(tee2.reboots, 2);
  assert.is(tee2.rebootLines, 2, "the hypervisor said each reboot");
  assert.is(tee2.vmCreated, 3, "VM_CREATED at boot and after each reboot");
  assert.is(tee2.vmDestroyed, 3, "VM_DESTROYED at each reboot and at its power-off");
  assert.equal(tee2.heldAfter, Array(3).fill({ buffers: 0, rpcBuffers: 0, calls: 0, poolPages: 0 }), "nothing of tee2's survives a VM_DESTROYED");
  assert.equal(tee1.lives.map((l) => l.boot), [1], `tee1 started once${see}`);
  assert.ok(tee1.passed, `tee1's selection passed${see}`);
  assert.is(tee1.vmDestroyed, 1);
  assert.is(run.result.timedOut, false, "the machine powered off after the last guest");
});

test.run();
