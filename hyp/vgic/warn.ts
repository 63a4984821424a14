/**
 * The virtual GIC's one complaint: a guest touched a register we do not
 * emulate, or touched one the wrong way (size, alignment, a frame with no
 * vCPU). The access itself is RAZ/WI; the log line is rationed so that a
 * guest cannot flood the console (lib/budget.ts; vgicInit does not refill
 * the budget, so rebooting a guest does not either).
 */
import { logBudgetTake } from "../lib/budget";
import { lineEnd, lineStart, put, putDec, putHex } from "../lib/log";
import { VGIC_MAX_GUESTS } from "./state";

const spent = memory.data(<i32>VGIC_MAX_GUESTS);

/** `g` is below VGIC_MAX_GUESTS (checked by the caller). */
export function warnAccess(g: u32, where: string, offset: u32, size: u32, isWrite: bool): void {
  const left = logBudgetTake(spent, g);
  if (left < 0) return;
  lineStart("vgic");
  put("guest "); putDec(g); put(": "); put(where);
  put(isWrite ? " write at " : " read at "); putHex(offset);
  put(" size "); putDec(size); put(" ignored (RAZ/WI)");
  if (left == 0) put("; no more vgic warnings for this guest");
  lineEnd();
}
