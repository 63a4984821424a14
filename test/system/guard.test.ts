/**
 * C is a real last line (issue 15), on the real stack: with the test-only guard flag, the core hands C a
 * guest-RAM range of another guest for bench0's copy and an EL2h SPSR for bench1's entry. C refuses both; each
 * of the two guests is stopped with one line saying what was wrong, and bench2 finishes its calls and powers
 * the machine off normally. Writes build/results/guard-console.log.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { GUARD_INITRAMFS, GUARD_KERNEL, guardTest, setup } from "../setups/guard.ts";
import { PROJECT_ROOT } from "../../tools/firmware/paths.ts";
import { BUILD, RESULTS } from "../../tools/run/boot-lib.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";

/** Where guest/microbench keeps its iteration count (the Image header's res4), as tools/bench/micro.ts patches it. */
const ITERATIONS_OFFSET = 0x30;

function prepareImages(iterations: number): void {
  const image = readFileSync(join(BUILD, "microbench/microbench.bin"));
  image.writeBigUInt64LE(BigInt(iterations), ITERATIONS_OFFSET);
  writeFileSync(join(PROJECT_ROOT, GUARD_KERNEL), image);
  writeFileSync(join(PROJECT_ROOT, GUARD_INITRAMFS), Buffer.alloc(16));
}

test("C refuses a foreign RAM range and an EL2h SPSR from the core: those two guests stop, bench2 carries on", async () => {
  prepareImages(3);
  const run = await bootGuests(setup, { timeoutSeconds: 90, bootOptions: { guardTest } });
  const lines = run.result.lines;
  const log = join(RESULTS, "guard-console.log");
  writeFileSync(log, lines.join("\n") + "\n");
  const see = ` (see ${log})`;
  const has = (re: RegExp) => lines.filter((l) => re.test(l));
  assert.equal(has(/GUARD TEST ON \(test only\)/).length, 1, `the image says the guard test is on${see}`);

  const foreign = has(/C refused a guest RAM copy of 0x88000000\+64 \(not the RAM of guest 0, which this CPU runs\)/);
  assert.equal(foreign.length, 1, `one line for the foreign copy${see}`);
  assert.match(foreign[0], /while serving guest 0: only that guest is stopped/);
  // The guest's own flags (NZCV, DAIF) stay; M is EL2h (0b1001).
  const spsr = has(/C refused to enter guest 1: SPSR_EL2 is not EL0t, EL1t or EL1h \(AArch64\) \(0x[0-9a-f]*9\): only that guest is stopped/);
  assert.equal(spsr.length, 1, `one line for the EL2h SPSR${see}`);
  for (const g of ["bench0", "bench1"]) {
    assert.equal(has(new RegExp(`guest ${g}: the core faulted while serving it \\(fault 1\\).*it stays off`)).length, 1, `${g} is stopped${see}`);
    assert.equal(has(new RegExp(`^\\[${g}\\] MICROBENCH-END`)).length, 0, `${g} never finished${see}`);
  }
  assert.equal(has(/^\[bench2\] MICROBENCH-END status=ok/).length, 1, `bench2 finished its calls${see}`);
  assert.equal(has(/C refused/).length, 2, `nothing else was refused${see}`);
  assert.ok(has(/was the last guest running: powering the machine off/).length === 1, `the machine powered off${see}`);
  assert.is(run.result.timedOut, false, "and QEMU exited on its own");
});

test.run();
