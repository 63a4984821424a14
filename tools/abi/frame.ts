/**
 * The per-CPU frame: the only record the C run loop and the core both read and write, one per physical CPU in
 * the core's linear memory (hyp/core/percpu.ts). C saves a guest's registers straight into it on every exit
 * (boot/vectors.S, boot/guest.S) and loads them from it on every entry. The one description of its layout:
 * tools/build/abi-gen.ts writes from it boot's frame.h (offsets for assembly, struct frame for C) and the core's
 * hyp/gen/frame.ts; the Node fakes import it.
 */

export interface FrameField {
  /** Its name in C's struct frame; FRAME_<NAME> is its offset (C, assembly, the core). */
  c: string;
  /** Its name in the fakes' FRAME (default: c in camelCase). */
  js?: string;
  /** Its FRAME_ macro when not the upper-case C name. */
  macro?: string;
  offset: number;
  type: "u32" | "u64";
  /** Array length (default 1). */
  count?: number;
  doc: string;
}

export const FRAME_SIZE = 0x400;
/** x0..x7: what an SMC takes and returns. */
export const SMC_REGS = 8;
/**
 * List-register slots in the frame (QEMU's GICv3 and the GIC-400 have 4). How many the hardware has is read at
 * boot (ICH_VTR_EL2 / GICH_VTR, core/platform.ts); the vGIC fills no more than that.
 */
export const LR_COUNT = 4;

/** controls_dirty: load hcr, vttbr, vtcr and vmpidr before the next entry. */
export const CONTROLS_LOAD = 1;
/** controls_dirty: the same, and EL1 back to its reset state (MMU off): a vCPU (re)starts. */
export const CONTROLS_RESET_EL1 = 2;

export const FRAME_FIELDS: readonly FrameField[] = [
  { c: "smc", offset: 0x000, type: "u64", count: SMC_REGS, doc: "x0..x7 of an SMC the run loop performs for this CPU (results written back)" },
  { c: "x", macro: "X0", js: "x0", offset: 0x040, type: "u64", count: 31, doc: "the guest's x0..x30" },
  { c: "pc", offset: 0x138, type: "u64", doc: "ELR_EL2: where the guest resumes" },
  { c: "pstate", offset: 0x140, type: "u64", doc: "SPSR_EL2; C enters a guest only in EL0t, EL1t or EL1h (boot/guests.c)" },
  { c: "esr", offset: 0x148, type: "u64", doc: "ESR_EL2 of the last exit" },
  { c: "far", offset: 0x150, type: "u64", doc: "FAR_EL2 of the last exit" },
  { c: "hpfar", offset: 0x158, type: "u64", doc: "HPFAR_EL2 of the last exit" },
  { c: "exit_kind", offset: 0x160, type: "u64", doc: "EXIT_*: which vector the guest left through" },
  {
    c: "serving", offset: 0x168, type: "u32",
    doc: "the guest whose event the core is handling (NO_GUEST: none); C clears it before every core call, the core " +
      "sets it: a trap while serving one stops only that guest (boot/core.c)",
  },
  { c: "hcr", offset: 0x180, type: "u64", doc: "HCR_EL2 the core asks for; C forces the isolation bits (abi.h)" },
  { c: "vttbr", offset: 0x188, type: "u64", doc: "VTTBR_EL2; C loads only the guest's own, declared at boot" },
  { c: "vtcr", offset: 0x190, type: "u64", doc: "VTCR_EL2; C loads VTCR_GUEST whatever is here" },
  { c: "vmpidr", offset: 0x198, type: "u64", doc: "VMPIDR_EL2" },
  { c: "controls_dirty", offset: 0x1a0, type: "u64", doc: "1: load hcr..vmpidr before the next entry; 2: and reset EL1 (boot/vcpu.c); C clears it" },
  {
    c: "lr_underflow", offset: 0x1a8, type: "u32",
    doc: "non-zero: more interrupts wait than the LRs hold; C enters with the underflow maintenance interrupt on " +
      "(ICH_HCR_EL2.UIE / GICH_HCR.UIE), so the rest go in as soon as the guest completes all but one (core/run.ts)",
  },
  { c: "lr", offset: 0x1c0, type: "u64", count: LR_COUNT, doc: "ICH_LR<n>_EL2, written before each entry, read back after each exit" },
  { c: "account_key", offset: 0x1e0, type: "u32", doc: "the exit kind (core/account.ts) the EL2 instructions since this exit count for" },
  { c: "account_table", offset: 0x1e8, type: "u32", doc: "linear-memory address of this CPU's profile table" },
  { c: "account_slots", offset: 0x1ec, type: "u32", doc: "its slot count" },
  { c: "account_event", offset: 0x1f0, type: "u64", doc: "the PMU event C counts at EL2 (0x08 instructions, 0x11 cycles, 0: no profile)" },
  { c: "account_last", offset: 0x1f8, type: "u64", doc: "the counter at the last guest entry (C's own)" },
  { c: "lock_wait_worst", offset: 0x200, type: "u64", doc: "the longest this CPU waited for the core's lock, in generic-timer ticks (boot/core.c)" },
  { c: "lock_wait_total", offset: 0x208, type: "u64", doc: "all this CPU's waits for the core's lock, in ticks" },
  { c: "lock_wait_long", offset: 0x210, type: "u32", doc: "how many of them lasted 1 ms or more" },
  { c: "counter_hz", offset: 0x218, type: "u64", doc: "the generic timer's frequency (CNTFRQ_EL0), written by C once: ticks to time" },
];

/** Exit kinds: which lower-EL vector the guest left through. */
export const EXIT_KINDS = { EXIT_SYNC: 0, EXIT_IRQ: 1, EXIT_FIQ: 2, EXIT_SERROR: 3 } as const;

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export const frameMacro = (f: FrameField) => `FRAME_${f.macro ?? f.c.toUpperCase()}`;

/** The fakes' view: field name → offset. */
export const FRAME: Readonly<Record<string, number>> = Object.fromEntries(FRAME_FIELDS.map((f) => [f.js ?? camel(f.c), f.offset]));
