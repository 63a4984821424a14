/**
 * Getting a CPU back into its guest, or out of the way: what every event
 * handler ends with. Guest lifecycle (start, vCPU on/off, guest off) lives
 * here too, because it decides what each CPU does next.
 */
import { ACTION_PARK, ACTION_RUN_GUEST, ACTION_WAIT } from "./action";
import { guestAt, guestCount, guestNamePtr, cpuOfVcpu, GUEST_OFF, GUEST_RUNNING, MAX_GUESTS } from "./guest";
import { FRAME_LR, frameOf, LR_COUNT } from "./percpu";
import { requestPowerOff, requestSmc, SMC_OWNER_VM_DESTROYED } from "./smcowner";
import { MAX_CPUS } from "./percpu";
import { loadVmDestroyed } from "../tee/optee/mediator/clients";
import { teeGuestForget } from "../tee/optee/mediator/index";
import * as V from "./vcpu";
import { kickCpu } from "../hw/imports";
import { lineEnd, lineStartGuest, put, putDec, putHex } from "../lib/log";
import { vgicFlushLrs } from "../vgic/exports";
import { CONSOLE_CPU } from "../vdev/console-input";
import { profileReportAll } from "./profile";

/** Lets the vCPU on `cpu` run: queues its pending virtual interrupts in the list registers first. */
export function enterGuest(cpu: u32): u32 {
  vgicFlushLrs(V.guestOfCpu(cpu), V.vcpuOfCpu(cpu), frameOf(cpu) + FRAME_LR, LR_COUNT);
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

/** Starts guest g: its vCPU 0 (which must run on `cpu`) at the kernel entry with x0 = its DTB. */
export function guestStart(g: u32, cpu: u32): u32 {
  const guest = guestAt(g);
  guest.state = GUEST_RUNNING;
  V.vcpuReset(cpu, guest.entryIpa, guest.dtbIpa);
  V.setVcpuState(cpu, V.VCPU_STARTING);
  lineStartGuest("guest", guestNamePtr(g));
  put("starting vCPU 0 on CPU "); putDec(cpu); put(" at "); putHex(guest.entryIpa);
  put(" (RAM "); putHex(guest.ramPa); put("+"); putDec(guest.ramSize >> 20); put(" MiB, ");
  putDec(guest.vcpuCount); put(guest.vcpuCount == 1 ? " vCPU)" : " vCPUs)");
  lineEnd();
  return continueCpu(cpu);
}

/** vCPU on `cpu` stops (PSCI CPU_OFF); its guest is off when it was the last one. */
export function vcpuStop(cpu: u32): void {
  const g = V.guestOfCpu(cpu);
  if (V.vcpuState(cpu) == V.VCPU_RUNNING) guestAt(g).vcpusOn--;
  V.setVcpuState(cpu, V.VCPU_OFF);
}

/** The guest each CPU is withdrawing from OP-TEE (VM_DESTROYED in flight). */
const stopping = memory.data(<i32>MAX_CPUS);

export function guestStoppingOn(cpu: u32): u32 {
  return <u32>load<u8>(stopping + <usize>cpu);
}

/**
 * Guest g is off (PSCI SYSTEM_OFF, or a reset it cannot have): every vCPU
 * stops, the other CPUs are kicked out of it, and OP-TEE is told it is gone
 * (VM_DESTROYED, on `cpu`). When no guest runs any more the machine powers
 * off: `cpu` then gets the SMC for it.
 */
export function guestStop(g: u32, cpu: u32, why: string): u32 {
  const guest = guestAt(g);
  guest.state = GUEST_OFF;
  for (let v: u32 = 0; v < guest.vcpuCount; v++) {
    const other = cpuOfVcpu(g, v);
    V.setVcpuState(other, V.VCPU_NONE);
    if (other != cpu) kickCpu(other);
  }
  guest.vcpusOn = 0;
  lineStartGuest("guest", guestNamePtr(g));
  put(why);
  lineEnd();
  teeGuestForget(g);
  if (loadVmDestroyed(cpu, g)) {
    store<u8>(stopping + <usize>cpu, <u8>g);
    return requestSmc(cpu, SMC_OWNER_VM_DESTROYED);
  }
  return afterGuestStop(g, cpu);
}

/** Guest g is off: `cpu` goes on with its own work, or powers the machine off after the last guest. */
export function afterGuestStop(g: u32, cpu: u32): u32 {
  for (let i: u32 = 0; i < guestCount() && i < MAX_GUESTS; i++) {
    if (guestAt(i).state == GUEST_RUNNING) return continueCpu(cpu);
  }
  lineStartGuest("guest", guestNamePtr(g));
  put("was the last guest running: powering the machine off");
  lineEnd();
  profileReportAll();
  return requestPowerOff(cpu);
}
