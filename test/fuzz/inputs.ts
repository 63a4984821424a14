/**
 * What a broken or malicious OP-TEE driver can put in front of the mediator, as fast-check arbitraries: SMC
 * registers, message arguments (random, or an honest one mutated field by field), parameters, page lists and RPC
 * replies. Addresses and cookies are symbolic (`Addr`, `Cookie`): "the guest's own page 3 + 12", "another guest's
 * RAM", "the cookie its driver gave out second", resolved against the running machine by world.ts, so a shrunk
 * case still means the same thing when it runs again.
 */
import fc from "fast-check";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";

/** Pages of its RAM each actor keeps for arguments and page lists (fixed, so they never run out). */
export const OWN_PAGES = 24;

export type Addr =
  | { k: "own"; page: number; offset: number }
  | { k: "ipa"; page: number } // anywhere in its IPA space: RAM, devices, unmapped
  | { k: "phys"; pa: bigint } // a physical address a guest has no business naming
  | { k: "any"; v: bigint };

export type Cookie = { k: "fixed"; v: bigint } | { k: "driver"; n: number }; // driver: the n-th one its answers gave

export type Value = { k: "v"; v: bigint } | { k: "addr"; a: Addr } | { k: "cookie"; c: Cookie };

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Physical addresses: other guests' RAM, the hypervisor's image and linear memory, OP-TEE's SHM and RAM, the GIC. */
const FOREIGN_PAS = [0x8000_0000n, 0xa000_0000n, 0xc000_0000n, 0x6000_0000n, 0x6080_0000n, 0x4200_0000n, 0x0e10_0000n,
  0x0800_0000n, 0n, 0x3fff_f000n, 0x1_0000_0000n, 0x4000_0000n];

export const addr: fc.Arbitrary<Addr> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant("own" as const), page: fc.nat(OWN_PAGES - 1), offset: fc.constantFrom(0, 0, 0, 8, 0xff8, 0x800, 0xfff) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("ipa" as const), page: fc.nat(0xf_ffff) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("phys" as const), pa: fc.constantFrom(...FOREIGN_PAS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("any" as const), v: u64 }) },
);

export const cookie: fc.Arbitrary<Cookie> = fc.oneof(
  fc.record({ k: fc.constant("fixed" as const), v: fc.constantFrom(0n, 1n, 2n, 0x1000n, (1n << 64n) - 1n, 0xffff_0001_0000_0770n) }),
  fc.record({ k: fc.constant("driver" as const), n: fc.nat(12) }),
);

export const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant("v" as const), v: fc.oneof(fc.constantFrom(0n, 1n, 0xffff_ffffn, (1n << 64n) - 1n), u64) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("addr" as const), a: addr }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("cookie" as const), c: cookie }) },
);

const KNOWN_FIDS = [O.OPTEE_SMC_CALLS_UID, O.OPTEE_SMC_CALLS_REVISION, O.OPTEE_SMC_CALL_GET_OS_UUID, O.OPTEE_SMC_CALL_GET_OS_REVISION,
  O.OPTEE_SMC_GET_SHM_CONFIG, O.OPTEE_SMC_L2CC_MUTEX, O.OPTEE_SMC_EXCHANGE_CAPABILITIES, O.OPTEE_SMC_DISABLE_SHM_CACHE,
  O.OPTEE_SMC_ENABLE_SHM_CACHE, O.OPTEE_SMC_BOOT_SECONDARY, O.OPTEE_SMC_VM_CREATED, O.OPTEE_SMC_VM_DESTROYED,
  O.OPTEE_SMC_GET_THREAD_COUNT, O.OPTEE_SMC_ENABLE_ASYNC_NOTIF, O.OPTEE_SMC_GET_ASYNC_NOTIF_VALUE,
  O.OPTEE_SMC_CALL_WITH_RPC_ARG, O.OPTEE_SMC_CALL_WITH_REGD_ARG];

/** A function id: OP-TEE's, its owner's unknown ones, any Trusted-OS owner's, any at all. */
export const fid: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_FIDS) },
  { weight: 1, arbitrary: fc.integer({ min: 0xb2000000, max: 0xb200003f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xbf00ff00, max: 0xbf00ff0f }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff_ffff }) },
);

/** A page list: entries are its own pages but for a few overrides; the link to the next list page; an offset. */
export interface ListSpec {
  page: number;
  overrides: [number, Addr][];
  next: "none" | "self" | "own" | Addr;
  offset: number;
}

export const list: fc.Arbitrary<ListSpec> = fc.record({
  page: fc.nat(OWN_PAGES - 1),
  // Mostly the first entries: a buffer of a few pages uses only those.
  overrides: fc.array(fc.tuple(fc.oneof(fc.nat(3), fc.nat(M.PAGE_LIST_ENTRIES)), addr), { maxLength: 3, size: "max" }),
  next: fc.oneof(fc.constantFrom("none" as const, "self" as const, "own" as const), addr),
  offset: fc.constantFrom(0, 0, 0, 0x10, 0xfff),
});

export type ParamSpec = { attr: bigint; a: Value | ListSpec; b: bigint; c: Value };

const TYPES = [0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 4, 8, 12, 0xff];
const SIZES = [0n, 1n, 100n, 4096n, 4097n, 65536n, 0x10_0000n, 0x8000_0000n];

export const param: fc.Arbitrary<ParamSpec> = fc.record({
  type: fc.constantFrom(...TYPES),
  noncontig: fc.boolean(),
  meta: fc.boolean(),
  wildAttr: fc.option(u64, { freq: 20 }),
  list,
  a: value,
  b: fc.oneof(fc.constantFrom(...SIZES), u64),
  c: value,
  useList: fc.integer({ min: 0, max: 9 }),
}).map(({ type, noncontig, meta, wildAttr, list, a, b, c, useList }) => {
  const isTmem = type >= 9 && type <= 11;
  const attr = wildAttr ?? BigInt(type | (noncontig ? M.OPTEE_MSG_ATTR_NONCONTIG : 0) | (meta && useList === 0 ? M.OPTEE_MSG_ATTR_META : 0));
  return { attr, a: isTmem && noncontig && useList < 8 ? list : a, b, c };
});

export interface ArgSpec {
  cmd: number;
  func: number;
  session: { k: "mine"; n: number } | Value;
  params: ParamSpec[];
  /** num_params as written, if not params.length (a forged count). */
  numParams: number | null;
}

/** A message argument of any shape. */
const randomArg: fc.Arbitrary<ArgSpec> = fc.record({
  cmd: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 0xffff_ffff),
  func: fc.nat(15),
  session: fc.oneof(fc.record({ k: fc.constant("mine" as const), n: fc.nat(4) }), value),
  params: fc.array(param, { maxLength: 6 }),
  numParams: fc.option(fc.constantFrom(0, 1, 4, 5, 126, 127, 128, 0xffff_ffff), { freq: 10 }),
});

/** The cookie of an honest temporary memref: Linux's is its tee_shm's address, never a registered buffer's. */
const TMEM_COOKIE = 0xffff_0000_7e3e_0000n;

/** An honest request (open, invoke, close, register, unregister) as it is, or with up to three parameters changed. */
const honestArg: fc.Arbitrary<ArgSpec> = fc.record({
  cmd: fc.constantFrom(M.OPTEE_MSG_CMD_OPEN_SESSION, M.OPTEE_MSG_CMD_OPEN_SESSION, M.OPTEE_MSG_CMD_INVOKE_COMMAND,
    M.OPTEE_MSG_CMD_INVOKE_COMMAND, M.OPTEE_MSG_CMD_INVOKE_COMMAND, M.OPTEE_MSG_CMD_INVOKE_COMMAND, M.OPTEE_MSG_CMD_CLOSE_SESSION,
    M.OPTEE_MSG_CMD_REGISTER_SHM, M.OPTEE_MSG_CMD_REGISTER_SHM, M.OPTEE_MSG_CMD_UNREGISTER_SHM, M.OPTEE_MSG_CMD_DO_BOTTOM_HALF),
  func: fc.nat(7),
  session: fc.nat(4),
  pages: fc.constantFrom(1, 2, 16, 511, 512, 600),
  cookie: fc.oneof({ weight: 1, arbitrary: cookie }, { weight: 2, arbitrary: fc.record({ k: fc.constant("fixed" as const), v: u64 }) }),
  list,
  forgedList: fc.nat(3),
  mutations: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [number, ParamSpec][]) },
    { weight: 2, arbitrary: fc.array(fc.tuple(fc.nat(2), param), { minLength: 1, maxLength: 3 }) }),
}).map(({ cmd, func, session, pages, cookie, list, forgedList, mutations }): ArgSpec => {
  const v = (x: bigint | number): Value => ({ k: "v", v: BigInt(x) });
  // One in four keeps the list's forged entries: an honest request naming pages that are not the guest's.
  const honestList: ListSpec = forgedList === 0 ? list : { ...list, overrides: [], next: "own" };
  const meta = BigInt(M.OPTEE_MSG_ATTR_META | M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT);
  const params: ParamSpec[] = cmd === M.OPTEE_MSG_CMD_OPEN_SESSION
    ? [{ attr: meta, a: v(0x1111_1111_1111_1111n), b: 0x1111_1111_1111_1111n, c: v(0) }, { attr: meta, a: v(0), b: 0n, c: v(0) }]
    : cmd === M.OPTEE_MSG_CMD_INVOKE_COMMAND
      ? [{ attr: BigInt(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT), a: v(41), b: 0n, c: v(0) },
        { attr: BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT | M.OPTEE_MSG_ATTR_NONCONTIG), a: honestList, b: 100n, c: v(TMEM_COOKIE) }]
      : cmd === M.OPTEE_MSG_CMD_REGISTER_SHM
        ? [{ attr: BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG), a: honestList, b: BigInt(pages) * 4096n, c: { k: "cookie", c: cookie } }]
        : cmd === M.OPTEE_MSG_CMD_UNREGISTER_SHM
          ? [{ attr: BigInt(M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT), a: v(0), b: 0n, c: { k: "cookie", c: cookie } }]
          : [];
  for (const [i, p] of mutations) if (i < params.length) params[i] = p;
  return { cmd, func, session: { k: "mine", n: session }, params, numParams: null };
});

export const arg: fc.Arbitrary<ArgSpec> = fc.oneof({ weight: 1, arbitrary: randomArg }, { weight: 2, arbitrary: honestArg });

/**
 * How the guest answers an RPC: as Linux does, as Linux does with a few fields of the reply changed, with one of
 * its own pages under a cookie it picks (an RPC_ALLOC answer that can clash with a live one), or garbage.
 */
export type ReplySpec =
  | { how: "proper"; mutations: [number, ParamSpec][]; ret: number | null }
  | { how: "garbage"; a: Addr; cookie: Cookie; values: Value[] };

const ownPage: fc.Arbitrary<Addr> = fc.record({ k: fc.constant("own" as const), page: fc.nat(OWN_PAGES - 1), offset: fc.constant(0) });
const fewCookies: fc.Arbitrary<Cookie> = fc.oneof(
  fc.record({ k: fc.constant("fixed" as const), v: fc.constantFrom(0n, 1n) }),
  fc.record({ k: fc.constant("driver" as const), n: fc.nat(2) }),
);

export const reply: fc.Arbitrary<ReplySpec> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ how: fc.constant("proper" as const), mutations: fc.constant([] as [number, ParamSpec][]), ret: fc.constant(null) }) },
  { weight: 2, arbitrary: fc.record({
    how: fc.constant("proper" as const),
    mutations: fc.array(fc.tuple(fc.nat(3), param), { minLength: 1, maxLength: 2 }),
    ret: fc.option(fc.constantFrom(0, M.TEE_ERROR_GENERIC, M.TEE_ERROR_OUT_OF_MEMORY), { freq: 3 }),
  }) },
  { weight: 2, arbitrary: fc.record({ how: fc.constant("garbage" as const), a: addr, cookie, values: fc.array(value, { minLength: 2, maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ how: fc.constant("garbage" as const), a: ownPage, cookie: fewCookies, values: fc.constant([{ k: "v", v: 0n }, { k: "v", v: 0n }] as Value[]) }) },
);

export const registers: fc.Arbitrary<Value[]> = fc.array(value, { minLength: 7, maxLength: 7 });
