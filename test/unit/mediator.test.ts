/**
 * The OP-TEE mediator, part 1: which guests are clients and under which id,
 * and the fast calls (issue 5, "What to build" 1-2). The guests are those of
 * test/setups/three-guests.ts: tee1 (CPUs 0-1, client 1), tee2 (CPU 2, client 2),
 * plain (CPU 3, no TEE). OP-TEE is the model in test/fakes/optee.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as O from "../fakes/optee.ts";
import { bootTee, openArg, stillWorks, watching } from "../fakes/tee-guest.ts";

const EC_HVC = 0x16n, IL = 1n << 25n;
const PSCI_SYSTEM_OFF = 0x84000008n, PSCI_SYSTEM_RESET = 0x84000009n;

/** Fast calls with a7 = client as OP-TEE saw them. */
const fastFrom = (m: ReturnType<typeof bootTee>["m"], client: number) =>
  m.optee.calls.filter((c) => c.a7 === client).map((c) => c.fid);

function psci(m: ReturnType<typeof bootTee>["m"], cpu: number, fid: bigint): void {
  m.setReg(cpu, 0, fid);
  m.guestSync(cpu, (EC_HVC << 26n) | IL);
}

test("each TEE guest is announced with VM_CREATED (x7 = 0, x1 = index + 1) before its first vCPU runs", async () => {
  const { Machine } = await import("../fakes/machine.ts");
  const { setupBootConfig } = await import("../../tools/build/bootconfig.ts");
  const { setup } = await import("../setups/three-guests.ts");
  const m = new Machine("virtualized", setupBootConfig(setup));
  const created = () => m.optee.calls.filter((c) => c.fid === O.OPTEE_SMC_VM_CREATED && c.a1 !== 0x7fff).map((c) => [c.a1, c.a7]);
  m.boot(0);
  assert.is(m.state.get(0), "guest");
  assert.ok(created().some(([id]) => id === 1), "tee1 (running on CPU 0) is a client already");
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  assert.is(m.state.get(2), "guest");
  assert.equal(created(), [[1, 0], [2, 0]], "tee1 and tee2, once each, from the hypervisor; plain never");
  assert.equal(m.optee.guests, [1, 2]);
});

test("OP-TEE with room for one guest: the second TEE guest is no client (UNKNOWN_FUNCTION), the first works", async () => {
  const { Machine } = await import("../fakes/machine.ts");
  const { setupBootConfig } = await import("../../tools/build/bootconfig.ts");
  const { setup } = await import("../setups/three-guests.ts");
  const { TeeGuest, TEE1, TEE2, echoTa } = await import("../fakes/tee-guest.ts");
  const m = new Machine("virtualized", setupBootConfig(setup));
  m.optee.maxGuests = 1;
  m.optee.ta = echoTa;
  for (const cpu of [0, 1, 2, 3]) m.boot(cpu);
  assert.equal(m.optee.guests, [1]);
  const g2 = TeeGuest.of(m, TEE2);
  const { result, smcs } = watching(m, () => g2.smc(O.OPTEE_SMC_CALLS_UID));
  assert.equal([result[0], smcs], [0xffff_ffffn, []]);
  assert.ok(m.hw.console.some((l) => l.includes("tee2") && l.includes("VM_CREATED") && l.includes("ENOTAVAIL")));
  stillWorks(TeeGuest.of(m, TEE1));
});

test("every forwarded call carries the guest's own client id, whatever the guest put in x7", () => {
  const { m, g1, g2 } = bootTee();
  for (const x7 of [0n, 2n, 1n, 0xffff_ffff_0000_0002n]) {
    const { smcs } = watching(m, () => g1.smc(O.OPTEE_SMC_CALLS_REVISION, 0, 0, 0, 0, 0, 0, x7));
    assert.equal(smcs.map((s) => s.in[7]), [1], `x7 = ${x7}`);
  }
  const { smcs } = watching(m, () => g2.smc(O.OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0, 0, 0, 0, 1n));
  assert.ok(smcs.every((s) => s.in[7] === 2));
  // A std call too, the guest claiming to be the hypervisor, and its RPC's return claiming to be tee2.
  const arg = g1.putArg(openArg());
  const r = watching(m, () => g1.finish(g1.start(arg, 0n), { onRpc: (regs, g) => { const out = g.defaultAnswer(regs); out[7] = 2n; return out; } }));
  assert.is(r.result[0], 0n);
  assert.ok(r.smcs.length > 0 && r.smcs.every((s) => s.in[7] === 1));
  assert.is(g1.readArg(arg).ret, 0);
});

test("a guest's own VM_CREATED / VM_DESTROYED get ENOTAVAIL and never reach OP-TEE", () => {
  const { m, g1, g2 } = bootTee();
  for (const fid of [O.OPTEE_SMC_VM_CREATED, O.OPTEE_SMC_VM_DESTROYED]) {
    for (const [g, id] of [[g1, 2], [g1, 1], [g2, 1]] as const) {
      const { result, smcs } = watching(m, () => g.smc(fid, id, 0, 0, 0, 0, 0, 0));
      assert.is(result[0], BigInt(O.ENOTAVAIL));
      assert.equal(smcs, []);
    }
  }
  assert.equal(m.optee.guests, [1, 2]);
  stillWorks(g2);
});

test("a guest without TEE access: every Trusted-OS call is UNKNOWN_FUNCTION and OP-TEE sees nothing", () => {
  const { m, plain, g1 } = bootTee();
  for (const fid of [0xbf00ff01, 0xbf00ff03, 0xb2000000, 0xb2000009, 0xb200000f, 0xb200000d, 0x32000004, 0x32000003, 0xbf00ff00]) {
    const { result, smcs } = watching(m, () => plain.smc(fid, 0, 0, 0, 0, 0, 0, 1));
    assert.is(result[0], 0xffff_ffffn, `0x${fid.toString(16)}`);
    assert.equal(smcs, []);
  }
  stillWorks(g1);
});

test("fast calls: UID, revision, OS UUID and OS revision pass through under the client id", () => {
  const { m, g1 } = bootTee();
  const uid = watching(m, () => g1.smc(O.OPTEE_SMC_CALLS_UID));
  assert.equal(uid.result.slice(0, 4), [0x384fb3e0n, 0xe7f811e3n, 0xaf630002n, 0xa5d5c51bn]);
  assert.equal(g1.smc(O.OPTEE_SMC_CALLS_REVISION).slice(0, 2), [2n, 0n]);
  assert.equal(g1.smc(O.OPTEE_SMC_CALL_GET_OS_UUID).slice(0, 4), O.OS_UUID.map(BigInt));
  assert.equal(g1.smc(O.OPTEE_SMC_CALL_GET_OS_REVISION).slice(0, 2), [4n, 5n]);
  assert.equal(fastFrom(m, 1), [O.OPTEE_SMC_CALLS_UID, O.OPTEE_SMC_CALLS_REVISION, O.OPTEE_SMC_CALL_GET_OS_UUID, O.OPTEE_SMC_CALL_GET_OS_REVISION]);
});

test("EXCHANGE_CAPABILITIES hides RESERVED_SHM, VIRTUALIZATION, RPC_ARG and RPMB_PROBE: 0xfd -> 0x34", () => {
  const { g1, g2 } = bootTee();
  for (const g of [g1, g2]) {
    const r = g.smc(O.OPTEE_SMC_EXCHANGE_CAPABILITIES, 0);
    assert.is(r[0], 0n);
    assert.is(r[1], 0x34n, "DYNAMIC_SHM | MEMREF_NULL | ASYNC_NOTIF");
    assert.is(r[2], 66n, "OP-TEE's max notification value passes through");
  }
});

test("EXCHANGE_CAPABILITIES with a normal-world capability OP-TEE does not know: ENOTAVAIL, as entry_fast.c answers", () => {
  const { g1 } = bootTee();
  assert.is(g1.smc(O.OPTEE_SMC_EXCHANGE_CAPABILITIES, 1)[0], 0n, "UNIPROCESSOR is known");
  assert.is(g1.smc(O.OPTEE_SMC_EXCHANGE_CAPABILITIES, 2)[0], BigInt(O.ENOTAVAIL));
});

test("GET_SHM_CONFIG is ENOTAVAIL (no static SHM for guests); GET_THREAD_COUNT answers", () => {
  const { m, g1 } = bootTee();
  const shm = watching(m, () => g1.smc(O.OPTEE_SMC_GET_SHM_CONFIG));
  assert.is(shm.result[0], BigInt(O.ENOTAVAIL));
  assert.ok(shm.smcs.every((s) => s.in[0] !== O.OPTEE_SMC_GET_SHM_CONFIG), "the static SHM's address never reaches a guest");
  assert.equal(shm.result.slice(1, 4), [0n, 0n, 0n]);
  const t = g1.smc(O.OPTEE_SMC_GET_THREAD_COUNT);
  assert.equal([t[0], t[1] > 0n], [0n, true]);
});

test("ENABLE/DISABLE_SHM_CACHE are forwarded under the client id", () => {
  const { m, g1, g2 } = bootTee();
  const en = watching(m, () => g1.smc(O.OPTEE_SMC_ENABLE_SHM_CACHE));
  assert.is(en.result[0], 0n);
  assert.equal(en.smcs.map((s) => [s.in[0], s.in[7]]), [[O.OPTEE_SMC_ENABLE_SHM_CACHE, 1]]);
  const dis = watching(m, () => g2.smc(O.OPTEE_SMC_DISABLE_SHM_CACHE));
  assert.is(dis.result[0], BigInt(O.ENOTAVAIL), "nothing cached");
  assert.equal(dis.smcs.map((s) => [s.in[0], s.in[7]]), [[O.OPTEE_SMC_DISABLE_SHM_CACHE, 2]]);
});

test("every other Trusted-OS function is UNKNOWN_FUNCTION and never reaches OP-TEE", () => {
  const { m, g1, g2 } = bootTee();
  const fids = [
    0xb2000008, // L2CC_MUTEX
    0xb200000c, // BOOT_SECONDARY
    0xb2000012, 0xb20000ff, 0xbf00ff00, 0xbf00ff02,
    0x32000012, 0x32000013, // CALL_WITH_RPC_ARG / CALL_WITH_REGD_ARG (RPC_ARG hidden)
    0x32000005, 0x32000000,
    0xf2000001, 0xf2000004, 0x72000004, // SMC64 forms
  ];
  for (const fid of fids) {
    const { result, smcs } = watching(m, () => g1.smc(fid, 1, 2, 3, 4, 5, 6, 0));
    assert.is(result[0], 0xffff_ffffn, `0x${fid.toString(16)}`);
    assert.equal(smcs, [], `0x${fid.toString(16)} reached OP-TEE`);
  }
  stillWorks(g2);
});

test("VM_DESTROYED once the guest's last vCPU stops (SYSTEM_OFF)", () => {
  const { m, g1, g2 } = bootTee();
  g2.openSession();
  const { smcs } = watching(m, () => psci(m, 2, PSCI_SYSTEM_OFF));
  assert.equal(smcs.map((s) => [s.in[0], s.in[1], s.in[7]]), [[O.OPTEE_SMC_VM_DESTROYED, 2, 0]]);
  assert.equal(m.optee.guests, [1]);
  assert.is(m.state.get(2), "parked");
  stillWorks(g1);
});

test("a guest with two vCPUs: one vCPU's CPU_OFF is not the end; SYSTEM_OFF from the other is", () => {
  const { m, g1, g2 } = bootTee();
  // Start tee1's second vCPU (CPU 1), then turn it off again.
  m.setReg(0, 0, 0xc4000003n);
  m.setReg(0, 1, 1n);
  m.setReg(0, 2, 0x4030_0000n);
  m.setReg(0, 3, 0n);
  m.guestSync(0, (EC_HVC << 26n) | IL);
  m.wake(1, 1);
  assert.is(m.state.get(1), "guest");
  const off = watching(m, () => psci(m, 1, 0x84000002n));
  assert.equal(off.smcs, [], "CPU_OFF of one vCPU: still a client");
  stillWorks(g1);
  const { smcs } = watching(m, () => psci(m, 0, PSCI_SYSTEM_OFF));
  assert.equal(smcs.filter((s) => s.in[0] === O.OPTEE_SMC_VM_DESTROYED).map((s) => s.in[1]), [1]);
  assert.equal(m.optee.guests, [2]);
  stillWorks(g2);
});

test("leaving OP-TEE, a guest's work is summed up in one line: calls, RPCs, refusals, buffers held", () => {
  const { m, g2 } = bootTee();
  g2.smc(O.OPTEE_SMC_CALLS_UID);
  g2.openSession();
  const buf = g2.buffer(3 * 4096);
  g2.register(buf, 0x5150n);
  g2.unregister(0x6666n); // never registered: refused by the mediator
  g2.unregister(0x5150n);
  psci(m, 2, PSCI_SYSTEM_OFF);
  const line = m.lines("optee tee2").find((l) => l.startsWith("served "));
  assert.ok(line, "a summary line for tee2");
  const [, std, rpcs, fast, refused, buffers, pages] =
    /^served (\d+) std calls \((\d+) RPCs\) and (\d+) fast calls; refused (\d+); at most (\d+) buffers \((\d+) pages\) held at once; 0 notification values in 0 interrupts$/
      .exec(line!)!.map(Number);
  assert.is(std, 4, "open session, register, two unregisters");
  assert.ok(rpcs >= 0);
  assert.is(fast, 1, "CALLS_UID");
  assert.is(refused, 1);
  assert.is(buffers, 1);
  assert.is(pages, 3);
});

test.run();
