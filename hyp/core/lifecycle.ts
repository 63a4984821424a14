/**
 * A guest's life: started from pristine images, ended (powered off, rebooted,
 * or stopped by a fault in the core while serving it), withdrawn from the TEE
 * (OP-TEE, through the mediator: core/tee-ops.ts),
 * and, if its policy says so, started again. Every step that waits is an
 * action or an SMC, so the core never blocks:
 *
 *   guestEnd ─► its vCPUs stop, the mediator lets go of what is idle
 *      │
 *   guestWithdraw: waits until no CPU has an SMC in OP-TEE for it, then
 *      VM_DESTROYED (SMC) ─► guestWithdrawn
 *      │                        ├─ stays off: afterGuestStop (the machine powers off after the last guest)
 *      │                        └─ restarts: ACTION_LOAD_GUEST (C clears its RAM, copies its images)
 *   guestImagesLoaded ─► VM_CREATED again (SMC, after the first start) ─► its vCPU 0 starts
 *
 * The other guests never wait for any of it: each step runs on the CPU that
 * got there, outside the core's lock whenever it is long.
 */
import { ACTION_PARK, loadGuestAction } from "./action";
import {
  cpuOfVcpu, Guest, guestAt, guestCount, guestNamePtr, GUEST_FLAG_TEE, GUEST_OFF, GUEST_RESTARTING, GUEST_RUNNING, MAX_GUESTS,
} from "./guest";
import { FRAME_LR, frameOf, LR_COUNT, MAX_CPUS, setServing } from "./percpu";
import { requestSmc, SMC_OWNER_VM_CREATED_AGAIN, SMC_OWNER_VM_DESTROYED } from "./smcowner";
import { afterGuestStop, continueCpu } from "./run";
import * as V from "./vcpu";
import { guestRamWrite, kickCpu, stage2Invalidate } from "../hw/imports";
import { lineEnd, lineStartGuest, put, putDec, putHex } from "../lib/log";
import { teeOps } from "./tee-ops";
import { pl011Reset } from "../vdev/pl011";
import { vgicInit } from "../vgic/state";
import {
  restartBegin, restartEnd, restartLoadedOn, restartStepDone, restartStepStart, STEP_IMAGES, STEP_IN_FLIGHT, STEP_VM_CREATED, STEP_VM_DESTROYED,
} from "./restart-time";

/** Restarts logged line by line; after that a guest in a reboot loop is logged at its 2^n-th start only. */
const LOUD_STARTS: u32 = 8;

/** The guest each CPU is withdrawing or creating again (its VM_DESTROYED / VM_CREATED is in flight). */
const lifecycleGuest = memory.data(<i32>MAX_CPUS);
/** Per guest: 1 while it waits to be withdrawn from OP-TEE; 2 when its mediator state must be thrown away. */
const withdrawal = memory.data(<i32>MAX_GUESTS);
const WITHDRAW_PENDING: u8 = 1;
const WITHDRAW_DISCARD: u8 = 2;
/** Scratch for the boot-count cell written into a guest's DTB. */
const bootCountCell = memory.data(4, 4);

/** Is guest g waiting to be withdrawn from the TEE (an SMC of its is still there)? */
export function withdrawPending(g: u32): bool {
  return g < MAX_GUESTS && load<u8>(withdrawal + <usize>g) != 0;
}

/** Is guest g waiting to be withdrawn with its mediator records thrown away (after a core fault)? */
export function withdrawDiscards(g: u32): bool {
  return g < MAX_GUESTS && load<u8>(withdrawal + <usize>g) == WITHDRAW_DISCARD;
}

/** Are guest g's lifecycle lines (its end, VM_DESTROYED / VM_CREATED, its start) printed this time? */
export function lifecycleLoud(g: u32): bool {
  return g >= MAX_GUESTS || guestAt(g).quiet == 0;
}

/** Start n is said line by line if it is one of the first LOUD_STARTS or a power of two. */
function loudStart(n: u32): bool {
  return n <= LOUD_STARTS || (n & (n - 1)) == 0;
}

/**
 * Guest g ends on `cpu`: every vCPU stops (the other CPUs are kicked out of it), the mediator lets go of what
 * is idle, and g is withdrawn from OP-TEE once no CPU has an SMC there for it. `restart`: it starts again from
 * its pristine images afterwards. `discard`: the core faulted while serving it, so its mediator state is not
 * trusted and is thrown away rather than released entry by entry.
 */
export function guestEnd(g: u32, cpu: u32, why: string, restart: bool, discard: bool): u32 {
  const guest = guestAt(g);
  guest.state = restart ? GUEST_RESTARTING : GUEST_OFF;
  if (restart) restartBegin(g);
  for (let v: u32 = 0; v < guest.vcpuCount; v++) {
    const other = cpuOfVcpu(g, v);
    // A restarting guest's CPUs wait for its next start; a stopped guest's CPUs park.
    V.setVcpuState(other, restart ? V.VCPU_OFF : V.VCPU_NONE);
    if (other != cpu) kickCpu(other);
  }
  guest.vcpusOn = 0;
  guest.quiet = restart && !loudStart(guest.boots + 1) ? 1 : 0;
  if (lifecycleLoud(g)) {
    lineStartGuest("guest", guestNamePtr(g));
    put(why);
    if (restart) {
      put(": restarting it from its pristine images (start "); putDec(guest.boots + 1);
      put(guest.boots + 1 > LOUD_STARTS ? "; from now on only starts 2^n are logged)" : ")");
    }
    lineEnd();
  }
  if (!discard) teeOps().guestForget(g);
  store<u8>(withdrawal + <usize>g, discard ? WITHDRAW_DISCARD : WITHDRAW_PENDING);
  return guestWithdraw(g, cpu);
}

/**
 * Withdraws guest g from OP-TEE if it is waiting for that and no CPU has an SMC in OP-TEE for it any more;
 * called again on every return of such an SMC. Otherwise `cpu` goes on with its own work.
 */
export function guestWithdraw(g: u32, cpu: u32): u32 {
  const pending = g < MAX_GUESTS ? load<u8>(withdrawal + <usize>g) : 0;
  if (pending == 0 || teeOps().smcsInFlight(g) != 0) return continueCpu(cpu);
  store<u8>(withdrawal + <usize>g, 0);
  // Nothing of the guest is in OP-TEE's hands now: what the mediator holds for it can go.
  if (pending == WITHDRAW_DISCARD) teeOps().guestDiscard(g);
  else teeOps().guestForget(g);
  restartStepDone(g, STEP_IN_FLIGHT);
  if (teeOps().loadGuestDestroyed(cpu, g)) {
    store<u8>(lifecycleGuest + <usize>cpu, <u8>g);
    restartStepStart(g, STEP_VM_DESTROYED);
    return requestSmc(cpu, SMC_OWNER_VM_DESTROYED);
  }
  return guestWithdrawn(g, cpu);
}

/** VM_DESTROYED returned on `cpu`. */
export function vmDestroyedDone(cpu: u32): u32 {
  const g = <u32>load<u8>(lifecycleGuest + <usize>cpu);
  if (g >= MAX_GUESTS) return ACTION_PARK;
  teeOps().guestDestroyedReturned(cpu, g);
  restartStepDone(g, STEP_VM_DESTROYED);
  return guestWithdrawn(g, cpu);
}

/** Guest g is out of OP-TEE: it restarts, or `cpu` goes on (the machine powers off after the last guest). */
function guestWithdrawn(g: u32, cpu: u32): u32 {
  if (guestAt(g).state == GUEST_RESTARTING) {
    restartStepStart(g, STEP_IMAGES);
    return loadGuestAction(g);
  }
  return afterGuestStop(g, cpu);
}

/**
 * Guest g is about to start for the first time: its vCPU 0's CPU asks C to put its images in its RAM
 * (ACTION_LOAD_GUEST), exactly as for every later start.
 */
export function guestFirstStart(g: u32): u32 {
  guestAt(g).state = GUEST_RESTARTING;
  return loadGuestAction(g);
}

/** C has (re)loaded guest g's RAM on `cpu` (`loaded` false: C does not know it). */
export function guestImagesLoaded(cpu: u32, g: u32, loaded: bool): u32 {
  if (g >= guestCount() || guestAt(g).state != GUEST_RESTARTING) return continueCpu(cpu);
  setServing(cpu, g);
  restartStepDone(g, STEP_IMAGES);
  restartLoadedOn(g, cpu);
  const guest = guestAt(g);
  if (!loaded) {
    guest.state = GUEST_OFF;
    lineStartGuest("guest", guestNamePtr(g));
    put("its images could not be loaded (C refused the guest): it stays off");
    lineEnd();
    return afterGuestStop(g, cpu);
  }
  guest.boots++;
  writeBootCount(guest);
  resetDevices(g);
  // At the first start the boot CPU has created every TEE guest already, before any CPU ran a guest.
  if (guest.boots > 1 && (guest.flags & GUEST_FLAG_TEE) != 0 && teeOps().usableForGuests()) {
    teeOps().loadGuestCreated(cpu, g);
    store<u8>(lifecycleGuest + <usize>cpu, <u8>g);
    restartStepStart(g, STEP_VM_CREATED);
    return requestSmc(cpu, SMC_OWNER_VM_CREATED_AGAIN);
  }
  return startVcpu0(g, cpu);
}

/** VM_CREATED for a restarting guest returned on `cpu`. */
export function vmCreatedAgainDone(cpu: u32): u32 {
  const g = <u32>load<u8>(lifecycleGuest + <usize>cpu);
  if (g >= MAX_GUESTS) return ACTION_PARK;
  teeOps().guestCreatedReturned(cpu, g);
  restartStepDone(g, STEP_VM_CREATED);
  return startVcpu0(g, cpu);
}

/** The guest's DTB says which start this is (/chosen/hyp,boot-count, big endian), for its /init and its logs. */
function writeBootCount(guest: Guest): void {
  if (guest.bootCountOffset == 0xffff_ffff) return;
  store<u32>(bootCountCell, bswap<u32>(guest.boots));
  guestRamWrite(guest.ramPa + (guest.dtbIpa - guest.ramIpa) + <u64>guest.bootCountOffset, bootCountCell, 4);
}

/** Its virtual GIC, UART and TLB entries as at power-on: nothing of the last run carries over. */
function resetDevices(g: u32): void {
  const guest = guestAt(g);
  for (let v: u32 = 0; v < guest.vcpuCount; v++) memory.fill(frameOf(cpuOfVcpu(g, v)) + FRAME_LR, 0, LR_COUNT * 8);
  vgicInit(g, guest.vcpuCount, changetype<usize>(guest) + offsetof<Guest>("cpus"));
  pl011Reset(g);
  stage2Invalidate(g + 1);
}

/**
 * Starts vCPU 0 of guest g at its kernel entry with x0 = its DTB: here if `cpu` runs it, else its CPU (waiting
 * for it) is kicked and `cpu` goes on.
 */
function startVcpu0(g: u32, cpu: u32): u32 {
  const guest = guestAt(g);
  const target = cpuOfVcpu(g, 0);
  guest.state = GUEST_RUNNING;
  restartEnd(g);
  V.vcpuReset(target, guest.entryIpa, guest.dtbIpa);
  V.setVcpuState(target, V.VCPU_STARTING);
  if (lifecycleLoud(g)) {
    lineStartGuest("guest", guestNamePtr(g));
    put("starting vCPU 0 on CPU "); putDec(target); put(" at "); putHex(guest.entryIpa);
    put(" (RAM "); putHex(guest.ramPa); put("+"); putDec(guest.ramSize >> 20); put(" MiB, ");
    putDec(guest.vcpuCount); put(guest.vcpuCount == 1 ? " vCPU" : " vCPUs");
    if (guest.boots > 1) { put(", start "); putDec(guest.boots); }
    put(")");
    lineEnd();
  }
  if (target == cpu) return continueCpu(cpu);
  kickCpu(target);
  return continueCpu(cpu);
}

