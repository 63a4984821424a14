/** Entry points, per-CPU frames, the boot configuration and the sandbox's bounds checks. */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ACTION_PARK, Machine } from "../fakes/machine.ts";
import { bootConfigBlob } from "../../tools/build/bootconfig.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

test("the self-test reads past the end of linear memory (V8, which checks every access, traps on it)", () => {
  const m = new Machine();
  assert.throws(() => m.core.selfTestOutOfBounds(), (e: Error) => e instanceof WebAssembly.RuntimeError && /out of bounds/.test(e.message));
  assert.not.ok(m.lines("selftest").some((l) => l.startsWith("FAILED")));
});

/** The Makefile's WASM_RT_FLAGS: what the firmware's wasm2c output is compiled with. */
function firmwareWasmRtFlags(): string[] {
  const line = readFileSync(join(ROOT, "Makefile"), "utf8").split("\n").find((l) => l.startsWith("WASM_RT_FLAGS :="));
  assert.ok(line, "the Makefile sets WASM_RT_FLAGS");
  return line!.slice("WASM_RT_FLAGS :=".length).trim().split(/\s+/).filter(Boolean);
}

test("the C build's out-of-bounds access lands in the guard after linear memory (as the firmware's MMU maps it) and traps with WASM_RT_TRAP_OOB", () => {
  const dir = mkdtempSync(join(tmpdir(), "hyp-oob-"));
  try {
    execFileSync("wasm2c", [join(ROOT, "build/hyp.wasm"), "--module-name=hypcore", "-o", join(dir, "hypcore.c")]);
    copyFileSync("/usr/include/wasm-rt.h", join(dir, "wasm-rt.h")); // as the Makefile does
    const host = join(dir, "host");
    execFileSync("gcc", ["-O1", "-w", ...firmwareWasmRtFlags(), "-I", dir, join(dir, "hypcore.c"),
      join(ROOT, "test/unit/fixtures/oob/host.c"), "-o", host]);
    // wasm-rt.h's wasm_rt_trap_t: WASM_RT_TRAP_OOB = 1. "read <value>" would mean the access went unchecked.
    assert.is(execFileSync(host, { encoding: "utf8" }).trim(), "trap 1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the selftest flag makes boot trap, before anything reaches the secure world", () => {
  const m = new Machine("virtualized", bootConfigBlob({ selfTestOutOfBounds: true }));
  assert.throws(() => m.boot(0), (e: Error) => e instanceof WebAssembly.RuntimeError);
  assert.equal(m.optee.calls, []);
});

test("the blob tools/ writes is accepted", () => {
  const m = new Machine("virtualized", bootConfigBlob());
  m.boot(0);
  assert.equal(m.lines("config"), []);
  assert.is(m.firmware.poweredOff, true);
});

test("no boot configuration: no guests, said once", () => {
  const m = new Machine("virtualized", undefined);
  m.boot(0);
  assert.equal(m.lines("config"), ["no boot configuration found: no guests"]);
  assert.is(m.firmware.poweredOff, true);
});

test("a boot configuration of another version is named and ignored", () => {
  const blob = bootConfigBlob({ selfTestOutOfBounds: true });
  blob.writeUInt32LE(9, 4);
  const m = new Machine("virtualized", blob);
  m.boot(0);
  assert.equal(m.lines("config"), ["boot configuration version 0x9 not understood (want 0x3): no guests"]);
  assert.is(m.firmware.poweredOff, true, "its selftest flag was not obeyed");
});

test("CPUs other than the boot CPU park; unknown CPU numbers are refused", () => {
  const m = new Machine();
  assert.is(m.core.cpuStart(1), ACTION_PARK);
  assert.is(m.core.cpuStart(7), ACTION_PARK);
  assert.is(m.core.cpuStart(8), ACTION_PARK);
  assert.is(m.core.cpuFrame(8), 0);
  assert.is(m.core.smcReturned(0xffffffff), ACTION_PARK);
});

test("each CPU has its own frame inside linear memory", () => {
  const m = new Machine();
  const frames = Array.from({ length: 8 }, (_, cpu) => m.core.cpuFrame(cpu));
  assert.is(new Set(frames).size, 8);
  for (const f of frames) {
    assert.ok(f > 0 && f % 16 === 0 && f + 0x200 <= m.core.memory.buffer.byteLength);
  }
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i] - frames[i - 1] >= 0x200);
});

test("an SMC completion nobody asked for parks the CPU with a message", () => {
  const m = new Machine();
  assert.is(m.core.smcReturned(2), ACTION_PARK);
  assert.equal(m.lines("boot"), ["CPU 2 returned from an SMC nobody asked for: parking it"]);
});

test("a refused SYSTEM_OFF is reported and the CPU parks", () => {
  const m = new Machine();
  m.firmware.smc = (x) => (Number(x[0]) === 0x84000008 ? [0xfffffffdn, 0n, 0n, 0n, 0n, 0n, 0n, 0n] : m.optee.call(x));
  m.boot(0);
  assert.is(m.state.get(0), "parked");
  assert.ok(m.lines("boot").includes("PSCI SYSTEM_OFF failed (0xfffffffd): parking CPU 0"));
});

test.run();
