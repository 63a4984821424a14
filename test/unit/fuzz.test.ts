/**
 * The hostile-guest fuzzer (test/fuzz/mediator-fuzz.ts) on a short run in every `make test`; `make fuzz` runs
 * 10^7 inputs. (That it can fail was checked by planting a bug: with the page-list entries' ownership check
 * removed from hyp/tee/optee/mediator/pagelist.ts, seed 1 reports OP-TEE given other guests' pages at input 5.)
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fuzzMediator } from "../fuzz/mediator-fuzz.ts";

test("20,000 hostile inputs: no trap, no foreign address reaches OP-TEE, answers are OP-TEE's, tee2 keeps working", () => {
  const r = fuzzMediator(20261202, 20_000);
  assert.equal(r.failures, []);
  assert.is(r.inputs, 20_000);
  for (const kind of ["fast", "arg", "rpc", "register"]) assert.ok((r.kinds[kind] ?? 0) > 1000, `${kind} inputs were made`);
});

test.run();
