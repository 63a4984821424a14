/**
 * What each physical CPU does from power-on, as events: cpuStart when the
 * CPU enters the core for the first time, smcReturned whenever an SMC the
 * core asked for has completed. Each answers with an ACTION_* for the C run
 * loop.
 *
 * The boot CPU: loads the partition table, builds each guest's stage-2
 * tables, probes the TEE (through the mediator, core/tee-ops.ts), starts every other CPU of the board (PSCI CPU_ON
 * to the firmware), then runs its own vCPU. With no guests it powers the
 * machine off after the probe. Every other CPU: starts the guest whose vCPU 0
 * it runs, or waits for the guest's PSCI CPU_ON, or parks if unused.
 */
import { ACTION_PARK, ACTION_WAIT } from "./action";
import { bootConfig, bootConfigLoad, BOOT_FLAG_SELFTEST_OOB } from "./bootconfig";
import { cpuOfVcpu, Guest, guestAt, guestCount, guestNamePtr, MAX_GUESTS, NO_GUEST } from "./guest";
import { MAX_CPUS, setSmc, smcReg } from "./percpu";
import { continueCpu } from "./run";
import { guestFirstStart, vmCreatedAgainDone, vmDestroyedDone } from "./lifecycle";
import {
  requestPowerOff, requestSmc, SMC_OWNER_CPU_ON, SMC_OWNER_NOTIF, SMC_OWNER_POWER, SMC_OWNER_PROBE,
  SMC_OWNER_TEE_CALL, SMC_OWNER_VM_CREATED, SMC_OWNER_VM_CREATED_AGAIN, SMC_OWNER_VM_DESTROYED, takeSmcOwner,
} from "./smcowner";
import { stage2Build, stage2Reset } from "./stage2";
import { guestOfCpu, vcpuBind, vcpuClearAll, vcpuOfCpu } from "./vcpu";
import { vttbrOf } from "../arch/el2";
import { PSCI_0_2_FN64_CPU_ON } from "../arch/smccc";
import { cpuEntryPa, guestStage2Declare, stage2Invalidate } from "../hw/imports";
import { lineEnd, lineStart, lineStartGuest, logLine, put, putDec, putHex } from "../lib/log";
import { teeOps } from "./tee-ops";
import { teeCallReturned, teeNotifReturned } from "./tee";
import { pl011Reset } from "../vdev/pl011";
import { consoleAnnounce } from "../vdev/console-input";
import { vgicInit } from "../vgic/state";
import { accountInit } from "./account";
import { platform } from "./platform";
import { faultTestAnnounce } from "./fault";
import { guardTestAnnounce } from "./guard-test";

/** The CPU TF-A enters first (BL33 runs on it alone until it starts the others). */
export const BOOT_CPU: u32 = 0;

/** The next CPU the boot CPU starts with PSCI CPU_ON. */
let nextCpuToStart: u32 = 0;
/** The TEE guest whose VM_CREATED is in flight. */
let guestBeingCreated: u32 = MAX_GUESTS;

export function bootCpuStart(cpu: u32): u32 {
  accountInit(cpu); // every CPU's exits are profiled from its first guest entry (core/account.ts)
  if (cpu != BOOT_CPU) return secondaryStart(cpu);
  logLine("boot", "hypervisor core running at EL2");
  bootConfigLoad();
  if ((bootConfig.flags & BOOT_FLAG_SELFTEST_OOB) != 0) selfTestOutOfBounds();
  faultTestAnnounce();
  guardTestAnnounce();
  setUpGuests();
  teeOps().probeBegin(cpu);
  return requestSmc(cpu, SMC_OWNER_PROBE);
}

export function bootSmcReturned(cpu: u32): u32 {
  const owner = takeSmcOwner(cpu);
  if (owner == SMC_OWNER_TEE_CALL) return teeCallReturned(cpu);
  if (owner == SMC_OWNER_NOTIF) return teeNotifReturned(cpu);
  if (owner == SMC_OWNER_VM_DESTROYED) return vmDestroyedDone(cpu);
  if (owner == SMC_OWNER_VM_CREATED_AGAIN) return vmCreatedAgainDone(cpu);
  if (owner == SMC_OWNER_PROBE) {
    if (teeOps().probeContinue(cpu)) return requestSmc(cpu, SMC_OWNER_PROBE);
    if (guestCount() == 0) {
      logLine("boot", "no guests to run: powering off (PSCI SYSTEM_OFF)");
      return requestPowerOff(cpu);
    }
    return createNextClient(cpu, 0);
  }
  if (owner == SMC_OWNER_VM_CREATED) {
    teeOps().guestCreatedReturned(cpu, guestBeingCreated);
    return createNextClient(cpu, guestBeingCreated + 1);
  }
  if (owner == SMC_OWNER_CPU_ON) {
    const result = <i32>smcReg(cpu, 0);
    if (result != 0) {
      lineStart("boot");
      put("PSCI CPU_ON of CPU "); putDec(nextCpuToStart); put(" failed ("); putDec(<u64><i64>result);
      put(guestOfCpu(nextCpuToStart) == NO_GUEST ? "): it runs no vCPU and stays in the firmware" : "): its vCPU will not run");
      lineEnd();
    }
    nextCpuToStart++;
    return startNextCpu(cpu);
  }
  if (owner == SMC_OWNER_POWER) {
    // SYSTEM_OFF only comes back if the firmware refused it.
    lineStart("boot");
    put("PSCI SYSTEM_OFF failed ("); putHex(<u32>smcReg(cpu, 0)); put("): parking CPU "); putDec(cpu);
    lineEnd();
    return ACTION_PARK;
  }
  lineStart("boot");
  put("CPU "); putDec(cpu); put(" returned from an SMC nobody asked for: parking it");
  lineEnd();
  return ACTION_PARK;
}

/** Binds every vCPU to its CPU and gives each guest its stage-2 tables, UART and GIC. */
function setUpGuests(): void {
  vcpuClearAll();
  stage2Reset();
  for (let g: u32 = 0; g < guestCount(); g++) {
    const guest = guestAt(g);
    for (let v: u32 = 0; v < guest.vcpuCount; v++) vcpuBind(cpuOfVcpu(g, v), g, v);
    const root = stage2Build(g);
    const vmid = g + 1; // VMID 0 is left unused
    stage2Invalidate(vmid);
    guest.vttbr = root != 0 ? vttbrOf(vmid, root) : 0;
    // C enters the guest with this VTTBR and no other (boot/guests.c).
    const refused = root != 0 && guestStage2Declare(g, guest.vttbr) == 0;
    if (refused) guest.vttbr = 0;
    pl011Reset(g);
    // Guest.cpus holds the physical CPU of vCPU i in its byte i: the table vgicInit wants.
    vgicInit(g, guest.vcpuCount, changetype<usize>(guest) + offsetof<Guest>("cpus"));
    lineStartGuest("guest", guestNamePtr(g));
    if (root == 0) put("no room for its stage-2 tables: it will not run");
    else if (refused) put("C refused its stage-2 tables: it will not run");
    else {
      put(guest.vcpuCount == 1 ? "1 vCPU" : ""); if (guest.vcpuCount != 1) { putDec(guest.vcpuCount); put(" vCPUs"); }
      put(", RAM "); putHex(guest.ramPa); put("+"); putDec(guest.ramSize >> 20); put(" MiB at IPA ");
      putHex(guest.ramIpa); put(", VMID "); putDec(vmid);
    }
    lineEnd();
  }
}

/** VM_CREATED for the next TEE guest from g on, before any vCPU runs; then the other CPUs start. */
function createNextClient(cpu: u32, g: u32): u32 {
  guestBeingCreated = teeOps().nextGuestToCreate(g);
  if (guestBeingCreated < MAX_GUESTS) {
    teeOps().loadGuestCreated(cpu, guestBeingCreated);
    return requestSmc(cpu, SMC_OWNER_VM_CREATED);
  }
  nextCpuToStart = 0;
  return startNextCpu(cpu);
}

/**
 * Whether the boot CPU starts `cpu`: every CPU of the board, not only those a guest uses. One that runs no vCPU
 * parks in the hypervisor (WFI, its GIC interface quiet) instead of staying in the firmware's holding pen, which
 * polls its mailbox in a WFE loop: under QEMU a WFE does not sleep, so a CPU left there costs the host a thread
 * that never rests, and under -icount it keeps the clock from skipping ahead while every guest CPU waits. It also
 * leaves no CPU that anything but the hypervisor could start. Without the board's CPU count (no platform
 * record), only the CPUs a guest uses.
 */
function startsCpu(c: u32): bool {
  return c != BOOT_CPU && (guestOfCpu(c) != NO_GUEST || c < platform.cpuCount);
}

/** PSCI CPU_ON for the next CPU (after `nextCpuToStart`) to start; then the boot CPU's own work. */
function startNextCpu(cpu: u32): u32 {
  while (nextCpuToStart < MAX_CPUS && !startsCpu(nextCpuToStart)) nextCpuToStart++;
  if (nextCpuToStart < MAX_CPUS) {
    // MPIDR of a QEMU virt CPU: Aff0 = its number.
    setSmc(cpu, PSCI_0_2_FN64_CPU_ON, <u64>nextCpuToStart, cpuEntryPa(), 0);
    return requestSmc(cpu, SMC_OWNER_CPU_ON);
  }
  reportIdleCpus();
  consoleAnnounce();
  return secondaryStart(cpu);
}

/** A CPU of the board that no guest uses. */
function idleCpu(c: u32): bool {
  return c != BOOT_CPU && guestOfCpu(c) == NO_GUEST;
}

/** One line naming the CPUs no guest uses (started to park), if any. */
function reportIdleCpus(): void {
  let count: u32 = 0;
  for (let c: u32 = 0; c < platform.cpuCount && c < MAX_CPUS; c++) if (idleCpu(c)) count++;
  if (count == 0) return;
  lineStart("boot");
  put(count == 1 ? "CPU" : "CPUs");
  let first = true;
  for (let c: u32 = 0; c < platform.cpuCount && c < MAX_CPUS; c++) {
    if (!idleCpu(c)) continue;
    put(first ? " " : ", "); putDec(c);
    first = false;
  }
  put(count == 1 ? ": no guest uses it; parked in the hypervisor" : ": no guest uses them; parked in the hypervisor");
  lineEnd();
}

/** A CPU's first work: start its guest if it runs vCPU 0, else wait for CPU_ON, or park. */
function secondaryStart(cpu: u32): u32 {
  const g = guestOfCpu(cpu);
  if (g >= MAX_GUESTS || guestAt(g).vttbr == 0) return continueCpu(cpu);
  if (vcpuOfCpu(cpu) == 0) return guestFirstStart(g);
  return ACTION_WAIT;
}

/**
 * Reads one word past the end of linear memory. In the sandbox this must
 * trap (wasm2c's bounds checks, WASM_RT_TRAP_OOB); reaching the line after
 * it would mean the checks are off.
 */
export function selfTestOutOfBounds(): u32 {
  logLine("selftest", "reading past the end of linear memory: this must trap");
  const end = <usize>memory.size() << 16;
  const value = load<u32>(end);
  logLine("selftest", "FAILED: the out-of-bounds read returned instead of trapping");
  return value;
}
