/** Kicking physical CPUs so they notice new pending virtual interrupts. */
import { kickCpu } from "../hw/imports";
import { MAX_CPUS } from "./percpu";

/**
 * Kicks every CPU in `mask` except `self`: the calling CPU flushes its list
 * registers before it re-enters its guest anyway.
 */
export function kickMask(self: u32, mask: u32): void {
  // Called after every emulated device access, nearly always with nothing to kick: walk only the set bits.
  let others = mask & ~(<u32>1 << self) & ((<u32>1 << MAX_CPUS) - 1);
  while (others != 0) {
    kickCpu(ctz<u32>(others));
    others &= others - 1;
  }
}
