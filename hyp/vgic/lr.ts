/**
 * Delivery through the list registers (ICH_LR<n>_EL2, GICv3 format whatever
 * the hardware: boot/gic_v2.c converts to and from GICH_LR<n>). The C
 * side keeps a vCPU's LRs as an array of u64 in linear memory: it loads them
 * into the hardware before entering the guest and stores them back after an
 * exit. Around that:
 *
 *   exit → vgicSync (read back: completed LRs are freed)
 *        → … the exit's own handling …
 *        → vgicFlush (apply what the guest changed meanwhile, fill free LRs) → entry
 *
 * An LR stays with its interrupt from the flush that fills it until the sync
 * that finds it Invalid (the guest deactivated it); its index is kept both
 * ways (the record's lr field, the vCPU's lrIntid table). A flush fills free
 * LRs with the ready interrupts of highest priority (lowest value; the lower
 * INTID first on a tie); if more are ready than LRs are free, the rest wait
 * for a later exit (vgicHasUndelivered tells the caller, which may ask for
 * the underflow maintenance interrupt). An LR this module does not own and
 * that is not Invalid is left alone.
 *
 * The virtual timer (INTID 27) goes in with HW = 1 and pINTID 27, so the
 * guest's deactivation deactivates the physical PPI; we never edit or drop
 * such an LR ourselves.
 */
import { MAX_LRS, VGIC_MAX_INTID, VTIMER_INTID } from "./regs";
import * as R from "./regs";
import { refresh } from "./irq";
import { platform } from "../core/platform";
import {
  IRQ_ACTIVE, IRQ_ENABLED, IRQ_LINE, IRQ_LR_ACTIVE, IRQ_LR_PENDING, IRQ_PENDING, REQ_CLEAR_ACTIVE, REQ_CLEAR_PENDING,
  anyReady, distCtlr, irqAt, irqFlags, irqPriority, irqReq, lrIntid, lrOwned, readyWord, readyWords, setIrqFlags, setIrqLr,
  setIrqReq, setLrIntid, setLrOwned, vcpuLive,
} from "./state";

const NONE: u32 = 0xffffffff;

@inline function lrAt(lrs: usize, i: u32): usize {
  return lrs + <usize>(i << 3);
}

@inline function stateOf(lr: u64): u32 {
  return <u32>(lr >> R.LR_STATE_SHIFT);
}

/** The LR array lies inside linear memory: a bad pointer is ignored rather than trapping. */
function inMemory(lrs: usize, lrCount: u32): bool {
  const bytes = <usize>clampCount(lrCount) << 3;
  const end = <usize>memory.size() << 16;
  return lrs <= end && bytes <= end - lrs;
}

/** The LRs the caller passes, at most the hardware's (core/platform.ts: ICH_VTR_EL2 or GICH_VTR) and MAX_LRS. */
@inline function clampCount(lrCount: u32): u32 {
  const hardware = platform.listRegisters < MAX_LRS ? platform.listRegisters : MAX_LRS;
  return lrCount < hardware ? lrCount : hardware;
}

/**
 * After an exit of vCPU `v`: reads back `lrCount` LRs at `lrs`. An owned LR
 * now Invalid was completed: the interrupt leaves it (and, if it became
 * pending again meanwhile, is ready for the next flush). An owned LR still
 * Pending and/or Active stays as it is; we note its state.
 */
export function vgicSync(g: u32, v: u32, lrs: usize, lrCount: u32): void {
  // Most exits find no LR of ours in use: nothing to read back.
  if (!vcpuLive(g, v) || lrOwned(g, v) == 0 || !inMemory(lrs, lrCount)) return;
  const count = clampCount(lrCount);
  let owned = lrOwned(g, v);
  while (owned != 0) {
    const i = ctz<u32>(owned);
    owned &= owned - 1;
    if (i >= count) {
      release(g, v, i);
      continue;
    }
    const state = stateOf(load<u64>(lrAt(lrs, i)));
    if (state == 0) {
      store<u64>(lrAt(lrs, i), 0);
      retire(g, v, i);
    } else {
      note(irqAt(g, v, lrIntid(g, v, i)), state);
    }
  }
}

/**
 * Before entering vCPU `v`: applies to its owned LRs what changed since they
 * were filled (ICPENDR, ICACTIVER, a level line falling, the interrupt being
 * disabled while still only pending), then fills free LRs with the ready
 * interrupts of highest priority, if the guest's distributor has Group 1 on.
 */
export function vgicFlush(g: u32, v: u32, lrs: usize, lrCount: u32): void {
  // Most entries find no LR of ours in use and nothing waiting: nothing to do.
  if (!vcpuLive(g, v) || (lrOwned(g, v) | readyWords(g, v)) == 0 || !inMemory(lrs, lrCount)) return;
  const count = clampCount(lrCount);
  let owned = lrOwned(g, v);
  while (owned != 0) {
    const i = ctz<u32>(owned);
    owned &= owned - 1;
    if (i >= count) release(g, v, i);
    else reconcile(g, v, lrAt(lrs, i), i);
  }
  if ((distCtlr(g) & R.CTLR_ENABLE_GRP1) == 0) return;
  for (let i: u32 = 0; i < count; i++) {
    if ((lrOwned(g, v) & (1 << i)) != 0 || stateOf(load<u64>(lrAt(lrs, i))) != 0) continue;
    const intid = best(g, v);
    if (intid == NONE) break;
    fill(g, v, lrAt(lrs, i), i, intid);
  }
}

/**
 * Something is pending for vCPU `v`: in one of its LRs, or ready and
 * deliverable (enabled, Group 1 on). What a trapped WFI asks before it
 * blocks the vCPU.
 */
export function vgicHasPending(g: u32, v: u32): bool {
  if (!vcpuLive(g, v)) return false;
  let owned = lrOwned(g, v);
  while (owned != 0) {
    const i = ctz<u32>(owned);
    owned &= owned - 1;
    if ((irqFlags(irqAt(g, v, lrIntid(g, v, i))) & IRQ_LR_PENDING) != 0) return true;
  }
  if ((distCtlr(g) & R.CTLR_ENABLE_GRP1) == 0) return false;
  let words = readyWords(g, v);
  while (words != 0) {
    const w = ctz<u32>(words);
    words &= words - 1;
    let bits = readyWord(g, v, w);
    while (bits != 0) {
      const intid = (w << 5) + ctz<u32>(bits);
      bits &= bits - 1;
      const f = irqFlags(irqAt(g, v, intid));
      if ((f & (IRQ_ENABLED | IRQ_PENDING)) == (IRQ_ENABLED | IRQ_PENDING)) return true;
    }
  }
  return false;
}

/** After a flush: interrupts are ready that found no free LR (worth an underflow maintenance interrupt). */
export function vgicHasUndelivered(g: u32, v: u32): bool {
  return vcpuLive(g, v) && (distCtlr(g) & R.CTLR_ENABLE_GRP1) != 0 && anyReady(g, v);
}

/**
 * The ready interrupt of `v` with the highest priority, or NONE. Ties go to
 * the lowest INTID: SGIs, then PPIs, then SPIs.
 */
function best(g: u32, v: u32): u32 {
  let found = NONE;
  let top: u32 = 0x100;
  let words = readyWords(g, v);
  while (words != 0) {
    const w = ctz<u32>(words);
    words &= words - 1;
    let bits = readyWord(g, v, w);
    while (bits != 0) {
      const intid = (w << 5) + ctz<u32>(bits);
      bits &= bits - 1;
      const p = <u32>irqPriority(irqAt(g, v, intid));
      if (p < top) {
        top = p;
        found = intid;
      }
    }
  }
  return found;
}

/** Puts ready `intid` into free LR `i` at `slot`: pending if pending and enabled, active if active. */
function fill(g: u32, v: u32, slot: usize, i: u32, intid: u32): void {
  const r = irqAt(g, v, intid);
  const f = irqFlags(r);
  let state: u32 = 0;
  let left = f;
  if ((f & IRQ_ACTIVE) != 0) {
    state |= R.LR_STATE_ACTIVE;
    left &= ~IRQ_ACTIVE;
  }
  // A HW interrupt is never Pending and Active at once: its pending state stays here until it is deactivated.
  const pendingOk = (f & (IRQ_ENABLED | IRQ_PENDING)) == (IRQ_ENABLED | IRQ_PENDING);
  if (pendingOk && !(intid == VTIMER_INTID && state != 0)) {
    state |= R.LR_STATE_PENDING;
    left &= ~IRQ_PENDING;
  }
  let lr = <u64>intid | (<u64>irqPriority(r) << R.LR_PRIORITY_SHIFT) | R.LR_GROUP1 | (<u64>state << R.LR_STATE_SHIFT);
  if (intid == VTIMER_INTID) lr |= R.LR_HW | (<u64>VTIMER_INTID << R.LR_PINTID_SHIFT);
  store<u64>(slot, lr);
  setLrOwned(g, v, lrOwned(g, v) | (1 << i));
  setLrIntid(g, v, i, intid);
  setIrqLr(r, i + 1);
  setIrqReq(r, 0);
  setIrqFlags(r, left);
  note(r, state);
  refresh(g, r, intid);
}

/** Brings owned LR `i` up to date with the record before an entry. */
function reconcile(g: u32, v: u32, slot: usize, i: u32): void {
  const intid = lrIntid(g, v, i);
  const r = irqAt(g, v, intid);
  const lr = load<u64>(slot);
  let state = stateOf(lr);
  if (state != 0 && intid != VTIMER_INTID) {
    const req = irqReq(r);
    if ((req & REQ_CLEAR_PENDING) != 0) state &= ~R.LR_STATE_PENDING;
    if ((req & REQ_CLEAR_ACTIVE) != 0) state &= ~R.LR_STATE_ACTIVE;
    // Disabled while only pending: take it back; it stays pending, undelivered, until enabled.
    if ((state & R.LR_STATE_PENDING) != 0 && (irqFlags(r) & IRQ_ENABLED) == 0) {
      state &= ~R.LR_STATE_PENDING;
      setIrqFlags(r, irqFlags(r) | IRQ_PENDING);
    }
    setIrqReq(r, 0);
    store<u64>(slot, state == 0 ? 0 : (lr & R.LR_STATE_CLEAR) | (<u64>state << R.LR_STATE_SHIFT));
  }
  if (state == 0) {
    store<u64>(slot, 0);
    retire(g, v, i);
  } else {
    note(r, state);
  }
}

/**
 * Records an owned LR's state. An LR still pending absorbs the record's
 * pending latch: an edge that came while the guest had not yet taken the
 * first one is the same edge.
 */
function note(r: usize, state: u32): void {
  let f = irqFlags(r) & ~(IRQ_LR_PENDING | IRQ_LR_ACTIVE);
  if ((state & R.LR_STATE_PENDING) != 0) f = (f | IRQ_LR_PENDING) & ~IRQ_PENDING;
  if ((state & R.LR_STATE_ACTIVE) != 0) f |= IRQ_LR_ACTIVE;
  setIrqFlags(r, f);
}

/** LR `i` is free again; a level interrupt whose line is still high is pending once more. */
function retire(g: u32, v: u32, i: u32): void {
  const intid = lrIntid(g, v, i);
  const r = irqAt(g, v, intid);
  let f = irqFlags(r) & ~(IRQ_LR_PENDING | IRQ_LR_ACTIVE);
  if ((f & IRQ_LINE) != 0) f |= IRQ_PENDING;
  setIrqFlags(r, f);
  setIrqLr(r, 0);
  setIrqReq(r, 0);
  setLrOwned(g, v, lrOwned(g, v) & ~(1 << i));
  refresh(g, r, intid);
}

/**
 * The caller now passes fewer LRs than we filled: LR `i` is lost to us. Its
 * interrupt goes back to waiting, keeping its last known state.
 */
function release(g: u32, v: u32, i: u32): void {
  const r = irqAt(g, v, lrIntid(g, v, i));
  const f = irqFlags(r);
  let back: u8 = 0;
  if ((f & IRQ_LR_PENDING) != 0) back |= IRQ_PENDING;
  if ((f & IRQ_LR_ACTIVE) != 0) back |= IRQ_ACTIVE;
  setIrqFlags(r, f | back);
  retire(g, v, i);
}
