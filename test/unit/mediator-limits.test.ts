/**
 * The OP-TEE mediator, part 4: limits and leaks (issue 5, "What to build" 6
 * and 9). Every resource a guest can make the mediator hold is bounded
 * (hyp/tee/optee/mediator/limits.ts); past a bound the guest gets the error
 * OP-TEE gives for the same shortage, the console says so once, and the
 * other guest is untouched. Whatever is given back can be had again.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, echoTa, misdeeds, stillWorks, watching, type TeeGuest } from "../fakes/tee-guest.ts";

// hyp/tee/optee/mediator/limits.ts
const MAX_CALLS_PER_GUEST = 8;
const MAX_SHM_BUFFERS_PER_GUEST = 256;
const MAX_PAGES_PER_BUFFER = 4096;
const MAX_SHM_PAGES_PER_GUEST = 32768;
const MAX_RPC_BUFFERS_PER_GUEST = 8;

const NONCONTIG = M.OPTEE_MSG_ATTR_NONCONTIG;
const limitLines = (m: ReturnType<typeof bootTee>["m"], name: string) => m.hw.console.filter((l) => l.includes(`reached ${name}`));

function session(g: TeeGuest): number {
  const r = g.openSession();
  assert.equal([r.a0, r.arg.ret], [0, 0], "open session");
  return r.arg.session;
}

/** One-page buffers registered under cookies 1..n; returns their cookies. */
function registerMany(g: TeeGuest, n: number, from = 1): bigint[] {
  const cookies: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const cookie = BigInt(from + i);
    const r = g.register(g.buffer(4096), cookie);
    assert.equal([r.a0, r.arg.ret], [0, 0], `buffer ${i + 1}`);
    cookies.push(cookie);
  }
  return cookies;
}

test(`MAX_CALLS_PER_GUEST (${MAX_CALLS_PER_GUEST}) open calls: then ETHREAD_LIMIT without OP-TEE, said once; tee2 unaffected`, () => {
  const { m, g1, g2 } = bootTee(16); // more OP-TEE threads than the mediator allows calls
  const s = session(g1);
  m.optee.ta = function* (call) {
    if (call.client === 1) yield* call.api.foreignIntr();
    return yield* echoTa(call);
  };
  const open = Array.from({ length: MAX_CALLS_PER_GUEST }, () => g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s }))));
  assert.ok(open.every((r) => Number(r[0]) === O.RPC_FOREIGN_INTR));
  for (let i = 0; i < 3; i++) {
    const { result, smcs } = watching(m, () => g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s }))));
    assert.is(Number(result[0]), O.ETHREAD_LIMIT);
    assert.equal(smcs, []);
  }
  assert.is(limitLines(m, "MAX_CALLS_PER_GUEST").length, 1);
  stillWorks(g2);
  assert.is(g1.finish(open[0])[0], 0n);
  const again = g1.finish(g1.start(g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s }))));
  assert.is(again[0], 0n, "a slot freed is a slot again");
  for (const r of open.slice(1)) assert.is(g1.finish(r)[0], 0n);
  assert.equal(misdeeds(m), []);
});

test(`MAX_SHM_BUFFERS_PER_GUEST (${MAX_SHM_BUFFERS_PER_GUEST}) registered buffers: then OUT_OF_MEMORY without OP-TEE, said once`, () => {
  const { m, g1, g2 } = bootTee();
  const cookies = registerMany(g1, MAX_SHM_BUFFERS_PER_GUEST);
  for (let i = 0; i < 2; i++) {
    const { result, smcs } = watching(m, () => g1.register(g1.buffer(4096), 0x1000n + BigInt(i)));
    assert.equal([result.a0, result.arg.ret, result.arg.retOrigin], [0, M.TEE_ERROR_OUT_OF_MEMORY, M.TEE_ORIGIN_COMMS]);
    assert.equal(smcs, []);
  }
  assert.is(limitLines(m, "MAX_SHM_BUFFERS_PER_GUEST").length, 1);
  stillWorks(g2);
  assert.is(g2.register(g2.buffer(4096), 1n).arg.ret, 0, "tee2 registers as usual");
  assert.is(g1.unregister(cookies[7]).arg.ret, 0);
  assert.is(g1.register(g1.buffer(4096), 0x2000n).arg.ret, 0, "one given back, one more allowed");
  assert.equal(misdeeds(m), []);
});

test("registered buffers found by cookie through churn: all 256 live, freed and retaken in a shuffled order", () => {
  // The mediator indexes its records by cookie (shm.ts, open addressing): every lookup must still find its buffer
  // and only its buffer, whatever was removed before it. Linux's cookies are kernel addresses: 4 KiB apart here.
  const { m, g1 } = bootTee();
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const live = new Set<bigint>();
  const cookieOf = (i: number) => 0xffff_0000_8000_0000n + BigInt(i) * 0x1000n;
  for (let i = 0; i < MAX_SHM_BUFFERS_PER_GUEST; i++) {
    assert.is(g1.register(g1.buffer(4096), cookieOf(i)).arg.ret, 0, `register ${i}`);
    live.add(cookieOf(i));
  }
  let next = MAX_SHM_BUFFERS_PER_GUEST;
  for (let round = 0; round < 600; round++) {
    const cookies = [...live];
    const gone = cookies[rand(cookies.length)];
    // A live cookie is refused again, as REGISTER_SHM and as a temporary page-list memref.
    assert.is(g1.register(g1.buffer(4096), gone).arg.ret, M.TEE_ERROR_BAD_PARAMETERS, `round ${round}: a live cookie again`);
    assert.is(g1.unregister(gone).arg.ret, 0, `round ${round}: unregister`);
    live.delete(gone);
    assert.is(g1.unregister(gone).arg.ret, M.TEE_ERROR_BAD_PARAMETERS, `round ${round}: unregister twice`);
    const fresh = rand(4) === 0 ? gone : cookieOf(next++); // sometimes the cookie just freed
    assert.is(g1.register(g1.buffer(4096), fresh).arg.ret, 0, `round ${round}: register`);
    live.add(fresh);
  }
  for (const c of live) assert.is(g1.unregister(c).arg.ret, 0, "every one still found");
  assert.equal(misdeeds(m), []);
});

test(`MAX_PAGES_PER_BUFFER (${MAX_PAGES_PER_BUFFER}) pages in one buffer; 284+ through SHM_ALLOC works`, () => {
  const { m, g1, g2 } = bootTee();
  const big = g1.buffer(MAX_PAGES_PER_BUFFER * 4096);
  assert.is(g1.register(big, 1n).arg.ret, 0);
  const over = g1.buffer(MAX_PAGES_PER_BUFFER * 4096 - 100, 200); // one page more because of its offset
  for (let i = 0; i < 3; i++) {
    const { result, smcs } = watching(m, () => g1.register(over, 2n));
    assert.equal([result.a0, result.arg.ret], [0, M.TEE_ERROR_OUT_OF_MEMORY]);
    assert.equal(smcs, []);
  }
  // A TA of 1.2 MB comes in one SHM_ALLOC of 293 pages.
  g1.taImage = new Uint8Array(1_200_000).fill(7);
  let loaded: unknown;
  m.optee.ta = function* (call) {
    if (call.op === "open" && call.client === 1) loaded = yield* call.api.loadTa(call.uuid!);
  };
  assert.is(g1.openSession().arg.ret, 0);
  assert.ok(loaded instanceof Uint8Array && loaded.length === 1_200_000);
  stillWorks(g2);
  assert.equal(misdeeds(m), []);
});

test(`MAX_PAGES_PER_BUFFER is said once, by name, like every other limit`, () => {
  const { m, g1 } = bootTee();
  const over = g1.buffer((MAX_PAGES_PER_BUFFER + 1) * 4096);
  for (let i = 0; i < 3; i++) assert.is(g1.register(over, 2n).arg.ret, M.TEE_ERROR_OUT_OF_MEMORY);
  assert.is(limitLines(m, "MAX_PAGES_PER_BUFFER").length, 1, m.hw.console.filter((l) => l.includes("tee1")).join("\n"));
});

test(`MAX_SHM_PAGES_PER_GUEST (${MAX_SHM_PAGES_PER_GUEST}) registered pages in all: then OUT_OF_MEMORY, said once`, () => {
  const { m, g1, g2 } = bootTee();
  const n = MAX_SHM_PAGES_PER_GUEST / MAX_PAGES_PER_BUFFER;
  for (let i = 0; i < n; i++) assert.is(g1.register(g1.buffer(MAX_PAGES_PER_BUFFER * 4096), BigInt(i + 1)).arg.ret, 0);
  const { result, smcs } = watching(m, () => g1.register(g1.buffer(4096), 99n));
  assert.equal([result.a0, result.arg.ret], [0, M.TEE_ERROR_OUT_OF_MEMORY]);
  assert.equal(smcs, []);
  assert.is(limitLines(m, "MAX_SHM_PAGES_PER_GUEST").length, 1);
  stillWorks(g2);
  assert.is(g1.unregister(1n).arg.ret, 0);
  assert.is(g1.register(g1.buffer(4096), 99n).arg.ret, 0);
  assert.equal(misdeeds(m), []);
});

test(`MAX_RPC_BUFFERS_PER_GUEST (${MAX_RPC_BUFFERS_PER_GUEST}) RPC argument buffers lent at once: then OP-TEE gets "no memory"`, () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  // A stand-in for as many OP-TEE threads each keeping one (SHM cache on): one thread asks again and again.
  const answers: bigint[][] = [];
  m.optee.ta = function* (call) {
    if (call.client !== 1) return yield* echoTa(call);
    for (let i = 0; i < MAX_RPC_BUFFERS_PER_GUEST + 2; i++) answers.push((yield* call.api.rpc(O.RPC_ALLOC, 160)).map(BigInt));
    for (const a of answers) if (a[0] || a[1]) yield* call.api.rpc(O.RPC_FREE, Number(a[2]), Number(a[3]));
  };
  const r = g1.invoke(s, 1, []);
  assert.is(r.a0, 0);
  const pas = answers.map((a) => M.pair(a[0], a[1]));
  assert.ok(pas.slice(0, MAX_RPC_BUFFERS_PER_GUEST).every((pa) => pa !== 0n));
  assert.equal(pas.slice(MAX_RPC_BUFFERS_PER_GUEST), [0n, 0n]);
  assert.is(limitLines(m, "MAX_RPC_BUFFERS_PER_GUEST").length, 1);
  m.optee.ta = echoTa;
  stillWorks(g2);
  stillWorks(g1);
  assert.equal(misdeeds(m), []);
});

test("nothing leaks: calls, refusals, registrations, SHM_ALLOC/SHM_FREE and RPC buffers, many times over", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  // Calls, RPCs and refusals: far more than MAX_CALLS_PER_GUEST of each.
  m.optee.ta = function* (call) {
    if (call.client === 1 && call.op === "invoke") {
      const r = yield* call.api.cmd(M.OPTEE_RPC_CMD_GET_TIME, [{ type: "value", dir: "out", a: 0n, b: 0n, c: 0n }]);
      yield* call.api.foreignIntr();
      return { ret: r.ret };
    }
    return yield* echoTa(call);
  };
  for (let i = 0; i < 2 * MAX_CALLS_PER_GUEST; i++) {
    assert.equal([g1.invoke(s, 1, []).arg.ret, g1.invoke(s, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, 0x1000n, 1, 0)]).arg.ret], [0, M.TEE_ERROR_BAD_PARAMETERS], `round ${i}`);
    assert.is(g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s, numParams: 200 })).a0, O.EBADADDR);
    assert.is(g1.invoke(s, 1, [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | NONCONTIG, g1.buffer(4096, 0, [0xa000_0000n]).bufPtr, 4096, 1)]).arg.ret, M.TEE_ERROR_BAD_PARAMETERS);
  }
  // Registrations: more than MAX_SHM_BUFFERS_PER_GUEST in sequence, and failed ones.
  for (let i = 0; i < MAX_SHM_BUFFERS_PER_GUEST + 20; i++) {
    const cookie = BigInt(1000 + i);
    assert.is(g1.register(g1.buffer(4096), cookie).arg.ret, 0, `register ${i}`);
    assert.is(g1.unregister(cookie).arg.ret, 0, `unregister ${i}`);
    // OP-TEE refuses this one itself (TMEM_INPUT, not TMEM_OUTPUT: entry_std.c register_shm).
    const refused = g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_REGISTER_SHM, params: [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT | NONCONTIG, g1.buffer(4096).bufPtr, 4096, cookie)] }));
    assert.is(refused.arg.ret, M.TEE_ERROR_BAD_PARAMETERS);
  }
  // SHM_ALLOC/SHM_FREE of 300 pages, more often than MAX_SHM_PAGES_PER_GUEST allows held at once.
  m.optee.ta = function* (call) {
    if (call.client === 1 && call.op === "open") {
      const got = yield* call.api.shmAlloc(300 * 4096);
      if (!got) return { ret: M.TEE_ERROR_OUT_OF_MEMORY };
      yield* call.api.shmFree(got);
      return;
    }
    return yield* echoTa(call);
  };
  for (let i = 0; i < Math.ceil(MAX_SHM_PAGES_PER_GUEST / 300) + 10; i++) {
    assert.is(g1.openSession().arg.ret, 0, `SHM_ALLOC ${i}`);
  }
  assert.equal(m.optee.shmOf(1), []);
  assert.equal(limitLines(m, ""), [], "no limit was reached");
  m.optee.ta = echoTa;
  stillWorks(g2);
  stillWorks(g1);
  assert.equal(misdeeds(m), []);
});

test("a guest reusing a registered buffer's cookie for SHM_ALLOC cannot get round MAX_SHM_PAGES_PER_GUEST", () => {
  const { m, g1, g2 } = bootTee();
  // Each round: REGISTER_SHM of a big buffer under cookie X, then an SHM_ALLOC of one page answered
  // with the same X, which OP-TEE frees again (RPC SHM_FREE X). OP-TEE still holds the big buffer.
  m.optee.ta = function* (call) {
    if (call.client !== 1 || call.op !== "open") return yield* echoTa(call);
    const got = yield* call.api.shmAlloc(4096);
    if (got) yield* call.api.shmFree(got);
  };
  let cookie = 0n;
  const rounds = MAX_SHM_PAGES_PER_GUEST / MAX_PAGES_PER_BUFFER + 2;
  for (let i = 0; i < rounds; i++) {
    cookie = BigInt(0x500 + i);
    if (g1.register(g1.buffer(MAX_PAGES_PER_BUFFER * 4096), cookie).arg.ret !== 0) break;
    g1.openSession(undefined, [], {
      onCmd: (arg, g) => {
        if (arg.cmd !== M.OPTEE_RPC_CMD_SHM_ALLOC) return false;
        g.handleCmd(arg);
        arg.params[0].c = cookie;
        return true;
      },
    });
  }
  const held = m.optee.shmOf(1).reduce((n, b) => n + b.pages.length, 0);
  assert.ok(held <= MAX_SHM_PAGES_PER_GUEST, `OP-TEE holds ${held} pages of tee1's`);
  stillWorks(g2);
});

test("an SHM_ALLOC reply OP-TEE turns down itself (smaller than asked: get_rpc_alloc_res) is not held forever", () => {
  const { m, g1, g2 } = bootTee();
  m.optee.ta = function* (call) {
    if (call.client !== 1 || call.op !== "open") return yield* echoTa(call);
    const got = yield* call.api.shmAlloc(8192);
    return { ret: got ? 0 : M.TEE_ERROR_OUT_OF_MEMORY };
  };
  for (let i = 0; i < MAX_SHM_BUFFERS_PER_GUEST + 4; i++) {
    const r = g1.openSession(undefined, [], {
      onCmd: (arg, g) => {
        if (arg.cmd !== M.OPTEE_RPC_CMD_SHM_ALLOC) return false;
        g.handleCmd(arg);
        arg.params[0].b = 4096n; // one page where two were asked for: OP-TEE gives up without SHM_FREE
        return true;
      },
    });
    assert.is(r.arg.ret, M.TEE_ERROR_OUT_OF_MEMORY);
  }
  assert.equal(m.optee.shmOf(1), []);
  const reg = g1.register(g1.buffer(4096), 1n);
  assert.is(reg.arg.ret, 0, "tee1 can still register memory: nothing of the refused replies is held");
  stillWorks(g2);
});

test("refusals a guest causes at will are logged a few times only", () => {
  const { m, g1, g2 } = bootTee();
  for (let i = 0; i < 200; i++) g1.start(0x0e00_0000n);
  const lines = m.hw.console.filter((l) => l.includes("tee1") && l.includes("refused"));
  assert.ok(lines.length > 0 && lines.length <= 10, `${lines.length} lines`);
  stillWorks(g2);
});

test.run();
