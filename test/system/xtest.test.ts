/**
 * OP-TEE shared by two guests on the real stack: the default setup under the hypervisor, with tee1 and tee2
 * running a short xtest selection (tools/run/xtest-lib.ts SHORT_XTEST: core self tests, a TA's crypto, the
 * hash API, secure storage through tee-supplicant) at the same time, and plain checking it has no TEE.
 * `make xtest` runs the whole suite and compares it with the native baseline. Console in
 * build/results/xtest-test-console.log.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { SHORT_XTEST, hypXtest } from "../../tools/run/xtest-lib.ts";
import { guestLines, xtestRunsOverlap } from "../../tools/run/xtest-report.ts";

/** Seconds since power-on: well after both guests reach /init (~15 s on a loaded 2-core host). */
const START_AT = 40;

test("tee1 and tee2 run xtest at the same time and pass; plain has no TEE", async () => {
  const consoleLog = join(RESULTS, "xtest-test-console.log");
  // Both start xtest at the same moment of the machine's clock (init's start_at): a guest that reached /init
  // seconds before the other could otherwise finish the short selection before the other began.
  const together = { start_at: String(START_AT) };
  const { run, guests } = await hypXtest(setup, {
    selection: SHORT_XTEST, name: "xtest-test", timeoutSeconds: 1200, log: consoleLog, bootArgs: { tee1: together, tee2: together },
  });
  const by = Object.fromEntries(guests.map((g) => [g.name, g]));
  const see = `(see ${consoleLog})`;
  for (const name of ["tee1", "tee2"]) {
    const x = by[name];
    assert.is(x.teeDevice, true, `${name} has /dev/tee0 ${see}`);
    assert.ok(x.started, `${name} started xtest ${see}`);
    assert.is(x.errors.length, 0, `${name}: ${x.errors.join("; ")}`);
    assert.ok(x.subtests !== null, `${name} printed xtest's summary ${see}`);
    assert.ok(x.subtests! > 0, `${name} ran subtests`);
    // -t regression: no pkcs11 cases (those fail natively for want of Debian's PKCS#11 TA), so nothing may fail.
    assert.equal(x.failedCases, [], `${name}: failed cases`);
    assert.is(x.failed, 0, `${name}: failed subtests`);
    assert.is(x.cases, 4, `${name}: the four selected cases ran`);
    assert.is(x.status, "0", `${name}: xtest's exit status`);
    assert.equal(x.oomIgnored, []);
  }
  // At the same time: each guest started xtest before the other had finished (console order).
  const { overlap, where } = xtestRunsOverlap(run.result.lines, "tee1", "tee2");
  console.log(`  tee1 ${by.tee1.seconds} s, tee2 ${by.tee2.seconds} s: ${where}`);
  assert.ok(overlap, `the two xtest runs overlapped (${where}) ${see}`);
  assert.is(by.plain.teeDevice, false, "plain has no /dev/tee0");
  assert.is(by.plain.started, false, "plain does not run xtest");
  assert.ok(guestLines("plain", run.result.lines).includes("ISOLATION-PROBE result=bus-error"));
  assert.is(run.result.timedOut, false, "every guest powered off, and with the last one the machine");
  writeFileSync(join(RESULTS, "xtest-test.json"), JSON.stringify({ guests }, null, 2) + "\n");
});

test.run();
