/**
 * OP-TEE's notification interrupt, routed per guest. OP-TEE raises one
 * edge-triggered SPI for every guest's notifications and says nowhere whose
 * they are, and no call asks which guests have values without consuming
 * them. So on that interrupt every guest that enabled notifications is
 * asked to drain: its values are read out of OP-TEE with
 * GET_ASYNC_NOTIF_VALUE under its own client id, until OP-TEE says nothing
 * more is pending, into the guest's set (notif.ts); then its virtual SPI is
 * made pending, and the CPU of the vCPU its distributor routes it to is
 * kicked unless it is the one draining.
 *
 * Each guest drains on one of its own CPUs: the CPU of its routed vCPU,
 * kicked (an SGI, which wakes a vCPU in WFI too), or the CPU that took the
 * interrupt if that one is the guest's. So the reads for one guest never
 * take another guest's CPU time, the guests drain in parallel, and each
 * read is a fast SMC the run loop makes outside the core's lock, like every
 * forwarded call. The physical interrupt is taken by the console CPU
 * (boot/gic.c), which never parks, and deactivated at once: a notification
 * OP-TEE sends during a drain raises it again, and the guest drains again.
 *
 * Bounds: at most max value + 1 reads per guest per round (limits.ts); one
 * round at a time per guest; interrupts meanwhile make one more round.
 */
import { cpuOfVcpu, MAX_GUESTS } from "../../../core/guest";
import { kickMask } from "../../../core/kick";
import { GUEST_OPTEE_NOTIF_INTID } from "../../../core/layout";
import { setSmc, smcReg } from "../../../core/percpu";
import { TEE_NOTIF_SMC, TEE_RESUME } from "../../../core/tee-ops";
import { guestOfCpu } from "../../../core/vcpu";
import { gicDeactivate, kickCpu } from "../../../hw/imports";
import { vgicSpiTarget } from "../../../vgic/inject";
import { vgicRaiseIrq } from "../../../vgic/exports";
import { opteeInfo } from "../info";
import * as smc from "../smc";
import { clientIdOf, isClient } from "./clients";
import { callsOpen } from "./calls";
import { latencyBottomHalfDue, latencyNow, latencyStart, LATENCY_BOTTOM_HALF, LATENCY_GET } from "./latency";
import { NOTIF_READS_DEFAULT, NOTIF_VALUE_COUNT } from "./limits";
import { notifAdd, notifEnabled, NOTIF_SAID_READ_BOUND, sayOnce } from "./notif";
import { statCount, STAT_NOTIF_IRQS } from "./stats";

/**
 * OP-TEE's notification interrupt on QEMU virt: SPI 187 (CFG_CORE_ASYNC_NOTIF_GIC_INTID in
 * core/arch/arm/plat-vexpress/conf.mk). boot/gic.c enables it under the same number.
 */
export const CFG_CORE_ASYNC_NOTIF_GIC_INTID: u32 = 219;

/** One guest's draining. */
@unmanaged class Drain {
  /** 1 + the CPU reading this guest's values now; 0 when none is. */
  busy: u32;
  /** An interrupt came since the current round began (or none is running): one more round. */
  wanted: u32;
  /** Reads in this round; whether they gave a value, and DO_BOTTOM_HALF. */
  reads: u32;
  gotValue: u32;
  gotBottomHalf: u32;
  /** Keeps the two u64s below 8-byte aligned. */
  pad: u32;
  /** When the hypervisor took the oldest interrupt not yet in a round, and the one this round serves. */
  wantedSince: u64;
  roundSince: u64;
}

const DRAIN: u32 = offsetof<Drain>();
const drains = memory.data(<i32>(MAX_GUESTS * DRAIN), 8);

@inline function at(g: u32): Drain {
  return changetype<Drain>(drains + <usize>(g * DRAIN));
}

/**
 * `cpu` took OP-TEE's notification interrupt (acknowledged by the run loop):
 * every guest with notifications on is to drain, each on a CPU of its own.
 */
export function notifInterrupt(cpu: u32): u32 {
  gicDeactivate(CFG_CORE_ASYNC_NOTIF_GIC_INTID);
  const now = latencyNow();
  for (let g: u32 = 0; g < MAX_GUESTS; g++) {
    if (!drainable(g)) continue;
    const d = at(g);
    if (d.wanted == 0) d.wantedSince = now;
    d.wanted = 1;
    if (d.busy == 0 && guestOfCpu(cpu) != g) kickCpu(drainCpu(g));
  }
  return notifDrainHere(cpu);
}

/**
 * Whatever brought `cpu` into the core (a kick, the interrupt itself): if
 * its guest is to drain and nobody drains it, the reads start here.
 */
export function notifDrainHere(cpu: u32): u32 {
  const g = guestOfCpu(cpu);
  if (g >= MAX_GUESTS || at(g).wanted == 0 || at(g).busy != 0 || !drainable(g)) return TEE_RESUME;
  at(g).busy = cpu + 1;
  startRound(g);
  return readNext(cpu, g);
}

/** The GET `cpu` made for its guest has returned (x0..x3 in its frame). */
export function notifDrainReturned(cpu: u32): u32 {
  const g = guestOfCpu(cpu);
  if (g >= MAX_GUESTS || at(g).busy != cpu + 1) return TEE_RESUME;
  const d = at(g);
  const a0 = <u32>smcReg(cpu, 0), value = <u32>smcReg(cpu, 1), flags = <u32>smcReg(cpu, 2);
  d.reads++;
  let more = false;
  if (a0 == smc.OPTEE_SMC_RETURN_OK && (flags & smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID) != 0) {
    if (notifAdd(g, value)) {
      d.gotValue = 1;
      if (value == smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF) d.gotBottomHalf = 1;
    }
    more = (flags & smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING) != 0;
  }
  if (more && d.reads >= readBound()) {
    sayOnce(g, NOTIF_SAID_READ_BOUND, "OP-TEE still had notifications pending after max value + 1 reads: the rest waits for its next interrupt");
    more = false;
  }
  if (more) return readNext(cpu, g);
  deliver(cpu, g);
  if (d.wanted != 0 && drainable(g)) {
    startRound(g);
    return readNext(cpu, g);
  }
  d.busy = 0;
  d.wanted = 0;
  return TEE_RESUME;
}

/** Guest g reads its values only while they are routed to it and it is OP-TEE's client. */
function drainable(g: u32): bool {
  return notifEnabled(g) && isClient(g);
}

/** The CPU of the vCPU guest g's distributor routes the notification SPI to. */
function drainCpu(g: u32): u32 {
  return cpuOfVcpu(g, vgicSpiTarget(g, GUEST_OPTEE_NOTIF_INTID));
}

function startRound(g: u32): void {
  const d = at(g);
  d.wanted = 0;
  d.roundSince = d.wantedSince;
  d.reads = 0;
  d.gotValue = 0;
  d.gotBottomHalf = 0;
}

/** Loads guest g's next GET into `cpu`'s SMC registers. */
function readNext(cpu: u32, g: u32): u32 {
  // x7 is the guest's client id, never 0: for id 0 OP-TEE would look up the hypervisor's partition, which
  // does not exist (a NULL dereference in a release build).
  setSmc(cpu, smc.OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0, 0, <u64>clientIdOf(g));
  return TEE_NOTIF_SMC;
}

/** The round is over: guest g gets its virtual interrupt if it has something new. */
function deliver(cpu: u32, g: u32): void {
  const d = at(g);
  if (d.gotValue == 0 || !notifEnabled(g)) return;
  statCount(g, STAT_NOTIF_IRQS);
  latencyStart(g, LATENCY_GET, d.roundSince);
  if (d.gotBottomHalf != 0) {
    latencyBottomHalfDue(g, d.roundSince, callsOpen(g));
    latencyStart(g, LATENCY_BOTTOM_HALF, d.roundSince);
  }
  kickMask(cpu, vgicRaiseIrq(g, 0, GUEST_OPTEE_NOTIF_INTID));
}

/** Reads per guest per round: OP-TEE's announced max value + 1, within what notif.ts can hold. */
function readBound(): u32 {
  const max = opteeInfo.maxNotifValue;
  if (max == 0) return NOTIF_READS_DEFAULT;
  return max < NOTIF_VALUE_COUNT ? max + 1 : NOTIF_VALUE_COUNT;
}
