/**
 * The OP-TEE mediator, part 3: RPCs (issue 5, "What to build" 5). OP-TEE's
 * thread stops mid-call; the guest allocates, frees, takes an interrupt or
 * runs a command and resumes it with RETURN_FROM_RPC, a3 = the thread id.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, echoTa, misdeeds, stillWorks, watching, type TeeGuest } from "../fakes/tee-guest.ts";

const LINEAR = 0x6080_0000n;
const isLinear = (pa: bigint) => pa >= LINEAR && pa < LINEAR + 0x100_0000n;
const NONCONTIG = M.OPTEE_MSG_ATTR_NONCONTIG;
const UUID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);

function session(g: TeeGuest): number {
  const r = g.openSession();
  assert.equal([r.a0, r.arg.ret], [0, 0], "open session");
  return r.arg.session;
}

/** A TA whose every invoke asks the normal world for the time (RPC GET_TIME) and returns it in params[0]. */
const timeTa: O.TaScript = function* (call) {
  if (call.op === "open") return;
  const r = yield* call.api.cmd(M.OPTEE_RPC_CMD_GET_TIME, [{ type: "value", dir: "out", a: 0n, b: 0n, c: 0n }]);
  const p = call.params[0];
  if (p?.type === "value" && r.params[0]) p.a = r.params[0].a;
  return { ret: r.ret };
};

test("RPC_ALLOC and RPC_CMD: the guest's buffer is shadowed; the request reaches it, its answer gets back; RPC_FREE at the end", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  const argIpa = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s, params: [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT)] }));
  let regs = g1.start(argIpa);
  assert.equal([Number(regs[0]), Number(regs[1])], [O.RPC_ALLOC, 160]);
  const thread = regs[3];
  // Answer RPC_ALLOC by hand to know the buffer and cookie.
  const buf = g1.alloc();
  const cookie = 0xffff_0000_dead_b000n;
  const alloc = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, buf >> 32n, buf & 0xffff_ffffn, thread, cookie >> 32n, cookie & 0xffff_ffffn));
  const toOptee = alloc.smcs[0].in;
  assert.equal([toOptee[0], toOptee[3], toOptee[7]], [O.OPTEE_SMC_RETURN_FROM_RPC, Number(thread), 1]);
  const shadowPa = M.pair(toOptee[1], toOptee[2]);
  assert.ok(isLinear(shadowPa), `OP-TEE got 0x${shadowPa.toString(16)} for the RPC buffer`);
  assert.is(M.pair(toOptee[4], toOptee[5]), cookie, "the guest's cookie, unchanged");
  regs = alloc.result;
  assert.equal([Number(regs[0]), M.pair(regs[1], regs[2]), regs[3]], [O.RPC_CMD, cookie, thread]);
  // The request is in the guest's own buffer before it sees the RPC.
  const req = g1.readArg(buf, 4);
  assert.equal([req.cmd, req.numParams, req.ret], [M.OPTEE_RPC_CMD_GET_TIME, 1, M.TEE_ERROR_GENERIC]);
  req.ret = 0;
  req.params[0].a = 123_456n;
  g1.writeArg(buf, req);
  regs = g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, regs[1], regs[2], thread);
  assert.equal([Number(regs[0]), M.pair(regs[1], regs[2])], [O.RPC_FREE, cookie], "no cache: OP-TEE frees its RPC buffer");
  regs = g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, regs[1], regs[2], thread);
  assert.is(regs[0], 0n);
  const back = g1.readArg(argIpa, 1);
  assert.equal([back.ret, back.params[0].a], [0, 123_456n], "the guest's answer reached the TA and back");
  assert.equal(m.optee.seen.filter((x) => x.use === "rpc-arg").map((x) => x.verdict), ["hypervisor"]);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("with the SHM cache on, the RPC buffer stays with OP-TEE; DISABLE_SHM_CACHE gives the guest its own cookie back", () => {
  const { m, g1 } = bootTee();
  assert.is(g1.smc(O.OPTEE_SMC_ENABLE_SHM_CACHE)[0], 0n);
  const s = session(g1);
  m.optee.ta = timeTa;
  for (let i = 0; i < 3; i++) {
    const r = g1.invoke(s, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT)]);
    assert.equal([r.a0, r.arg.ret, r.arg.params[0].a], [0, 0, 1_700_000_000n]);
  }
  assert.is(g1.rpcBuffers.size, 1, "one RPC_ALLOC, kept by the thread");
  const [cookie] = [...g1.rpcBuffers.keys()];
  assert.equal(m.optee.rpcArgsOf(1), [cookie]);
  const d = g1.smc(O.OPTEE_SMC_DISABLE_SHM_CACHE);
  assert.equal([d[0], M.pair(d[1], d[2])], [0n, cookie]);
  assert.is(g1.smc(O.OPTEE_SMC_DISABLE_SHM_CACHE)[0], BigInt(O.ENOTAVAIL));
  assert.equal(misdeeds(m), []);
});

test("SHM_ALLOC: a 1.2 MB TA (300 pages) is loaded through a translated page list; SHM_FREE lets it go", () => {
  const { m, g1, g2 } = bootTee();
  g1.taImage = Uint8Array.from({ length: 1_200_000 }, (_, i) => (i * 13) & 0xff);
  let loaded: Uint8Array | number = 0;
  m.optee.ta = function* (call) {
    if (call.op !== "open") return;
    loaded = yield* call.api.loadTa(call.uuid!);
    return { ret: typeof loaded === "number" ? loaded : 0 };
  };
  const r = g1.openSession(UUID);
  assert.equal([r.a0, r.arg.ret], [0, 0]);
  assert.ok(loaded instanceof Uint8Array, `TA load failed: 0x${Number(loaded).toString(16)}`);
  assert.equal(loaded, g1.taImage);
  const pages = m.optee.seen.filter((x) => x.use === "data-page");
  assert.is(pages.length, Math.ceil(1_200_000 / 4096));
  assert.ok(pages.every((x) => x.verdict === "own-ram"));
  assert.ok(m.optee.seen.filter((x) => x.use === "page-list").every((x) => x.verdict === "hypervisor"));
  assert.equal(m.optee.shmOf(1), [], "OP-TEE freed it");
  assert.is(g1.shmBuffers.size, 0, "the guest got SHM_FREE for it");
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("malformed SHM_ALLOC replies become an error in the RPC argument; OP-TEE never sees the guest's addresses", () => {
  const { m, g1, g2 } = bootTee();
  let got: O.Mobj | undefined | null = null;
  m.optee.ta = function* (call) {
    if (call.op !== "open") return;
    got = yield* call.api.shmAlloc(8192);
    return { ret: got ? 0 : M.TEE_ERROR_OUT_OF_MEMORY };
  };
  const replies: [string, (g: TeeGuest, size: number) => M.MsgParam][] = [
    ["a data page in tee2's RAM", (g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, g.buffer(size, 0, [g.alloc(), 0xa000_0000n]).bufPtr, size, 1)],
    ["a data page in the hypervisor", (g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, g.buffer(size, 0, [LINEAR, LINEAR + 4096n]).bufPtr, size, 2)],
    ["the list in the hypervisor", (_g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, LINEAR, size, 3)],
    ["a contiguous buffer by address", (g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, g.alloc(2), size, 4)],
    ["a contiguous buffer at its PA", (g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, g.pa(g.alloc(2)), size, 5)],
    ["the static SHM", (_g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, 0x4200_0000n, size, 6)],
    ["an RMEM instead", (_g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT, 0, size, 7)],
    ["a page list of IPA 0", (g, size) => M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, g.buffer(size, 0, [0n, 0n]).bufPtr, size, 8)],
  ];
  for (const [what, make] of replies) {
    got = null;
    const r = g1.openSession(UUID, [], {
      onCmd: (arg, g) => {
        if (arg.cmd !== M.OPTEE_RPC_CMD_SHM_ALLOC) return false;
        arg.ret = 0;
        arg.params[0] = make(g, Number(arg.params[0].b));
        return true;
      },
    });
    assert.is(r.a0, 0, what);
    assert.is(got, undefined, `${what}: OP-TEE got a buffer`);
    assert.is(r.arg.ret, M.TEE_ERROR_OUT_OF_MEMORY, what);
    assert.equal(misdeeds(m), [], what);
  }
  assert.equal(m.optee.shmOf(1), []);
  stillWorks(g2);
  stillWorks(g1);
});

test("FOREIGN_INTR round-trips, each time with the thread id", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  m.optee.ta = function* (call) {
    for (let i = 0; i < 3; i++) yield* call.api.foreignIntr();
  };
  const argIpa = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s }));
  let regs = g1.start(argIpa);
  for (let i = 0; i < 3; i++) {
    assert.is(Number(regs[0]), O.RPC_FOREIGN_INTR);
    const { result, smcs } = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, 0, 0, regs[3]));
    assert.equal(smcs.map((x) => [x.in[0], x.in[3], x.in[7]]), [[O.OPTEE_SMC_RETURN_FROM_RPC, Number(regs[3]), 1]]);
    regs = result;
  }
  assert.is(regs[0], 0n);
  assert.is(g1.readArg(argIpa).ret, 0);
});

test("RETURN_FROM_RPC for a thread that is not this guest's suspended call gets ERESUME without reaching OP-TEE", () => {
  const { m, g1, g2 } = bootTee();
  const s1 = session(g1), s2 = session(g2);
  m.optee.ta = function* (call) {
    yield* call.api.foreignIntr();
  };
  // Nothing suspended at all.
  for (const t of [0n, 1n, 5n, 0xffff_ffffn]) {
    const { result, smcs } = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, 0, 0, t));
    assert.is(Number(result[0]), O.ERESUME);
    assert.equal(smcs, []);
  }
  // tee2 has a call suspended on its thread 0; tee1 names it.
  const arg2 = g2.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s2 }));
  const r2 = g2.start(arg2);
  assert.is(Number(r2[0]), O.RPC_FOREIGN_INTR);
  const { result, smcs } = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, 0, 0, r2[3]));
  assert.is(Number(result[0]), O.ERESUME);
  assert.equal(smcs, [], "another guest's thread id");
  // tee1 suspends its own call on one thread and names the other one.
  const arg1 = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s1 }));
  const r1 = g1.start(arg1);
  const other = r1[3] === 0n ? 1n : 0n;
  const wrong = watching(m, () => g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, 0, 0, other));
  assert.is(Number(wrong.result[0]), O.ERESUME);
  assert.equal(wrong.smcs, []);
  // Both real calls still finish, each by its own guest.
  assert.is(g2.finish(r2)[0], 0n);
  assert.is(g1.finish(r1)[0], 0n);
  assert.is(g2.readArg(arg2).ret, 0);
  assert.is(g1.readArg(arg1).ret, 0);
  assert.is(Number(g1.smc(O.OPTEE_SMC_RETURN_FROM_RPC, 0, 0, r1[3])[0]), O.ERESUME, "a finished call cannot be resumed");
});

test("two calls of one guest suspended at once, answered in reverse order; another guest's calls run meanwhile", () => {
  const { m, g1, g2 } = bootTee();
  const s1 = session(g1);
  m.optee.ta = timeTa;
  const a = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s1, params: [M.param(2)] }));
  const b = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s1, params: [M.param(2)] }));
  const ra = g1.start(a), rb = g1.start(b);
  assert.equal([Number(ra[0]), Number(rb[0])], [O.RPC_ALLOC, O.RPC_ALLOC]);
  assert.is.not(ra[3], rb[3]);
  const third = watching(m, () => g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s1 }))));
  assert.is(Number(third.result[0]), O.ETHREAD_LIMIT, "OP-TEE's two threads are busy: its own answer");
  stillWorks(g2);
  assert.is(g1.finish(rb)[0], 0n);
  assert.is(g1.finish(ra)[0], 0n);
  assert.equal([g1.readArg(a).params[0].a, g1.readArg(b).params[0].a], [1_700_000_000n, 1_700_000_000n]);
  assert.equal(misdeeds(m), []);
});

test("a guest's RPC_CMD answer can change only what OP-TEE reads back (ret, values, sizes)", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  const r = g1.invoke(s, 1, [M.param(2)], {
    onCmd: (arg) => {
      arg.ret = 0;
      arg.cmd = M.OPTEE_RPC_CMD_SHM_ALLOC; // pretends the request was another
      arg.numParams = 4;
      arg.params[0] = M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, 0xa000_0000n, 4096, 1);
      arg.params[1] = M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | NONCONTIG, 0x6080_0000n, 4096, 1);
      return true;
    },
  });
  assert.is(r.a0, 0);
  assert.equal(misdeeds(m), []);
  assert.equal(m.optee.shmOf(1), []);
  stillWorks(g2);
});

test("RPC_ALLOC answered with addresses that are not the guest's: OP-TEE gets no buffer (and no address of the guest's)", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  for (const [what, ipa] of [
    ["tee2's RAM", 0xa000_0000n], ["the hypervisor", LINEAR], ["unaligned", g1.alloc() + 0x20n],
    ["its own PA", g1.pa(g1.alloc())], ["secure memory", 0x0e10_0000n], ["no memory (0)", 0n],
  ] as const) {
    const r = g1.invoke(s, 1, [M.param(2)], {
      onRpc: (regs, g) => {
        if (Number(regs[0]) !== O.RPC_ALLOC) return undefined;
        return [BigInt(O.OPTEE_SMC_RETURN_FROM_RPC), ipa >> 32n, ipa & 0xffff_ffffn, regs[3], 0x1234n, 0x5678n, 0n, 0n];
      },
    });
    assert.equal([r.a0, r.arg.ret], [0, M.TEE_ERROR_OUT_OF_MEMORY], what);
    assert.equal(misdeeds(m), [], what);
  }
  stillWorks(g2);
});

test("an RPC_ALLOC buffer the mediator turns away still comes back to the guest with RPC_FREE (thread_rpc_alloc_arg frees the cookie)", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  m.optee.ta = timeTa;
  const frees: bigint[] = [];
  g1.invoke(s, 1, [M.param(2)], {
    onRpc: (regs) => {
      if (Number(regs[0]) === O.RPC_FREE) frees.push(M.pair(regs[1], regs[2]));
      if (Number(regs[0]) !== O.RPC_ALLOC) return undefined;
      const bad = 0xa000_0000n;
      return [BigInt(O.OPTEE_SMC_RETURN_FROM_RPC), 0n, bad, regs[3], 0xffffn, 0x1000n, 0n, 0n];
    },
  });
  assert.equal(frees, [0xffff_0000_1000n], "Linux frees its buffer only on RPC_FREE");
});

test("a foreign interrupt before OP-TEE reads the parameters: the page list is still there when it does", () => {
  const { m, g1, g2 } = bootTee();
  const s1 = session(g1), s2 = session(g2);
  // tee2's func 77 stops on an interrupt once: a call of tee2's holds hypervisor pages while tee1 starts.
  m.optee.ta = function* (call) {
    if (call.client === 2 && call.func === 77) yield* call.api.foreignIntr();
    return yield* echoTa(call);
  };
  const held = g2.start(g2.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s2, func: 77 })));
  assert.is(Number(held[0]), O.RPC_FOREIGN_INTR);

  const buf = g1.buffer(4 * 4096);
  g1.write(buf.ipa, Uint8Array.of(1, 2, 3));
  // OP-TEE takes an interrupt as soon as __tee_entry_std unmasks them (thread_set_foreign_intr(true)),
  // before copy_in_params reads the page list.
  m.optee.preempt = (where, client) => where === "entry" && client === 1;
  const argIpa = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s1, params: [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | NONCONTIG, buf.bufPtr, 4 * 4096, 1)] }));
  const regs = g1.start(argIpa);
  assert.is(Number(regs[0]), O.RPC_FOREIGN_INTR);

  // While tee1 takes its interrupt, tee2 finishes its call and passes a buffer of its own.
  assert.is(g2.finish(held)[0], 0n);
  const secret = g2.buffer(4096);
  g2.write(secret.ipa, Uint8Array.of(0x5e, 0xc2, 0xe7));
  const inv2 = g2.invoke(s2, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | NONCONTIG, secret.bufPtr, 4096, 2)]);
  assert.equal([inv2.a0, inv2.arg.ret], [0, 0]);

  const end = g1.finish(regs);
  assert.equal(misdeeds(m), []);
  assert.equal(g2.read(secret.ipa, 3), Uint8Array.of(0x5e, 0xc2, 0xe7), "tee1's call wrote tee2's memory");
  assert.is(end[0], 0n);
  assert.is(g1.readArg(argIpa).ret, 0);
  assert.equal(g1.read(buf.ipa, 3), Uint8Array.of(0xfe, 0xfd, 0xfc), "the TA wrote tee1's buffer");
});

test("a foreign interrupt between SHM_ALLOC's answer and OP-TEE reading it: the translated list is still there", () => {
  const { m, g1, g2 } = bootTee();
  g1.taImage = Uint8Array.from({ length: 20_000 }, (_, i) => i & 0xff);
  let loaded: Uint8Array | number = 0;
  m.optee.ta = function* (call) {
    if (call.op !== "open") return;
    loaded = yield* call.api.loadTa(call.uuid!);
  };
  let armed = false;
  m.optee.preempt = (where, client) => where === "rpc-return" && client === 1 && armed;
  const r = g1.openSession(UUID, [], {
    onCmd: (arg) => {
      armed = arg.cmd === M.OPTEE_RPC_CMD_SHM_ALLOC;
      return false;
    },
    onRpc: (regs) => {
      if (Number(regs[0]) === O.RPC_FOREIGN_INTR) {
        armed = false;
        g2.register(g2.buffer(4096), 0x3n); // tee2 runs while tee1 takes its interrupt
      }
      return undefined;
    },
  });
  assert.equal(misdeeds(m), []);
  assert.equal([r.a0, r.arg.ret], [0, 0]);
  assert.ok(loaded instanceof Uint8Array, `TA load failed: 0x${Number(loaded).toString(16)}`);
});

test("a guest that powers off mid-call: VM_DESTROYED, and the other guest carries on", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  assert.is(g1.register(g1.buffer(8192), 0x99n).arg.ret, 0);
  m.optee.ta = function* (call) {
    yield* call.api.foreignIntr();
  };
  const regs = g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s })));
  assert.is(Number(regs[0]), O.RPC_FOREIGN_INTR);
  m.setReg(0, 0, 0x84000008n);
  m.guestSync(0, (0x16n << 26n) | (1n << 25n));
  assert.equal(m.optee.guests, [2]);
  for (let i = 0; i < 20; i++) stillWorks(g2);
  assert.equal(misdeeds(m), []);
});

test.run();
