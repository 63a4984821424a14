/**
 * The micro-benchmark guest keeps working (issue 12: `make bench`'s figures come from it): guest/microbench
 * makes every timed call natively (TF-A's BL33 on the non-virtualized OP-TEE) and as the hypervisor's only
 * guest, with a small N, and the hypervisor's per-exit profile names an EL2 figure for each path. No number is
 * asserted: figures belong to `make bench`.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runMicro } from "../../tools/bench/micro.ts";
import { PATH_KINDS } from "../../tools/bench/micro-report.ts";

test("every micro-benchmark path runs natively and under the hypervisor, and the profile accounts for it", async () => {
  const r = await runMicro(3);
  assert.equal(r.problems, [], "no call failed and both runs finished (build/bench/micro-*.log)");
  assert.is(r.native.where, "native");
  assert.is(r.hyp.where, "hyp");
  assert.is(r.profile.unit, "instructions", "under -icount the EL2 counter counts instructions");
  for (const path of Object.keys(PATH_KINDS)) {
    const p = r.table[path];
    assert.ok(p.guestHyp !== null, `${path}: timed under the hypervisor`);
    if (path !== "null-hvc") assert.ok(p.guestNative !== null, `${path}: timed natively`);
    assert.ok(p.el2Instructions !== null && p.el2Instructions > 0, `${path}: EL2 instructions in the profile (${PATH_KINDS[path]})`);
  }
});

test.run();
