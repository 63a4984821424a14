/**
 * The guard test's setup (test/system/guard.test.ts): three copies of the bare-metal micro-benchmark guest
 * (guest/microbench, a few iterations: seconds, not minutes), each on its own CPU and RAM. With the boot
 * configuration's test-only guard flag, the core hands C another guest's RAM at bench0's first OP-TEE call and
 * an EL2h SPSR at bench1's first; bench2 must carry on, finish and power the machine off.
 */
import type { Setup } from "../../configs/setup.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";

const MiB = 1024 * 1024;

/** Where the test puts the program with its iteration count patched in, and the empty initramfs. */
export const GUARD_KERNEL = "build/microbench/microbench-guard.bin";
export const GUARD_INITRAMFS = "build/microbench/empty-guard.initramfs";

const bench = (name: string, cpu: number, base: number, tee: boolean) => ({
  name, cpus: [cpu], ram: { base, size: 128 * MiB }, kernel: GUARD_KERNEL, initramfs: GUARD_INITRAMFS, cmdline: "", tee,
});

export const setup: Setup = {
  name: "guard",
  board: qemuVirt,
  opteeVariant: "virt",
  // bench1 needs no OP-TEE (its Trusted-OS calls are answered "unknown" by the hypervisor, and still reach the
  // mediator's entry, where the guard test plants the bad SPSR), so that the survivor bench2 can have it.
  guests: [bench("bench0", 0, 0x8000_0000, true), bench("bench1", 1, 0x8800_0000, false), bench("bench2", 2, 0x9000_0000, true)],
};

/** The guest indices the guard test hits (BootOptions.guardTest). */
export const guardTest = { foreignRam: 0, badSpsr: 1 };
