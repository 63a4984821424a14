/**
 * The core's exports: the only entry points of the hypervisor's logic. Each
 * handles one event for one physical CPU and answers with an ACTION_* (see
 * core/action.ts) that the C run loop (boot/runloop.c) carries out.
 */
import { ACTION_PARK } from "./core/action";
import { bootCpuStart, bootSmcReturned, selfTestOutOfBounds as oobRead } from "./core/boot";
import { MAX_GUESTS } from "./core/guest";
import { physicalInterrupt } from "./core/irq";
import { countEmptyWake } from "./core/idle-wakes";
import { INTID_SPURIOUS } from "./gen/irq";
import { EXIT_SYNC, FRAME_EXIT_KIND, FRAME_LR, frameGet, frameOf, LR_COUNT, MAX_CPUS, setServing } from "./core/percpu";
import { guestFault as faultContain } from "./core/fault";
import { guestOfCpu, vcpuOfCpu, vcpuState, VCPU_RUNNING } from "./core/vcpu";
import { continueCpu } from "./core/run";
import { guestSync } from "./trap/dispatch";
import { guestImagesLoaded } from "./core/lifecycle";
import { stage2Translate } from "./core/stage2";
import { vgicSyncLrs } from "./vgic/exports";
import { accountSet, KIND_IRQ, KIND_SHIFT } from "./core/account";
export * from "./vgic/exports";
export { mediatorHolds, mediatorPoolHolder } from "./tee/optee/mediator/exports";
// Brings in the abort handler asc --use routes to (see asconfig.json).
import "./hw/abort";
import { teeRegister } from "./core/tee-ops";
import { OpteeMediator } from "./tee/optee/mediator/ops";

// The TEE mediator the core schedules (core/tee-ops.ts): OP-TEE's. Its probe says if OP-TEE is absent.
teeRegister(new OpteeMediator());

/** Linear-memory address of `cpu`'s frame (see core/percpu.ts), 0 for a CPU we do not support. */
export function cpuFrame(cpu: u32): usize {
  return cpu < MAX_CPUS ? frameOf(cpu) : 0;
}

/** `cpu` has entered the hypervisor for the first time. */
export function cpuStart(cpu: u32): u32 {
  return cpu < MAX_CPUS ? bootCpuStart(cpu) : ACTION_PARK;
}

/** The SMC that `cpu`'s last ACTION_SMC asked for has completed; x0..x7 are in its frame. */
export function smcReturned(cpu: u32): u32 {
  return cpu < MAX_CPUS ? bootSmcReturned(cpu) : ACTION_PARK;
}

/**
 * The guest on `cpu` has left: its registers, ESR/FAR/HPFAR, exit kind and
 * list registers are in the frame. For an IRQ exit, `intid` is the physical
 * interrupt the run loop acknowledged (1023 if none).
 */
export function guestExit(cpu: u32, intid: u32): u32 {
  if (cpu >= MAX_CPUS) return ACTION_PARK;
  const g = guestOfCpu(cpu);
  if (g >= MAX_GUESTS) return ACTION_PARK;
  vgicSyncLrs(g, vcpuOfCpu(cpu), frameOf(cpu) + FRAME_LR, LR_COUNT);
  const kind = <u32>frameGet(cpu, FRAME_EXIT_KIND);
  if (kind == EXIT_SYNC) {
    setServing(cpu, g);
    // A trap from a vCPU whose guest has just ended (before this CPU saw its kick) is not served.
    if (vcpuState(cpu) != VCPU_RUNNING) return continueCpu(cpu);
    return guestSync(cpu);
  }
  accountSet(cpu, (KIND_IRQ << KIND_SHIFT) | (intid & 0x3ff));
  return physicalInterrupt(cpu, intid); // IRQ (FIQ and SError: nothing to acknowledge, 1023)
}

/**
 * The run loop has cleared guest g's RAM and copied its images in (ACTION_LOAD_GUEST); `loaded` is 0 when C did
 * not know the guest. The guest is then created in OP-TEE (if it uses it) and its vCPU 0 starts.
 */
export function guestLoaded(cpu: u32, g: u32, loaded: u32): u32 {
  return cpu < MAX_CPUS ? guestImagesLoaded(cpu, g, loaded != 0) : ACTION_PARK;
}

/**
 * The core trapped on `cpu` while serving guest g (boot/core.c caught it and resumed here, under the lock):
 * g's state is thrown away, g stops or restarts, the other guests carry on.
 */
export function guestFault(cpu: u32, g: u32): u32 {
  return faultContain(cpu, g);
}

/** A physical interrupt woke `cpu` while it waited (ACTION_WAIT); acknowledged by the run loop. */
export function interrupt(cpu: u32, intid: u32): u32 {
  if (cpu >= MAX_CPUS) return ACTION_PARK;
  if (intid == INTID_SPURIOUS) countEmptyWake(cpu);
  return physicalInterrupt(cpu, intid);
}

/** Test hook: an out-of-bounds read that must trap (see core/boot.ts). */
export function selfTestOutOfBounds(): u32 {
  return oobRead();
}

/** Test hook: walks stage-2 tables (root PA from a VTTBR) like the hardware; -1 when unmapped. */
export function stage2Walk(rootPa: u64, ipa: u64): u64 {
  return stage2Translate(rootPa, ipa);
}
