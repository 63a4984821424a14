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
const SMC_REGS = 8;

const WASM = join(fileURLToPath(new URL("../..", import.meta.url)), "build/hyp.wasm");
let compiled: WebAssembly.Module | undefined;

export interface CoreExports {
  memory: WebAssembly.Memory;
  cpuFrame(cpu: number): number;
  cpuStart(cpu: number): number;
  smcReturned(cpu: number): number;
  selfTestOutOfBounds(): number;
}

export class Machine {
  readonly hw = new FakeHardware();
  readonly optee: OpteeModel;
  readonly firmware: FirmwareModel;
  readonly core: CoreExports;
  /** The last action each CPU was given. */
  readonly state = new Map<number, "parked" | "off">();

  constructor(secureWorld: SecureWorldKind = "virtualized", bootConfig?: Uint8Array) {
    compiled ??= new WebAssembly.Module(readFileSync(WASM));
    this.hw.bootConfig = bootConfig;
    this.optee = new OpteeModel(secureWorld);
    this.firmware = new FirmwareModel(this.optee);
    const instance = new WebAssembly.Instance(compiled, this.hw.imports());
    this.core = instance.exports as unknown as CoreExports;
    this.hw.memory = this.core.memory;
  }

  /** Starts `cpu` and runs its events until it parks or the machine is off. */
  boot(cpu = 0): void {
    this.run(cpu, this.core.cpuStart(cpu));
  }

  private run(cpu: number, action: number): void {
    for (let steps = 0; steps < 10_000; steps++) {
      if (action === ACTION_PARK) {
        this.state.set(cpu, "parked");
        return;
      }
      if (action !== ACTION_SMC) throw new Error(`unknown action ${action} from the core`);
      const regs = this.frameRegs(cpu);
      const out = this.firmware.smc(regs);
      if (this.firmware.poweredOff) {
        this.state.set(cpu, "off");
        return;
      }
      this.setFrameRegs(cpu, out);
      action = this.core.smcReturned(cpu);
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
