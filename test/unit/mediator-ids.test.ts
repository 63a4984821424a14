/**
 * Identifiers a guest chooses are its own and unique while live (issue 15, item 3). OP-TEE 4.5 keeps registered
 * buffers (reg_shm_list, mobj_dyn_shm.c) and sessions (tee_open_sessions, entry_std.c) in ordinary .data, which
 * CFG_NS_VIRTUALIZATION banks per guest, and thread ids index each guest's own threads: two guests may use the same
 * value. Within one guest OP-TEE accepts a duplicate cookie, after which a cookie no longer names one buffer; the
 * mediator allows one registered and one lent (SHM_ALLOC) buffer per cookie, as Linux uses them, and refuses a
 * second of a kind with what OP-TEE answers an identifier it will not take: TEE_ERROR_BAD_PARAMETERS from
 * TEE_ORIGIN_TEE in the argument (a0 OK), or, for an RPC reply, the failure OP-TEE handles for that RPC.
 * RETURN_FROM_RPC for a thread that is not the guest's call in an RPC: mediator-rpc.test.ts.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, misdeeds, stillWorks, watching, type GuestBuffer, type RpcHooks, type TeeGuest } from "../fakes/tee-guest.ts";
import { holds, HOLDS_RPC_BUFFERS } from "../fuzz/invariants.ts";

const NONCONTIG_OUT = M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG;
const COOKIE = 0xffff_0001_0000_0770n;

function session(g: TeeGuest): number {
  const r = g.openSession();
  assert.equal([r.a0, r.arg.ret], [0, 0], "open session");
  return r.arg.session;
}

/** The refusal OP-TEE's entry code gives an identifier it will not take. */
function assertRefused(r: { a0: number; arg: M.MsgArg }, what: string): void {
  assert.equal([r.a0, r.arg.ret, r.arg.retOrigin], [O.OK, M.TEE_ERROR_BAD_PARAMETERS, M.TEE_ORIGIN_TEE], what);
}

/** A TA whose every invoke asks the normal world for the time: RPC_ALLOC, then RPC_CMD, then RPC_FREE. */
const timeTa: O.TaScript = function* (call) {
  if (call.op === "open") return;
  return { ret: (yield* call.api.cmd(M.OPTEE_RPC_CMD_GET_TIME, [{ type: "value", dir: "out", a: 0n, b: 0n, c: 0n }])).ret };
};

/** A driver answering SHM_ALLOC with `buf` under `cookie` (anything else as Linux does). */
function replyWith(buf: GuestBuffer, cookie: bigint): RpcHooks {
  return {
    onCmd: (arg) => {
      if (arg.cmd !== M.OPTEE_RPC_CMD_SHM_ALLOC) return false;
      arg.params[0] = M.param(NONCONTIG_OUT, buf.bufPtr, buf.size, cookie);
      arg.ret = M.TEE_SUCCESS;
      return true;
    },
  };
}

/** A TA whose open asks for a 2-page SHM_ALLOC buffer and keeps it (never SHM_FREE): `got` says if it came. */
function keepingTa(got: { mobj?: O.Mobj | undefined }): O.TaScript {
  return function* (call) {
    if (call.op !== "open") return;
    got.mobj = yield* call.api.shmAlloc(8192);
  };
}

test("REGISTER_SHM under the cookie of a live registered buffer is refused; after UNREGISTER_SHM it is free again", () => {
  const { m, g1, g2 } = bootTee();
  assert.is(g1.register(g1.buffer(4096), COOKIE).arg.ret, 0);
  const again = watching(m, () => g1.register(g1.buffer(8192), COOKIE));
  assertRefused(again.result, "a second buffer under a live cookie");
  assert.equal(again.smcs, [], "OP-TEE never saw it");
  assert.equal(m.optee.shmOf(1).map((b) => [b.cookie, b.pages.length]), [[COOKIE, 1]], "the first buffer alone");
  assert.is(g1.unregister(COOKIE).arg.ret, 0);
  assert.is(g1.register(g1.buffer(8192), COOKIE).arg.ret, 0, "a cookie let go can be used again");
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("two guests may register the same cookie: each partition has its own; unregistering one leaves the other", () => {
  const { m, g1, g2 } = bootTee();
  assert.is(g1.register(g1.buffer(4096), COOKIE).arg.ret, 0);
  assert.is(g2.register(g2.buffer(4096), COOKIE).arg.ret, 0);
  assert.is(g1.unregister(COOKIE).arg.ret, 0);
  assert.equal([m.optee.shmOf(1).length, m.optee.shmOf(2).map((b) => b.cookie)], [0, [COOKIE]]);
  assert.is(g2.unregister(COOKIE).arg.ret, 0);
});

test("a page-list memref under the cookie of a registered buffer is refused (OP-TEE would file it under that cookie)", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  assert.is(g1.register(g1.buffer(4096), COOKIE).arg.ret, 0);
  const tmem = g1.buffer(100);
  const r = watching(m, () => g1.invoke(s, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | M.OPTEE_MSG_ATTR_NONCONTIG, tmem.bufPtr, 100, COOKIE)]));
  assertRefused(r.result, "a temporary memref under a live cookie");
  assert.equal(r.smcs, []);
  const ok = g1.invoke(s, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | M.OPTEE_MSG_ATTR_NONCONTIG, tmem.bufPtr, 100, COOKIE + 16n)]);
  assert.equal([ok.a0, ok.arg.ret], [0, 0], "under a cookie of its own it passes");
});

test("an SHM_ALLOC reply under the cookie of a buffer it registered is taken: Linux lends tee-supplicant's buffers so", () => {
  const { m, g1, g2 } = bootTee();
  // Linux: tee-supplicant's buffer is registered when allocated (REGISTER_SHM, cookie = its tee_shm), then lent
  // to OP-TEE by the SHM_ALLOC reply under the same cookie; OP-TEE frees it (SHM_FREE), then Linux unregisters it.
  const buf = g1.buffer(8192);
  assert.is(g1.register(buf, COOKIE).arg.ret, 0);
  let lent = 0;
  m.optee.ta = function* (call) {
    if (call.op !== "open") return;
    const mobj = yield* call.api.shmAlloc(8192);
    lent = m.optee.shmOf(1).filter((b) => b.cookie === COOKIE).length;
    if (mobj) yield* call.api.shmFree(mobj);
    return { ret: mobj ? 0 : M.TEE_ERROR_OUT_OF_MEMORY };
  };
  const open = g1.openSession(undefined, [], replyWith(buf, COOKIE));
  assert.equal([open.a0, open.arg.ret], [0, 0], "the allocation succeeded");
  assert.is(lent, 2, "OP-TEE held it twice under the cookie: registered and lent");
  assert.equal(m.optee.shmOf(1).map((b) => b.cookie), [COOKIE], "SHM_FREE let the lent one go");
  assert.is(g1.unregister(COOKIE).arg.ret, 0, "then the registration goes");
  assert.equal(m.optee.shmOf(1), []);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("an SHM_ALLOC reply under the cookie of a buffer OP-TEE still holds from another: BAD_PARAMETERS, no page list", () => {
  const { m, g1, g2 } = bootTee();
  const got: { mobj?: O.Mobj } = {};
  m.optee.ta = keepingTa(got);
  assert.equal(g1.openSession().arg.ret, 0);
  assert.ok(got.mobj, "OP-TEE holds an SHM_ALLOC buffer");
  const cookie = got.mobj!.cookie;
  const lists = m.optee.seen.filter((s) => s.use === "page-list").length;
  const open = g1.openSession(undefined, [], replyWith(g1.buffer(8192), cookie));
  assert.equal([open.a0, open.arg.ret], [0, 0]);
  assert.is(got.mobj, undefined, "the second allocation failed in OP-TEE");
  assert.equal(m.optee.shmOf(1).map((b) => b.cookie), [cookie], "no second buffer under the cookie");
  assert.is(m.optee.seen.filter((s) => s.use === "page-list").length, lists, "OP-TEE read no page list for it");
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("an RPC argument buffer under the cookie another thread's buffer has: OP-TEE gets no memory and no cookie to free", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  const invoke = () => g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s })));
  const allocWith = (regs: bigint[], buf: bigint) =>
    g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, buf >> 32n, buf & 0xffff_ffffn, regs[3], COOKIE >> 32n, COOKIE & 0xffff_ffffn);
  const a = invoke();
  assert.is(Number(a[0]), O.RPC_ALLOC);
  const bufA = g1.alloc();
  const cmdA = allocWith(a, bufA);
  assert.equal([Number(cmdA[0]), M.pair(cmdA[1], cmdA[2])], [O.RPC_CMD, COOKIE], "thread A's request is in its buffer");
  const b = invoke();
  assert.is(Number(b[0]), O.RPC_ALLOC);
  const second = watching(m, () => allocWith(b, g1.alloc()));
  const toOptee = second.smcs[0].in;
  assert.equal([M.pair(toOptee[1], toOptee[2]), M.pair(toOptee[4], toOptee[5])], [0n, 0n], "no buffer, no cookie");
  assert.equal(second.smcs.map((x) => x.out[0]).filter((a0) => a0 === O.RPC_FREE), [], "no RPC_FREE of the live cookie");
  assert.is(second.result[0], 0n, "call B ended: its TA got no RPC buffer");
  // Thread A's buffer still works: its request is answered through it, and it is freed at the end.
  const req = g1.readArg(bufA, 4);
  assert.is(req.cmd, M.OPTEE_RPC_CMD_GET_TIME);
  req.ret = 0;
  g1.writeArg(bufA, req);
  const free = g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, cmdA[1], cmdA[2], cmdA[3]);
  assert.equal([Number(free[0]), M.pair(free[1], free[2])], [O.RPC_FREE, COOKIE]);
  assert.is(g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, free[1], free[2], free[3])[0], 0n);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("an RPC argument buffer without a cookie is refused: OP-TEE could never free it (no RPC_FREE for cookie 0)", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  const regs = g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s })));
  assert.is(Number(regs[0]), O.RPC_ALLOC);
  const buf = g1.alloc();
  const r = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, buf >> 32n, buf & 0xffff_ffffn, regs[3], 0, 0));
  assert.equal(M.pair(r.smcs[0].in[1], r.smcs[0].in[2]), 0n, "OP-TEE is told there is no memory");
  assert.is(r.result[0], 0n);
  assert.equal(m.optee.rpcArgsOf(1), []);
  assert.is(holds(m, 0, HOLDS_RPC_BUFFERS), 0, "the mediator holds no shadow for it either");
  assert.ok(m.hw.console.some((l) => l.includes("RPC argument buffer without a cookie")));
});

test("session ids are per guest: another guest naming tee1's session gets OP-TEE's refusal, and tee1's session lives on", () => {
  const { m, g1, g2 } = bootTee();
  const s1 = session(g1);
  const invoke = g2.invoke(s1, 7, [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 1, 0)]);
  assert.equal([invoke.a0, invoke.arg.ret, invoke.arg.retOrigin], [0, M.TEE_ERROR_BAD_PARAMETERS, M.TEE_ORIGIN_TEE]);
  const close = g2.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_CLOSE_SESSION, session: s1 }));
  assert.equal([close.a0, close.arg.ret], [0, M.TEE_ERROR_ITEM_NOT_FOUND]);
  const mine = g1.invoke(s1, 7, [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 41, 0)]);
  assert.equal([mine.a0, mine.arg.ret, mine.arg.params[0].a], [0, 0, 42n]);
  assert.equal(misdeeds(m), []);
});

test.run();
