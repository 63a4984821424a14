/**
 * The core's exports: the only entry points of the hypervisor's logic. Each
 * handles one event for one physical CPU and answers with an ACTION_* (see
 * core/action.ts) that the C run loop (boot/runloop.c) carries out.
 */
import { ACTION_PARK } from "./core/action";
import { bootCpuStart, bootSmcReturned, selfTestOutOfBounds as oobRead } from "./core/boot";
import { frameOf, MAX_CPUS } from "./core/percpu";
// Brings in the abort handler asc --use routes to (see asconfig.json).
import "./hw/abort";

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

/** Test hook: an out-of-bounds read that must trap (see core/boot.ts). */
export function selfTestOutOfBounds(): u32 {
  return oobRead();
}
