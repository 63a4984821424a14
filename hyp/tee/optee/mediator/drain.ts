/**
 * OP-TEE's notification interrupt, routed per guest. OP-TEE raises one
 * edge-triggered SPI for every guest's notifications and says nowhere whose
 * they are, and no call asks which guests have values without consuming
 * them. So on that interrupt the hypervisor reads every enabled guest's
 * values out of OP-TEE — GET_ASYNC_NOTIF_VALUE under that guest's own client
 * id, until OP-TEE says nothing more is pending — into the guest's set
 * (notif.ts), then makes the virtual SPI pending for each guest that got
 * something and kicks the physical CPU of the vCPU its distributor routes it
 * to, so that a vCPU in WFI wakes at once.
 *
 * Each GET is a fast SMC run by the C run loop outside the core's lock, like
 * every forwarded call: other CPUs keep running guests and making calls
 * meanwhile. Only the CPU that took the interrupt is busy (boot/gic.c routes
 * it to the console CPU, which never parks). The physical interrupt is
 * deactivated before the first read, so a notification OP-TEE sends during
 * the drain raises it again and nothing is missed.
 *
 * Bounds: at most max value + 1 reads per guest per interrupt (limits.ts);
 * one drain at a time, an interrupt taken meanwhile elsewhere just asks for
 * another pass.
 */
import { MAX_GUESTS } from "../../../core/guest";
import { kickMask } from "../../../core/kick";
import { GUEST_OPTEE_NOTIF_INTID } from "../../../core/layout";
import { setSmc, smcReg } from "../../../core/percpu";
import { continueCpu } from "../../../core/run";
import { requestSmc, SMC_OWNER_NOTIF } from "../../../core/smcowner";
import { gicDeactivate } from "../../../hw/imports";
import { vgicRaiseIrq } from "../../../vgic/exports";
import { opteeInfo } from "../info";
import * as smc from "../smc";
import { clientIdOf, isClient } from "./clients";
import { latencyNow, latencyStart, LATENCY_BOTTOM_HALF, LATENCY_GET } from "./latency";
import { NOTIF_READS_DEFAULT, NOTIF_VALUE_COUNT } from "./limits";
import { notifAdd, notifEnabled, notifEnabledMask, NOTIF_SAID_READ_BOUND, sayOnce } from "./notif";
import { statCount, STAT_NOTIF_IRQS } from "./stats";

/**
 * OP-TEE's notification interrupt on QEMU virt: SPI 187 (CFG_CORE_ASYNC_NOTIF_GIC_INTID in
 * core/arch/arm/plat-vexpress/conf.mk). boot/gic.c enables it under the same number.
 */
export const CFG_CORE_ASYNC_NOTIF_GIC_INTID: u32 = 219;

const NO_CPU: u32 = 0xff;

/** The CPU draining now, or NO_CPU. */
let drainCpu: u32 = NO_CPU;
/** The interrupt came again (on another CPU) during this drain: one more pass when it ends. */
let again: bool = false;
/** Guests still to read in this pass, one bit each. */
let wanted: u32 = 0;
/** The guest being read, its reads so far in this pass, and whether they gave it a value, and DO_BOTTOM_HALF. */
let current: u32 = 0;
let reads: u32 = 0;
let gotValue: bool = false;
let gotBottomHalf: bool = false;
/** When this pass began: what the guests' latency figures count from (latency.ts). */
let passStart: u64 = 0;

/** `cpu` took OP-TEE's notification interrupt (acknowledged by the run loop). */
export function notifInterrupt(cpu: u32): u32 {
  gicDeactivate(CFG_CORE_ASYNC_NOTIF_GIC_INTID);
  if (drainCpu != NO_CPU) {
    again = true;
    return continueCpu(cpu);
  }
  drainCpu = cpu;
  startPass();
  return readNext(cpu);
}

/** The GET this drain asked `cpu` for has returned (x0..x3 in its frame). */
export function notifDrainReturned(cpu: u32): u32 {
  if (cpu != drainCpu) return continueCpu(cpu);
  const a0 = <u32>smcReg(cpu, 0), value = <u32>smcReg(cpu, 1), flags = <u32>smcReg(cpu, 2);
  reads++;
  let more = false;
  if (a0 == smc.OPTEE_SMC_RETURN_OK && (flags & smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_VALID) != 0) {
    if (notifAdd(current, value)) {
      gotValue = true;
      if (value == smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_DO_BOTTOM_HALF) gotBottomHalf = true;
    }
    more = (flags & smc.OPTEE_SMC_ASYNC_NOTIF_VALUE_PENDING) != 0;
  }
  if (more && reads >= readBound()) {
    sayOnce(current, NOTIF_SAID_READ_BOUND, "OP-TEE still had notifications pending after max value + 1 reads: the rest waits for its next interrupt");
    more = false;
  }
  if (!more) nextGuest(cpu);
  return readNext(cpu);
}

function startPass(): void {
  passStart = latencyNow();
  wanted = notifEnabledMask();
  current = 0;
  reads = 0;
  gotValue = false;
  gotBottomHalf = false;
}

/** Loads the next GET of this pass into `cpu`'s SMC registers, or ends the drain. */
function readNext(cpu: u32): u32 {
  for (;;) {
    while (current < MAX_GUESTS && ((wanted >> current) & 1) == 0) current++;
    if (current < MAX_GUESTS) {
      if (notifEnabled(current) && isClient(current)) {
        // x7 is the guest's client id, never 0: for id 0 OP-TEE would look up the hypervisor's
        // partition, which does not exist (a NULL dereference in a release build).
        setSmc(cpu, smc.OPTEE_SMC_GET_ASYNC_NOTIF_VALUE, 0, 0, <u64>clientIdOf(current));
        return requestSmc(cpu, SMC_OWNER_NOTIF);
      }
      nextGuest(cpu); // stopped since the pass began
      continue;
    }
    if (!again) break;
    again = false;
    startPass();
  }
  drainCpu = NO_CPU;
  return continueCpu(cpu);
}

/** The current guest is read: it gets its virtual interrupt if it has something new. */
function nextGuest(cpu: u32): void {
  const g = current;
  if (gotValue && notifEnabled(g)) {
    statCount(g, STAT_NOTIF_IRQS);
    latencyStart(g, LATENCY_GET, passStart);
    if (gotBottomHalf) latencyStart(g, LATENCY_BOTTOM_HALF, passStart);
    kickMask(cpu, vgicRaiseIrq(g, 0, GUEST_OPTEE_NOTIF_INTID));
  }
  current = g + 1;
  reads = 0;
  gotValue = false;
  gotBottomHalf = false;
}

/** Reads per guest per interrupt: OP-TEE's announced max value + 1, within what notif.ts can hold. */
function readBound(): u32 {
  const max = opteeInfo.maxNotifValue;
  if (max == 0) return NOTIF_READS_DEFAULT;
  return max < NOTIF_VALUE_COUNT ? max + 1 : NOTIF_VALUE_COUNT;
}
