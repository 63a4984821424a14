/**
 * What the mediator tells the console. Refusals a guest can cause at will are
 * rationed (lib/budget.ts); a limit reached is said once per guest and limit,
 * naming the limit, so whoever reads the log knows which number to look at.
 */
import { guestNamePtr, MAX_GUESTS } from "../../../core/guest";
import { logBudgetTake } from "../../../lib/budget";
import { lineEnd, lineStartGuest, put, putDec, putHex } from "../../../lib/log";
import { statCount, STAT_REFUSED } from "./stats";

export const LIMIT_CALLS: u32 = 0;
export const LIMIT_SHM_BUFFERS: u32 = 1;
export const LIMIT_PAGES_PER_BUFFER: u32 = 2;
export const LIMIT_SHM_PAGES: u32 = 3;
export const LIMIT_RPC_BUFFERS: u32 = 4;
export const LIMIT_POOL: u32 = 5;
const LIMIT_KINDS: u32 = 6;

const limitSaid = memory.data(<i32>(MAX_GUESTS * LIMIT_KINDS));
const refusals = memory.data(<i32>MAX_GUESTS);

function limitName(which: u32): string {
  switch (which) {
    case LIMIT_CALLS: return "MAX_CALLS_PER_GUEST (open std calls)";
    case LIMIT_SHM_BUFFERS: return "MAX_SHM_BUFFERS_PER_GUEST (registered buffers)";
    case LIMIT_PAGES_PER_BUFFER: return "MAX_PAGES_PER_BUFFER (pages in one buffer)";
    case LIMIT_SHM_PAGES: return "MAX_SHM_PAGES_PER_GUEST (registered pages)";
    case LIMIT_RPC_BUFFERS: return "MAX_RPC_BUFFERS_PER_GUEST (RPC argument buffers)";
    default: return "POOL_PAGES_PER_GUEST (hypervisor pages lent to OP-TEE)";
  }
}

/** Guest g ran into a limit: said the first time only. */
export function logLimit(g: u32, which: u32): void {
  statCount(g, STAT_REFUSED);
  const flag = limitSaid + <usize>(g * LIMIT_KINDS + which);
  if (load<u8>(flag) != 0) return;
  store<u8>(flag, 1);
  lineStartGuest("optee", guestNamePtr(g));
  put("reached "); put(limitName(which)); put(": answering as OP-TEE does when it runs out (said once)");
  lineEnd();
}

/** A refused request from guest g: what and the address or value at fault. */
export function logRefused(g: u32, what: string, value: u64): void {
  statCount(g, STAT_REFUSED);
  const left = logBudgetTake(refusals, g);
  if (left < 0) return;
  lineStartGuest("optee", guestNamePtr(g));
  put("refused: "); put(what); put(" ("); putHex(value); put(")");
  if (left == 0) put("; further refusals of this guest are not logged");
  lineEnd();
}

/** A line about guest g's life as an OP-TEE client. */
export function logClient(g: u32, what: string, id: u32, result: string): void {
  lineStartGuest("optee", guestNamePtr(g));
  put(what); put(" client "); putDec(id); put(" -> "); put(result);
  lineEnd();
}
