/**
 * The virtual GIC's state: one distributor per guest, one redistributor and
 * one list-register bank per vCPU, one record per interrupt. All static
 * (memory.data), laid out here and touched only through these accessors.
 *
 *   guest g (GUEST_SIZE bytes, at guestAt(g)):
 *   +0x00 u8   live       1 once vgicInit accepted the guest
 *   +0x01 u8   vcpuCount
 *   +0x04 u32  ctlr       GICD_CTLR's writable enable bits
 *   +0x08 u32  kicks      physical CPUs that guest MMIO writes made an interrupt
 *                         deliverable for, until vgicTakeKicks
 *   +0x10 u8   cpuOf[8]   physical CPU of each vCPU
 *
 *   vCPU v of guest g (VCPU_SIZE bytes, at vcpuAt(g, v)):
 *   +0x000 u32 waker      GICR_WAKER.ProcessorSleep (bit 1)
 *   +0x004 u32 lrOwned    bit i: LR i holds an interrupt the flush put there
 *   +0x008 u32 ready[8]   bit n: INTID n waits for an LR of this vCPU (irq.ts refresh)
 *   +0x028 u16 lrIntid[16] the INTID in each owned LR
 *   +0x048 u32 readyWords bit w: ready[w] != 0 (so that an exit with nothing ready costs one load)
 *   +0x050 Irq private[32] SGIs and PPIs
 *
 *   spis of guest g:   Irq[256], indexed by INTID (the first 32 unused)
 *   routes of guest g: u64[256], GICD_IROUTER<n> as written, same indexing
 *
 *   Irq (IRQ_SIZE bytes):
 *   +0 u8 flags     IRQ_*
 *   +1 u8 priority  top 5 bits kept
 *   +2 u8 lr        1 + the index of the LR holding it (in its target's bank), 0 = none
 *   +3 u8 req       REQ_*: what the guest cleared while it sat in an LR, applied at the next flush
 *   +4 u8 target    the vCPU it belongs to: the owner of an SGI/PPI, the routed vCPU of an SPI
 *
 * Interrupt state is split between the record (PENDING, ACTIVE: not in an
 * LR) and the LR (LR_PENDING, LR_ACTIVE: a copy of the LR's State as of the
 * last flush or sync); the guest sees their union (see iregs.ts).
 */
import { MAX_CPUS } from "../core/percpu";
import { lineEnd, lineStart, put, putDec, putHex } from "../lib/log";
import { PRIVATE_COUNT, SGI_COUNT, VGIC_MAX_INTID, WAKER_PROCESSOR_SLEEP } from "./regs";

/** The same limits as the partition table (core/guest.ts): 4 guests of at most 8 vCPUs. */
export const VGIC_MAX_GUESTS: u32 = 4;
export const VGIC_MAX_VCPUS: u32 = 8;

export const GUEST_SIZE: u32 = 0x20;
export const VCPU_SIZE: u32 = 0x160;
export const IRQ_SIZE: u32 = 8;
const SPIS_SIZE: u32 = VGIC_MAX_INTID * IRQ_SIZE;
const ROUTES_SIZE: u32 = VGIC_MAX_INTID * 8;
const READY_WORDS: u32 = VGIC_MAX_INTID / 32;
const READY_WORDS_AT: usize = 0x48;

export const IRQ_ENABLED: u8 = 1 << 0;
/** Pending and not in an LR (the edge latch; for a level line, set while the line is high). */
export const IRQ_PENDING: u8 = 1 << 1;
/** Active and not in an LR (set by GICD_ISACTIVER). */
export const IRQ_ACTIVE: u8 = 1 << 2;
/** The device line of a level-sensitive interrupt (vgicSetLevel) is high. */
export const IRQ_LINE: u8 = 1 << 3;
/** GICD_ICFGR says edge-triggered (what the guest configured; delivery does not depend on it). */
export const IRQ_EDGE: u8 = 1 << 4;
export const IRQ_LR_PENDING: u8 = 1 << 5;
export const IRQ_LR_ACTIVE: u8 = 1 << 6;

export const REQ_CLEAR_PENDING: u8 = 1 << 0;
export const REQ_CLEAR_ACTIVE: u8 = 1 << 1;

const guests = memory.data(<i32>(VGIC_MAX_GUESTS * GUEST_SIZE), 16);
const vcpus = memory.data(<i32>(VGIC_MAX_GUESTS * VGIC_MAX_VCPUS * VCPU_SIZE), 16);
const spis = memory.data(<i32>(VGIC_MAX_GUESTS * SPIS_SIZE), 16);
const routes = memory.data(<i32>(VGIC_MAX_GUESTS * ROUTES_SIZE), 16);

// ---- guests -----------------------------------------------------------------

@inline function guestAt(g: u32): usize {
  return guests + <usize>(g * GUEST_SIZE);
}

/** `g` names a guest vgicInit accepted. Every entry point checks this first. */
export function guestLive(g: u32): bool {
  return g < VGIC_MAX_GUESTS && load<u8>(guestAt(g)) != 0;
}

/** `g` is live and `v` is one of its vCPUs. */
export function vcpuLive(g: u32, v: u32): bool {
  return guestLive(g) && v < vcpuCount(g);
}

@inline export function vcpuCount(g: u32): u32 {
  return <u32>load<u8>(guestAt(g), 1);
}

@inline export function distCtlr(g: u32): u32 {
  return load<u32>(guestAt(g), 4);
}

@inline export function setDistCtlr(g: u32, value: u32): void {
  store<u32>(guestAt(g), value, 4);
}

/** The physical CPU bit to kick so that vCPU `v` of `g` notices a new interrupt. */
@inline export function cpuBit(g: u32, v: u32): u32 {
  return 1 << <u32>load<u8>(guestAt(g) + <usize>v, 0x10);
}

export function addKick(g: u32, v: u32): void {
  store<u32>(guestAt(g), load<u32>(guestAt(g), 8) | cpuBit(g, v), 8);
}

/** Adds physical CPUs (a mask, as sgiSend answers) to the guest's kicks. */
export function addKickCpus(g: u32, cpus: u32): void {
  store<u32>(guestAt(g), load<u32>(guestAt(g), 8) | cpus, 8);
}

export function takeKicks(g: u32): u32 {
  const kicks = load<u32>(guestAt(g), 8);
  store<u32>(guestAt(g), 0, 8);
  return kicks;
}

// ---- vCPUs ------------------------------------------------------------------

@inline export function vcpuAt(g: u32, v: u32): usize {
  return vcpus + <usize>((g * VGIC_MAX_VCPUS + v) * VCPU_SIZE);
}

@inline export function waker(g: u32, v: u32): u32 {
  return load<u32>(vcpuAt(g, v));
}

@inline export function setWaker(g: u32, v: u32, value: u32): void {
  store<u32>(vcpuAt(g, v), value);
}

@inline export function lrOwned(g: u32, v: u32): u32 {
  return load<u32>(vcpuAt(g, v), 4);
}

@inline export function setLrOwned(g: u32, v: u32, mask: u32): void {
  store<u32>(vcpuAt(g, v), mask, 4);
}

/** The ready bitmap's word `w` (< 8): INTIDs 32w..32w+31 waiting for an LR of this vCPU. */
@inline export function readyWord(g: u32, v: u32, w: u32): u32 {
  return load<u32>(vcpuAt(g, v) + <usize>(w << 2), 8);
}

export function setReady(g: u32, v: u32, intid: u32, on: bool): void {
  const w = intid >> 5;
  const at = vcpuAt(g, v) + <usize>(w << 2);
  const bit: u32 = 1 << (intid & 31);
  const word = on ? load<u32>(at, 8) | bit : load<u32>(at, 8) & ~bit;
  store<u32>(at, word, 8);
  const words = readyWords(g, v);
  store<u32>(vcpuAt(g, v), word != 0 ? words | (1 << w) : words & ~(1 << w), READY_WORDS_AT);
}

/** Bit w set: ready word w of vCPU `v` is not empty. */
@inline export function readyWords(g: u32, v: u32): u32 {
  return load<u32>(vcpuAt(g, v), READY_WORDS_AT);
}

@inline export function anyReady(g: u32, v: u32): bool {
  return readyWords(g, v) != 0;
}

/** The INTID in LR `i` (< MAX_LRS), valid while lrOwned has bit i. */
@inline export function lrIntid(g: u32, v: u32, i: u32): u32 {
  return <u32>load<u16>(vcpuAt(g, v) + <usize>(i << 1), 0x28);
}

@inline export function setLrIntid(g: u32, v: u32, i: u32, intid: u32): void {
  store<u16>(vcpuAt(g, v) + <usize>(i << 1), <u16>intid, 0x28);
}

// ---- interrupts -------------------------------------------------------------

/**
 * The record of `intid` (< VGIC_MAX_INTID) as seen by vCPU `v` (< vcpuCount):
 * its own SGI/PPI, or the guest's SPI. Both checked by the caller.
 */
export function irqAt(g: u32, v: u32, intid: u32): usize {
  if (intid < PRIVATE_COUNT) return vcpuAt(g, v) + <usize>(intid * IRQ_SIZE) + 0x50;
  return spis + <usize>(g * SPIS_SIZE + intid * IRQ_SIZE);
}

@inline export function irqFlags(r: usize): u8 {
  return load<u8>(r);
}

@inline export function setIrqFlags(r: usize, f: u8): void {
  store<u8>(r, f);
}

@inline export function irqPriority(r: usize): u8 {
  return load<u8>(r, 1);
}

@inline export function setIrqPriority(r: usize, p: u8): void {
  store<u8>(r, p, 1);
}

/** 0, or 1 + the index of the LR the interrupt sits in. */
@inline export function irqLr(r: usize): u32 {
  return <u32>load<u8>(r, 2);
}

@inline export function setIrqLr(r: usize, slot: u32): void {
  store<u8>(r, <u8>slot, 2);
}

@inline export function irqReq(r: usize): u8 {
  return load<u8>(r, 3);
}

@inline export function setIrqReq(r: usize, req: u8): void {
  store<u8>(r, req, 3);
}

@inline export function irqTarget(r: usize): u32 {
  return <u32>load<u8>(r, 4);
}

@inline export function setIrqTarget(r: usize, v: u32): void {
  store<u8>(r, <u8>v, 4);
}

/** GICD_IROUTER<intid> as the guest wrote it; `intid` is an SPI (checked by the caller). */
@inline export function route(g: u32, intid: u32): u64 {
  return load<u64>(routes + <usize>(g * ROUTES_SIZE + (intid << 3)));
}

@inline export function setRoute(g: u32, intid: u32, value: u64): void {
  store<u64>(routes + <usize>(g * ROUTES_SIZE + (intid << 3)), value);
}

// ---- reset ------------------------------------------------------------------

/**
 * Resets all of guest `g`'s virtual GIC: distributor off, every interrupt
 * disabled, idle and at priority 0, SPIs routed to vCPU 0, redistributors
 * asleep, no LR owned. `cpuOfVcpu` points to `vcpuCount` bytes: the physical
 * CPU of each vCPU. Refuses (false, one log line) a guest number, vCPU count
 * or CPU number out of range. The caller clears the LRs of the guest's CPUs
 * (their contents are forgotten here).
 */
export function vgicInit(g: u32, count: u32, cpuOfVcpu: usize): bool {
  if (g >= VGIC_MAX_GUESTS || count == 0 || count > VGIC_MAX_VCPUS) return refuse(g, count, 0);
  for (let v: u32 = 0; v < count; v++) {
    const cpu = <u32>load<u8>(cpuOfVcpu + <usize>v);
    if (cpu >= MAX_CPUS) return refuse(g, count, cpu);
  }
  memory.fill(guestAt(g), 0, GUEST_SIZE);
  memory.fill(vcpuAt(g, 0), 0, VGIC_MAX_VCPUS * VCPU_SIZE);
  memory.fill(spis + <usize>(g * SPIS_SIZE), 0, SPIS_SIZE);
  memory.fill(routes + <usize>(g * ROUTES_SIZE), 0, ROUTES_SIZE);
  store<u8>(guestAt(g), <u8>count, 1);
  for (let v: u32 = 0; v < count; v++) {
    store<u8>(guestAt(g) + <usize>v, load<u8>(cpuOfVcpu + <usize>v), 0x10);
    // Asleep, as after a reset: Linux wakes each one (gic_enable_redist).
    setWaker(g, v, WAKER_PROCESSOR_SLEEP);
    for (let intid: u32 = 0; intid < PRIVATE_COUNT; intid++) {
      const r = irqAt(g, v, intid);
      setIrqTarget(r, v);
      // SGIs are always edge-triggered (GICR_ICFGR0 is read-only).
      if (intid < SGI_COUNT) setIrqFlags(r, IRQ_EDGE);
    }
  }
  store<u8>(guestAt(g), 1);
  lineStart("vgic");
  put("guest "); putDec(g); put(": "); putDec(count); put(" vCPUs, ");
  putDec(VGIC_MAX_INTID - PRIVATE_COUNT); put(" SPIs");
  lineEnd();
  return true;
}

function refuse(g: u32, count: u32, cpu: u32): bool {
  lineStart("vgic");
  put("guest "); putDec(g); put(": refused: "); putDec(count); put(" vCPUs");
  if (cpu != 0) { put(", CPU "); putHex(cpu); }
  put(" (at most "); putDec(VGIC_MAX_GUESTS); put(" guests of "); putDec(VGIC_MAX_VCPUS);
  put(" vCPUs on CPUs below "); putDec(MAX_CPUS); put(")");
  lineEnd();
  return false;
}
