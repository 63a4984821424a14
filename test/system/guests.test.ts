/**
 * Static partitioning on the real stack: the default setup's three Debian
 * guests boot at once under the hypervisor (TF-A + OP-TEE in the secure
 * world), each in its own CPUs and RAM; plain's /init reads past its RAM and
 * must get a bus error while everything keeps running. Writes
 * build/results/guests.json.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../../configs/qemu-virt.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";

test("three guests boot side by side; plain's read past its RAM is a bus error", async () => {
  const run = await bootGuests(setup, { timeoutSeconds: 900 });
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

  // Lines of different guests never mix: every guest line carries exactly one known prefix.
  for (const line of run.result.lines) {
    const m = /^\[(tee1|tee2|plain)\] (.*)$/.exec(line);
    if (m) assert.not.match(m[2], /\[(tee1|tee2|plain)\] /);
  }
});

test.run();
