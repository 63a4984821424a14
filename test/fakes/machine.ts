/**
 * The core's .wasm (the same file the firmware is built from) on fake
 * hardware, with the C run loop (boot/runloop.c) redone in TypeScript:
 * call an export, carry out the action it answers, repeat.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FirmwareModel } from "./firmware.ts";
import { CRefusal, FakeHardware } from "./hw.ts";
import { ACTION, ACTION_GUEST_SHIFT, ACTION_KIND_MASK } from "../../tools/abi/action.ts";
import { EXIT_KINDS, FRAME as ABI_FRAME, SMC_REGS } from "../../tools/abi/frame.ts";
import { NO_GUEST } from "../../tools/abi/limits.ts";
import { OpteeModel, type SecureWorldKind } from "./optee.ts";

// Written once in tools/abi/ (boot's action.h and frame.h and the core's hyp/gen/ are generated from it).
export const { ACTION_PARK, ACTION_SMC, ACTION_RUN_GUEST, ACTION_WAIT, ACTION_LOAD_GUEST } = ACTION;
export const FRAME = ABI_FRAME;
export const { EXIT_SYNC, EXIT_IRQ } = EXIT_KINDS;

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
    this.hw.serving = () => Number(this.get(this.hw.currentCpu, FRAME.serving) & 0xffff_ffffn);
  }

  /**
   * One core call as boot/core.c makes it: the serving mark cleared first; a trap (or a refusal by C) while the
   * core serves a guest is contained (guestFault, whose own trap is not); any other trap reaches the test.
   */
  private enter(cpu: number, name: string, call: () => number): number {
    this.hw.currentCpu = cpu;
    this.hw.currentExport = name;
    this.setServing(cpu, NO_GUEST);
    try {
      return call();
    } catch (e) {
      if (!(e instanceof WebAssembly.RuntimeError || e instanceof CRefusal) || name === "guestFault") throw e;
      const g = Number(this.get(cpu, FRAME.serving) & 0xffff_ffffn);
      if (g >= NO_GUEST) throw e;
      this.faults.push({ cpu, guest: g, what: e.message });
      this.hw.currentExport = "guestFault";
      return this.core.guestFault(cpu, g);
    } finally {
      this.hw.currentExport = undefined;
    }
  }

  private setServing(cpu: number, g: number): void {
    const v = new DataView(this.core.memory.buffer);
    v.setUint32(this.core.cpuFrame(cpu) + FRAME.serving, g, true);
  }

  /**
   * boot/runloop.c's run_guest before it enters the guest: C's checks (a refusal stops that guest as after a
   * fault: the answer of guestFault), then the EL2 controls loaded as boot/vcpu.c does. Undefined: entered.
   */
  private enterGuest(cpu: number): number | undefined {
    const spsr = this.get(cpu, FRAME.pstate), dirty = this.get(cpu, FRAME.controlsDirty);
    const refused = this.hw.entryRefused(cpu, spsr, dirty, this.get(cpu, FRAME.vttbr));
    if (refused) {
      const g = this.hw.guestOf(cpu), what = `${refused.why} (0x${refused.value.toString(16)})`;
      if (g === NO_GUEST) {
        this.hw.console.push(`[hyp] cpu ${cpu}: C refused to enter a guest on a CPU that runs none: ${what}: parking`);
        return ACTION_PARK;
      }
      this.hw.console.push(`[hyp] cpu ${cpu}: C refused to enter guest ${g}: ${what}: only that guest is stopped`);
      this.faults.push({ cpu, guest: g, what: refused.why });
      return this.enter(cpu, "guestFault", () => this.core.guestFault(cpu, g));
    }
    if (dirty !== 0n) {
      this.hw.loadControls(cpu, this.get(cpu, FRAME.hcr), this.get(cpu, FRAME.vmpidr));
      this.set(cpu, FRAME.controlsDirty, 0n);
    }
    return undefined;
  }

  /** Starts `cpu` and runs its events until it parks or the machine is off. */
  boot(cpu = 0): void {
    this.run(cpu, this.enter(cpu, "cpuStart", () => this.core.cpuStart(cpu)));
  }

  /** The guest on `cpu` traps with a synchronous exception of syndrome `esr`. */
  guestSync(cpu: number, esr: bigint, far = 0n, hpfar = 0n): void {
    this.set(cpu, FRAME.esr, esr);
    this.set(cpu, FRAME.far, far);
    this.set(cpu, FRAME.hpfar, hpfar);
    this.set(cpu, FRAME.exitKind, BigInt(EXIT_SYNC));
    this.run(cpu, this.enter(cpu, "guestExit", () => this.core.guestExit(cpu, 1023)));
  }

  /** The guest on `cpu` is interrupted by physical interrupt `intid`. */
  guestIrq(cpu: number, intid: number): void {
    this.set(cpu, FRAME.exitKind, BigInt(EXIT_IRQ));
    this.run(cpu, this.enter(cpu, "guestExit", () => this.core.guestExit(cpu, intid)));
  }

  /** The SMC `cpu` was held in (holdSmc) is performed now, and the CPU goes on from its return. */
  releaseSmc(cpu: number): void {
    if (!this.heldSmc.delete(cpu)) throw new Error(`CPU ${cpu} holds no SMC`);
    this.run(cpu, ACTION_SMC);
  }

  /** A waiting CPU is woken by `intid`. */
  wake(cpu: number, intid: number): void {
    this.run(cpu, this.enter(cpu, "interrupt", () => this.core.interrupt(cpu, intid)));
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
        const refused = this.enterGuest(cpu);
        if (refused !== undefined) {
          action = refused;
          continue;
        }
        this.state.set(cpu, "guest");
        return;
      }
      if (action === ACTION_WAIT) {
        this.state.set(cpu, "waiting");
        return;
      }
      if ((action & ACTION_KIND_MASK) === ACTION_LOAD_GUEST) {
        const g = (action >> ACTION_GUEST_SHIFT) & 0xff;
        const loaded = this.hw.loadGuest(g) ? 1 : 0;
        action = this.enter(cpu, "guestLoaded", () => this.core.guestLoaded(cpu, g, loaded));
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
      action = this.enter(cpu, "smcReturned", () => this.core.smcReturned(cpu));
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
