/**
 * The per-exit profile: every EL2 stint (from a guest's exit to its next entry) is counted for one *kind* of
 * exit, named here by the core as it handles the exit, and measured by C (boot/pmu.c) with a PMU counter that
 * runs only at EL2. Naming a kind is one store into the CPU's frame; C adds the stint to this CPU's table just
 * before it enters the guest again, outside the core's lock (only this CPU writes its table). core/profile.ts
 * prints the tables per guest.
 *
 * A kind is a u32 key, never 0 (0 is "nothing named": the stint is dropped):
 *
 *   31..28  class: KIND_HVC, KIND_SMC, KIND_MMIO, KIND_IABT, KIND_SYSREG, KIND_WFX, KIND_IRQ, KIND_OTHER
 *   HVC/SMC:  27..24 OP-TEE message command + 1 (CALL_WITH_ARG), 23 fast call, 22 a memref parameter,
 *             21..16 SMCCC owner, 15..8 page-count bucket (REGISTER_SHM), 7..0 function number
 *             (all 16 bits of it for fast calls: CALLS_UID is 0xff01)
 *   MMIO:     27..24 device (MMIO_DEV_*), 23 write, 19..0 register offset in the device (per redistributor)
 *   SYSREG:   21..0 the ESR's system-register key and direction
 *   IRQ:      9..0 the physical INTID          OTHER: 5..0 the ESR's exception class
 */
import { FRAME_ACCOUNT_KEY, FRAME_ACCOUNT_SLOTS, FRAME_ACCOUNT_TABLE, frameOf, MAX_CPUS } from "./percpu";

export const KIND_HVC: u32 = 1;
export const KIND_SMC: u32 = 2;
export const KIND_MMIO: u32 = 3;
export const KIND_IABT: u32 = 4;
export const KIND_SYSREG: u32 = 5;
export const KIND_WFX: u32 = 6;
export const KIND_IRQ: u32 = 7;
export const KIND_OTHER: u32 = 8;
export const KIND_SHIFT: u32 = 28;

export const MMIO_DEV_NONE: u32 = 0;
export const MMIO_DEV_GICD: u32 = 1;
export const MMIO_DEV_GICR: u32 = 2;
export const MMIO_DEV_PL011: u32 = 3;

/**
 * Slots per CPU: the kinds one vCPU's exits fall into. Linux booting touches ~150 distinct GIC and UART
 * registers, each its own kind; 128 filled up. A power of two.
 */
export const ACCOUNT_SLOTS: u32 = 256;
// A slot (key u32, count u32, total u64; boot/pmu.c's struct account_entry): tools/abi/account.ts.
export { ACCOUNT_ENTRY } from "../gen/account";
import { ACCOUNT_ENTRY } from "../gen/account";

const tables = memory.data(<i32>(MAX_CPUS * ACCOUNT_SLOTS * ACCOUNT_ENTRY), 16);

/** Linear-memory address of `cpu`'s table. */
@inline export function accountTable(cpu: u32): usize {
  return tables + <usize>(cpu * ACCOUNT_SLOTS * ACCOUNT_ENTRY);
}

/** Tells C where `cpu`'s table is (once, at cpuStart). */
export function accountInit(cpu: u32): void {
  store<u32>(frameOf(cpu) + FRAME_ACCOUNT_TABLE, <u32>accountTable(cpu));
  store<u32>(frameOf(cpu) + FRAME_ACCOUNT_SLOTS, ACCOUNT_SLOTS);
}

/** Names the kind the current EL2 stint on `cpu` counts for. */
@inline export function accountSet(cpu: u32, key: u32): void {
  store<u32>(frameOf(cpu) + FRAME_ACCOUNT_KEY, key);
}

@inline export function accountGet(cpu: u32): u32 {
  return load<u32>(frameOf(cpu) + FRAME_ACCOUNT_KEY);
}

/** The key of an HVC or SMC with function id `fid`. */
export function smcccKind(kind: u32, fid: u32): u32 {
  return (kind << KIND_SHIFT) | ((fid >> 31) << 23) | (((fid >> 24) & 0x3f) << 16) | (fid & 0xffff);
}

/** Refines a CALL_WITH_ARG stint with its message: command, whether it carries a memref, the pages it registers. */
export function accountMessage(cpu: u32, cmd: u32, hasMemref: bool, pages: u32): void {
  const key = accountGet(cpu);
  if (key >> KIND_SHIFT != KIND_HVC && key >> KIND_SHIFT != KIND_SMC) return;
  const refined = (key & 0xf0ff00ff) | (((cmd + 1) & 0xf) << 24) | ((hasMemref ? 1 : 0) << 22) | (pageBucket(pages) << 8);
  accountSet(cpu, refined);
}

/** 0 for no pages; else 1 + ceil(log2(pages)): 1 page → 1, 2 → 2, 16 → 5, 256 → 9 (at most 33). */
export function pageBucket(pages: u32): u32 {
  if (pages == 0) return 0;
  return 1 + (32 - clz<u32>(pages - 1));
}

/**
 * A GIC register offset as the profile counts it: registers that come one per group of INTIDs (IGROUPR,
 * IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER, IPRIORITYR, ITARGETSR, ICFGR at 0x080-0xcff of the distributor or of a
 * redistributor's SGI frame at +0x10000; IROUTER at 0x6100-0x7fdf) are counted by their 128-byte block, so that
 * Linux setting up 224 SPIs makes a dozen kinds, not hundreds.
 */
export function gicRegisterGroup(offset: u32): u32 {
  if (offset >= 0x6100 && offset < 0x8000) return 0x6100;
  const frame = offset & 0x10000;
  const inFrame = offset & 0xffff;
  if (inFrame >= 0x80 && inFrame < 0xd00) return frame | (inFrame & ~<u32>0x7f);
  return offset;
}

export function mmioKind(device: u32, write: bool, offset: u32): u32 {
  return (KIND_MMIO << KIND_SHIFT) | (device << 24) | ((write ? 1 : 0) << 23) | (offset & 0xfffff);
}
