/**
 * State changes of one interrupt, whoever asks for them: guest MMIO (the
 * GICD/GICR registers), device models and the timer (inject.ts), SGIs
 * (sgi.ts). Each ends with refresh(), which keeps the target vCPU's ready
 * bitmap exact, so a flush looks only at set bits instead of scanning 256
 * records on every guest entry. An interrupt is ready — waits for an LR — when
 * it is in no LR and is pending and enabled, or active: an active interrupt
 * goes back into an LR so that the guest can deactivate it.
 *
 * While an interrupt sits in an LR, its live state is in the hardware of a
 * CPU that may be running the guest right now. What the guest clears meanwhile
 * (ICPENDR, ICACTIVER, a level line going low) is recorded as a REQ_* and
 * applied to the LR at that vCPU's next flush (lr.ts). The timer's LR is never
 * edited that way: it carries the HW bit, and dropping it would leave the
 * physical PPI active for good.
 */
import { IROUTER_IRM, IROUTER_WRITABLE, VTIMER_INTID } from "./regs";
import {
  IRQ_ACTIVE, IRQ_ENABLED, IRQ_LINE, IRQ_PENDING, REQ_CLEAR_ACTIVE, REQ_CLEAR_PENDING,
  irqAt, irqFlags, irqLr, irqReq, irqTarget, setIrqFlags, setIrqReq, setIrqTarget, setReady, setRoute,
  vcpuCount,
} from "./state";

/** Recomputes whether `intid` (record `r`) waits for an LR of its target vCPU. */
export function refresh(g: u32, r: usize, intid: u32): void {
  const f = irqFlags(r);
  const wanted = (f & (IRQ_ENABLED | IRQ_PENDING)) == (IRQ_ENABLED | IRQ_PENDING) || (f & IRQ_ACTIVE) != 0;
  setReady(g, irqTarget(r), intid, wanted && irqLr(r) == 0);
}

/** Pending, enabled and in no LR: a free LR on its target would take it now. */
export function deliverable(r: usize): bool {
  return (irqFlags(r) & (IRQ_ENABLED | IRQ_PENDING)) == (IRQ_ENABLED | IRQ_PENDING) && irqLr(r) == 0;
}

@inline function editable(r: usize, intid: u32): bool {
  return irqLr(r) != 0 && intid != VTIMER_INTID;
}

export function irqEnable(g: u32, r: usize, intid: u32): void {
  setIrqFlags(r, irqFlags(r) | IRQ_ENABLED);
  refresh(g, r, intid);
}

/** A pending copy already in an LR is withdrawn at the next flush (lr.ts), and stays pending here. */
export function irqDisable(g: u32, r: usize, intid: u32): void {
  setIrqFlags(r, irqFlags(r) & ~IRQ_ENABLED);
  refresh(g, r, intid);
}

/**
 * Makes the interrupt pending (an edge, GICD_ISPENDR, a level line rising).
 * If it also sits in an LR as pending, the two merge at the next sync or
 * flush: an edge interrupt is pending at most once.
 */
export function irqSetPending(g: u32, r: usize, intid: u32): void {
  setIrqFlags(r, irqFlags(r) | IRQ_PENDING);
  setIrqReq(r, irqReq(r) & ~REQ_CLEAR_PENDING);
  refresh(g, r, intid);
}

/** GICD_ICPENDR. A level interrupt whose line is high stays pending, as on hardware. */
export function irqClearPending(g: u32, r: usize, intid: u32): void {
  const f = irqFlags(r);
  if ((f & IRQ_LINE) != 0) return;
  setIrqFlags(r, f & ~IRQ_PENDING);
  if (editable(r, intid)) setIrqReq(r, irqReq(r) | REQ_CLEAR_PENDING);
  refresh(g, r, intid);
}

/**
 * GICD_ISACTIVER. An interrupt already in an LR keeps the LR's state (we do
 * not edit a live LR to add state; Linux sets active only on interrupts it
 * forwards to its own guests, which ours do not run).
 */
export function irqSetActive(g: u32, r: usize, intid: u32): void {
  if (irqLr(r) != 0) setIrqReq(r, irqReq(r) & ~REQ_CLEAR_ACTIVE);
  else setIrqFlags(r, irqFlags(r) | IRQ_ACTIVE);
  refresh(g, r, intid);
}

export function irqClearActive(g: u32, r: usize, intid: u32): void {
  setIrqFlags(r, irqFlags(r) & ~IRQ_ACTIVE);
  if (editable(r, intid)) setIrqReq(r, irqReq(r) | REQ_CLEAR_ACTIVE);
  refresh(g, r, intid);
}

/** A level line changes: pending follows it while it is high (sync re-pends after completion). */
export function irqSetLine(g: u32, r: usize, intid: u32, high: bool): void {
  if (high) {
    setIrqFlags(r, irqFlags(r) | IRQ_LINE);
    irqSetPending(g, r, intid);
  } else {
    setIrqFlags(r, irqFlags(r) & ~IRQ_LINE);
    irqClearPending(g, r, intid);
  }
}

/**
 * GICD_IROUTER<intid> for an SPI. Routes to the vCPU whose index is Aff0
 * (our vCPUs' MPIDRs are 0.0.0.index); 1-of-N routing, another Aff2/Aff1 or
 * an Aff0 with no vCPU all go to vCPU 0. An SPI in an LR stays there until
 * it completes; it is ready on its new target afterwards.
 */
export function irqRoute(g: u32, intid: u32, value: u64): void {
  const kept = value & IROUTER_WRITABLE;
  setRoute(g, intid, kept);
  let target: u32 = 0;
  if ((kept & IROUTER_IRM) == 0 && (kept & 0xffff00) == 0 && <u32>(kept & 0xff) < vcpuCount(g)) {
    target = <u32>(kept & 0xff);
  }
  const r = irqAt(g, 0, intid);
  setReady(g, irqTarget(r), intid, false);
  setIrqTarget(r, target);
  refresh(g, r, intid);
}
