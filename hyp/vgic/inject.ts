/**
 * Interrupts from outside the guest: the hypervisor's device models and the
 * physical timer PPI it forwards. Each answers the physical CPUs to kick
 * (interrupt) so that the target vCPU, possibly running on another CPU right
 * now, exits and takes the interrupt at its next flush. The bit of the
 * calling CPU may be in the mask; the caller skips it, since it flushes
 * before it enters its own guest again.
 */
import { PRIVATE_COUNT, VGIC_MAX_INTID } from "./regs";
import { irqSetLine, irqSetPending } from "./irq";
import { IRQ_ENABLED, cpuBit, guestLive, irqAt, irqFlags, irqTarget, vcpuLive } from "./state";

/**
 * Makes `intid` pending: an SGI or PPI of vCPU `v`, or an SPI (then `v` is
 * ignored and the SPI's routing decides). Edge semantics: a second raise
 * before the guest takes the first is the same interrupt. Returns the CPU
 * of the target vCPU if the interrupt is enabled, else 0 (it stays pending
 * until the guest enables it). Bad numbers: 0, nothing changes.
 */
export function vgicRaise(g: u32, v: u32, intid: u32): u32 {
  const r = irqOf(g, v, intid);
  if (r == 0) return 0;
  irqSetPending(g, r, intid);
  return kickFor(g, r);
}

/**
 * Drives a level-sensitive line (the virtual UART): while it is high the
 * interrupt is pending, and it becomes pending again after each completion;
 * when it falls, a pending copy the guest has not taken yet is withdrawn.
 * Returns the CPU to kick when the line rises on an enabled interrupt.
 */
export function vgicSetLevel(g: u32, v: u32, intid: u32, high: bool): u32 {
  const r = irqOf(g, v, intid);
  if (r == 0) return 0;
  irqSetLine(g, r, intid, high);
  return high ? kickFor(g, r) : 0;
}

/** The vCPU guest g's distributor routes SPI `intid` to (0 for anything that does not exist). */
export function vgicSpiTarget(g: u32, intid: u32): u32 {
  if (intid < PRIVATE_COUNT || intid >= VGIC_MAX_INTID || !guestLive(g)) return 0;
  return irqTarget(irqAt(g, 0, intid));
}

/** The record `intid` names for vCPU `v`, or 0 if the guest, vCPU or INTID does not exist. */
function irqOf(g: u32, v: u32, intid: u32): usize {
  if (intid >= VGIC_MAX_INTID) return 0;
  if (intid < PRIVATE_COUNT) return vcpuLive(g, v) ? irqAt(g, v, intid) : 0;
  return guestLive(g) ? irqAt(g, 0, intid) : 0;
}

function kickFor(g: u32, r: usize): u32 {
  return (irqFlags(r) & IRQ_ENABLED) != 0 ? cpuBit(g, irqTarget(r)) : 0;
}
