/** The boot probe of OP-TEE against the three kinds of secure world (test/fakes/optee.ts). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Machine } from "../fakes/machine.ts";
import * as O from "../fakes/optee.ts";
import { PSCI_SYSTEM_OFF } from "../fakes/firmware.ts";

const PROBE_ID = 0x7fff;

test("virtualized OP-TEE: the full sequence, each call under the right client id", () => {
  const m = new Machine("virtualized");
  m.boot(0);
  assert.equal(m.optee.calls, [
    { fid: O.OPTEE_SMC_CALLS_UID, a1: 0, a7: 0 },
    { fid: O.OPTEE_SMC_CALLS_REVISION, a1: 0, a7: 0 },
    { fid: O.OPTEE_SMC_CALL_GET_OS_REVISION, a1: 0, a7: 0 },
    { fid: O.OPTEE_SMC_VM_CREATED, a1: PROBE_ID, a7: 0 },
    { fid: O.OPTEE_SMC_EXCHANGE_CAPABILITIES, a1: 0, a7: PROBE_ID },
    { fid: O.OPTEE_SMC_GET_THREAD_COUNT, a1: 0, a7: PROBE_ID },
    { fid: O.OPTEE_SMC_VM_DESTROYED, a1: PROBE_ID, a7: 0 },
  ]);
  assert.equal(m.optee.guests, [], "the probe gives its client id back");
  assert.is(m.firmware.poweredOff, true);
  assert.is(m.state.get(0), "off");
});

test("virtualized OP-TEE: every answer is reported under OP-TEE's name", () => {
  const m = new Machine("virtualized");
  m.boot(0);
  assert.equal(m.lines("optee"), [
    "CALLS_UID -> 384fb3e0 e7f811e3 af630002 a5d5c51b (OP-TEE)",
    "CALLS_REVISION -> 2.0",
    "GET_OS_REVISION -> 4.5 build 0x0",
    "VM_CREATED client 0x7fff -> OK",
    "EXCHANGE_CAPABILITIES client 0x7fff -> OK caps 0xfd (RESERVED_SHM DYNAMIC_SHM VIRTUALIZATION MEMREF_NULL ASYNC_NOTIF RPC_ARG RPMB_PROBE) max_notif_value 66 rpc_params 4",
    "GET_THREAD_COUNT client 0x7fff -> OK threads 2",
    "VM_DESTROYED client 0x7fff -> OK",
    "ready: OP-TEE 4.5 is virtualization-aware, 2 threads per guest",
  ]);
});

test("OP-TEE without virtualization: one clear line, capabilities asked as the hypervisor, no VM_DESTROYED", () => {
  const m = new Machine("plain");
  m.boot(0);
  const fids = m.optee.calls.map((c) => c.fid);
  assert.not.ok(fids.includes(O.OPTEE_SMC_VM_DESTROYED));
  const caps = m.optee.calls.find((c) => c.fid === O.OPTEE_SMC_EXCHANGE_CAPABILITIES);
  assert.equal(caps?.a7, 0);
  const lines = m.lines("optee");
  assert.ok(lines.includes("VM_CREATED client 0x7fff -> UNKNOWN_FUNCTION"));
  assert.ok(lines.some((l) => /caps 0xf5 \(RESERVED_SHM DYNAMIC_SHM MEMREF_NULL/.test(l)));
  assert.is(lines.filter((l) => l.includes("not virtualization-aware")).length, 1);
  assert.match(lines.at(-1)!, /^OP-TEE 4\.5 is not virtualization-aware .*guests will have no TEE$/);
  assert.is(m.firmware.poweredOff, true, "the hypervisor carries on");
});

test("no OP-TEE: says so once and asks nothing more of the secure world", () => {
  const m = new Machine("absent");
  m.boot(0);
  assert.equal(m.optee.calls.map((c) => c.fid), [O.OPTEE_SMC_CALLS_UID]);
  assert.equal(m.lines("optee"), [
    "CALLS_UID -> ffffffff 00000000 00000000 00000000 (not OP-TEE)",
    "no OP-TEE in the secure world (CALLS_UID answered 0xffffffff): guests will have no TEE",
  ]);
  assert.is(m.firmware.poweredOff, true);
});

test("a secure world that refuses VM_CREATED for lack of room is reported, not fatal", () => {
  const m = new Machine("virtualized");
  m.optee.maxGuests = 0;
  m.boot(0);
  assert.ok(m.lines("optee").includes("VM_CREATED client 0x7fff -> ENOTAVAIL"));
  assert.match(m.lines("optee").at(-1)!, /not virtualization-aware/);
  assert.is(m.firmware.poweredOff, true);
});

test("the probe ends with PSCI SYSTEM_OFF from the boot CPU", () => {
  const m = new Machine("virtualized");
  m.boot(0);
  assert.is(Number(m.frameRegs(0)[0]), PSCI_SYSTEM_OFF);
  assert.ok(m.lines("boot").includes("no guests to run: powering off (PSCI SYSTEM_OFF)"));
});

test.run();
