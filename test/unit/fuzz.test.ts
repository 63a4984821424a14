/**
 * The property-based mediator fuzzer (test/fuzz/mediator-fuzz.ts) on a short run in every `make test`: at least
 * 10^5 guest inputs (`make fuzz` runs 10^7). That it can fail: test/fuzz/README.md lists the bugs planted to see
 * it break, shrink and replay.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fuzzMediator } from "../fuzz/mediator-fuzz.ts";

const INPUTS = 100_000;

test(`${INPUTS.toLocaleString("en")} guest inputs from both TEE guests: no invariant breaks`, () => {
  const r = fuzzMediator(20261202, INPUTS);
  assert.equal(r.failures.map((f) => `${f.error} (seed ${f.seed}, shrunk to ${f.commands})`), []);
  assert.ok(r.inputs >= INPUTS, `${r.inputs} inputs`);
  for (const kind of ["std", "answer", "fast", "resume", "reset", "release", "scribble", "honest"]) {
    assert.ok((r.kinds[kind] ?? 0) > 100, `${kind} inputs were made: ${r.kinds[kind] ?? 0}`);
  }
  assert.ok((r.answers.RPC ?? 0) > 5000, `OP-TEE made RPCs: ${r.answers.RPC ?? 0}`);
});

test.run();
