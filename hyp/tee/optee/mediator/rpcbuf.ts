/**
 * RPC argument buffers: OP-TEE asks the normal world for one (RPC_ALLOC) and
 * later puts RPC requests in it (RPC_CMD). The guest's buffer is shadowed by
 * a pool page: OP-TEE only ever gets the shadow's address, and the mediator
 * copies the request to the guest and the reply back, so a guest can never
 * point OP-TEE at memory that is not its own. The guest's cookie passes to
 * OP-TEE unchanged; it is how both sides name the buffer, so it names one
 * live buffer of the guest at most (rpc.ts refuses a second under it).
 */
import { MAX_GUESTS } from "../../../core/guest";
import { MAX_RPC_BUFFERS_PER_GUEST } from "./limits";
import { poolAlloc, poolFree } from "./pool";

@unmanaged class RpcBuffer {
  cookie: u64;
  ipa: u64;
  shadow: usize;
  size: u32;
}

const RECORD: u32 = offsetof<RpcBuffer>();
const records = memory.data(<i32>(MAX_GUESTS * MAX_RPC_BUFFERS_PER_GUEST * RECORD), 8);

export const RPC_BUFFER_NONE: i32 = -1;
/** Why the last rpcBufferAdd failed: true = MAX_RPC_BUFFERS_PER_GUEST, false = no pool page. */
export let rpcBufferLimitWasCount = false;

@inline function at(g: u32, i: u32): RpcBuffer {
  return changetype<RpcBuffer>(records + <usize>((g * MAX_RPC_BUFFERS_PER_GUEST + i) * RECORD));
}

/** Shadows guest g's buffer at ipa (size ≤ a page, checked by the caller); RPC_BUFFER_NONE past a limit. */
export function rpcBufferAdd(g: u32, cookie: u64, ipa: u64, size: u32): i32 {
  for (let i: u32 = 0; i < MAX_RPC_BUFFERS_PER_GUEST; i++) {
    const r = at(g, i);
    if (r.shadow != 0) continue;
    const shadow = poolAlloc(g);
    if (shadow == 0) {
      rpcBufferLimitWasCount = false;
      return RPC_BUFFER_NONE;
    }
    r.cookie = cookie;
    r.ipa = ipa;
    r.size = size;
    r.shadow = shadow;
    return <i32>i;
  }
  rpcBufferLimitWasCount = true;
  return RPC_BUFFER_NONE;
}

/** Guest g's buffer named `cookie`, or RPC_BUFFER_NONE. */
export function rpcBufferFind(g: u32, cookie: u64): i32 {
  for (let i: u32 = 0; i < MAX_RPC_BUFFERS_PER_GUEST; i++) {
    const r = at(g, i);
    if (r.shadow != 0 && r.cookie == cookie) return <i32>i;
  }
  return RPC_BUFFER_NONE;
}

export function rpcBufferShadow(g: u32, i: i32): usize {
  return at(g, <u32>i).shadow;
}

export function rpcBufferIpa(g: u32, i: i32): u64 {
  return at(g, <u32>i).ipa;
}

export function rpcBufferSize(g: u32, i: i32): u32 {
  return at(g, <u32>i).size;
}

export function rpcBufferRemove(g: u32, i: i32): void {
  if (i < 0 || <u32>i >= MAX_RPC_BUFFERS_PER_GUEST) return;
  const r = at(g, <u32>i);
  poolFree(r.shadow);
  r.shadow = 0;
  r.cookie = 0;
  r.ipa = 0;
  r.size = 0;
}

export function rpcBufferRemoveAll(g: u32): void {
  for (let i: u32 = 0; i < MAX_RPC_BUFFERS_PER_GUEST; i++) rpcBufferRemove(g, <i32>i);
}

/** Forgets guest g's RPC buffers without reading them (after a fault; their pool pages go by poolDiscard). */
export function rpcBufferDiscardAll(g: u32): void {
  if (g >= MAX_GUESTS) return;
  memory.fill(changetype<usize>(at(g, 0)), 0, MAX_RPC_BUFFERS_PER_GUEST * RECORD);
}

/** RPC buffers guest g has now. */
export function rpcBufferCount(g: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < MAX_RPC_BUFFERS_PER_GUEST; i++) if (at(g, i).shadow != 0) n++;
  return n;
}
