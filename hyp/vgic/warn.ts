/**
 * The virtual GIC's one complaint: a guest touched a register we do not
 * emulate, or touched one the wrong way (size, alignment, a frame with no
 * vCPU). The access itself is RAZ/WI; the log line is rationed so that a
 * guest cannot flood the console: WARN_BUDGET lines per guest for the whole
 * boot (vgicInit does not refill it, so rebooting a guest does not either).
 */
import { lineEnd, lineStart, put, putDec, putHex } from "../lib/log";
import { VGIC_MAX_GUESTS } from "./state";

const WARN_BUDGET: u32 = 4;
const spent = memory.data(<i32>VGIC_MAX_GUESTS, 4);

/** `g` is below VGIC_MAX_GUESTS (checked by the caller). */
export function warnAccess(g: u32, where: string, offset: u32, size: u32, isWrite: bool): void {
  const n = <u32>load<u8>(spent + <usize>g);
  if (n >= WARN_BUDGET) return;
  store<u8>(spent + <usize>g, <u8>(n + 1));
  lineStart("vgic");
  put("guest "); putDec(g); put(": "); put(where);
  put(isWrite ? " write at " : " read at "); putHex(offset);
  put(" size "); putDec(size); put(" ignored (RAZ/WI)");
  if (n + 1 == WARN_BUDGET) put("; no more vgic warnings for this guest");
  lineEnd();
}
