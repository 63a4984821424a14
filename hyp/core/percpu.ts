/**
 * Per-CPU state shared with the C run loop, indexed by physical CPU number.
 *
 *   frame (FRAME_SIZE bytes per CPU, at frameOf(cpu)):
 *   +0x000  smc[8]   x0..x7 of the SMC the run loop performs for this CPU;
 *                    the results are written back in place
 *   +0x040  (free: the guest's registers go here once guests run)
 *
 * The C side finds a frame through the cpuFrame export and range-checks it
 * once; the layout is mirrored in boot/include/frame.h.
 */

/** QEMU virt with Debian's OP-TEE supports 4 cores; 8 leaves room for other boards. */
export const MAX_CPUS: u32 = 8;
export const FRAME_SIZE: u32 = 0x200;
export const SMC_REGS: u32 = 8;

const frames = memory.data(<i32>(MAX_CPUS * FRAME_SIZE), 16);

/** Linear-memory address of a CPU's frame. `cpu` has been checked by the caller. */
export function frameOf(cpu: u32): usize {
  return frames + <usize>(cpu * FRAME_SIZE);
}

@inline export function smcReg(cpu: u32, n: u32): u64 {
  return load<u64>(frameOf(cpu) + <usize>(n << 3));
}

@inline export function setSmcReg(cpu: u32, n: u32, value: u64): void {
  store<u64>(frameOf(cpu) + <usize>(n << 3), value);
}

/** Loads a whole SMC request: x0 = function id, x1..x7 as given, the rest 0. */
export function setSmc(cpu: u32, fid: u32, a1: u64, a2: u64, a7: u64): void {
  setSmcReg(cpu, 0, <u64>fid);
  setSmcReg(cpu, 1, a1);
  setSmcReg(cpu, 2, a2);
  for (let n: u32 = 3; n < 7; n++) setSmcReg(cpu, n, 0);
  setSmcReg(cpu, 7, a7);
}
