/**
 * Per-CPU state shared with the C run loop, indexed by physical CPU number.
 * With static partitioning each physical CPU runs at most one vCPU, so the
 * frame is also that vCPU's saved state. The C side saves the guest's
 * registers straight into it on every exit (boot/vectors.S), so the core
 * reads them without a copy. Mirrored in boot/include/frame.h.
 *
 *   +0x000  smc[8]    x0..x7 of an SMC the run loop performs for this CPU (results written back)
 *   +0x040  x[31]     the guest's x0..x30
 *   +0x138  pc        ELR_EL2: where the guest resumes
 *   +0x140  pstate    SPSR_EL2
 *   +0x148  esr       ESR_EL2 of the last exit
 *   +0x150  far       FAR_EL2
 *   +0x158  hpfar     HPFAR_EL2
 *   +0x160  exitKind  EXIT_* (which vector)
 *   +0x168  serving   u32: the guest whose event the core is handling (set by the core, cleared by C before
 *                     each call): a trap while serving one stops only that guest (boot/core.c)
 *   +0x180  controls  EL2 registers of this vCPU, loaded by C before the next entry
 *                     when controlsDirty != 0: hcr, vttbr, vtcr, vmpidr
 *   +0x1a0  controlsDirty
 *   +0x1c0  lr[4]     ICH_LR<n>_EL2, written before each entry, read back after each exit
 *   +0x1e0  accountKey    the exit kind (core/account.ts) the EL2 instructions since this exit count for
 *   +0x1e8  accountTable  u32: linear-memory address of this CPU's profile table; +0x1ec u32: its slot count
 *   +0x1f0  accountEvent  the PMU event C counts at EL2 (0x08 instructions, 0x11 cycles, 0: no profile)
 *   +0x1f8  accountLast   the counter at the last guest entry (C's own)
 */

/** QEMU virt with Debian's OP-TEE supports 4 cores; 8 leaves room for other boards. */
export const MAX_CPUS: u32 = 8;
export const FRAME_SIZE: u32 = 0x400;
export const SMC_REGS: u32 = 8;

export const FRAME_X0: u32 = 0x040;
export const FRAME_PC: u32 = 0x138;
export const FRAME_PSTATE: u32 = 0x140;
export const FRAME_ESR: u32 = 0x148;
export const FRAME_FAR: u32 = 0x150;
export const FRAME_HPFAR: u32 = 0x158;
export const FRAME_EXIT_KIND: u32 = 0x160;
/** u32: the guest whose event the core is handling (NO_GUEST: none); C clears it before each call, a trap reads it. */
export const FRAME_SERVING: u32 = 0x168;
export const FRAME_HCR: u32 = 0x180;
export const FRAME_VTTBR: u32 = 0x188;
export const FRAME_VTCR: u32 = 0x190;
export const FRAME_VMPIDR: u32 = 0x198;
export const FRAME_CONTROLS_DIRTY: u32 = 0x1a0;
/** u32: more interrupts wait than LRs hold: C enters with the underflow maintenance interrupt on. */
export const FRAME_LR_UNDERFLOW: u32 = 0x1a8;
export const FRAME_LR: u32 = 0x1c0;
export const FRAME_ACCOUNT_KEY: u32 = 0x1e0;
export const FRAME_ACCOUNT_TABLE: u32 = 0x1e8;
export const FRAME_ACCOUNT_SLOTS: u32 = 0x1ec;
export const FRAME_ACCOUNT_EVENT: u32 = 0x1f0;
/**
 * List-register slots in the frame (QEMU's GICv3 and the GIC-400 have 4). How many the hardware has is read
 * at boot (ICH_VTR_EL2 / GICH_VTR, core/platform.ts); the vGIC fills no more than that.
 */
export const LR_COUNT: u32 = 4;

// Exit kinds: which lower-EL vector the guest left through.
export const EXIT_SYNC: u32 = 0;
export const EXIT_IRQ: u32 = 1;
export const EXIT_FIQ: u32 = 2;
export const EXIT_SERROR: u32 = 3;

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
