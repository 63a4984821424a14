/**
 * A guest's restart (issue 14): PSCI SYSTEM_RESET withdraws the guest from OP-TEE, has C reload its RAM
 * from the pristine images (ACTION_LOAD_GUEST), announces it again and starts its vCPU 0; the other guests
 * never notice. The guests are those of test/setups/three-guests.ts on the fake hardware and the OP-TEE model.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup as defaultSetup } from "../setups/three-guests.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { FRAME, Machine } from "../fakes/machine.ts";
import { parseRestartCost } from "../../tools/run/reboot-report.ts";
import { mostEmptyWakes } from "../../tools/run/guests-lib.ts";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, echoTa, openArg as openArgFor, stillWorks, TeeGuest, TEE1, TEE2, watching } from "../fakes/tee-guest.ts";

const EC_HVC = 0x16n, IL = 1n << 25n;
const PSCI_SYSTEM_OFF = 0x84000008n, PSCI_SYSTEM_RESET = 0x84000009n;
const KERNEL_ENTRY = 0x4020_0000n, DTB_IPA = 0x4000_0000n;

function psci(m: Machine, cpu: number, fid: bigint): void {
  m.setReg(cpu, 0, fid);
  m.guestSync(cpu, (EC_HVC << 26n) | IL);
}

const lifecycleSmcs = (smcs: O.SmcTrace[]) =>
  smcs.filter((s) => s.in[0] === O.OPTEE_SMC_VM_CREATED || s.in[0] === O.OPTEE_SMC_VM_DESTROYED).map((s) => [s.in[0], s.in[1], s.in[7]]);

test("every guest starts from images C copies in: one ACTION_LOAD_GUEST per guest at boot", () => {
  const { m } = bootTee();
  assert.equal([...m.hw.loads].sort(), [0, 1, 2]);
  assert.equal([...m.hw.declared.keys()].sort(), [0, 1, 2], "C knows each guest's RAM");
});

test("SYSTEM_RESET restarts a TEE guest: VM_DESTROYED, RAM reloaded, VM_CREATED, vCPU 0 at its entry; tee2 never notices", () => {
  const { m, g1, g2 } = bootTee();
  const held = g2.openSession().arg.session; // tee2 holds a session across tee1's reboot
  const { smcs } = watching(m, () => psci(m, 0, PSCI_SYSTEM_RESET));
  assert.equal(lifecycleSmcs(smcs), [[O.OPTEE_SMC_VM_DESTROYED, 1, 0], [O.OPTEE_SMC_VM_CREATED, 1, 0]]);
  assert.equal(m.hw.loads.filter((g) => g === 0).length, 2, "tee1's RAM loaded again");
  assert.equal([...m.optee.guests].sort(), [1, 2]);
  assert.is(m.state.get(0), "guest");
  assert.is(m.get(0, 0x138), KERNEL_ENTRY, "pc at the kernel entry");
  assert.is(m.reg(0, 0), DTB_IPA, "x0 = its DTB");
  assert.ok(m.hw.console.some((l) => l.includes("tee1") && l.includes("rebooting (PSCI SYSTEM_RESET)")));
  assert.ok(m.hw.console.some((l) => l.includes("tee1") && l.includes("start 2")));
  assert.is(m.firmware.poweredOff, false);
  const invoke = g2.invoke(held, 7, [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 41, 0)]);
  assert.equal([invoke.a0, invoke.arg.ret, invoke.arg.params[0].a], [O.OK, 0, 42n], "tee2's session from before still works");
  stillWorks(g2);
  stillWorks(g1);
});

test("a reboot leaves nothing of the guest's in the mediator: a fresh session works, the old one is gone", () => {
  const { m, g1 } = bootTee();
  const open = g1.openSession();
  assert.is(open.a0, O.OK);
  psci(m, 0, PSCI_SYSTEM_RESET);
  assert.ok(m.hw.console.some((l) => l.includes("tee1") && l.includes("served")), "the mediator's summary line for the old life");
  const again = TeeGuest.of(m, TEE1);
  stillWorks(again);
});

test("a reboot while another vCPU's call is in OP-TEE: VM_DESTROYED waits for that SMC to return, then the restart goes on", () => {
  const { m } = bootTee();
  // tee1's second vCPU (CPU 1) comes up and calls OP-TEE; its SMC stays in the secure world.
  m.setReg(0, 0, 0xc4000003n);
  m.setReg(0, 1, 1n);
  m.setReg(0, 2, KERNEL_ENTRY);
  m.setReg(0, 3, 0n);
  m.guestSync(0, (EC_HVC << 26n) | IL);
  m.wake(1, 1);
  assert.is(m.state.get(1), "guest");
  const v1 = new TeeGuest(m, 0, 1);
  m.holdSmc.add(1);
  v1.start(v1.putArg(openArgFor()));
  assert.is(m.state.get(1), "in SMC");
  // vCPU 0 reboots the guest: nothing goes to OP-TEE while CPU 1's call is there.
  const during = watching(m, () => psci(m, 0, PSCI_SYSTEM_RESET));
  assert.equal(lifecycleSmcs(during.smcs), []);
  assert.is(m.state.get(0), "waiting");
  // The call returns: CPU 1 withdraws tee1, reloads it, announces it again, and kicks CPU 0 to start vCPU 0.
  const after = watching(m, () => m.releaseSmc(1));
  assert.equal(lifecycleSmcs(after.smcs), [[O.OPTEE_SMC_VM_DESTROYED, 1, 0], [O.OPTEE_SMC_VM_CREATED, 1, 0]]);
  assert.equal(m.hw.loads.filter((g) => g === 0).length, 2);
  assert.is(m.state.get(1), "waiting", "vCPU 1 waits for its CPU_ON in the new life");
  m.wake(0, 1);
  assert.is(m.state.get(0), "guest");
  assert.is(m.get(0, 0x138), KERNEL_ENTRY);
  stillWorks(TeeGuest.of(m, TEE1));
  stillWorks(TeeGuest.of(m, TEE2));
});

test("a guest that reboots in a loop is logged by count, and the others carry on", () => {
  const { m, g2 } = bootTee();
  for (let i = 0; i < 40; i++) psci(m, 2, PSCI_SYSTEM_RESET);
  const lines = m.hw.console.filter((l) => l.includes("tee2") && l.includes("rebooting"));
  assert.ok(lines.length < 15, `${lines.length} reboot lines for 40 reboots`);
  assert.ok(lines.some((l) => l.includes("start 32")), "the 32nd start is said");
  assert.ok(!lines.some((l) => l.includes("start 31")), "the 31st is not");
  assert.equal([...m.optee.guests].sort(), [1, 2]);
  stillWorks(g2);
  stillWorks(TeeGuest.of(m, TEE1));
});

test("at power-off, each guest that restarted says how often and what its restarts cost, step by step", () => {
  const { m } = bootTee();
  for (let i = 0; i < 3; i++) psci(m, 2, PSCI_SYSTEM_RESET);
  for (const cpu of [3, 2, 0]) psci(m, cpu, PSCI_SYSTEM_OFF);
  assert.is(m.firmware.poweredOff, true);
  const lines = m.hw.console.filter((l) => / restarts?, end to start /.test(l));
  assert.equal(lines.length, 1, "only tee2 restarted");
  assert.is(parseRestartCost("tee2", m.hw.console)?.restarts, 3, "tools/run/reboot-report.ts reads it back");
  assert.is(parseRestartCost("tee1", m.hw.console), null);
  assert.match(lines[0], /^\[hyp\] guest tee2: 3 restarts, end to start mean [\d.]+ ms, worst [\d.]+ ms; mean\/worst: calls in flight [\d.]+\/[\d.]+ ms, VM_DESTROYED [\d.]+\/[\d.]+ ms, RAM cleared and images copied [\d.]+\/[\d.]+ ms, VM_CREATED [\d.]+\/[\d.]+ ms; images loaded on CPU 2$/);
});

test("onReset \"stop\": SYSTEM_RESET leaves the guest off and withdrawn, as SYSTEM_OFF does", () => {
  const setup = { ...defaultSetup, guests: defaultSetup.guests.map((g) => (g.name === "tee2" ? { ...g, onReset: "stop" as const } : g)) };
  const m = new Machine("virtualized", setupBootConfig(setup));
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  const { smcs } = watching(m, () => psci(m, 2, PSCI_SYSTEM_RESET));
  assert.equal(lifecycleSmcs(smcs), [[O.OPTEE_SMC_VM_DESTROYED, 2, 0]]);
  assert.is(m.state.get(2), "parked");
  assert.equal(m.optee.guests, [1]);
  stillWorks(TeeGuest.of(m, TEE1));
});

test("the machine powers off only when no guest is running or restarting", () => {
  const { m } = bootTee();
  psci(m, 3, PSCI_SYSTEM_OFF);
  psci(m, 2, PSCI_SYSTEM_RESET);
  assert.is(m.firmware.poweredOff, false);
  psci(m, 2, PSCI_SYSTEM_OFF);
  psci(m, 0, PSCI_SYSTEM_OFF);
  assert.is(m.firmware.poweredOff, true);
});

test("C refuses a guest whose RAM is the hypervisor's or overlaps another's; the core says so and runs the rest", () => {
  const guests = [
    { ...defaultSetup.guests[0], ram: { base: 0x6000_0000, size: 0x200_0000 } },
    defaultSetup.guests[1],
  ];
  const m = new Machine("virtualized", setupBootConfig({ ...defaultSetup, guests }));
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  assert.ok(m.hw.console.some((l) => l.includes("guest record 0 refused") && l.includes("C refused")));
  assert.is(m.state.get(2), "guest", "tee2 runs");
  assert.equal(m.optee.guests, [1], "tee2, now the first guest, is client 1");
  void TEE2;
});

test("at power-off, waking a waiting CPU with no interrupt to take is counted per CPU (a spinning CPU shows)", () => {
  const { m } = bootTee();
  psci(m, 0, PSCI_SYSTEM_OFF); // tee1 off: CPU 0 waits (the console CPU)
  for (let i = 0; i < 5; i++) m.wake(0, 1023);
  for (const cpu of [3, 2]) psci(m, cpu, PSCI_SYSTEM_OFF);
  assert.is(m.firmware.poweredOff, true);
  const lines = m.hw.console.filter((l) => l.includes("wake-ups with no interrupt"));
  assert.equal(lines, ["[hyp] irq: wake-ups with no interrupt to take: CPU 0: 5"]);
  assert.is(mostEmptyWakes(m.hw.console), 5, "what the system tests check reads the core's line");
  assert.is(mostEmptyWakes(["[hyp] irq: wake-ups with no interrupt to take: CPU 0: 3, CPU 2: 41"]), 41);
  assert.is(mostEmptyWakes([]), 0, "no line: no empty wake-up");
});

test("at power-off, each CPU's waits for the core's lock (C keeps them in its frame) are said in one line", () => {
  const { m } = bootTee();
  m.set(2, FRAME.counterHz, 62_500_000n); // as boot/core.c leaves them: ticks of a 62.5 MHz counter
  m.set(2, FRAME.lockWaitWorst, 146_605n); // 2.35 ms
  m.set(2, FRAME.lockWaitTotal, 625_000n); // 10 ms
  m.set(2, FRAME.lockWaitLong, 3n);
  for (const cpu of [0, 3, 2]) psci(m, cpu, PSCI_SYSTEM_OFF);
  assert.is(m.firmware.poweredOff, true);
  const lines = m.hw.console.filter((l) => l.includes("waits for the core's lock"));
  assert.equal(lines, ["[hyp] lock: waits for the core's lock, worst / in all / how many of 1 ms or more: CPU 2 2.3 / 10.0 ms / 3"]);
});

test.run();
