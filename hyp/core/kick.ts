/** Kicking physical CPUs so they notice new pending virtual interrupts. */
import { kickCpu } from "../hw/imports";
import { MAX_CPUS } from "./percpu";

/**
 * Kicks every CPU in `mask` except `self`: the calling CPU flushes its list
 * registers before it re-enters its guest anyway.
 */
export function kickMask(self: u32, mask: u32): void {
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) {
    if (cpu != self && (mask & (1 << cpu)) != 0) kickCpu(cpu);
  }
}
