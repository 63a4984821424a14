/**
 * C as the last line (issue 15), on the fakes, which mirror boot/glue.c, boot/guests.c and boot/runloop.c
 * exactly: what the core hands C is checked there, and a refusal stops only the guest concerned. The guard test
 * flag (core/guard-test.ts) makes the core hand over another guest's RAM and an EL2h SPSR; other tests corrupt
 * the frame directly, as an in-bounds bug in the core could.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { HCR_E2H, HCR_ISOLATION, HCR_TGE } from "../../tools/abi/el2.ts";
import { FRAME, Machine } from "../fakes/machine.ts";
import { echoTa, misdeeds, stillWorks, TeeGuest, PLAIN, TEE1, TEE2 } from "../fakes/tee-guest.ts";
import { setup } from "../setups/three-guests.ts";

function boot(guardTest?: { foreignRam: number; badSpsr: number }): Machine {
  const m = new Machine("virtualized", setupBootConfig(setup, { guardTest }));
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  return m;
}

const CALLS_UID = 0xbf00ff01;
const stopped = (m: Machine, name: string) =>
  m.hw.console.some((l) => l.startsWith(`[hyp] guest ${name}: the core faulted while serving it (fault 1)`) && l.includes("stays off"));

test("guard test: the image says so; tee2's foreign copy and plain's EL2h entry are refused, tee1 carries on", () => {
  const m = boot({ foreignRam: 1, badSpsr: 2 });
  assert.ok(m.lines("selftest").some((l) => l.startsWith("GUARD TEST ON (test only)")));
  TeeGuest.of(m, TEE2).smc(CALLS_UID);
  assert.equal(m.hw.console.filter((l) => l.includes("C refused")), [
    "[hyp] cpu 2: C refused a guest RAM copy of 0x80000000+64 (not the RAM of guest 1, which this CPU runs) " +
      "in export guestExit while serving guest 1: only that guest is stopped",
  ]);
  assert.ok(stopped(m, "tee2"));
  assert.is(m.state.get(2), "parked");
  TeeGuest.of(m, PLAIN).smc(CALLS_UID);
  const refusal = m.hw.console.filter((l) => l.includes("C refused to enter"));
  assert.is(refusal.length, 1);
  const el2h = /^\[hyp\] cpu 3: C refused to enter guest 2: SPSR_EL2 is not EL0t, EL1t or EL1h \(AArch64\) \(0x[0-9a-f]*9\)/;
  assert.match(refusal[0], el2h);
  assert.ok(refusal[0].endsWith(": only that guest is stopped"));
  assert.ok(stopped(m, "plain"));
  assert.equal(m.faults.map((f) => f.guest), [1, 2]);
  assert.equal(m.optee.guests, [1], "tee2 was withdrawn from OP-TEE");
  stillWorks(TeeGuest.of(m, TEE1));
  assert.equal(misdeeds(m).filter((l) => !l.includes("refused 0x80000000+64")), []);
});

test("without the flag the same calls just work and nothing is refused", () => {
  const m = boot();
  TeeGuest.of(m, TEE2).smc(CALLS_UID);
  TeeGuest.of(m, PLAIN).smc(CALLS_UID);
  assert.equal(m.faults, []);
  assert.ok(!m.hw.console.some((l) => l.includes("C refused") || l.includes("GUARD TEST")));
});

test("a VTTBR in the frame that is not the guest's own is refused when the controls are loaded", () => {
  const m = boot();
  const cpu = TEE2.cpu;
  m.set(cpu, FRAME.vttbr, m.hw.loaded.get(0)!.vttbr); // tee1's stage 2
  m.set(cpu, FRAME.controlsDirty, 1n);
  m.guestSync(cpu, 0x16n << 26n); // any exit: the core resumes the guest
  assert.ok(m.hw.console.some((l) => /cpu 2: C refused to enter guest 1: VTTBR_EL2 is not its own/.test(l)));
  assert.ok(stopped(m, "tee2"));
  stillWorks(TeeGuest.of(m, TEE1));
});

test("HCR_EL2: C forces the isolation bits on and TGE/E2H off, whatever the frame asks", () => {
  const m = boot();
  const cpu = TEE1.cpu;
  m.set(cpu, FRAME.hcr, BigInt(HCR_TGE + HCR_E2H));
  m.set(cpu, FRAME.controlsDirty, 1n);
  m.guestSync(cpu, 0x16n << 26n);
  const hcr = m.hw.loaded.get(cpu)!.hcr;
  assert.is(hcr & BigInt(HCR_ISOLATION), BigInt(HCR_ISOLATION));
  assert.is(hcr & BigInt(HCR_TGE + HCR_E2H), 0n);
  assert.equal(m.faults, []);
});

test("a pointer outside linear memory makes an import do nothing, as core_range does in C", () => {
  const m = boot();
  const hw = m.hw.imports().hw as Record<string, (...a: unknown[]) => unknown>;
  const end = m.core.memory.buffer.byteLength;
  m.hw.currentCpu = TEE1.cpu;
  assert.is(hw.guestRamRead(0x8000_0000n, end - 8, 64), 0);
  assert.is(hw.bootConfigCopy(end, 4096), 0);
  assert.is(hw.platformInfoCopy(-1, 104), 0);
  assert.equal(m.hw.linearRefusals.map((r) => r.what), ["guestRamRead", "bootConfigCopy", "platformInfoCopy"]);
  assert.equal(m.hw.ramRefusals, [], "the guest range is not looked at once the linear one is refused");
});

test.run();
