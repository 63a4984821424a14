/**
 * A hostile guest fuzzing the OP-TEE mediator: the core's real .wasm on the fake machine, OP-TEE played by the
 * model (test/fakes/optee.ts), tee1 sending what a broken or malicious driver could — fast calls with any
 * function id and registers, CALL_WITH_ARG with forged headers, parameter kinds, addresses and cookies, page
 * lists pointing anywhere (other guests' RAM, the hypervisor's, past RAM, loops), RETURN_FROM_RPC for threads
 * it has or has not, RPCs answered, abandoned or answered with garbage — while tee2 stays honest.
 *
 * After every input: the core has not trapped, the model saw no address outside the caller's own RAM or the
 * hypervisor's pool (misdeeds), and every answer tee1 got is one OP-TEE or SMCCC defines. Every CHECK_EVERY
 * inputs, and at the end, tee2 still opens, invokes and closes a session. Deterministic for a seed.
 */
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, misdeeds, stillWorks, type TeeGuest } from "../fakes/tee-guest.ts";

const PAGE = 4096n;
/** Inputs per booted machine: long enough to build up state (held buffers, threads in RPC), short enough to vary it. */
const INPUTS_PER_MACHINE = 2000;
const CHECK_EVERY = 500;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzResult {
  inputs: number;
  machines: number;
  /** What went wrong, with the seed and input number that reproduce it. */
  failures: string[];
  /** How often each kind of input ran, and how each answer's a0 was distributed (for a person to see coverage). */
  kinds: Record<string, number>;
  answers: Record<string, number>;
}

/** The answers a guest may get in a0 from an OP-TEE call (optee_smc.h) or SMCCC (NOT_SUPPORTED = UNKNOWN). */
function answerAllowed(a0: bigint): boolean {
  const v = Number(a0 & 0xffffffffn);
  return v <= O.ENOTAVAIL || v === O.UNKNOWN || O.isRpc(a0);
}

class Hostile {
  /** A few fixed pages of tee1's RAM the fuzzer writes arguments and page lists into (never runs out). */
  readonly pages: bigint[];
  readonly cookies: bigint[] = [1n, 2n, 0x1000n, 0xffff_ffff_ffff_ffffn, 0n];
  readonly threads: bigint[] = [];

  constructor(readonly g: TeeGuest, readonly other: TeeGuest, readonly r: () => number) {
    this.pages = Array.from({ length: 24 }, () => g.alloc());
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }

  u64(): bigint {
    return (BigInt(Math.floor(this.r() * 2 ** 32)) << 32n) | BigInt(Math.floor(this.r() * 2 ** 32));
  }

  /** An address worth trying: its own pages (aligned or not), another guest's, the hypervisor's, nothing at all. */
  address(): bigint {
    const own = this.pick(this.pages);
    return this.pick([
      own, own + BigInt(Math.floor(this.r() * 4096)), own + PAGE - 8n, this.otherIpa(),
      // Physical addresses a guest has no business naming: its own RAM's, the other guests', the hypervisor's
      // image and linear memory, OP-TEE's static SHM and secure RAM, the GIC; then nothing and anything.
      0x8000_0000n, 0xa000_0000n, 0xc000_0000n, 0x6000_0000n, 0x6080_0000n, 0x4200_0000n, 0x0e10_0000n, 0x0800_0000n,
      0n, 0x3fff_f000n, 0x1_0000_0000n, this.u64(), own ^ 0x8000_0000n,
    ]);
  }

  /** Anywhere in its 4 GiB IPA space: its RAM (512 MiB from 0x40000000), its devices, or unmapped. */
  otherIpa(): bigint {
    return BigInt(Math.floor(this.r() * 0x10_0000)) * PAGE;
  }

  value(): bigint {
    return this.pick([0n, 1n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn, this.u64(), this.address(), this.pick(this.cookies)]);
  }

  fid(): number {
    const optee = [O.OPTEE_SMC_CALLS_UID, O.OPTEE_SMC_CALLS_REVISION, O.OPTEE_SMC_CALL_GET_OS_UUID, O.OPTEE_SMC_CALL_GET_OS_REVISION,
      O.OPTEE_SMC_GET_SHM_CONFIG, O.OPTEE_SMC_L2CC_MUTEX, O.OPTEE_SMC_EXCHANGE_CAPABILITIES, O.OPTEE_SMC_DISABLE_SHM_CACHE,
      O.OPTEE_SMC_ENABLE_SHM_CACHE, O.OPTEE_SMC_BOOT_SECONDARY, O.OPTEE_SMC_VM_CREATED, O.OPTEE_SMC_VM_DESTROYED,
      O.OPTEE_SMC_GET_THREAD_COUNT, O.OPTEE_SMC_CALL_WITH_RPC_ARG, O.OPTEE_SMC_CALL_WITH_REGD_ARG];
    return this.pick([...optee, 0xb2000000 + Math.floor(this.r() * 64), 0xbf00ff00 + Math.floor(this.r() * 16),
      (0xb2 + Math.floor(this.r() * 14)) * 0x1000000 + Math.floor(this.r() * 0x10000), Math.floor(this.r() * 2 ** 32) | 0x32000000]);
  }

  /** A page list for `entries` data pages, each entry an address() (mostly its own pages), written at a page. */
  pageList(entries: number): bigint {
    const list = this.pick(this.pages);
    const img = new Uint8Array(4096);
    const view = new DataView(img.buffer);
    for (let i = 0; i < Math.min(entries, M.PAGE_LIST_ENTRIES); i++) {
      const a = this.r() < 0.8 ? this.pick(this.pages) : this.address();
      view.setBigUint64(i * 8, a & 0xffff_ffff_ffff_ffffn, true);
    }
    // The next-list link: none, itself (a loop), another of its pages, or anything.
    const next = this.pick([0n, list, this.pick(this.pages), this.address()]);
    view.setBigUint64(M.PAGE_LIST_ENTRIES * 8, next & 0xffff_ffff_ffff_ffffn, true);
    this.g.write(list, img);
    return list | BigInt(Math.floor(this.r() * 4096)) * (this.r() < 0.5 ? 1n : 0n);
  }

  param(): M.MsgParam {
    const noncontig = this.r() < 0.5 ? M.OPTEE_MSG_ATTR_NONCONTIG : 0;
    const type = this.pick([0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 4, 8, 12, 0xff]);
    const meta = this.r() < 0.1 ? M.OPTEE_MSG_ATTR_META : 0;
    const attr = this.r() < 0.05 ? this.u64() : BigInt(type | noncontig | meta);
    const isTmem = type >= 9 && type <= 11;
    const size = this.pick([0n, 1n, 4096n, 4097n, 65536n, 0x10_0000n, 0x8000_0000n, this.u64()]);
    const a = isTmem && noncontig && this.r() < 0.8 ? this.pageList(Number(size / 4096n) + 1) : this.value();
    return { attr, a, b: isTmem ? size : this.value(), c: this.value() };
  }

  arg(): M.MsgArg {
    const n = this.pick([0, 1, 2, 4, 5, 8]);
    const params = Array.from({ length: n }, () => this.param());
    const arg = M.msgArg({
      cmd: this.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 0xffffffff]),
      func: Math.floor(this.r() * 16),
      session: this.pick([0, 1, 2, 0xffffffff]),
      params,
    });
    return arg;
  }
}

/** Runs `inputs` hostile inputs from `seed`; never throws for what the core or the model does. */
export function fuzzMediator(seed: number, inputs: number): FuzzResult {
  const result: FuzzResult = { inputs: 0, machines: 0, failures: [], kinds: {}, answers: {} };
  const r = rng(seed);
  while (result.inputs < inputs && result.failures.length === 0) {
    const { m, g1, g2 } = bootTee();
    result.machines++;
    const hostile = new Hostile(g1, g2, r);
    const count = Math.min(INPUTS_PER_MACHINE, inputs - result.inputs);
    for (let i = 0; i < count && result.failures.length === 0; i++) {
      const at = `seed ${seed}, input ${result.inputs}`;
      const kind = hostile.pick(["fast", "arg", "arg", "arg", "rpc", "register"]);
      result.kinds[kind] = (result.kinds[kind] ?? 0) + 1;
      const before = misdeeds(m).length;
      try {
        const regs = step(hostile, kind);
        const a0 = regs[0];
        const name = O.isRpc(a0) ? "rpc" : `0x${(a0 & 0xffffffffn).toString(16)}`;
        result.answers[name] = (result.answers[name] ?? 0) + 1;
        if (!answerAllowed(a0) && kind !== "fast") result.failures.push(`${at}: ${kind} answered a0 0x${a0.toString(16)}, not an OP-TEE answer`);
      } catch (e) {
        result.failures.push(`${at}: ${kind}: ${e instanceof Error ? e.stack?.split("\n").slice(0, 3).join(" | ") : String(e)}`);
      }
      const seen = misdeeds(m);
      if (seen.length > before) result.failures.push(`${at}: ${kind}: ${seen.slice(before).join("; ")}`);
      // The machine contains a trap to the guest it served (boot/core.c), so a trap no longer throws: still a bug.
      if (m.faults.length > 0) result.failures.push(`${at}: ${kind}: the core trapped (contained): ${m.faults.splice(0).map((f) => f.what).join("; ")}`);
      result.inputs++;
      if (result.failures.length === 0 && (result.inputs % CHECK_EVERY === 0 || i === count - 1)) {
        try {
          stillWorks(g2);
        } catch (e) {
          result.failures.push(`${at}: the honest guest stopped working: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }
  return result;
}

/** One hostile input; returns the registers tee1 got back last. */
function step(h: Hostile, kind: string): bigint[] {
  const g = h.g;
  if (kind === "fast") {
    const x = [h.fid(), h.value(), h.value(), h.value(), h.value(), h.value(), h.value(), h.value()];
    return g.smc(...x.map((v) => BigInt(v) & 0xffff_ffff_ffff_ffffn));
  }
  if (kind === "rpc") {
    const thread = h.threads.length && h.r() < 0.7 ? h.pick(h.threads) : BigInt(Math.floor(h.r() * 6));
    return settle(h, g.smc(O.OPTEE_SMC_RETURN_FROM_RPC, h.value(), h.value(), thread, h.value(), h.value(), 0, h.value()));
  }
  let arg: M.MsgArg;
  if (kind === "register") {
    const pages = h.pick([1, 2, 16, 511, 512, 600, 5000]);
    arg = M.msgArg({
      cmd: h.r() < 0.8 ? M.OPTEE_MSG_CMD_REGISTER_SHM : M.OPTEE_MSG_CMD_UNREGISTER_SHM,
      params: [{ attr: BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG), a: h.pageList(pages), b: BigInt(pages) * 4096n, c: h.pick(h.cookies) }],
    });
  } else {
    arg = h.arg();
  }
  const argIpa = h.r() < 0.9 ? h.pick(h.pages) : h.address();
  if (h.r() < 0.9 || argIpa === 0n) {
    try {
      g.writeArg(argIpa & ~0xfffn, arg);
    } catch {
      // not its RAM: the call below names an address it cannot write, which is the point
    }
  }
  return settle(h, g.start(argIpa, h.value()));
}

/** After a call: an RPC is answered properly, answered with garbage, or left waiting (its thread remembered). */
function settle(h: Hostile, regs: bigint[]): bigint[] {
  for (let n = 0; O.isRpc(regs[0]) && n < 50; n++) {
    const choice = h.r();
    if (choice < 0.6) regs = h.g.answer(regs);
    else if (choice < 0.8) regs = h.g.smc(O.OPTEE_SMC_RETURN_FROM_RPC, h.value(), h.value(), regs[3], h.value(), h.value(), 0, 0);
    else {
      if (h.threads.length < 8) h.threads.push(regs[3]);
      return regs;
    }
  }
  return regs;
}
