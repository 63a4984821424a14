/**
 * When the core faults while serving a guest (a Wasm trap or an abort, caught by boot/core.c): that guest's
 * state is thrown away, it is withdrawn from OP-TEE and stopped or restarted as its setup says (onCrash), and
 * every other guest carries on.
 *
 * What a trap can leave half-written, and why that is safe here:
 *   - the core's lock: held by the faulting CPU throughout; C releases it after guestFault as after any call;
 *   - this CPU's records (frame, SMC owner, flight): the CPU is the guest's, its vCPU is reset or parked and
 *     its flight is ended here;
 *   - the guest's mediator tables (calls, buffers, RPC buffers, notifications): not read again; they are
 *     cleared once no CPU has an SMC in OP-TEE for the guest, and the pool takes its pages back by holder;
 *   - the guest's virtual GIC and UART: reset before its next start.
 * The planted-fault test (BOOT_FLAG_FAULT_TEST) makes the core trap on purpose while serving one guest's Nth
 * OP-TEE call, to prove all of this on the real stack.
 */
import { ACTION_PARK } from "./action";
import { bootConfig, BOOT_FLAG_FAULT_TEST } from "./bootconfig";
import { guestAt, guestCount, guestNamePtr, GUEST_FLAG_RESTART_ON_CRASH, GUEST_OFF, GUEST_RESTARTING, GUEST_RUNNING, MAX_GUESTS } from "./guest";
import { guestEnd, withdrawPending } from "./lifecycle";
import { MAX_CPUS } from "./percpu";
import { afterGuestStop, continueCpu } from "./run";
import { lineEnd, lineStart, lineStartGuest, put, putDec } from "../lib/log";
import { teeOps } from "./tee-ops";

/** The core trapped on `cpu` while serving guest g; C resumed here, still under the lock. */
export function guestFault(cpu: u32, g: u32): u32 {
  if (cpu >= MAX_CPUS) return ACTION_PARK;
  teeOps().cpuLeftSecureWorld(cpu); // the CPU was in the core, not in OP-TEE
  if (g >= guestCount() || g >= MAX_GUESTS) return continueCpu(cpu);
  const guest = guestAt(g);
  guest.faults++;
  if (guest.state == GUEST_RESTARTING && !withdrawPending(g)) {
    // It faulted while starting (after its withdrawal): it cannot be trusted to start; it stays off.
    guest.state = GUEST_OFF;
    lineStartGuest("guest", guestNamePtr(g));
    put("the core faulted while starting it (fault "); putDec(guest.faults); put("): it stays off");
    lineEnd();
    return afterGuestStop(g, cpu);
  }
  if (guest.state != GUEST_RUNNING) return continueCpu(cpu); // already on its way out
  const restart = (guest.flags & GUEST_FLAG_RESTART_ON_CRASH) != 0;
  lineStartGuest("guest", guestNamePtr(g));
  put("the core faulted while serving it (fault "); putDec(guest.faults);
  put("): its state is thrown away and it is withdrawn from OP-TEE; ");
  put(restart ? "it restarts (onCrash \"restart\")" : "it stays off (onCrash \"stop\")");
  lineEnd();
  return guestEnd(g, cpu, "stopped after a fault in the core", restart, true);
}

let faultTestFired = false;

/** Says at boot that the planted fault is on: a test image, never a shipped one. */
export function faultTestAnnounce(): void {
  if ((bootConfig.flags & BOOT_FLAG_FAULT_TEST) == 0) return;
  lineStart("selftest");
  put("PLANTED FAULT ON (test only): the core will trap while serving guest "); putDec(bootConfig.faultGuest);
  put("'s OP-TEE call "); putDec(bootConfig.faultCall);
  lineEnd();
}

/** Is the planted fault still to fire? One test on the call path when it is off. */
@inline export function faultTestArmed(): bool {
  return (bootConfig.flags & BOOT_FLAG_FAULT_TEST) != 0 && !faultTestFired;
}

/** Where the planted fault reads: 16 bytes short of 4 GiB, far past the end of linear memory. */
const FAULT_TEST_ADDRESS: usize = 0xffff_fff0;

/**
 * Traps once, when guest g makes its faultCall-th std call (call only when faultTestArmed): an out-of-bounds
 * read, the trap a real mediator bug is likeliest to make, caught by the MMU's guard after linear memory
 * (boot/mmu.c) in the middle of the generated code, with the lock held and the call half-handled.
 */
export function faultTestCheck(g: u32, calls: u64): void {
  if (g != bootConfig.faultGuest || calls != <u64>bootConfig.faultCall) return;
  faultTestFired = true; // first: the read below never completes
  faultTestSink = load<u32>(FAULT_TEST_ADDRESS);
}

/** Keeps the planted read from being optimised away. */
export let faultTestSink: u32 = 0;
