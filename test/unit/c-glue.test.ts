/**
 * The C glue's checks, compiled for the host and run against a fake hardware layer (test/c/fake: system
 * registers in a table, MMIO refused, the core's linear memory an array), as Hafnium tests its arch layer:
 * boot/guests.c (C's own table of the guests, the entry checks) and boot/glue.c (the guest-memory copies) are
 * the very files the firmware is built from. test/c/c_glue_test.c prints one line per test; each becomes a test
 * here. Needs the generated headers in build/gen (make test-unit makes them).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { PROJECT_ROOT } from "../../tools/firmware/paths.ts";

const OUT = join(PROJECT_ROOT, "build/host/c-glue-test");
const SOURCES = ["test/c/c_glue_test.c", "test/c/fake/fake.c", "boot/guests.c", "boot/glue.c"];
// The fake's arch.h comes first; the rest is the firmware's own include path, with the host's libc.
const FLAGS = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0",
  "-DWASM_RT_USE_STACK_DEPTH_COUNT=0", "-Itest/c/fake", "-Iboot", "-Iboot/include", "-Ibuild/gen"];

function buildAndRun(): { build: string; results: { ok: boolean; name: string; why: string }[] } {
  mkdirSync(join(PROJECT_ROOT, "build/host"), { recursive: true });
  const cc = spawnSync("gcc", [...FLAGS, ...SOURCES, "-o", OUT], { cwd: PROJECT_ROOT, encoding: "utf8" });
  if (cc.status !== 0) return { build: `${cc.stderr}${cc.error ?? ""}`, results: [] };
  const run = spawnSync(OUT, { encoding: "utf8" });
  const results = run.stdout.split("\n").filter((l) => /^(PASS|FAIL) /.test(l)).map((l) => {
    const [, verdict, rest] = /^(PASS|FAIL) (.*)$/.exec(l)!;
    const [name, why = ""] = verdict === "FAIL" ? rest.split(/: (?=line \d+|crashed)/) : [rest];
    return { ok: verdict === "PASS", name, why };
  });
  return { build: "", results };
}

const { build, results } = buildAndRun();

test("the C glue builds for the host against the fake hardware layer", () => {
  assert.is(build, "", "gcc succeeded");
  assert.ok(results.length >= 7, `the host program ran its tests (${results.length})`);
});

for (const r of results) {
  test(`C: ${r.name}`, () => {
    assert.ok(r.ok, r.why);
  });
}

test.run();
