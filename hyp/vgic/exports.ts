/**
 * The virtual GIC's Wasm exports (re-exported by main.ts): thin entries with
 * plain numbers, for the C run loop and for the unit tests. Flags are u32
 * (non-zero = true). Nothing a caller passes can make them trap: bad guest
 * or vCPU numbers, an LR array outside linear memory, and any offset, size
 * or value a guest produces are all checked by the module itself.
 */
import { vgicDistAccess } from "./v3/dist";
import { vgicDistV2Access } from "./v2/dist";
import { vgicRaise, vgicSetLevel } from "./inject";
import { vgicFlush, vgicHasPending, vgicHasUndelivered, vgicSync } from "./lr";
import { vgicRedistAccess } from "./v3/redist";
import { vgicSgi } from "./v3/sgi";
import { VGIC_MAX_VCPUS, guestLive, takeKicks, vgicInit } from "./state";

// The core's own callers (core/, trap/) use the module API under its own names.
export { vgicFlush, vgicSync } from "./lr";
export { vgicSetLevel } from "./inject";

/** A spare LR array (8 × u64) for tests, and for a caller with nowhere else to keep its LRs. */
const scratch = memory.data(8 * 8, 8);
/** vgicInitGuest's vCPU → CPU table, unpacked from its argument. */
const cpuTable = memory.data(<i32>VGIC_MAX_VCPUS, 8);

/** Linear-memory address of an 8 × u64 scratch array. */
export function vgicScratch(): usize {
  return scratch;
}

/**
 * Resets guest `guest`'s virtual GIC for `vcpuCount` vCPUs. `cpus` holds the
 * physical CPU of vCPU i in byte i (bits 8i+7..8i), as Guest.cpus does in
 * core/guest.ts. Returns 1, or 0 when refused (numbers out of range).
 */
export function vgicInitGuest(guest: u32, vcpuCount: u32, cpus: u64): u32 {
  const count = vcpuCount < VGIC_MAX_VCPUS ? vcpuCount : VGIC_MAX_VCPUS;
  for (let v: u32 = 0; v < count; v++) store<u8>(cpuTable + <usize>v, <u8>(cpus >> (<u64>v << 3)));
  return vgicInit(guest, vcpuCount, cpuTable) ? 1 : 0;
}

/** A trapped access to the distributor (offset inside its 64 KiB); returns the value read. */
export function vgicMmioDist(guest: u32, vcpu: u32, offset: u32, size: u32, isWrite: u32, value: u64): u64 {
  return vgicDistAccess(guest, vcpu, offset, size, isWrite != 0, value);
}

/** A trapped access to a GICv2 distributor (offset inside the guest's 64 KiB window); returns the value read. */
export function vgicMmioDistV2(guest: u32, vcpu: u32, offset: u32, size: u32, isWrite: u32, value: u64): u64 {
  return vgicDistV2Access(guest, vcpu, offset, size, isWrite != 0, value);
}

/** A trapped access to the redistributors (offset from the start of the whole GICR region). */
export function vgicMmioRedist(guest: u32, vcpu: u32, offset: u32, size: u32, isWrite: u32, value: u64): u64 {
  return vgicRedistAccess(guest, vcpu, offset, size, isWrite != 0, value);
}

/**
 * Physical CPUs to kick after guest MMIO writes (since the last call) made an
 * interrupt deliverable on some vCPU; clears them.
 */
export function vgicTakeKicks(guest: u32): u32 {
  return guestLive(guest) ? takeKicks(guest) : 0;
}

/** Makes `intid` pending; returns the physical CPUs to kick. */
export function vgicRaiseIrq(guest: u32, vcpu: u32, intid: u32): u32 {
  return vgicRaise(guest, vcpu, intid);
}

/** Drives a level-sensitive line; returns the physical CPUs to kick. */
export function vgicSetIrqLevel(guest: u32, vcpu: u32, intid: u32, high: u32): u32 {
  return vgicSetLevel(guest, vcpu, intid, high != 0);
}

/** A trapped write of ICC_SGI1R_EL1; returns the physical CPUs to kick. */
export function vgicSgiWrite(guest: u32, vcpu: u32, value: u64): u32 {
  return vgicSgi(guest, vcpu, value);
}

/** Before entering the guest: fills the `lrCount` LRs (u64 each) at `lrs`. */
export function vgicFlushLrs(guest: u32, vcpu: u32, lrs: usize, lrCount: u32): void {
  vgicFlush(guest, vcpu, lrs, lrCount);
}

/** After an exit: reads back the LRs at `lrs`. */
export function vgicSyncLrs(guest: u32, vcpu: u32, lrs: usize, lrCount: u32): void {
  vgicSync(guest, vcpu, lrs, lrCount);
}

/** 1 if an interrupt is pending for the vCPU (in an LR or deliverable): a WFI should not block. */
export function vgicHasPendingIrq(guest: u32, vcpu: u32): u32 {
  return vgicHasPending(guest, vcpu) ? 1 : 0;
}

/** 1 if, after a flush, interrupts wait that found no free LR. */
export function vgicHasUndeliveredIrq(guest: u32, vcpu: u32): u32 {
  return vgicHasUndelivered(guest, vcpu) ? 1 : 0;
}
