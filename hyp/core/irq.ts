/**
 * Physical interrupts taken by the hypervisor (the run loop has acknowledged
 * them and dropped their priority): kicks from other CPUs, the virtual
 * timer of the guest running here, console input, the TEE's own interrupt
 * (OP-TEE's notifications, handed to the mediator), and anything unexpected.
 */
import { gicDeactivate } from "../hw/imports";
import { lineEnd, lineStart, put, putDec } from "../lib/log";
import { VTIMER_INTID } from "./layout";
import { continueCpu } from "./run";
import { guestOfCpu, vcpuOfCpu, vcpuState, VCPU_RUNNING } from "./vcpu";
import { vgicRaiseIrq } from "../vgic/exports";
import { consoleInput } from "../vdev/console-input";
import { platform } from "./platform";
import { teeInterrupt, teeKicked, teeOwnsInterrupt } from "./tee";

// KICK_SGI (sent by boot/gic_v*.c when a CPU has made work for another) and INTID_SPURIOUS: tools/abi/irq.ts.
export { KICK_SGI } from "../gen/irq";
import { INTID_SPURIOUS, KICK_SGI, MAINTENANCE_PPI } from "../gen/irq";
/**
 * The virtual interface's maintenance interrupt: asked for only as underflow (run.ts enterGuest), when
 * interrupts wait that found no free list register. The exit it causes is all it is for: the flush before the
 * next entry fills the LRs the guest has completed.
 */
export const MAINTENANCE_INTID: u32 = MAINTENANCE_PPI;

let unexpectedLogged: u32 = 0;

export function physicalInterrupt(cpu: u32, intid: u32): u32 {
  if (intid == VTIMER_INTID && vcpuState(cpu) == VCPU_RUNNING) {
    // Handed on with the HW bit: the guest's deactivation deactivates the physical PPI.
    vgicRaiseIrq(guestOfCpu(cpu), vcpuOfCpu(cpu), intid);
    return continueCpu(cpu);
  }
  if (intid == MAINTENANCE_INTID) {
    gicDeactivate(intid);
    return continueCpu(cpu);
  }
  if (intid == platform.consoleIntid) {
    consoleInput(cpu);
    return continueCpu(cpu);
  }
  if (teeOwnsInterrupt(intid)) return teeInterrupt(cpu, intid);
  // C ended a kick when it acknowledged it (boot/include/gic.h): nothing to deactivate.
  if (intid != INTID_SPURIOUS && intid != KICK_SGI) gicDeactivate(intid);
  if (intid != KICK_SGI && intid != INTID_SPURIOUS && unexpectedLogged < 8) {
    unexpectedLogged++;
    lineStart("irq");
    put("CPU "); putDec(cpu); put(": unexpected interrupt "); putDec(intid); put(" ignored");
    lineEnd();
  }
  // A kick may be the TEE's interrupt, passed on: this CPU's guest then reads its notifications here.
  return intid == KICK_SGI ? teeKicked(cpu) : continueCpu(cpu);
}
