/**
 * The machine a fuzz run drives: the core's real .wasm on the fake machine with the OP-TEE model, the default
 * setup booted (tee1 on CPUs 0-1, tee2 on CPU 2, plain on CPU 3), and per TEE guest an `Actor` that remembers
 * what a driver would: the RPCs it was handed and has not answered, its sessions, the cookies it gave out. It turns
 * the symbolic inputs of inputs.ts into bytes in the guest's RAM and registers, and makes every guest event
 * through `event`, which measures the work the core did for it (bounded work per event).
 */
import { Machine } from "../fakes/machine.ts";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { bootTee, TeeGuest } from "../fakes/tee-guest.ts";
import { fuzzTa } from "./fuzz-ta.ts";
import { OWN_PAGES, type Addr, type ArgSpec, type Cookie, type ListSpec, type ParamSpec, type Value } from "./inputs.ts";

const PAGE = 4096n;
const MASK64 = (1n << 64n) - 1n;
const EC_HVC = 0x16n, IL = 1n << 25n;
export const PSCI_CPU_ON = 0xc4000003n, PSCI_SYSTEM_OFF = 0x84000008n, PSCI_SYSTEM_RESET = 0x84000009n;
const KERNEL_ENTRY = 0x4020_0000n;
const KICK_SGI = 1;

/** An RPC OP-TEE handed a guest that its driver has not answered yet. */
export interface Pending {
  regs: bigint[];
  cpu: number;
}

export class Actor {
  /** Its OP-TEE driver: one per guest (one cookie space, one set of buffers), making SMCs from any of its vCPUs. */
  readonly driver: TeeGuest;
  readonly pages: bigint[];
  pending: Pending[] = [];
  sessions: number[] = [];
  /** The guest powered itself off: nothing of it runs any more. */
  off = false;

  constructor(readonly m: Machine, readonly index: number, readonly cpus: number[]) {
    this.driver = new TeeGuest(m, index, cpus[0]);
    this.pages = Array.from({ length: OWN_PAGES }, () => this.driver.alloc());
  }

  /** The driver, making its next SMCs from `cpu`. */
  on(cpu: number): TeeGuest {
    this.driver.cpu = cpu;
    return this.driver;
  }

  get client(): number {
    return this.index + 1;
  }

  /** The driver's cookies in the order it gave them out (RPC buffers and SHM_ALLOC buffers). */
  driverCookie(n: number): bigint {
    // TeeGuest.newCookie: 0xffff_0000_0000_0000 | (index + 1) << 32 | seq << 4, seq from 1.
    return 0xffff_0000_0000_0000n | (BigInt(this.index + 1) << 32n) | (BigInt(n + 1) << 4n);
  }

  addr(a: Addr): bigint {
    switch (a.k) {
      case "own": return this.pages[a.page % OWN_PAGES] + BigInt(a.offset);
      case "ipa": return BigInt(a.page) * PAGE;
      case "phys": return a.pa;
      case "any": return a.v;
    }
  }

  cookie(c: Cookie): bigint {
    return c.k === "fixed" ? c.v : this.driverCookie(c.n);
  }

  value(v: Value): bigint {
    if (v.k === "v") return v.v;
    return v.k === "addr" ? this.addr(v.a) : this.cookie(v.c);
  }

  /** The page the argument being written goes to: page lists keep off it. */
  private argPage = -1;

  /** Writes a page list (and, for "own", a second list page it links to); returns buf_ptr. */
  list(s: ListSpec): bigint {
    const at = (i: number) => (i % OWN_PAGES === this.argPage ? i + 2 : i) % OWN_PAGES;
    const first = this.pages[at(s.page)];
    const second = this.pages[at(s.page + 1)];
    const next = s.next === "none" ? 0n : s.next === "self" ? first : s.next === "own" ? second : this.addr(s.next);
    this.writeList(first, s.overrides, next);
    if (s.next === "own") this.writeList(second, [], 0n);
    return first | BigInt(s.offset);
  }

  private writeList(at: bigint, overrides: [number, Addr][], next: bigint): void {
    const img = new Uint8Array(4096);
    const view = new DataView(img.buffer);
    for (let i = 0; i < M.PAGE_LIST_ENTRIES; i++) view.setBigUint64(i * 8, this.pages[(i * 7) % OWN_PAGES], true);
    for (const [i, a] of overrides) view.setBigUint64(i * 8, this.addr(a) & MASK64, true);
    view.setBigUint64(M.PAGE_LIST_ENTRIES * 8, next & MASK64, true);
    this.driver.write(at, img);
  }

  param(p: ParamSpec): M.MsgParam {
    const a = "page" in p.a ? this.list(p.a) : this.value(p.a);
    return { attr: p.attr & MASK64, a: a & MASK64, b: p.b & MASK64, c: this.value(p.c) & MASK64 };
  }

  /** The argument `s` describes, its page lists written (away from the page at argIpa). */
  arg(s: ArgSpec, argIpa = 0n): M.MsgArg {
    this.argPage = this.pages.indexOf(argIpa & ~0xfffn);
    const session = s.session.k === "mine" ? (this.sessions[s.session.n % Math.max(1, this.sessions.length)] ?? 0) : Number(this.value(s.session) & 0xffff_ffffn);
    const arg = M.msgArg({ cmd: s.cmd, func: s.func, session, params: s.params.map((p) => this.param(p)) });
    if (s.numParams !== null) arg.numParams = s.numParams;
    return arg;
  }
}

export interface WorkBound {
  smcs: number;
  lines: number;
}

/**
 * At most this much per guest event: SMCs the core makes to the firmware (a forwarded call; a restart's VM_DESTROYED and
 * VM_CREATED after the held SMC it waited for), console lines it prints (a restart says 7; refusals are rationed).
 */
export const WORK_BOUND: WorkBound = { smcs: 3, lines: 8 };

export class World {
  readonly m: Machine;
  readonly actors: Actor[];
  /** The most work one event took (for the report), and events over WORK_BOUND. */
  readonly maxWork: WorkBound = { smcs: 0, lines: 0 };
  readonly overWork: string[] = [];
  /** Clients whose VM_DESTROYED was sent during the current command. */
  readonly destroyed = new Set<number>();
  /** Console lines already read by the invariants. */
  linesChecked = 0;
  /** Misdeeds already reported. */
  readonly seen = { misdeeds: 0 };
  /** Guest inputs carried out, for the count of executions; by kind; the a0 each std call or RPC return got. */
  inputs = 0;
  readonly kinds: Record<string, number> = {};
  readonly answers: Record<string, number> = {};
  /** CPUs kicked that have not taken the kick yet (in the secure world, or parked). */
  private readonly kicked = new Set<number>();
  private preemptPeriod = 0;
  private preemptCount = 0;

  constructor() {
    const { m } = bootTee();
    this.m = m;
    m.optee.ta = fuzzTa;
    m.optee.preempt = () => this.preemptPeriod > 0 && ++this.preemptCount % this.preemptPeriod === 0;
    this.actors = [new Actor(m, 0, [0, 1]), new Actor(m, 1, [2])];
  }

  setPreempt(period: number): void {
    this.preemptPeriod = period;
  }

  /** A CPU that runs its guest now (not parked, waiting, or in an SMC). */
  running(cpu: number): boolean {
    return this.m.state.get(cpu) === "guest";
  }

  /** One guest event; the work it made the core do is measured against WORK_BOUND. */
  event<T>(what: string, f: () => T): T {
    const smcs = this.m.smcCpus.length, lines = this.m.hw.console.length, trace = this.m.optee.trace.length;
    const result = f();
    this.deliverKicks();
    const work = { smcs: this.m.smcCpus.length - smcs, lines: this.m.hw.console.length - lines };
    this.maxWork.smcs = Math.max(this.maxWork.smcs, work.smcs);
    this.maxWork.lines = Math.max(this.maxWork.lines, work.lines);
    if (work.smcs > WORK_BOUND.smcs || work.lines > WORK_BOUND.lines) this.overWork.push(`${what}: ${work.smcs} SMCs, ${work.lines} console lines`);
    for (const t of this.m.optee.trace.slice(trace)) if (t.in[0] === O.OPTEE_SMC_VM_DESTROYED) this.forget(t.in[1]);
    return result;
  }

  /**
   * Kicks (SGI 1) the core sent other CPUs reach them, as the GIC would: a CPU running its guest exits with the
   * interrupt, a waiting one wakes, one in the secure world takes it once its SMC is back.
   */
  private deliverKicks(): void {
    for (let n = 0; n < 64; n++) {
      const fresh = this.m.hw.kicks.splice(0);
      fresh.forEach((cpu) => this.kicked.add(cpu));
      const due = [...this.kicked].filter((cpu) => this.m.state.get(cpu) === "guest" || this.m.state.get(cpu) === "waiting");
      if (due.length === 0) return;
      for (const cpu of due) {
        this.kicked.delete(cpu);
        if (this.m.state.get(cpu) === "guest") this.m.guestIrq(cpu, KICK_SGI);
        else this.m.wake(cpu, KICK_SGI);
      }
    }
    throw new Error("CPUs kept kicking each other: 64 rounds");
  }

  /** An SMC from the guest's vCPU on `cpu`; x0..x7 it gets back. */
  smc(cpu: number, x: bigint[]): bigint[] {
    const g = this.guestOn(cpu);
    return this.event(`SMC 0x${x[0].toString(16)} on CPU ${cpu}`, () => g.smc(...x.map((v) => v & MASK64)));
  }

  hvc(cpu: number, x: bigint[]): void {
    this.event(`HVC 0x${x[0].toString(16)} on CPU ${cpu}`, () => {
      x.forEach((v, i) => this.m.setReg(cpu, i, v));
      this.m.guestSync(cpu, (EC_HVC << 26n) | IL);
    });
  }

  guestOn(cpu: number): TeeGuest {
    return this.actorOn(cpu).on(cpu);
  }

  actorOn(cpu: number): Actor {
    const a = this.actors.find((x) => x.cpus.includes(cpu));
    if (!a) throw new Error(`CPU ${cpu} runs no TEE guest`);
    return a;
  }

  /** Brings tee1's vCPU 1 up (PSCI CPU_ON from vCPU 0), as Linux does at boot. */
  cpuOn(): void {
    this.hvc(0, [PSCI_CPU_ON, 1n, KERNEL_ENTRY, 0n]);
  }

  /** The guest of `client` was withdrawn from OP-TEE: its driver starts again from nothing. */
  private forget(client: number): void {
    this.destroyed.add(client);
    const a = this.actors.find((x) => x.client === client);
    if (!a) return;
    a.pending = [];
    a.sessions = [];
  }

  /** Registers as the guest on `cpu` got them: an RPC is remembered as pending. */
  took(cpu: number, regs: bigint[]): bigint[] {
    if (O.isRpc(regs[0]) && this.running(cpu)) this.actorOn(cpu).pending.push({ regs, cpu });
    return regs;
  }
}
