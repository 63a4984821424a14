/**
 * Wake-ups with nothing to take: a waiting CPU (ACTION_WAIT) left its WFI and the GIC had no interrupt to
 * acknowledge (1023). A few are normal (an interrupt withdrawn between its signal and
 * the acknowledge). Thousands mean a CPU spinning: a waiting CPU whose virtual interface still signals the last
 * vCPU's list registers (QEMU wakes an EL2 WFI for a virtual IRQ) went round the core's lock, and QEMU's,
 * for as long as it waited, starving the other CPUs' timers. Printed at power-off when any CPU had one:
 *
 *   [hyp] irq: wake-ups with no interrupt to take: CPU 0: 3, CPU 2: 1
 */
import { lineEnd, listItem, put, putDec } from "../lib/log";
import { MAX_CPUS } from "../gen/limits";

const counts = memory.data(<i32>(MAX_CPUS * 4), 4);

export function countEmptyWake(cpu: u32): void {
  if (cpu >= MAX_CPUS) return;
  const slot = counts + <usize>(cpu << 2);
  store<u32>(slot, load<u32>(slot) + 1);
}

export function emptyWakeReport(): void {
  let any = false;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    const n = load<u32>(counts + <usize>(cpu << 2));
    if (n == 0) continue;
    any = listItem("irq", "wake-ups with no interrupt to take:", any);
    put(" CPU "); putDec(cpu); put(": "); putDec(n);
  }
  if (any) lineEnd();
}
