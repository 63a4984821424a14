/**
 * The fuzzer's guest inputs as fast-check commands (fc.commands, run by fc.modelRun against world.ts): each is
 * one thing a guest's driver or the guest itself can do — a fast call, a std call (maybe held in the secure
 * world while others act), an answer to an RPC (proper, mutated or garbage), a forged RETURN_FROM_RPC, a write
 * to its own pages under OP-TEE's feet, a reset or power-off mid-call, a CPU brought up or woken. `check` skips a
 * command its CPU cannot make now (fc.modelRun drops it, and shrinking keeps that consistent). After each, the
 * invariants of invariants.ts are checked and any break throws, which fast-check shrinks and reports.
 */
import fc from "fast-check";
import * as M from "../fakes/optee-msg.ts";
import * as O from "../fakes/optee.ts";
import { stillWorks, type RpcHooks } from "../fakes/tee-guest.ts";
import * as I from "./inputs.ts";
import { checkDestroyed, checkHoldings, checkMachine, checkWork } from "./invariants.ts";
import { PSCI_SYSTEM_OFF, PSCI_SYSTEM_RESET, type Actor, type World } from "./world.ts";

type Cmd = fc.Command<World, World>;
const TEE_CPUS = [0, 1, 2];
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x));

/** The answers a guest may get in a0 from a std call or RPC return: OP-TEE's (optee_smc.h), an RPC, or UNKNOWN. */
function answerAllowed(a0: bigint): boolean {
  const v = Number(a0 & 0xffff_ffffn);
  return v <= O.ENOTAVAIL || v === O.UNKNOWN || O.isRpc(a0);
}

/** Runs one input and checks every invariant after it; throws what broke. */
function step(w: World, what: string, input: () => void): void {
  w.inputs++;
  const kind = what.slice(0, what.indexOf("("));
  w.kinds[kind] = (w.kinds[kind] ?? 0) + 1;
  input();
  const broken = [...checkMachine(w.m, w.seen), ...checkHoldings(w), ...checkDestroyed(w), ...checkWork(w)];
  if (broken.length) throw new Error(`after ${what}: ${broken.join("; ")}`);
}

function stdAnswer(w: World, cpu: number, regs: bigint[], what: string): void {
  if (w.destroyed.has(w.actorOn(cpu).client)) return; // it restarted meanwhile: its registers are its new life's
  w.took(cpu, regs);
  const name = O.isRpc(regs[0]) ? "RPC" : `a0=${Number(regs[0] & 0xffff_ffffn)}`;
  w.answers[name] = (w.answers[name] ?? 0) + 1;
  if (!answerAllowed(regs[0])) throw new Error(`${what} answered a0 0x${regs[0].toString(16)}, not an OP-TEE answer`);
}

abstract class OnCpu implements Cmd {
  constructor(readonly cpuPick: number) {}
  cpu(w: World): number {
    const running = TEE_CPUS.filter((c) => w.running(c));
    return running[this.cpuPick % Math.max(1, running.length)];
  }
  check(w: World): boolean {
    return TEE_CPUS.some((c) => w.running(c));
  }
  abstract run(w: World): void;
  abstract toString(): string;
}

class FastCall extends OnCpu {
  constructor(cpuPick: number, readonly fid: number, readonly regs: I.Value[]) { super(cpuPick); }
  run(w: World): void {
    const cpu = this.cpu(w), a = w.actorOn(cpu);
    step(w, String(this), () => w.smc(cpu, [BigInt(this.fid), ...this.regs.map((v) => a.value(v))]));
  }
  toString(): string { return `fast(${this.cpuPick}, 0x${this.fid.toString(16)}, ${json(this.regs)})`; }
}

class StdCall extends OnCpu {
  /** settle: how many of the RPCs the call brings the driver then answers at once, as Linux does (each an input). */
  constructor(cpuPick: number, readonly arg: I.ArgSpec, readonly where: I.Addr, readonly x7: I.Value, readonly hold: boolean,
    readonly settle: number) { super(cpuPick); }
  run(w: World): void {
    const cpu = this.cpu(w), a = w.actorOn(cpu);
    const argIpa = a.addr(this.where);
    try {
      a.driver.writeArg(argIpa & ~0xfffn, a.arg(this.arg, argIpa));
    } catch {
      // not its RAM: the call names an address it cannot write, which is the point
    }
    if (this.hold) w.m.holdSmc.add(cpu);
    step(w, String(this), () => {
      const regs = w.smc(cpu, [BigInt(O.OPTEE_SMC_CALL_WITH_ARG), argIpa >> 32n, argIpa & 0xffff_ffffn, 0n, 0n, 0n, 0n, a.value(this.x7)]);
      w.m.holdSmc.delete(cpu); // answered by the mediator itself: nothing was held
      if (w.running(cpu)) stdAnswer(w, cpu, regs, "CALL_WITH_ARG");
      if (regs[0] === 0n) noteSession(a, argIpa, this.arg.cmd);
    });
    for (let i = 0; i < this.settle; i++) answerLatest(w, a, argIpa, this.arg.cmd);
  }
  toString(): string {
    return `std(${this.cpuPick}, ${json(this.arg)}, at ${json(this.where)}, x7 ${json(this.x7)}${this.hold ? ", held" : ""}, settle ${this.settle})`;
  }
}

/** The driver answers the RPC it got last, as Linux does. */
function answerLatest(w: World, a: Actor, argIpa: bigint, cmd: number): void {
  const p = a.pending.at(-1);
  if (!p || !w.running(p.cpu)) return;
  a.pending.pop();
  step(w, `answer(latest on CPU ${p.cpu})`, () => {
    const regs = w.event(`answer on CPU ${p.cpu}`, () => w.guestOn(p.cpu).answer(p.regs));
    if (!w.running(p.cpu)) return;
    stdAnswer(w, p.cpu, regs, "RETURN_FROM_RPC");
    if (regs[0] === 0n) noteSession(a, argIpa, cmd);
  });
}

/** A session its driver opened or closed (what it names in later calls). */
function noteSession(a: Actor, argIpa: bigint, cmd: number): void {
  if (cmd !== M.OPTEE_MSG_CMD_OPEN_SESSION && cmd !== M.OPTEE_MSG_CMD_CLOSE_SESSION) return;
  let back: M.MsgArg;
  try {
    back = a.driver.readArg(argIpa & ~0xfffn, 0);
  } catch {
    return; // its argument was not in its RAM
  }
  if (back.ret !== 0) return;
  if (cmd === M.OPTEE_MSG_CMD_CLOSE_SESSION) a.sessions = a.sessions.filter((s) => s !== back.session);
  else if (a.sessions.length < 8) a.sessions.push(back.session);
}

class Answer implements Cmd {
  constructor(readonly actor: number, readonly pick: number, readonly reply: I.ReplySpec) {}
  check(w: World): boolean {
    return w.actors[this.actor].pending.some((p) => w.running(p.cpu));
  }
  run(w: World): void {
    const a = w.actors[this.actor];
    const live = a.pending.filter((p) => w.running(p.cpu));
    const p = live[this.pick % live.length];
    a.pending.splice(a.pending.indexOf(p), 1);
    const g = w.guestOn(p.cpu);
    step(w, String(this), () => {
      const regs = this.reply.how === "garbage"
        ? w.smc(p.cpu, garbage(a, p.regs, this.reply))
        : w.event(`answer on CPU ${p.cpu}`, () => g.answer(p.regs, mutatedReplies(a, this.reply)));
      if (w.running(p.cpu)) stdAnswer(w, p.cpu, regs, "RETURN_FROM_RPC");
    });
  }
  toString(): string { return `answer(guest ${this.actor}, #${this.pick}, ${json(this.reply)})`; }
}

function garbage(a: Actor, regs: bigint[], r: Extract<I.ReplySpec, { how: "garbage" }>): bigint[] {
  const at = a.addr(r.a), cookie = a.cookie(r.cookie);
  const [v1, v2] = r.values.map((v) => a.value(v));
  return [BigInt(O.OPTEE_SMC_RETURN_FROM_RPC), at >> 32n, at & 0xffff_ffffn, regs[3], cookie >> 32n, cookie & 0xffff_ffffn, v1, v2];
}

function mutatedReplies(a: Actor, r: Extract<I.ReplySpec, { how: "proper" }>): RpcHooks {
  if (r.mutations.length === 0 && r.ret === null) return {};
  return {
    onCmd: (arg, g) => {
      g.handleCmd(arg);
      for (const [i, p] of r.mutations) if (i < arg.params.length) arg.params[i] = a.param(p);
      if (r.ret !== null) arg.ret = r.ret;
      return true;
    },
  };
}

/** RETURN_FROM_RPC the driver forges: any thread id, any registers. */
class Resume extends OnCpu {
  constructor(cpuPick: number, readonly thread: number, readonly regs: I.Value[]) { super(cpuPick); }
  run(w: World): void {
    const cpu = this.cpu(w), a = w.actorOn(cpu);
    const thread = BigInt(this.thread);
    a.pending = a.pending.filter((p) => p.regs[3] !== thread);
    const x = this.regs.map((v) => a.value(v));
    step(w, String(this), () => {
      const regs = w.smc(cpu, [BigInt(O.OPTEE_SMC_RETURN_FROM_RPC), x[0], x[1], thread, x[2], x[3], x[4], x[5]]);
      if (w.running(cpu)) stdAnswer(w, cpu, regs, "a forged RETURN_FROM_RPC");
    });
  }
  toString(): string { return `resume(${this.cpuPick}, thread ${this.thread}, ${json(this.regs)})`; }
}

/** The guest writes its own pages (arguments, page lists) while OP-TEE may be using what it put there. */
class Scribble implements Cmd {
  constructor(readonly actor: number, readonly page: number, readonly offset: number, readonly bytes: Uint8Array) {}
  check(w: World): boolean { return !w.actors[this.actor].off; }
  run(w: World): void {
    const a = w.actors[this.actor];
    step(w, String(this), () => a.driver.write(a.pages[this.page % I.OWN_PAGES] + BigInt(Math.min(this.offset, 4096 - this.bytes.length)), this.bytes));
  }
  toString(): string { return `scribble(guest ${this.actor}, page ${this.page}, +${this.offset}, ${this.bytes.length} bytes)`; }
}

/** PSCI SYSTEM_RESET (or SYSTEM_OFF) from one of the guest's running CPUs, whatever its calls are doing. */
class Reset implements Cmd {
  constructor(readonly actor: number, readonly off: boolean, readonly cpuPick: number) {}
  check(w: World): boolean { return w.actors[this.actor].cpus.some((c) => w.running(c)); }
  run(w: World): void {
    const a = w.actors[this.actor];
    const running = a.cpus.filter((c) => w.running(c));
    const cpu = running[this.cpuPick % running.length];
    step(w, String(this), () => w.hvc(cpu, [this.off ? PSCI_SYSTEM_OFF : PSCI_SYSTEM_RESET]));
    // The driver starts again from nothing (or never again): what it knew is gone.
    a.pending = [];
    a.sessions = [];
    if (this.off) a.off = true;
  }
  toString(): string { return `${this.off ? "off" : "reset"}(guest ${this.actor}, CPU pick ${this.cpuPick})`; }
}

class CpuOn implements Cmd {
  check(w: World): boolean { return w.running(0) && !w.running(1) && w.m.state.get(1) !== "in SMC"; }
  run(w: World): void { step(w, String(this), () => w.cpuOn()); }
  toString(): string { return "cpuOn(tee1 vCPU 1)"; }
}

/** The SMC a CPU was held in comes back now. */
class Release implements Cmd {
  constructor(readonly cpuPick: number) {}
  held(w: World): number[] { return TEE_CPUS.filter((c) => w.m.state.get(c) === "in SMC"); }
  check(w: World): boolean { return this.held(w).length > 0; }
  run(w: World): void {
    const held = this.held(w), cpu = held[this.cpuPick % held.length];
    step(w, String(this), () => {
      w.event(`release CPU ${cpu}`, () => w.m.releaseSmc(cpu));
      if (w.running(cpu)) stdAnswer(w, cpu, Array.from({ length: 8 }, (_, i) => w.m.reg(cpu, i)), "a held call");
    });
  }
  toString(): string { return `release(${this.cpuPick})`; }
}

/** An interrupt for a waiting CPU (the kick after a deferred reset is SGI 1). */
class Wake implements Cmd {
  constructor(readonly cpuPick: number, readonly intid: number) {}
  waiting(w: World): number[] { return TEE_CPUS.filter((c) => w.m.state.get(c) === "waiting"); }
  check(w: World): boolean { return this.waiting(w).length > 0; }
  run(w: World): void {
    const waiting = this.waiting(w), cpu = waiting[this.cpuPick % waiting.length];
    step(w, String(this), () => w.event(`wake CPU ${cpu}`, () => w.m.wake(cpu, this.intid)));
  }
  toString(): string { return `wake(${this.cpuPick}, ${this.intid})`; }
}

/** From now on OP-TEE takes a foreign interrupt every `period`-th chance (0: never). */
class Preempt implements Cmd {
  constructor(readonly period: number) {}
  check(): boolean { return true; }
  run(w: World): void { step(w, String(this), () => w.setPreempt(this.period)); }
  toString(): string { return `preempt(${this.period})`; }
}

/** A whole honest session from the guest: it must work whenever OP-TEE has a thread free for it. */
class Honest implements Cmd {
  constructor(readonly actor: number) {}
  check(w: World): boolean {
    const a = w.actors[this.actor];
    return w.running(a.cpus[0]) && w.m.optee.threadsOf(a.client).includes("free");
  }
  run(w: World): void {
    const a = w.actors[this.actor];
    step(w, String(this), () => stillWorks(a.on(a.cpus[0])));
  }
  toString(): string { return `honest(guest ${this.actor})`; }
}

const cpuPick = fc.nat(5);
const actor = fc.nat(1);
/** Where the argument is: mostly the start of one of its own pages, sometimes any address. */
const argWhere: fc.Arbitrary<I.Addr> = fc.oneof(
  { weight: 9, arbitrary: fc.record({ k: fc.constant("own" as const), page: fc.nat(I.OWN_PAGES - 1), offset: fc.constant(0) }) },
  { weight: 1, arbitrary: I.addr },
);

/** Every kind of input, weighted so that calls and their RPCs build up state between the resets that wipe it. */
const anyCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(cpuPick, I.fid, I.registers).map(([c, f, r]): Cmd => new FastCall(c, f, r)) },
  { weight: 30, arbitrary: fc.tuple(cpuPick, I.arg, argWhere, I.value, fc.nat(3), fc.constantFrom(0, 1, 8, 8))
    .map(([c, a, where, x7, hold, settle]): Cmd => new StdCall(c, a, where, x7, hold === 0, settle)) },
  { weight: 30, arbitrary: fc.tuple(actor, fc.nat(7), I.reply).map(([a, p, r]): Cmd => new Answer(a, p, r)) },
  { weight: 6, arbitrary: fc.tuple(cpuPick, fc.oneof(fc.nat(3), fc.nat(0xffff_ffff)), fc.array(I.value, { minLength: 6, maxLength: 6 })).map(([c, t, r]): Cmd => new Resume(c, t, r)) },
  { weight: 4, arbitrary: fc.tuple(actor, fc.nat(I.OWN_PAGES - 1), fc.nat(4095), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([a, p, o, b]): Cmd => new Scribble(a, p, o, b)) },
  { weight: 1, arbitrary: fc.tuple(actor, fc.nat(15), cpuPick).map(([a, off, c]): Cmd => new Reset(a, off === 0, c)) },
  { weight: 1, arbitrary: fc.constant<Cmd>(new CpuOn()) },
  { weight: 6, arbitrary: cpuPick.map((c): Cmd => new Release(c)) },
  { weight: 2, arbitrary: fc.tuple(cpuPick, fc.oneof(fc.constantFrom(1, 27, 219, 1023), fc.nat(1023))).map(([c, i]): Cmd => new Wake(c, i)) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, 2, 3, 7).map((p): Cmd => new Preempt(p)) },
  { weight: 2, arbitrary: actor.map((a): Cmd => new Honest(a)) },
);

export const commands: fc.Arbitrary<Cmd>[] = [anyCommand];
