/**
 * Physical interrupts taken by the hypervisor (the run loop has acknowledged
 * them and dropped their priority): kicks from other CPUs, the virtual
 * timer of the guest running here, console input, OP-TEE's notification
 * interrupt, and anything unexpected.
 */
import { gicDeactivate } from "../hw/imports";
import { lineEnd, lineStart, put, putDec } from "../lib/log";
import { VTIMER_INTID } from "./layout";
import { continueCpu } from "./run";
import { guestOfCpu, vcpuOfCpu, vcpuState, VCPU_RUNNING } from "./vcpu";
import { vgicRaiseIrq } from "../vgic/exports";
import { consoleInput } from "../vdev/console-input";
import { platform } from "./platform";
import { CFG_CORE_ASYNC_NOTIF_GIC_INTID, notifDrainHere, notifInterrupt } from "../tee/optee/mediator/drain";

/** The SGI one CPU sends another when it has made work for it (boot/gic.c sends it). */
export const KICK_SGI: u32 = 1;
/** Spurious: nothing was pending by the time it was acknowledged. */
const INTID_SPURIOUS: u32 = 1023;

let unexpectedLogged: u32 = 0;

export function physicalInterrupt(cpu: u32, intid: u32): u32 {
  if (intid == VTIMER_INTID && vcpuState(cpu) == VCPU_RUNNING) {
    // Handed on with the HW bit: the guest's deactivation deactivates the physical PPI.
    vgicRaiseIrq(guestOfCpu(cpu), vcpuOfCpu(cpu), intid);
    return continueCpu(cpu);
  }
  if (intid == platform.consoleIntid) {
    consoleInput(cpu);
    return continueCpu(cpu);
  }
  if (intid == CFG_CORE_ASYNC_NOTIF_GIC_INTID) return notifInterrupt(cpu);
  if (intid != INTID_SPURIOUS) gicDeactivate(intid);
  if (intid != KICK_SGI && intid != INTID_SPURIOUS && unexpectedLogged < 8) {
    unexpectedLogged++;
    lineStart("irq");
    put("CPU "); putDec(cpu); put(": unexpected interrupt "); putDec(intid); put(" ignored");
    lineEnd();
  }
  // A kick may be the notification interrupt, passed on: this CPU's guest then reads its values here.
  return intid == KICK_SGI ? notifDrainHere(cpu) : continueCpu(cpu);
}
