/**
 * Ctrl-A v on the console (vdev/console-input.ts), and what a test prints before it kills a machine that
 * stopped talking: every live vCPU's virtual GIC, one line each, so that an interrupt that never reached a
 * guest can be told apart from a guest that never asked for one.
 *
 *   [hyp] vgic: plain vCPU 0 (CPU 3): ctlr 1, LRs 0x0a0000001b 0 0 0 (owned 0x1), ready -, 27:EHa 33:EL
 *
 * The LRs are as the vCPU's last exit left them in its frame (a vCPU asleep in WFI at EL1 has not exited
 * since). Each INTID with any state: E enabled, P pending, A active (waiting for an LR), p/a pending/active in
 * LR n (the digit after H… is the LR), L level line high, r a clear request for the next flush.
 */
import { cpuOfVcpu, guestCount, guestNamePtr, MAX_GUESTS } from "../core/guest";
import { FRAME_LR, LR_COUNT } from "../gen/frame";
import { frameGet } from "../core/percpu";
import { platform } from "../core/platform";
import { lineEnd, lineStart, put, putChar, putDec, putHex, putName } from "../lib/log";
import { PRIVATE_COUNT, VGIC_MAX_INTID } from "./regs";
import {
  IRQ_ACTIVE, IRQ_ENABLED, IRQ_LINE, IRQ_LR_ACTIVE, IRQ_LR_PENDING, IRQ_PENDING, distCtlr, irqAt, irqFlags, irqLr,
  irqReq, lrOwned, readyWord, readyWords, vcpuCount, vcpuLive,
} from "./state";

/** INTIDs listed per line at most (the console line holds 512 bytes). */
const MAX_LISTED: u32 = 24;

export function vgicReportAll(): void {
  for (let g: u32 = 0; g < guestCount() && g < MAX_GUESTS; g++) {
    for (let v: u32 = 0; v < vcpuCount(g); v++) if (vcpuLive(g, v)) vgicReport(g, v);
  }
}

function vgicReport(g: u32, v: u32): void {
  const cpu = cpuOfVcpu(g, v);
  lineStart("vgic");
  putName(guestNamePtr(g), 16);
  put(" vCPU "); putDec(v); put(" (CPU "); putDec(cpu); put("): ctlr "); putDec(distCtlr(g));
  put(", LRs");
  const count = platform.listRegisters < LR_COUNT ? platform.listRegisters : LR_COUNT;
  for (let i: u32 = 0; i < count; i++) {
    put(" ");
    putHex(frameGet(cpu, FRAME_LR + (i << 3)));
  }
  put(" (owned "); putHex(lrOwned(g, v)); put("), ready");
  putReady(g, v);
  put(",");
  let listed: u32 = 0;
  for (let intid: u32 = 0; intid < VGIC_MAX_INTID && listed < MAX_LISTED; intid++) {
    // SPIs are kept once per guest; they are shown with vCPU 0.
    if (intid >= PRIVATE_COUNT && v != 0) break;
    if (putIrq(g, v, intid)) listed++;
  }
  lineEnd();
}

function putReady(g: u32, v: u32): void {
  if (readyWords(g, v) == 0) {
    put(" -");
    return;
  }
  for (let w: u32 = 0; w < 8; w++) {
    let bits = readyWord(g, v, w);
    while (bits != 0) {
      put(" ");
      putDec((w << 5) + ctz<u32>(bits));
      bits &= bits - 1;
    }
  }
}

/** " 27:EHa"-style state of one INTID; false (nothing printed) when it has none beyond being enabled or not. */
function putIrq(g: u32, v: u32, intid: u32): bool {
  const r = irqAt(g, v, intid);
  const f = irqFlags(r);
  const lr = irqLr(r);
  if ((f & (IRQ_PENDING | IRQ_ACTIVE | IRQ_LINE | IRQ_LR_PENDING | IRQ_LR_ACTIVE)) == 0 && lr == 0 && irqReq(r) == 0) return false;
  put(" ");
  putDec(intid);
  put(":");
  if ((f & IRQ_ENABLED) != 0) putChar(0x45); // E
  if ((f & IRQ_PENDING) != 0) putChar(0x50); // P
  if ((f & IRQ_ACTIVE) != 0) putChar(0x41); // A
  if ((f & IRQ_LINE) != 0) putChar(0x4c); // L
  if (lr != 0) {
    putChar(0x48); // H (held in an LR), then its index
    putDec(lr - 1);
  }
  if ((f & IRQ_LR_PENDING) != 0) putChar(0x70); // p
  if ((f & IRQ_LR_ACTIVE) != 0) putChar(0x61); // a
  if (irqReq(r) != 0) putChar(0x72); // r
  return true;
}
