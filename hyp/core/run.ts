/**
 * Getting a CPU back into its guest, or out of the way: what every event
 * handler ends with. A guest's start, end and restart are in lifecycle.ts.
 */
import { ACTION_PARK, ACTION_RUN_GUEST, ACTION_WAIT } from "./action";
import { guestAt, guestCount, guestNamePtr, GUEST_RESTARTING, GUEST_RUNNING, MAX_GUESTS } from "./guest";
import { FRAME_LR, FRAME_LR_UNDERFLOW, frameOf, LR_COUNT } from "./percpu";
import { requestPowerOff } from "./smcowner";
import * as V from "./vcpu";
import { lineEnd, lineStartGuest, put } from "../lib/log";
import { vgicFlushLrs, vgicHasUndeliveredIrq } from "../vgic/exports";
import { CONSOLE_CPU } from "../vdev/console-input";
import { restartReportAll } from "./restart-time";
import { profileReportAll } from "./profile";
import { emptyWakeReport } from "./idle-wakes";
import { lockWaitReport } from "./lock-wait";

/**
 * Lets the vCPU on `cpu` run: queues its pending virtual interrupts in the list registers first. If more wait
 * than the LRs hold, C enters with the underflow maintenance interrupt on: the vCPU exits as soon as it has
 * completed all but one, and the rest go in then rather than at some unrelated later exit.
 */
export function enterGuest(cpu: u32): u32 {
  const g = V.guestOfCpu(cpu), v = V.vcpuOfCpu(cpu);
  vgicFlushLrs(g, v, frameOf(cpu) + FRAME_LR, LR_COUNT);
  store<u32>(frameOf(cpu) + FRAME_LR_UNDERFLOW, vgicHasUndeliveredIrq(g, v));
  return ACTION_RUN_GUEST;
}

/** What `cpu` does now that its event is handled: run its vCPU, wait for one, or park. */
export function continueCpu(cpu: u32): u32 {
  const s = V.vcpuState(cpu);
  if (s == V.VCPU_RUNNING) return enterGuest(cpu);
  if (s == V.VCPU_STARTING) {
    V.setVcpuState(cpu, V.VCPU_RUNNING);
    guestAt(V.guestOfCpu(cpu)).vcpusOn++;
    return enterGuest(cpu);
  }
  if (s == V.VCPU_OFF) return ACTION_WAIT;
  // Without a vCPU to run, a CPU parks for good, except the one that serves console input.
  return cpu == CONSOLE_CPU ? ACTION_WAIT : ACTION_PARK;
}

/** vCPU on `cpu` stops (PSCI CPU_OFF); its guest is off when it was the last one. */
export function vcpuStop(cpu: u32): void {
  const g = V.guestOfCpu(cpu);
  if (V.vcpuState(cpu) == V.VCPU_RUNNING) guestAt(g).vcpusOn--;
  V.setVcpuState(cpu, V.VCPU_OFF);
}

/** Guest g is off: `cpu` goes on with its own work, or powers the machine off after the last guest. */
export function afterGuestStop(g: u32, cpu: u32): u32 {
  for (let i: u32 = 0; i < guestCount() && i < MAX_GUESTS; i++) {
    const state = guestAt(i).state;
    if (state == GUEST_RUNNING || state == GUEST_RESTARTING) return continueCpu(cpu);
  }
  lineStartGuest("guest", guestNamePtr(g));
  put("was the last guest running: powering the machine off");
  lineEnd();
  restartReportAll();
  emptyWakeReport();
  lockWaitReport();
  profileReportAll();
  return requestPowerOff(cpu);
}
