/**
 * A guest's OP-TEE driver, played by a test: it writes message arguments and
 * page lists into the guest's RAM (by IPA, as Linux does: to a guest its IPAs
 * are physical addresses), makes the SMCs from the guest's vCPU through the
 * machine's trap path, and answers OP-TEE's RPCs the way Linux's
 * drivers/tee/optee/smc_abi.c does (optee_handle_rpc, handle_rpc_func_cmd):
 *
 *   RPC_ALLOC       a page of its RAM: a1:a2 = its address, a4:a5 = a cookie
 *   RPC_FREE        forgets the cookie in a1:a2
 *   FOREIGN_INTR    nothing (the interrupt is taken), then resumes
 *   RPC_CMD         the argument at cookie a1:a2: SHM_ALLOC (a buffer with a
 *                   page list, TMEM_OUTPUT|NONCONTIG), SHM_FREE, LOAD_TA,
 *                   GET_TIME; anything else TEE_ERROR_NOT_SUPPORTED
 *
 * and resumes with RETURN_FROM_RPC, a3 = the thread id OP-TEE gave.
 */
import { setup as defaultSetup } from "../setups/three-guests.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { GUEST_RAM_IPA } from "./hw.ts";
import { Machine } from "./machine.ts";
import * as M from "./optee-msg.ts";
import * as O from "./optee.ts";

const EC_SMC = 0x17n;
const IL = 1n << 25n;
const PAGE = 4096n;

/** The setup of test/setups/three-guests.ts: guest index, a CPU of its, client id. */
export const TEE1 = { index: 0, cpu: 0, client: 1 } as const;
export const TEE2 = { index: 1, cpu: 2, client: 2 } as const;
export const PLAIN = { index: 2, cpu: 3, client: 3 } as const;

export interface RpcHooks {
  /** Called for every RPC before the default handling; return regs to resume with, or undefined for the default. */
  onRpc?: (regs: bigint[], g: TeeGuest) => bigint[] | undefined;
  /** Answers an RPC_CMD's argument (after the default did nothing with it); return true when handled. */
  onCmd?: (arg: M.MsgArg, g: TeeGuest) => boolean;
}

export interface GuestBuffer {
  /** IPA of the first byte. */
  ipa: bigint;
  size: number;
  /** IPAs of the data pages. */
  pages: bigint[];
  /** buf_ptr for a NONCONTIG param: the first list page | offset in the first data page. */
  bufPtr: bigint;
  /** IPAs of the list pages. */
  lists: bigint[];
}

/** An OPEN_SESSION argument: the UUID and the (public) login as the two META value params, then `extra`. */
export function openArg(uuid = new Uint8Array(16).fill(0x11), extra: M.MsgParam[] = []): M.MsgArg {
  const v = new DataView(uuid.buffer, uuid.byteOffset, 16);
  const meta = M.OPTEE_MSG_ATTR_META | M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
  return M.msgArg({
    cmd: M.OPTEE_MSG_CMD_OPEN_SESSION,
    params: [M.param(meta, v.getBigUint64(0, true), v.getBigUint64(8, true)), M.param(meta, 0n, 0n, M.OPTEE_MSG_LOGIN_PUBLIC), ...extra],
  });
}

/** The parameters each RPC command handleCmd serves needs. */
const PARAMS_NEEDED: Record<number, number> = {
  [M.OPTEE_RPC_CMD_SHM_ALLOC]: 1, [M.OPTEE_RPC_CMD_SHM_FREE]: 1, [M.OPTEE_RPC_CMD_LOAD_TA]: 2, [M.OPTEE_RPC_CMD_GET_TIME]: 1,
};
/** More than the guest would allocate for OP-TEE at once (its kernel would fail the allocation). */
const MAX_SHM_ALLOC = 64 << 20;

export class TeeGuest {
  /** Bump allocator over guest RAM, well past the kernel and initramfs. */
  private next = GUEST_RAM_IPA + 0x1000_0000n;
  /** Cookies of RPC_ALLOC buffers given to OP-TEE: cookie → IPA. */
  readonly rpcBuffers = new Map<bigint, bigint>();
  /** Buffers given to OP-TEE by SHM_ALLOC: cookie → buffer. */
  readonly shmBuffers = new Map<bigint, GuestBuffer>();
  /** Every RPC this guest saw: the registers as OP-TEE's answer reached it. */
  readonly rpcsSeen: bigint[][] = [];
  /** What LOAD_TA hands out. */
  taImage = new Uint8Array(0);
  private cookieSeq = 0n;

  /** `cpu`: where its SMCs are made; a driver of a guest with several vCPUs moves (the fuzzer's does). */
  constructor(readonly m: Machine, readonly index: number, public cpu: number) {}

  static of(m: Machine, g: { index: number; cpu: number }): TeeGuest {
    return new TeeGuest(m, g.index, g.cpu);
  }

  /** A trapped SMC from this guest's vCPU: x0..x7 in, x0..x7 out. */
  smc(...x: (bigint | number)[]): bigint[] {
    for (let i = 0; i < 8; i++) this.m.setReg(this.cpu, i, BigInt(x[i] ?? 0));
    this.m.guestSync(this.cpu, (EC_SMC << 26n) | IL);
    return Array.from({ length: 8 }, (_, i) => this.m.reg(this.cpu, i));
  }

  /** `n` fresh, page-aligned pages of guest RAM (IPA). */
  alloc(n = 1): bigint {
    const ipa = this.next;
    this.next += BigInt(n) * PAGE;
    return ipa;
  }

  pa(ipa: bigint): bigint {
    const pa = this.m.hw.ipaToPa(this.index, ipa);
    if (pa === undefined) throw new Error(`IPA 0x${ipa.toString(16)} outside guest ${this.index}'s RAM`);
    return pa;
  }

  write(ipa: bigint, data: Uint8Array): void {
    this.m.hw.guestWrite(this.index, ipa, data);
  }

  read(ipa: bigint, len: number): Uint8Array {
    return this.m.hw.guestRead(this.index, ipa, len);
  }

  writeArg(ipa: bigint, arg: M.MsgArg): void {
    this.write(ipa, M.encodeArg(arg));
  }

  readArg(ipa: bigint, numParams?: number): M.MsgArg {
    const head = M.decodeArg(this.read(ipa, M.ARG_HEADER));
    const n = Math.min(numParams ?? head.numParams, M.OPTEE_MSG_MAX_NUM_PARAMS);
    return M.decodeArg(this.read(ipa, M.argSize(n)));
  }

  /**
   * A buffer of `size` bytes starting `offset` bytes into its first page, with a
   * page list (optee_fill_pages_list). `pageIpas` overrides the data pages
   * (a test's forged addresses); `lists` is how many list pages to link.
   */
  buffer(size: number, offset = 0, pageIpas?: bigint[]): GuestBuffer {
    const count = Math.max(1, Math.ceil((size + offset) / 4096));
    const pages = pageIpas ?? Array.from({ length: count }, () => this.alloc());
    const lists = Array.from({ length: Math.max(1, Math.ceil(pages.length / M.PAGE_LIST_ENTRIES)) }, () => this.alloc());
    M.pageListImages(pages, lists).forEach((img, i) => this.write(lists[i], img));
    return { ipa: pages[0] + BigInt(offset), size, pages, bufPtr: lists[0] | BigInt(offset), lists };
  }

  /** A fresh page holding `arg`; returns its IPA. */
  putArg(arg: M.MsgArg): bigint {
    const ipa = this.alloc();
    this.writeArg(ipa, arg);
    return ipa;
  }

  /** CALL_WITH_ARG of the argument at `argIpa`; returns OP-TEE's (or the mediator's) registers, maybe an RPC. */
  start(argIpa: bigint, x7 = 0n): bigint[] {
    return this.smc(O.OPTEE_SMC_CALL_WITH_ARG, argIpa >> 32n, argIpa & 0xffff_ffffn, 0, 0, 0, 0, x7);
  }

  /** Answers one RPC (`regs` as OP-TEE's RPC reached the guest) and resumes; returns the next registers. */
  answer(regs: bigint[], hooks: RpcHooks = {}): bigint[] {
    this.rpcsSeen.push(regs);
    const custom = hooks.onRpc?.(regs, this);
    if (custom) return this.smc(...custom);
    return this.smc(...this.defaultAnswer(regs, hooks));
  }

  /** Answers RPCs until the call ends; returns the final registers. */
  finish(regs: bigint[], hooks: RpcHooks = {}, maxRpcs = 10_000): bigint[] {
    for (let i = 0; O.isRpc(regs[0]); i++) {
      if (i >= maxRpcs) throw new Error("too many RPCs");
      regs = this.answer(regs, hooks);
    }
    return regs;
  }

  /** A whole call: the argument into a fresh page, CALL_WITH_ARG, RPCs answered; the final a0 and the argument read back. */
  call(arg: M.MsgArg, hooks: RpcHooks = {}): { a0: number; arg: M.MsgArg; argIpa: bigint; regs: bigint[] } {
    const argIpa = this.putArg(arg);
    const regs = this.finish(this.start(argIpa), hooks);
    return { a0: Number(regs[0]), arg: this.readArg(argIpa, arg.params.length), argIpa, regs };
  }

  /** OPEN_SESSION of a TA (public login); the argument read back. */
  openSession(uuid = new Uint8Array(16).fill(0x11), extra: M.MsgParam[] = [], hooks: RpcHooks = {}) {
    return this.call(openArg(uuid, extra), hooks);
  }

  invoke(session: number, func: number, params: M.MsgParam[], hooks: RpcHooks = {}) {
    return this.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_INVOKE_COMMAND, session, func, params }), hooks);
  }

  /** REGISTER_SHM of a buffer under `cookie`. */
  register(buf: GuestBuffer, cookie: bigint, hooks: RpcHooks = {}) {
    return this.call(M.msgArg({
      cmd: M.OPTEE_MSG_CMD_REGISTER_SHM,
      params: [M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG, buf.bufPtr, buf.size, cookie)],
    }), hooks);
  }

  unregister(cookie: bigint, hooks: RpcHooks = {}) {
    return this.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_UNREGISTER_SHM, params: [M.param(M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT, 0n, 0n, cookie)] }), hooks);
  }

  /** Linux's optee_handle_rpc, registers in and out. */
  defaultAnswer(regs: bigint[], hooks: RpcHooks = {}): bigint[] {
    const a0 = Number(regs[0]);
    const out = [BigInt(O.OPTEE_SMC_RETURN_FROM_RPC), regs[1], regs[2], regs[3], regs[4], regs[5], 0n, 0n];
    if (a0 === O.RPC_ALLOC) {
      const ipa = this.alloc();
      const cookie = this.newCookie();
      this.rpcBuffers.set(cookie, ipa);
      out[1] = ipa >> 32n; out[2] = ipa & 0xffff_ffffn;
      out[4] = cookie >> 32n; out[5] = cookie & 0xffff_ffffn;
    } else if (a0 === O.RPC_FREE) {
      this.rpcBuffers.delete(M.pair(regs[1], regs[2]));
    } else if (a0 === O.RPC_CMD) {
      const ipa = this.rpcBuffers.get(M.pair(regs[1], regs[2]));
      if (ipa !== undefined) {
        const arg = this.readArg(ipa, M.THREAD_RPC_MAX_NUM_PARAMS);
        if (!hooks.onCmd?.(arg, this)) this.handleCmd(arg);
        this.writeArg(ipa, arg);
      }
    }
    return out;
  }

  /** handle_rpc_func_cmd (drivers/tee/optee/rpc.c and smc_abi.c), for the commands tests use. */
  handleCmd(arg: M.MsgArg): void {
    const p = arg.params;
    arg.ret = M.TEE_SUCCESS;
    // As Linux checks num_params first: a request it cannot read (its buffer holds something else) is refused.
    if (p.length < (PARAMS_NEEDED[arg.cmd] ?? 0)) {
      arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
      return;
    }
    switch (arg.cmd) {
      case M.OPTEE_RPC_CMD_SHM_ALLOC: {
        const size = Number(p[0].b);
        if (size > MAX_SHM_ALLOC) {
          arg.ret = M.TEE_ERROR_OUT_OF_MEMORY;
          break;
        }
        const buf = this.buffer(size);
        const cookie = this.newCookie();
        this.shmBuffers.set(cookie, buf);
        p[0] = M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG, buf.bufPtr, size, cookie);
        break;
      }
      case M.OPTEE_RPC_CMD_SHM_FREE:
        if (!this.shmBuffers.delete(p[0].b)) arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
        break;
      case M.OPTEE_RPC_CMD_LOAD_TA:
        // The supplicant: params[1] is an RMEM (or a NULL TMEM) the TA is copied into; its size is the TA's.
        if (p[1].c !== 0n) {
          const buf = this.shmBuffers.get(p[1].c);
          if (buf && Number(p[1].b) >= this.taImage.length) this.write(buf.ipa + p[1].a, this.taImage);
        }
        p[1].b = BigInt(this.taImage.length);
        break;
      case M.OPTEE_RPC_CMD_GET_TIME:
        p[0].a = 1_700_000_000n;
        p[0].b = 0n;
        break;
      default:
        arg.ret = M.TEE_ERROR_NOT_SUPPORTED;
    }
  }

  private newCookie(): bigint {
    // Linux's cookies are kernel pointers: use all 64 bits, so a mediator that drops the high half shows.
    this.cookieSeq++;
    return 0xffff_0000_0000_0000n | (BigInt(this.index + 1) << 32n) | (this.cookieSeq << 4n);
  }
}

/**
 * A trusted application for tests (the model's `ta`): open always succeeds;
 * invoke reports itself in value outputs (a = input a + 1, or func for a pure
 * output; b = session), inverts every byte of an INOUT memref, writes
 * "hello" into an OUTPUT one of 5 bytes or more (size 5), and answers a NULL output memref with
 * the size it would need (42), as TAs do for TEE_ERROR_SHORT_BUFFER.
 */
export const echoTa: O.TaScript = function* (call) {
  if (call.op === "open") return;
  for (const p of call.params) {
    if (p.type === "value" && p.dir !== "in") {
      p.a = p.dir === "inout" ? p.a + 1n : BigInt(call.func);
      p.b = BigInt(call.session);
    } else if (p.type === "memref" && p.dir !== "in") {
      if (!p.mem.mobj) {
        p.mem.size = 42;
      } else if (p.dir === "inout") {
        const bytes = call.api.read(p.mem, 0, p.mem.size);
        call.api.write(p.mem, 0, bytes.map((b) => b ^ 0xff));
      } else {
        // A buffer too small for it only learns the size needed, as a TA answers TEE_ERROR_SHORT_BUFFER.
        if (p.mem.size >= 5) call.api.write(p.mem, 0, new TextEncoder().encode("hello"));
        p.mem.size = 5;
      }
    }
  }
};

/** The default setup (tee1, tee2, plain) booted on every CPU, OP-TEE running echoTa. */
export function bootTee(threadCount = 2): { m: Machine; g1: TeeGuest; g2: TeeGuest; plain: TeeGuest } {
  const m = new Machine("virtualized", setupBootConfig(defaultSetup));
  m.optee.threadCount = threadCount;
  m.optee.ta = echoTa;
  m.boot(0);
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  return { m, g1: TeeGuest.of(m, TEE1), g2: TeeGuest.of(m, TEE2), plain: TeeGuest.of(m, PLAIN) };
}

/** Runs `f` and returns what it returned, and the SMCs OP-TEE got meanwhile. */
export function watching<T>(m: Machine, f: () => T): { result: T; smcs: O.SmcTrace[] } {
  const before = m.optee.trace.length;
  const result = f();
  return { result, smcs: m.optee.trace.slice(before) };
}

/** An honest session on another guest: open, invoke with a value, close; all must succeed (OP-TEE running echoTa meanwhile). */
export function stillWorks(g: TeeGuest): void {
  const saved = g.m.optee.ta;
  g.m.optee.ta = echoTa;
  try {
    honestSession(g);
  } finally {
    g.m.optee.ta = saved;
  }
}

function honestSession(g: TeeGuest): void {
  const open = g.openSession();
  if (open.a0 !== O.OK || open.arg.ret !== M.TEE_SUCCESS) throw new Error(`guest ${g.index}: open session failed: a0 ${open.a0} ret 0x${open.arg.ret.toString(16)}`);
  const inv = g.invoke(open.arg.session, 7, [M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT, 41, 0)]);
  if (inv.a0 !== O.OK || inv.arg.ret !== M.TEE_SUCCESS || inv.arg.params[0].a !== 42n) {
    throw new Error(`guest ${g.index}: invoke failed: a0 ${inv.a0} ret 0x${inv.arg.ret.toString(16)} a ${inv.arg.params[0]?.a}`);
  }
  const close = g.call(M.msgArg({ cmd: M.OPTEE_MSG_CMD_CLOSE_SESSION, session: open.arg.session }));
  if (close.a0 !== O.OK || close.arg.ret !== M.TEE_SUCCESS) throw new Error(`guest ${g.index}: close failed`);
}

/** What the OP-TEE model witnessed that it never should have, as readable lines (empty: all well). */
export function misdeeds(m: Machine): string[] {
  const hex = (v: bigint) => `0x${v.toString(16)}`;
  return [
    ...m.optee.violations.map((v) => `OP-TEE was given ${v.use} ${hex(v.pa)} by client ${v.client}: ${v.why}`),
    ...m.optee.argChanged.map((a) => `client ${a.client}'s argument at ${hex(a.pa)} changed while OP-TEE ran`),
    ...m.hw.ramRefusals.map((r) => `guestRam${r.op === "read" ? "Read" : "Write"} refused ${hex(r.pa)}+${r.len} (the core should have checked)`),
    ...m.hw.linearRefusals.map((r) => `${r.what} was handed ${r.ptr}+${r.len}, outside linear memory (C refused it)`),
  ];
}
