/**
 * What the mediator holds for a guest, as Wasm exports (re-exported by main.ts) for the fuzzer's invariants
 * (test/fuzz/invariants.ts): its counts must match what the OP-TEE model holds, and be zero after VM_DESTROYED;
 * every page OP-TEE keeps of the hypervisor's must be one the mediator holds for that guest.
 * Read-only; any argument is safe (an unknown guest holds nothing).
 */
import { MAX_GUESTS } from "../../../core/guest";
import { callsOpen } from "./calls";
import { poolHolderAt, poolPagesOf } from "./pool";
import { rpcBufferCount } from "./rpcbuf";
import { shmCount } from "./shm";

export const HOLDS_SHM_BUFFERS: u32 = 0;
export const HOLDS_RPC_BUFFERS: u32 = 1;
export const HOLDS_CALLS: u32 = 2;
export const HOLDS_POOL_PAGES: u32 = 3;

/** How many of `what` (HOLDS_*) guest g has in the mediator now. */
export function mediatorHolds(g: u32, what: u32): u32 {
  if (g >= MAX_GUESTS) return 0;
  if (what == HOLDS_SHM_BUFFERS) return shmCount(g);
  if (what == HOLDS_RPC_BUFFERS) return rpcBufferCount(g);
  if (what == HOLDS_CALLS) return callsOpen(g);
  if (what == HOLDS_POOL_PAGES) return poolPagesOf(g);
  return 0;
}

/** Who holds the pool page at physical address pa: guest + 1, 0 if free, -1 if it is not a pool page. */
export function mediatorPoolHolder(pa: u64): i32 {
  return poolHolderAt(pa);
}
