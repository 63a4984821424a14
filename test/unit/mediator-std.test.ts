/**
 * The OP-TEE mediator, part 2: std calls (issue 5, "What to build" 3-4).
 * The guest's struct optee_msg_arg is shadowed in hypervisor memory; page
 * lists are checked and translated; only results go back. Refusals follow
 * OP-TEE's own codes (thread_optee_smc.c, entry_std.c; see each test).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, misdeeds, openArg, stillWorks, watching, type TeeGuest } from "../fakes/tee-guest.ts";

const NONCONTIG = M.OPTEE_MSG_ATTR_NONCONTIG;
const TMEM_IN = M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT, TMEM_OUT = M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT, TMEM_INOUT = M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT;
const LINEAR = 0x6080_0000n;
const isLinear = (pa: bigint) => pa >= LINEAR && pa < LINEAR + 0x100_0000n;

/** Opens a session on `g` and returns its id. */
function session(g: TeeGuest): number {
  const r = g.openSession();
  assert.equal([r.a0, r.arg.ret], [0, 0], "open session");
  return r.arg.session;
}

const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test("OP-TEE gets the argument in hypervisor memory; the guest gets ret, origin, session and value outputs", () => {
  const { m, g1, g2 } = bootTee();
  const open = g1.openSession();
  assert.equal([open.a0, open.arg.ret, open.arg.retOrigin], [0, 0, M.TEE_ORIGIN_TEE]);
  assert.ok(open.arg.session > 0);
  const s = open.arg.session;
  const inv = g1.invoke(s, 9, [
    M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 41, 5, 0x77),
    M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT),
    M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT, 1, 2, 3),
  ]);
  assert.equal([inv.a0, inv.arg.ret, inv.arg.session], [0, 0, s]);
  assert.equal(inv.arg.params.map((p) => [p.attr, p.a, p.b]), [[3n, 42n, BigInt(s)], [2n, 9n, BigInt(s)], [1n, 1n, 2n]]);
  const cmds = m.optee.commands.filter((c) => c.client === 1);
  assert.is(cmds.length, 2);
  for (const c of cmds) {
    assert.ok(isLinear(c.argPa), `OP-TEE got 0x${c.argPa.toString(16)}`);
    assert.is.not(c.argPa, g1.pa(inv.argIpa));
  }
  assert.equal(cmds[1].arg.params[0], M.param(3, 41, 5, 0x77), "OP-TEE saw what the guest wrote");
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("a guest rewriting its argument while OP-TEE runs changes nothing OP-TEE sees", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  m.optee.ta = function* (call) {
    const before = call.params.map((p) => (p.type === "value" ? p.a : 0n));
    yield* call.api.foreignIntr();
    yield* call.api.foreignIntr();
    const p = call.params[0];
    if (p.type === "value") p.a = before[0] + 1n;
  };
  const argIpa = g1.putArg(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s, func: 1, params: [M.param(3, 10)] }));
  let regs = g1.start(argIpa);
  assert.is(Number(regs[0]), O.RPC_FOREIGN_INTR);
  // The guest scribbles over its whole argument page, pointing a "memref" at tee2's RAM.
  g1.writeArg(argIpa, M.msgArg({ cmd: M.OPTEE_MSG_CMD_REGISTER_SHM, numParams: 127, params: [M.param(TMEM_IN | NONCONTIG, 0xa000_0000n, 4096, 1)] }));
  regs = g1.finish(g1.answer(regs));
  assert.is(regs[0], 0n);
  assert.equal(m.optee.argChanged, []);
  assert.equal(misdeeds(m), []);
  const back = g1.readArg(argIpa, 1);
  assert.equal([back.ret, back.params[0].a], [0, 11n], "the answer still reaches the guest");
  stillWorks(g2);
});

test("a NULL memref (TMEM, buf_ptr 0) passes, and its needed size comes back", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  const inv = g1.invoke(s, 1, [M.param(TMEM_OUT, 0, 0, 0)]);
  assert.equal([inv.a0, inv.arg.ret], [0, 0]);
  assert.equal(inv.arg.params[0], M.param(TMEM_OUT, 0, 42, 0), "size 42 needed; buf_ptr still 0");
  assert.equal(m.optee.commandsOf(1).at(-1)!.params[0].a, 0n);
  assert.equal(misdeeds(m), []);
});

test("a page-list memref: OP-TEE reads a translated list in hypervisor memory and the guest's own pages; the guest keeps its buf_ptr", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  const inout = g1.buffer(10_000, 0x123);
  const data = pattern(10_000);
  g1.write(inout.ipa, data);
  const out = g1.buffer(64, 0xff0); // crosses into a second page
  const inv = g1.invoke(s, 1, [M.param(TMEM_INOUT | NONCONTIG, inout.bufPtr, 10_000, 0xabc), M.param(TMEM_OUT | NONCONTIG, out.bufPtr, 64, 0xdef)]);
  assert.equal([inv.a0, inv.arg.ret], [0, 0]);
  assert.equal(g1.read(inout.ipa, 10_000), data.map((b) => b ^ 0xff), "the TA's writes are in the guest's buffer");
  assert.equal(new TextDecoder().decode(g1.read(out.ipa, 5)), "hello");
  assert.equal(inv.arg.params.map((p) => [p.attr, p.a, p.b, p.c]), [
    [BigInt(TMEM_INOUT | NONCONTIG), inout.bufPtr, 10_000n, 0xabcn],
    [BigInt(TMEM_OUT | NONCONTIG), out.bufPtr, 5n, 0xdefn],
  ], "its own buf_ptr back, the output size updated");
  const seen = m.optee.commandsOf(1).at(-1)!.params;
  assert.ok(isLinear(seen[0].a & ~0xfffn) && (seen[0].a & 0xfffn) === 0x123n, "translated list, same offset");
  const pages = m.optee.seen.filter((x) => x.client === 1 && x.use === "data-page");
  assert.equal(pages.map((p) => p.pa), [...inout.pages, ...out.pages].map((ipa) => g1.pa(ipa)));
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("a buffer of 600 pages (two list pages) is translated whole", () => {
  const { m, g1 } = bootTee();
  const s = session(g1);
  const buf = g1.buffer(600 * 4096 - 100, 100);
  assert.is(buf.lists.length, 2);
  g1.write(buf.ipa + 599n * 4096n - 100n, Uint8Array.of(1, 2, 3));
  const inv = g1.invoke(s, 1, [M.param(TMEM_INOUT | NONCONTIG, buf.bufPtr, 600 * 4096 - 100, 1)]);
  assert.equal([inv.a0, inv.arg.ret], [0, 0]);
  assert.equal(g1.read(buf.ipa + 599n * 4096n - 100n, 3), Uint8Array.of(0xfe, 0xfd, 0xfc));
  assert.is(m.optee.seen.filter((x) => x.use === "data-page" && x.verdict === "own-ram").length, 600);
  assert.equal(misdeeds(m), []);
});

test("a contiguous memref (TMEM without NONCONTIG, buf_ptr != 0) is refused: BAD_PARAMETERS from COMMS, OP-TEE not called", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  for (const bufPtr of [g1.alloc(), 0x4200_0000n /* OP-TEE's static SHM */, g1.pa(g1.alloc())]) {
    const { result, smcs } = watching(m, () => g1.invoke(s, 1, [M.param(TMEM_IN, bufPtr, 4096, 0)]));
    assert.equal([result.a0, result.arg.ret, result.arg.retOrigin], [0, M.TEE_ERROR_BAD_PARAMETERS, M.TEE_ORIGIN_COMMS]);
    assert.equal(smcs, []);
  }
  assert.equal(misdeeds(m), []);
  stillWorks(g1);
  stillWorks(g2);
});

test("registered memory: REGISTER_SHM, an RMEM param (passed untouched), UNREGISTER_SHM", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  const buf = g1.buffer(3 * 4096, 0x40);
  const data = pattern(3 * 4096, 5);
  g1.write(buf.ipa, data);
  const cookie = 0xffff_8000_0bad_c000n;
  const reg = g1.register(buf, cookie);
  assert.equal([reg.a0, reg.arg.ret], [0, 0]);
  assert.equal(reg.arg.params[0].a, buf.bufPtr, "the guest's own list address back");
  assert.equal(m.optee.shmOf(1).map((x) => [x.cookie, x.pages]), [[cookie, buf.pages.map((p) => g1.pa(p))]]);

  const rmem = M.param(M.OPTEE_MSG_ATTR_TYPE_RMEM_INOUT, 100, 200, cookie);
  const inv = g1.invoke(s, 1, [rmem]);
  assert.equal([inv.a0, inv.arg.ret], [0, 0]);
  assert.equal(m.optee.commandsOf(1).at(-1)!.params[0], rmem, "offs, size, shm_ref as the guest wrote them");
  assert.equal(g1.read(buf.ipa + 100n, 200), data.subarray(100, 300).map((b) => b ^ 0xff));

  const un = g1.unregister(cookie);
  assert.equal([un.a0, un.arg.ret], [0, 0]);
  assert.equal(m.optee.shmOf(1), []);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("UNREGISTER_SHM of a cookie the guest never registered is refused without OP-TEE", () => {
  const { m, g1, g2 } = bootTee();
  const buf2 = g2.buffer(4096);
  assert.is(g2.register(buf2, 0x2222n).arg.ret, 0);
  const buf1 = g1.buffer(4096);
  assert.is(g1.register(buf1, 0x1111n).arg.ret, 0);
  for (const cookie of [0x2222n, 0x1112n, 0n]) {
    const { result, smcs } = watching(m, () => g1.unregister(cookie));
    // What OP-TEE 4.5 answers a cookie it does not know: TEE_ERROR_BAD_PARAMETERS
    // (core/mm/mobj_dyn_shm.c mobj_reg_shm_release_by_cookie; the issue's ITEM_NOT_FOUND is not 4.5's).
    assert.equal([result.a0, result.arg.ret], [0, M.TEE_ERROR_BAD_PARAMETERS]);
    assert.equal(smcs, [], `cookie 0x${cookie.toString(16)} reached OP-TEE`);
  }
  assert.equal(m.optee.shmOf(2).map((x) => x.cookie), [0x2222n], "tee2's buffer is untouched");
  assert.is(g2.unregister(0x2222n).arg.ret, 0);
  stillWorks(g2);
});

test("argument addresses: not page aligned, outside the caller's RAM, another guest's, the hypervisor's -> EBADADDR, OP-TEE not called", () => {
  const { m, g1, g2 } = bootTee();
  const good = g1.putArg(openArg());
  const cases: [string, bigint][] = [
    ["unaligned", good + 8n],
    ["just past its RAM", 0x6000_0000n],
    ["the hypervisor's linear memory (as an IPA)", LINEAR],
    ["tee2's RAM (its PA as an IPA)", 0xa000_0000n],
    ["tee1's own PA (not an IPA)", g1.pa(good)],
    ["secure memory", 0x0e10_0000n],
    ["zero", 0n],
    ["above 4 GiB", 0x1_4000_0000n],
    ["last byte inside, page not", 0x5fff_f800n],
  ];
  for (const [what, ipa] of cases) {
    const { result, smcs } = watching(m, () => g1.start(ipa));
    assert.is(Number(result[0]), O.EBADADDR, what);
    assert.equal(smcs, [], `${what}: reached OP-TEE`);
  }
  const last = 0x5fff_f000n; // the last page of tee1's RAM is fine
  g1.writeArg(last, openArg());
  assert.is(g1.finish(g1.start(last))[0], 0n);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("num_params: past one page is EBADADDR, as OP-TEE's get_msg_arg answers (thread_optee_smc.c)", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  for (const n of [128, 0xffff_ffff, 0x8000_0000]) {
    const r = g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s, numParams: n, params: [] }));
    assert.is(r.a0, O.EBADADDR, `num_params ${n}`);
  }
  // 127 params fill the page exactly: a valid argument, which OP-TEE refuses for its TEE_NUM_PARAMS (4).
  const full = g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session: s, params: Array.from({ length: 127 }, () => M.param(0)) }));
  assert.equal([full.a0, full.arg.ret], [0, M.TEE_ERROR_BAD_PARAMETERS]);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

/** A page list whose entries a test forges: `entries` go into the first list page as they are. */
function forgedList(g: TeeGuest, entries: bigint[], next?: bigint): bigint {
  const list = g.alloc();
  const img = new Uint8Array(4096);
  const v = new DataView(img.buffer);
  entries.slice(0, 511).forEach((e, i) => v.setBigUint64(8 * i, e, true));
  if (next !== undefined) v.setBigUint64(8 * 511, next, true);
  g.write(list, img);
  return list;
}

test("hostile page lists are refused with BAD_PARAMETERS (or OUT_OF_MEMORY past the limits), OP-TEE not called, tee2 unharmed", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  const own = () => g1.alloc();
  const cases: [string, bigint, number, number][] = [
    ["a data page in tee2's RAM", forgedList(g1, [own(), 0xa000_1000n]), 8192, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page in the hypervisor image", forgedList(g1, [0x6000_0000n]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page in the hypervisor's linear memory", forgedList(g1, [LINEAR + 0x10_0000n]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page in secure memory", forgedList(g1, [0x0e00_0000n]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page at IPA 0", forgedList(g1, [0n]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page just past its RAM", forgedList(g1, [0x6000_0000n - 4096n, 0x6000_0000n]), 8192, M.TEE_ERROR_BAD_PARAMETERS],
    ["a data page's own PA instead of its IPA", forgedList(g1, [g1.pa(own())]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["an unaligned data page", forgedList(g1, [own() + 0x10n]), 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a list that never ends (next = 0)", forgedList(g1, Array.from({ length: 511 }, own), 0n), 600 * 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["a list continued in tee2's RAM", forgedList(g1, Array.from({ length: 511 }, own), 0xa000_0000n), 600 * 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["the list itself in tee2's RAM", 0xa000_0000n, 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["the list itself in the hypervisor's memory", LINEAR, 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["the list itself in secure memory", 0x0e10_0000n, 4096, M.TEE_ERROR_BAD_PARAMETERS],
    ["size 0 with a list", forgedList(g1, [own()]), 0, M.TEE_ERROR_BAD_PARAMETERS],
    ["too many pages (16 GiB)", forgedList(g1, [own()]), 0x4_0000_0000, M.TEE_ERROR_OUT_OF_MEMORY],
    ["a size that wraps", forgedList(g1, [own()]) | 0xfffn, -1, M.TEE_ERROR_OUT_OF_MEMORY],
  ];
  for (const [what, bufPtr, size, want] of cases) {
    for (const cmd of ["invoke", "register"] as const) {
      const p = M.param((cmd === "invoke" ? TMEM_INOUT : TMEM_OUT) | NONCONTIG, bufPtr, BigInt.asUintN(64, BigInt(size)), 0x77);
      const { result, smcs } = watching(m, () =>
        cmd === "invoke" ? g1.invoke(s, 1, [M.param(1, 5), p]) : g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_REGISTER_SHM, params: [p] })));
      assert.equal([result.a0, result.arg.ret, result.arg.retOrigin], [0, want, M.TEE_ORIGIN_COMMS], `${cmd}: ${what}`);
      assert.equal(smcs, [], `${cmd}: ${what}: reached OP-TEE`);
      assert.equal(result.arg.params.at(-1)!.a, bufPtr, `${cmd}: ${what}: the guest's argument keeps its own values`);
    }
  }
  assert.equal(m.optee.shmOf(1), []);
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
  stillWorks(g1);
});

test("a page list that loops back on itself costs no more than a proper one, and reaches no one else's memory", () => {
  const { m, g1, g2 } = bootTee();
  const s = session(g1);
  const list = g1.alloc();
  const img = new Uint8Array(4096);
  const v = new DataView(img.buffer);
  for (let i = 0; i < 511; i++) v.setBigUint64(8 * i, g1.alloc(), true);
  v.setBigUint64(8 * 511, list, true); // next list page: itself
  g1.write(list, img);
  const r = g1.invoke(s, 1, [M.param(TMEM_IN | NONCONTIG, list, 3000n * 4096n, 1)]);
  assert.is(r.a0, 0);
  // Either refused or translated (its entries are the guest's own pages): never anything but its own memory.
  assert.equal(misdeeds(m), []);
  stillWorks(g2);
});

test("memrefs in OPEN_SESSION after the two meta params are translated too", () => {
  const { m, g1 } = bootTee();
  const buf = g1.buffer(4096);
  g1.write(buf.ipa, pattern(4096));
  m.optee.ta = function* (call) {
    const p = call.params[0];
    if (p.type === "memref" && call.op === "open") call.api.write(p.mem, 0, Uint8Array.of(9, 9));
  };
  const r = g1.openSession(undefined, [M.param(TMEM_INOUT | NONCONTIG, buf.bufPtr, 4096, 3)]);
  assert.equal([r.a0, r.arg.ret], [0, 0]);
  assert.equal(g1.read(buf.ipa, 3), Uint8Array.of(9, 9, pattern(3)[2]));
  assert.equal(r.arg.params[2].a, buf.bufPtr);
  const bad = g1.openSession(undefined, [M.param(TMEM_INOUT | NONCONTIG, forgedList(g1, [0xa000_0000n]), 4096, 3)]);
  assert.equal([bad.a0, bad.arg.ret, bad.arg.retOrigin], [0, M.TEE_ERROR_BAD_PARAMETERS, M.TEE_ORIGIN_COMMS]);
  assert.equal(misdeeds(m), []);
});

test("OP-TEE's own refusals reach the guest unchanged (close of an unknown session, unknown command -> EBADCMD)", () => {
  const { m, g1 } = bootTee();
  const close = g1.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_CLOSE_SESSION, session: 999 }));
  assert.equal([close.a0, close.arg.ret, close.arg.retOrigin], [0, M.TEE_ERROR_ITEM_NOT_FOUND, M.TEE_ORIGIN_TEE]);
  const unknown = g1.call(M.msgArg({ cmd: 0x99 }));
  assert.is(unknown.a0, O.EBADCMD, "entry_std.c: unknown cmd → TEE_ERROR_NOT_IMPLEMENTED → EBADCMD");
  assert.equal(misdeeds(m), []);
});

test.run();
