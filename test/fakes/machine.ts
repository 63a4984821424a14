/**
 * The core's .wasm (the same file the firmware is built from) on fake
 * hardware, with the C run loop (boot/runloop.c) redone in TypeScript:
 * call an export, carry out the action it answers, repeat.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FirmwareModel } from "./firmware.ts";
import { FakeHardware } from "./hw.ts";
import { OpteeModel, type SecureWorldKind } from "./optee.ts";

export const ACTION_PARK = 0;
export const ACTION_SMC = 1;
export const ACTION_RUN_GUEST = 2;
export const ACTION_WAIT = 3;
export const ACTION_LOAD_GUEST = 4;
const SMC_REGS = 8;

/** Frame offsets (hyp/core/percpu.ts). */
export const FRAME = {
  x0: 0x040, pc: 0x138, pstate: 0x140, esr: 0x148, far: 0x150, hpfar: 0x158, exitKind: 0x160, serving: 0x168,
  hcr: 0x180, vttbr: 0x188, vtcr: 0x190, vmpidr: 0x198, controlsDirty: 0x1a0, lr: 0x1c0,
} as const;
export const EXIT_SYNC = 0;
export const EXIT_IRQ = 1;

export type CpuState = "parked" | "off" | "guest" | "waiting" | "in SMC";

const WASM = join(fileURLToPath(new URL("../..", import.meta.url)), "build/hyp.wasm");
let compiled: WebAssembly.Module | undefined;

export interface CoreExports {
  memory: WebAssembly.Memory;
  cpuFrame(cpu: number): number;
  cpuStart(cpu: number): number;
  smcReturned(cpu: number): number;
  guestExit(cpu: number, intid: number): number;
  interrupt(cpu: number, intid: number): number;
  guestLoaded(cpu: number, g: number, loaded: number): number;
  guestFault(cpu: number, g: number): number;
  selfTestOutOfBounds(): number;
}

export class Machine {
  readonly hw = new FakeHardware();
  readonly optee: OpteeModel;
  readonly firmware: FirmwareModel;
  readonly core: CoreExports;
  /** The last action each CPU was given. */
  readonly state = new Map<number, CpuState>();
  /** The CPU that made each SMC, in order (the same order as the OP-TEE model's trace, for its calls). */
  readonly smcCpus: number[] = [];
  /**
   * CPUs whose next SMC stays "in the secure world" (not performed, the CPU busy in it) until releaseSmc: how a
   * test has one CPU in OP-TEE while others act.
   */
  readonly holdSmc = new Set<number>();
  private readonly heldSmc = new Set<number>();
  /** Traps boot/core.c contained: the CPU, the guest being served, the trap's message. */
  readonly faults: { cpu: number; guest: number; what: string }[] = [];

  constructor(secureWorld: SecureWorldKind = "virtualized", bootConfig?: Uint8Array) {
    compiled ??= new WebAssembly.Module(readFileSync(WASM));
    this.hw.bootConfig = bootConfig;
    this.optee = new OpteeModel(secureWorld);
    this.optee.hw = this.hw; // OP-TEE reads arguments and page lists from physical memory
    this.firmware = new FirmwareModel(this.optee);
    const instance = new WebAssembly.Instance(compiled, this.hw.imports());
    this.core = instance.exports as unknown as CoreExports;
    this.hw.memory = this.core.memory;
  }

  /**
   * One core call as boot/core.c makes it: the serving mark cleared first; a trap while the core serves a guest
   * is contained (guestFault, whose own trap is not); any other trap reaches the test.
   */
  private enter(cpu: number, call: () => number): number {
    this.hw.currentCpu = cpu;
    this.setServing(cpu, 0xff);
    try {
      return call();
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError)) throw e;
      const g = Number(this.get(cpu, FRAME.serving) & 0xffff_ffffn);
      if (g >= 0xff) throw e;
      this.faults.push({ cpu, guest: g, what: e.message });
      return this.core.guestFault(cpu, g);
    }
  }

  private setServing(cpu: number, g: number): void {
    const v = new DataView(this.core.memory.buffer);
    v.setUint32(this.core.cpuFrame(cpu) + FRAME.serving, g, true);
  }

  /** Starts `cpu` and runs its events until it parks or the machine is off. */
  boot(cpu = 0): void {
    this.run(cpu, this.enter(cpu, () => this.core.cpuStart(cpu)));
  }

  /** The guest on `cpu` traps with a synchronous exception of syndrome `esr`. */
  guestSync(cpu: number, esr: bigint, far = 0n, hpfar = 0n): void {
    this.set(cpu, FRAME.esr, esr);
    this.set(cpu, FRAME.far, far);
    this.set(cpu, FRAME.hpfar, hpfar);
    this.set(cpu, FRAME.exitKind, BigInt(EXIT_SYNC));
    this.run(cpu, this.enter(cpu, () => this.core.guestExit(cpu, 1023)));
  }

  /** The guest on `cpu` is interrupted by physical interrupt `intid`. */
  guestIrq(cpu: number, intid: number): void {
    this.set(cpu, FRAME.exitKind, BigInt(EXIT_IRQ));
    this.run(cpu, this.enter(cpu, () => this.core.guestExit(cpu, intid)));
  }

  /** The SMC `cpu` was held in (holdSmc) is performed now, and the CPU goes on from its return. */
  releaseSmc(cpu: number): void {
    if (!this.heldSmc.delete(cpu)) throw new Error(`CPU ${cpu} holds no SMC`);
    this.run(cpu, ACTION_SMC);
  }

  /** A waiting CPU is woken by `intid`. */
  wake(cpu: number, intid: number): void {
    this.run(cpu, this.enter(cpu, () => this.core.interrupt(cpu, intid)));
  }

  get(cpu: number, offset: number): bigint {
    return new DataView(this.core.memory.buffer).getBigUint64(this.core.cpuFrame(cpu) + offset, true);
  }

  set(cpu: number, offset: number, value: bigint): void {
    new DataView(this.core.memory.buffer).setBigUint64(this.core.cpuFrame(cpu) + offset, value, true);
  }

  reg(cpu: number, n: number): bigint {
    return this.get(cpu, FRAME.x0 + 8 * n);
  }

  setReg(cpu: number, n: number, value: bigint): void {
    this.set(cpu, FRAME.x0 + 8 * n, value);
  }

  private run(cpu: number, action: number): void {
    for (let steps = 0; steps < 10_000; steps++) {
      if (action === ACTION_PARK) {
        this.state.set(cpu, "parked");
        return;
      }
      if (action === ACTION_RUN_GUEST) {
        this.state.set(cpu, "guest");
        return;
      }
      if (action === ACTION_WAIT) {
        this.state.set(cpu, "waiting");
        return;
      }
      if ((action & 0xff) === ACTION_LOAD_GUEST) {
        const g = (action >> 8) & 0xff;
        const loaded = this.hw.loadGuest(g) ? 1 : 0;
        action = this.enter(cpu, () => this.core.guestLoaded(cpu, g, loaded));
        continue;
      }
      if (action !== ACTION_SMC) throw new Error(`unknown action ${action} from the core`);
      if (this.holdSmc.delete(cpu)) {
        this.heldSmc.add(cpu);
        this.state.set(cpu, "in SMC");
        return;
      }
      const regs = this.frameRegs(cpu);
      this.smcCpus.push(cpu);
      const out = this.firmware.smc(regs);
      if (this.firmware.poweredOff) {
        this.state.set(cpu, "off");
        return;
      }
      this.setFrameRegs(cpu, out);
      action = this.enter(cpu, () => this.core.smcReturned(cpu));
    }
    throw new Error("the core kept asking for SMCs: 10000 in a row");
  }

  private frameView(cpu: number): DataView {
    const at = this.core.cpuFrame(cpu);
    return new DataView(this.core.memory.buffer, at, SMC_REGS * 8);
  }

  frameRegs(cpu: number): bigint[] {
    const v = this.frameView(cpu);
    return Array.from({ length: SMC_REGS }, (_, i) => v.getBigUint64(i * 8, true));
  }

  setFrameRegs(cpu: number, regs: bigint[]): void {
    const v = this.frameView(cpu);
    regs.slice(0, SMC_REGS).forEach((r, i) => v.setBigUint64(i * 8, r, true));
  }

  /** Console lines of one subsystem, without the "[hyp] tag: " prefix. */
  lines(tag: string): string[] {
    const prefix = `[hyp] ${tag}: `;
    return this.hw.console.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }
}
