/**
 * Fault containment (issue 14): a trap in the core while it serves one guest's event costs that guest only.
 * The planted fault (BOOT_FLAG_FAULT_TEST) makes the core trap while serving tee2's Nth CALL_WITH_ARG; the
 * fake machine contains it as boot/core.c does (guestFault under the lock).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup as defaultSetup } from "../setups/three-guests.ts";
import type { Setup } from "../../configs/setup.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { Machine } from "../fakes/machine.ts";
import * as O from "../fakes/optee.ts";
import { echoTa, misdeeds, openArg, stillWorks, TeeGuest, TEE1, TEE2, watching } from "../fakes/tee-guest.ts";
import { holds, HOLDS_CALLS, HOLDS_POOL_PAGES, HOLDS_SHM_BUFFERS } from "../fuzz/invariants.ts";

function boot(setup: Setup = defaultSetup, call = 3): Machine {
  const m = new Machine("virtualized", setupBootConfig(setup, { faultTest: { guest: 1, call } }));
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  return m;
}

const withTee2 = (change: object): Setup => ({
  ...defaultSetup,
  guests: defaultSetup.guests.map((g) => (g.name === "tee2" ? { ...g, ...change } : g)),
});

test("the image says at boot that the planted fault is on", () => {
  const m = boot();
  assert.ok(m.lines("selftest").some((l) => l.startsWith("PLANTED FAULT ON (test only)")));
});

test("a trap while serving tee2's call stops tee2 only: withdrawn from OP-TEE, tee1 carries on", () => {
  const m = boot();
  const g2 = TeeGuest.of(m, TEE2);
  g2.openSession(); // call 1
  g2.openSession(); // call 2
  const { smcs } = watching(m, () => g2.openSession()); // call 3 traps
  assert.equal(m.faults.map((f) => f.guest), [1]);
  assert.equal(smcs.filter((s) => s.in[0] === O.OPTEE_SMC_VM_DESTROYED).map((s) => [s.in[1], s.in[7]]), [[2, 0]]);
  assert.equal(m.optee.guests, [1]);
  assert.is(m.state.get(2), "parked", "onCrash stop: tee2's CPU parks");
  assert.ok(m.hw.console.some((l) => l.includes("guest tee2: the core faulted while serving it") && l.includes("stays off")));
  assert.equal(misdeeds(m), []);
  stillWorks(TeeGuest.of(m, TEE1));
  assert.is(m.firmware.poweredOff, false);
});

test("onCrash \"restart\": the faulting guest starts again from its images and works; the fault fires once", () => {
  const m = boot(withTee2({ onCrash: "restart" }));
  const g2 = TeeGuest.of(m, TEE2);
  g2.openSession();
  g2.openSession();
  const { smcs } = watching(m, () => g2.openSession());
  assert.equal(smcs.filter((s) => s.in[0] === O.OPTEE_SMC_VM_DESTROYED || s.in[0] === O.OPTEE_SMC_VM_CREATED).map((s) => [s.in[0], s.in[1]]),
    [[O.OPTEE_SMC_VM_DESTROYED, 2], [O.OPTEE_SMC_VM_CREATED, 2]]);
  assert.is(m.state.get(2), "guest");
  assert.equal(m.hw.loads.filter((g) => g === 1).length, 2, "tee2's RAM reloaded");
  stillWorks(TeeGuest.of(m, TEE2));
  stillWorks(TeeGuest.of(m, TEE1));
});

test("after a fault the withdrawn guest holds nothing in the mediator, and tee1 carries on", () => {
  const m = boot(undefined, 40);
  const g2 = TeeGuest.of(m, TEE2);
  // Before the fault tee2 holds registered buffers and a call suspended in an RPC (with its shadow page).
  for (const cookie of [0x21n, 0x22n, 0x23n]) assert.is(g2.register(g2.buffer(8192), cookie).arg.ret, 0);
  let preempt = true;
  m.optee.preempt = () => preempt && !(preempt = false);
  const suspended = g2.start(g2.putArg(openArg()));
  assert.is(Number(suspended[0]), O.RPC_FOREIGN_INTR, "a call left in an RPC");
  const held = [HOLDS_SHM_BUFFERS, HOLDS_CALLS, HOLDS_POOL_PAGES].map((what) => holds(m, 1, what));
  assert.equal(held, [3, 1, 1], "buffers, calls and pool pages held before the fault");
  for (let i = 0; i < 35; i++) g2.openSession(); // calls 5-39
  g2.openSession(); // call 40 traps
  assert.equal(m.faults.length, 1);
  assert.ok(m.hw.console.some((l) => l.includes("optee tee2: after VM_DESTROYED it holds 0 buffers, 0 RPC buffers, 0 calls, 0 pool pages")));
  assert.equal([0, 1, 2, 3].map((what) => holds(m, 1, what)), [0, 0, 0, 0]);
  assert.equal(m.optee.shmOf(2), [], "OP-TEE dropped them at VM_DESTROYED");
  stillWorks(TeeGuest.of(m, TEE1));
});

test("no planted fault without the flag: the same calls just work", () => {
  const m = new Machine("virtualized", setupBootConfig(defaultSetup));
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  const g2 = TeeGuest.of(m, TEE2);
  for (let i = 0; i < 5; i++) g2.openSession();
  assert.equal(m.faults, []);
  assert.ok(!m.hw.console.some((l) => l.includes("PLANTED FAULT")));
});

test.run();
