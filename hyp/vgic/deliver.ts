/**
 * What both register front ends (v3/, v2/) ask of the interrupt model beyond
 * one interrupt's state (irq.ts): turning the distributor on, and an SGI sent
 * to a set of vCPUs. GICv3 and GICv2 encode them differently (GICD_CTLR's
 * EnableGrp1 or Enable; ICC_SGI1R_EL1 or GICD_SGIR); the effect is the same.
 */
import { irqSetPending } from "./irq";
import * as R from "./regs";
import { IRQ_ENABLED, addKick, anyReady, cpuBit, distCtlr, irqAt, irqFlags, setDistCtlr, vcpuCount } from "./state";

/**
 * Sets the distributor's enables (R.CTLR_ENABLE_GRP1 is what delivers; both
 * front ends keep their enable there). Takes effect at once. Turning it on
 * makes whatever was pending deliverable: every vCPU with something ready is
 * kicked.
 */
export function distEnablesWrite(g: u32, enables: u32): void {
  const before = distCtlr(g);
  setDistCtlr(g, enables & R.CTLR_WRITABLE);
  if ((before & R.CTLR_ENABLE_GRP1) != 0 || (enables & R.CTLR_ENABLE_GRP1) == 0) return;
  const count = vcpuCount(g);
  for (let v: u32 = 0; v < count; v++) if (anyReady(g, v)) addKick(g, v);
}

/**
 * Makes SGI `intid` (< 16) pending on each vCPU in `targets` (bit i = vCPU i,
 * already limited to the guest's vCPUs). One pending bit per SGI per target:
 * GICv2's per-source pending state is not kept (guests learn the source from
 * the CPUID of their acknowledge, which reads 0). Returns the physical CPUs to
 * kick: those of the targets on which the SGI is enabled.
 */
export function sgiSend(g: u32, targets: u32, intid: u32): u32 {
  let left = targets;
  let kicks: u32 = 0;
  while (left != 0) {
    const t = ctz<u32>(left);
    left &= left - 1;
    const r = irqAt(g, t, intid & 0xf);
    irqSetPending(g, r, intid & 0xf);
    if ((irqFlags(r) & IRQ_ENABLED) != 0) kicks |= cpuBit(g, t);
  }
  return kicks;
}
