/**
 * Per-CPU state shared with the C run loop, indexed by physical CPU number.
 * With static partitioning each physical CPU runs at most one vCPU, so the
 * frame is also that vCPU's saved state. The C side saves the guest's
 * registers straight into it on every exit (boot/vectors.S), so the core
 * reads them without a copy.
 *
 * Its layout (smc[8], x[31], pc, pstate, esr, far, hpfar, exit kind, the guest being served, the EL2 controls
 * C loads before an entry, the list registers, the per-exit profile) is written once, with what each field
 * means, in tools/abi/frame.ts: hyp/gen/frame.ts here and boot's frame.h are generated from it.
 */

export * from "../gen/frame";
export { MAX_CPUS } from "../gen/limits";
import { FRAME_SERVING, FRAME_SIZE, FRAME_X0 } from "../gen/frame";
import { MAX_CPUS } from "../gen/limits";

const frames = memory.data(<i32>(MAX_CPUS * FRAME_SIZE), 64);

/** Linear-memory address of a CPU's frame. `cpu` has been checked by the caller. */
@inline export function frameOf(cpu: u32): usize {
  return frames + <usize>(cpu * FRAME_SIZE);
}

@inline export function smcReg(cpu: u32, n: u32): u64 {
  return load<u64>(frameOf(cpu) + <usize>(n << 3));
}

@inline export function setSmcReg(cpu: u32, n: u32, value: u64): void {
  store<u64>(frameOf(cpu) + <usize>(n << 3), value);
}

/** Loads a whole SMC request: x0 = function id, x1, x2, x3 and x7 as given, the rest 0. */
export function setSmc(cpu: u32, fid: u32, a1: u64, a2: u64, a7: u64, a3: u64 = 0): void {
  setSmcReg(cpu, 0, <u64>fid);
  setSmcReg(cpu, 1, a1);
  setSmcReg(cpu, 2, a2);
  setSmcReg(cpu, 3, a3);
  for (let n: u32 = 4; n < 7; n++) setSmcReg(cpu, n, 0);
  setSmcReg(cpu, 7, a7);
}

/** The guest's register xN (n ≤ 30; x31 is xzr in the instructions that name it, and reads as 0). */
@inline export function guestReg(cpu: u32, n: u32): u64 {
  return n < 31 ? load<u64>(frameOf(cpu) + FRAME_X0 + <usize>(n << 3)) : 0;
}

@inline export function setGuestReg(cpu: u32, n: u32, value: u64): void {
  if (n < 31) store<u64>(frameOf(cpu) + FRAME_X0 + <usize>(n << 3), value);
}

@inline export function frameGet(cpu: u32, offset: u32): u64 {
  return load<u64>(frameOf(cpu) + <usize>offset);
}

@inline export function frameSet(cpu: u32, offset: u32, value: u64): void {
  store<u64>(frameOf(cpu) + <usize>offset, value);
}

/** The core is handling an event of guest g on `cpu`: a trap from here on costs g only (boot/core.c). */
@inline export function setServing(cpu: u32, g: u32): void {
  store<u32>(frameOf(cpu) + FRAME_SERVING, g);
}
