/**
 * The OP-TEE model itself (test/fakes/optee.ts), driven directly as a
 * perfect hypervisor would drive it, without the core: its std-call
 * semantics must be OP-TEE 4.5's, or the mediator's tests prove nothing.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { FakeHardware } from "../fakes/hw.ts";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";

const LIN = 0x6080_0000n;
const TEE1_PA = 0x8000_0000n, TEE2_PA = 0xa000_0000n;

function world(threads = 2) {
  const hw = new FakeHardware();
  hw.bootConfig = setupBootConfig(setup);
  hw.memory = new WebAssembly.Memory({ initial: 16 }); // 1 MiB of "linear memory"
  const optee = new O.OpteeModel("virtualized");
  optee.hw = hw;
  optee.threadCount = threads;
  for (const id of [1, 2]) assert.equal(smc(optee, O.OPTEE_SMC_VM_CREATED, id)[0], O.OK);
  return { hw, optee };
}

function smc(optee: O.OpteeModel, ...a: (number | bigint)[]): number[] {
  const x = Array.from({ length: 8 }, (_, i) => BigInt(a[i] ?? 0));
  return optee.call(x).map(Number);
}

/** CALL_WITH_ARG from client `id` with the argument at physical `pa`. */
const callWithArg = (optee: O.OpteeModel, pa: bigint, id: number) =>
  smc(optee, O.OPTEE_SMC_CALL_WITH_ARG, pa >> 32n, pa & 0xffff_ffffn, 0, 0, 0, 0, id);

const resume = (optee: O.OpteeModel, r: number[], id: number, a1 = 0n, a2 = 0n, a4 = 0n, a5 = 0n) =>
  smc(optee, O.OPTEE_SMC_RETURN_FROM_RPC, a1, a2, r[3], a4, a5, 0, id);

function openArg(): M.MsgArg {
  const meta = M.OPTEE_MSG_ATTR_META | M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
  return M.msgArg({ cmd: M.OPTEE_MSG_CMD_OPEN_SESSION, params: [M.param(meta, 1, 2), M.param(meta, 0, 0, 0)] });
}

test("model: an argument in linear memory runs; OP-TEE's answer is written in place", () => {
  const { hw, optee } = world();
  hw.physWrite(LIN, M.encodeArg(openArg()));
  assert.equal(callWithArg(optee, LIN, 1).slice(0, 4), [O.OK, 0, 0, 0]);
  const back = M.decodeArg(hw.physRead(LIN, M.argSize(2))!);
  assert.is(back.ret, M.TEE_SUCCESS);
  assert.is(back.session, 1);
  assert.equal(optee.violations, []);
  assert.equal(optee.seen.map((s) => s.verdict), ["hypervisor"]);
});

test("model: argument address rules of std_entry_with_parg / get_msg_arg", () => {
  const { hw, optee } = world();
  hw.physWrite(LIN, M.encodeArg(openArg()));
  assert.is(callWithArg(optee, LIN + 8n, 1)[0], O.EBADADDR, "not page aligned");
  assert.is(callWithArg(optee, 0x0e10_0000n, 1)[0], O.EBADADDR, "secure memory");
  hw.physWrite(LIN + 0x1000n, M.encodeArg(M.msgArg({ numParams: 128 })));
  assert.is(callWithArg(optee, LIN + 0x1000n, 1)[0], O.EBADADDR, "num_params > OPTEE_MSG_MAX_NUM_PARAMS");
  assert.is(callWithArg(optee, TEE1_PA, 1)[0], O.OK, "guest RAM is non-secure DDR: OP-TEE accepts it…");
  assert.equal(optee.violations.map((v) => v.pa), [0x0e10_0000n, TEE1_PA], "…and the witness flags both");
  assert.is(callWithArg(optee, LIN, 9)[0], O.ENOTAVAIL, "unknown client");
  assert.equal(optee.threadsOf(1), ["free", "free"]);
});

test("model: threads per client, ETHREAD_LIMIT, ERESUME for a thread that is not suspended", () => {
  const { hw, optee } = world();
  optee.ta = function* (call) {
    yield* call.api.foreignIntr();
  };
  const open = M.encodeArg(openArg());
  hw.physWrite(LIN, open);
  hw.physWrite(LIN + 0x1000n, open);
  hw.physWrite(LIN + 0x2000n, open);
  const r1 = callWithArg(optee, LIN, 1);
  const r2 = callWithArg(optee, LIN + 0x1000n, 1);
  assert.equal([r1[0], r1[3], r2[0], r2[3]], [O.RPC_FOREIGN_INTR, 0, O.RPC_FOREIGN_INTR, 1]);
  assert.is(callWithArg(optee, LIN + 0x2000n, 1)[0], O.ETHREAD_LIMIT);
  assert.is(callWithArg(optee, LIN + 0x2000n, 2)[0], O.RPC_FOREIGN_INTR, "client 2 has threads of its own");
  assert.is(resume(optee, [0, 0, 0, 5], 1)[0], O.ERESUME, "no thread 5");
  assert.equal(resume(optee, r2, 1).slice(0, 4), [O.OK, 0, 0, 0]);
  assert.is(resume(optee, r2, 1)[0], O.ERESUME, "thread 1 is free again");
  assert.is(resume(optee, r1, 1)[0], O.OK);
});

test("model: REGISTER_SHM reads a two-page list; pages are judged; UNREGISTER of unknown cookies", () => {
  const { hw, optee } = world();
  const data = Array.from({ length: 600 }, (_, i) => TEE1_PA + 0x10_0000n + BigInt(i) * 4096n);
  const lists = [LIN + 0x10000n, LIN + 0x11000n];
  M.pageListImages(data, lists).forEach((img, i) => hw.physWrite(lists[i], img));
  const reg = M.msgArg({ cmd: M.OPTEE_MSG_CMD_REGISTER_SHM, params: [M.param(0x20a, lists[0] | 0x10n, 600 * 4096 - 0x10, 0xc0ffeen)] });
  hw.physWrite(LIN, M.encodeArg(reg));
  assert.is(callWithArg(optee, LIN, 1)[0], O.OK);
  assert.is(M.decodeArg(hw.physRead(LIN, 64)!).ret, M.TEE_SUCCESS);
  assert.equal(optee.violations, []);
  assert.is(optee.seen.filter((s) => s.use === "page-list").length, 2);
  assert.is(optee.seen.filter((s) => s.verdict === "own-ram").length, 600);
  assert.is(optee.shmOf(1)[0].size, 600 * 4096 - 0x10);
  assert.equal(optee.shmOf(2), [], "buffers are per client");

  const unreg = (cookie: bigint) => {
    hw.physWrite(LIN, M.encodeArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_UNREGISTER_SHM, params: [M.param(5, 0, 0, cookie)] })));
    assert.is(callWithArg(optee, LIN, 1)[0], O.OK);
    return M.decodeArg(hw.physRead(LIN, 64)!).ret;
  };
  // mobj_dyn_shm.c mobj_reg_shm_release_by_cookie, 4.5: an unknown cookie is BAD_PARAMETERS.
  assert.is(unreg(0xdeadn), M.TEE_ERROR_BAD_PARAMETERS);
  assert.is(unreg(0xc0ffeen), M.TEE_SUCCESS);
  assert.is(unreg(0xc0ffeen), M.TEE_ERROR_BAD_PARAMETERS);
});

test("model: a data page of another guest, or a list in guest RAM, is a violation", () => {
  const { hw, optee } = world();
  hw.physWrite(LIN + 0x10000n, M.pageListImages([TEE2_PA], [])[0]);
  hw.physWrite(TEE1_PA, M.pageListImages([TEE1_PA + 0x1000n], [])[0]);
  for (const list of [LIN + 0x10000n, TEE1_PA]) {
    hw.physWrite(LIN, M.encodeArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_REGISTER_SHM, params: [M.param(0x20a, list, 4096, 1)] })));
    callWithArg(optee, LIN, 1);
  }
  assert.equal(optee.violations.map((v) => [v.use, v.pa]), [["data-page", TEE2_PA], ["page-list", TEE1_PA]]);
});

test("model: an RPC CMD runs through RPC_ALLOC; SHM_ALLOC's reply maps pages; the cache keeps the RPC argument", () => {
  const { hw, optee } = world();
  let got: O.Mobj | undefined;
  optee.ta = function* (call) {
    got = yield* call.api.shmAlloc(5000);
    if (got) yield* call.api.shmFree(got);
  };
  assert.equal(smc(optee, O.OPTEE_SMC_ENABLE_SHM_CACHE, 0, 0, 0, 0, 0, 0, 1)[0], O.OK);
  hw.physWrite(LIN, M.encodeArg(openArg()));
  let r = callWithArg(optee, LIN, 1);
  assert.equal([r[0], r[1]], [O.RPC_ALLOC, 160]);
  const rpcArg = LIN + 0x3000n, cookie = 0xffff_8000_1234_5000n;
  r = resume(optee, r, 1, rpcArg >> 32n, rpcArg & 0xffff_ffffn, cookie >> 32n, cookie & 0xffff_ffffn);
  assert.equal([r[0], M.pair(r[1], r[2])], [O.RPC_CMD, cookie]);
  const req = M.decodeArg(hw.physRead(rpcArg, 160)!);
  assert.equal([req.cmd, req.numParams, req.params[0].b, req.ret], [M.OPTEE_RPC_CMD_SHM_ALLOC, 1, 5000n, M.TEE_ERROR_GENERIC]);
  const list = LIN + 0x4000n;
  hw.physWrite(list, M.pageListImages([TEE1_PA + 0x5000n, TEE1_PA + 0x9000n], [])[0]);
  req.ret = 0;
  req.params[0] = M.param(0x20a, list, 5000, 77);
  hw.physWrite(rpcArg, M.encodeArg(req));
  r = resume(optee, r, 1);
  assert.is(r[0], O.RPC_CMD, "SHM_FREE");
  const free = M.decodeArg(hw.physRead(rpcArg, 160)!);
  assert.equal([free.cmd, free.params[0].a, free.params[0].b], [M.OPTEE_RPC_CMD_SHM_FREE, 0n, 77n]);
  assert.equal(got?.pages, [TEE1_PA + 0x5000n, TEE1_PA + 0x9000n]);
  r = resume(optee, r, 1);
  assert.is(r[0], O.OK, "with the cache on, no RPC_FREE at the end");
  assert.equal(optee.rpcArgsOf(1), [cookie]);
  assert.equal(smc(optee, O.OPTEE_SMC_DISABLE_SHM_CACHE, 0, 0, 0, 0, 0, 0, 1).slice(0, 3), [O.OK, Number(cookie >> 32n), Number(cookie & 0xffff_ffffn)]);
  assert.is(smc(optee, O.OPTEE_SMC_DISABLE_SHM_CACHE, 0, 0, 0, 0, 0, 0, 1)[0], O.ENOTAVAIL);
  assert.equal(optee.violations, []);
});

test("model: without the cache the RPC argument is freed when the call ends; a bad one is freed at once", () => {
  const { hw, optee } = world();
  optee.ta = function* (call) {
    const r = yield* call.api.cmd(M.OPTEE_RPC_CMD_GET_TIME, [{ type: "value", dir: "out", a: 0n, b: 0n, c: 0n }]);
    return { ret: r.ret };
  };
  hw.physWrite(LIN, M.encodeArg(openArg()));
  let r = callWithArg(optee, LIN, 1);
  r = resume(optee, r, 1, 0n, 0x12345n, 0n, 9n); // not page aligned: rpc_shm_mobj_alloc refuses
  assert.equal([r[0], r[1], r[2]], [O.RPC_FREE, 0, 9]);
  r = resume(optee, r, 1);
  assert.is(r[0], O.OK);
  assert.is(M.decodeArg(hw.physRead(LIN, 32)!).ret, M.TEE_ERROR_OUT_OF_MEMORY);

  r = callWithArg(optee, LIN, 1);
  r = resume(optee, r, 1, 0n, LIN + 0x3000n, 0n, 10n);
  assert.is(r[0], O.RPC_CMD);
  const req = M.decodeArg(hw.physRead(LIN + 0x3000n, 160)!);
  req.ret = 0;
  req.params[0].a = 1234n;
  hw.physWrite(LIN + 0x3000n, M.encodeArg(req));
  r = resume(optee, r, 1);
  assert.equal([r[0], r[1], r[2]], [O.RPC_FREE, 0, 10], "call_entry_std: clear_prealloc_rpc_cache");
  assert.is(resume(optee, r, 1)[0], O.OK);
});

test("model: the fast calls a guest driver makes", () => {
  const { optee } = world();
  assert.equal(smc(optee, O.OPTEE_SMC_EXCHANGE_CAPABILITIES, 0, 0, 0, 0, 0, 0, 1).slice(0, 4), [O.OK, 0xfd, 66, 4]);
  assert.equal(smc(optee, O.OPTEE_SMC_CALL_GET_OS_UUID, 0, 0, 0, 0, 0, 0, 1).slice(0, 4), O.OS_UUID);
  assert.is(smc(optee, O.OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0, 0, 0, 0, 1)[1], 2);
  assert.is(smc(optee, O.OPTEE_SMC_GET_THREAD_COUNT, 0, 0, 0, 0, 0, 0, 7)[0], O.ENOTAVAIL);
  assert.is(smc(optee, O.OPTEE_SMC_VM_CREATED, 3, 0, 0, 0, 0, 0, 1)[0], O.ENOTAVAIL, "only the hypervisor");
});

test.run();
