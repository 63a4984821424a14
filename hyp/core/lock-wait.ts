/**
 * Waits for the core's lock, per CPU (boot/core.c keeps them in each CPU's frame): printed at power-off, one
 * line, for the CPUs that waited at all:
 *
 *   [hyp] lock: waits for the core's lock, worst / in all / how many of 1 ms or more: CPU 0 0.2 / 3.1 ms / 0, …
 *
 * The lock is held only for a core entry's own work (microseconds), so a wait of milliseconds means its holder
 * was kept from running meanwhile — under QEMU, the host descheduling that vCPU's thread — and every CPU queued
 * behind it waited as long: what one guest's exits can cost the others.
 */
import { lineEnd, listItem, put, putDec } from "../lib/log";
import { FRAME_COUNTER_HZ, FRAME_LOCK_WAIT_LONG, FRAME_LOCK_WAIT_TOTAL, FRAME_LOCK_WAIT_WORST, frameOf, MAX_CPUS } from "./percpu";

/** `ticks` of a `hz` counter in milliseconds, to 0.1 (hz ≥ 10 kHz on every board). */
function putMs(ticks: u64, hz: u64): void {
  const tenths = (ticks * 10 + hz / 2000) / (hz / 1000);
  putDec(tenths / 10); put("."); putDec(tenths % 10);
}

export function lockWaitReport(): void {
  let any = false;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    const f = frameOf(cpu);
    const total = load<u64>(f + FRAME_LOCK_WAIT_TOTAL), hz = load<u64>(f + FRAME_COUNTER_HZ);
    if (total == 0 || hz < 1000) continue;
    any = listItem("lock", "waits for the core's lock, worst / in all / how many of 1 ms or more:", any);
    put(" CPU "); putDec(cpu); put(" ");
    putMs(load<u64>(f + FRAME_LOCK_WAIT_WORST), hz); put(" / "); putMs(total, hz); put(" ms / ");
    putDec(load<u32>(f + FRAME_LOCK_WAIT_LONG));
  }
  if (any) lineEnd();
}
