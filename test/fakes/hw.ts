/**
 * The "hw" imports of the core (hyp/hw/imports.ts), implemented for Node.
 * Like boot/glue.c, every pointer is checked against linear memory; unlike
 * it, a violation throws, so a test sees it at once.
 */

export class CorePanic extends Error {}

export class FakeHardware {
  /** Everything the core printed, line by line, without the newline. */
  readonly console: string[] = [];
  /** The boot configuration blob the loader "placed in RAM" (undefined: nothing there). */
  bootConfig: Uint8Array | undefined;
  memory: WebAssembly.Memory | undefined;
  /** Where linear memory "is" in physical memory (the board's HYP_WASM_MEM_PA on QEMU virt). */
  linearMemoryPa = 0x6080_0000n;
  /** Physical CPUs kicked, in order. */
  readonly kicks: number[] = [];
  /** Exceptions injected: the CPU, ESR_EL1 and FAR_EL1. */
  readonly injected: { cpu: number; esr: bigint; far: bigint }[] = [];
  /** Physical interrupts the core deactivated. */
  readonly deactivated: number[] = [];
  /** Bytes "typed" on the console, read by the core through consoleRead. */
  readonly typed: number[] = [];
  /** Whether the console UART's receive interrupt is unmasked. */
  consoleInputOn = true;
  /** VMIDs whose stage-2 TLB entries were invalidated. */
  readonly invalidated: number[] = [];

  imports(): WebAssembly.Imports {
    return {
      hw: {
        consoleWrite: (ptr: number, len: number) => this.consoleWrite(ptr, len),
        bootConfigCopy: (dst: number, max: number) => this.bootConfigCopy(dst, max),
        linearMemoryPa: () => this.linearMemoryPa,
        cpuEntryPa: () => 0x6000_0000n,
        kickCpu: (cpu: number) => void this.kicks.push(cpu),
        injectException: (cpu: number, esr: bigint, far: bigint) => void this.injected.push({ cpu, esr, far }),
        gicDeactivate: (intid: number) => void this.deactivated.push(intid),
        stage2Invalidate: (vmid: number) => void this.invalidated.push(vmid),
        consoleRead: () => this.typed.shift() ?? -1,
        consoleInputEnable: (on: number) => void (this.consoleInputOn = on !== 0),
        panic: (msg: number, file: number, line: number, col: number) => {
          throw new CorePanic(`core aborted: ${this.string(msg)} at ${this.string(file)}:${line}:${col}`);
        },
      },
    };
  }

  bytes(ptr: number, len: number): Uint8Array {
    const mem = new Uint8Array(this.memory!.buffer);
    if (ptr < 0 || len < 0 || ptr + len > mem.length) throw new RangeError(`core pointer ${ptr}+${len} outside linear memory`);
    return mem.subarray(ptr, ptr + len);
  }

  private consoleWrite(ptr: number, len: number): void {
    const text = Buffer.from(this.bytes(ptr, len)).toString("latin1");
    for (const line of text.split("\n").slice(0, -1)) this.console.push(line);
    if (!text.endsWith("\n")) throw new Error(`console write without a line end: ${JSON.stringify(text)}`);
  }

  private bootConfigCopy(dst: number, max: number): number {
    // Like the board: the region is always there, holding zeros when the loader put nothing in it.
    const region = new Uint8Array(4096);
    if (this.bootConfig) region.set(this.bootConfig);
    const n = Math.min(max, region.length);
    this.bytes(dst, n).set(region.subarray(0, n));
    return n;
  }

  /** An AssemblyScript string: UTF-16, byte length in the u32 before it. */
  private string(ptr: number): string {
    if (ptr === 0) return "(null)";
    const len = new DataView(this.memory!.buffer).getUint32(ptr - 4, true);
    return Buffer.from(this.bytes(ptr, len)).toString("utf16le");
  }
}
