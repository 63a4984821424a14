/**
 * Stage-2 data aborts: a guest touched an address its stage-2 tables do not
 * map, or wrote to its UART's register page, which they map read-only. Its
 * emulated devices (GIC distributor, and redistributors on GICv3; PL011) are
 * handled here; any other address is refused with a synchronous external
 * abort injected into the guest, and logged (a few times per guest at most,
 * so a guest cannot flood the console).
 */
import * as E from "../arch/esr";
import { GUEST_LAYOUT_GICD, GUEST_LAYOUT_GICD_SIZE, GUEST_LAYOUT_GICR, GUEST_LAYOUT_GICR_STRIDE, GUEST_LAYOUT_UART, GUEST_LAYOUT_UART_SIZE, GUEST_UART_INTID } from "../core/layout";
import { guestAt, guestNamePtr, MAX_GUESTS } from "../core/guest";
import { FRAME_ESR, FRAME_FAR, FRAME_HPFAR, FRAME_PC, FRAME_PSTATE, frameGet, frameSet, guestReg, setGuestReg } from "../core/percpu";
import { continueCpu } from "../core/run";
import { guestOfCpu, vcpuOfCpu } from "../core/vcpu";
import { injectException } from "../hw/imports";
import { lineEnd, lineStartGuest, put, putHex } from "../lib/log";
import { logBudgetTake } from "../lib/budget";
import { pl011Line, pl011Read, pl011Write, UART_DR } from "../vdev/pl011";
import { consoleGuestRead } from "../vdev/console-input";
import { vgicMmioDist, vgicMmioDistV2, vgicMmioRedist, vgicSetIrqLevel, vgicTakeKicks } from "../vgic/exports";
import { gicIsV2 } from "../core/platform";
import { kickMask } from "../core/kick";
import { accountSet, gicRegisterGroup, mmioKind, MMIO_DEV_GICD, MMIO_DEV_GICR, MMIO_DEV_PL011 } from "../core/account";

/** Refused accesses logged per guest (lib/budget.ts). */
const faultsLogged = memory.data(<i32>MAX_GUESTS);

export function dataAbort(cpu: u32): u32 {
  const esr = frameGet(cpu, FRAME_ESR);
  const ipa = faultIpa(esr, frameGet(cpu, FRAME_HPFAR), frameGet(cpu, FRAME_FAR));
  const g = guestOfCpu(cpu);
  // Without ISV the access (e.g. a load pair, a write-back form) cannot be emulated.
  if (!E.dabtIsValid(esr) || !emulate(cpu, g, ipa, esr)) {
    refuse(cpu, g, ipa, esr);
    return continueCpu(cpu);
  }
  frameSet(cpu, FRAME_PC, frameGet(cpu, FRAME_PC) + 4);
  return continueCpu(cpu);
}

/**
 * The IPA of a faulting access. A permission fault can only be a write to the UART's register page, the one
 * page stage 2 maps read-only (core/stage2.ts): its IPA is the UART's, at FAR's offset in the page, since
 * HPFAR is not written for permission faults.
 */
@inline function faultIpa(esr: u64, hpfar: u64, far: u64): u64 {
  return E.dabtIsPermissionFault(esr) ? GUEST_LAYOUT_UART | (far & 0xfff) : E.abortIpa(hpfar, far);
}

/** Emulates the access if `ipa` is one of the guest's devices; false otherwise. */
function emulate(cpu: u32, g: u32, ipa: u64, esr: u64): bool {
  const size: u32 = 1 << E.dabtSizeLog2(esr);
  const write = E.dabtIsWrite(esr);
  const rt = E.dabtRegister(esr);
  const value = write ? guestReg(cpu, rt) & sizeMask(size) : 0;
  const v = vcpuOfCpu(cpu);
  let result: u64 = 0;
  if (ipa >= GUEST_LAYOUT_GICD && ipa < GUEST_LAYOUT_GICD + GUEST_LAYOUT_GICD_SIZE) {
    accountSet(cpu, mmioKind(MMIO_DEV_GICD, write, gicRegisterGroup(<u32>(ipa - GUEST_LAYOUT_GICD))));
    const offset = <u32>(ipa - GUEST_LAYOUT_GICD);
    // The guest's GIC is the hardware's version (core/platform.ts): its front end decodes the access.
    result = gicIsV2() ? vgicMmioDistV2(g, v, offset, size, write ? 1 : 0, value)
      : vgicMmioDist(g, v, offset, size, write ? 1 : 0, value);
    kickMask(cpu, vgicTakeKicks(g));
  } else if (!gicIsV2() && ipa >= GUEST_LAYOUT_GICR && ipa < GUEST_LAYOUT_GICR + <u64>(guestAt(g).vcpuCount * GUEST_LAYOUT_GICR_STRIDE)) {
    accountSet(cpu, mmioKind(MMIO_DEV_GICR, write, gicRegisterGroup(<u32>(ipa - GUEST_LAYOUT_GICR) % GUEST_LAYOUT_GICR_STRIDE)));
    result = vgicMmioRedist(g, v, <u32>(ipa - GUEST_LAYOUT_GICR), size, write ? 1 : 0, value);
    kickMask(cpu, vgicTakeKicks(g));
  } else if (ipa >= GUEST_LAYOUT_UART && ipa < GUEST_LAYOUT_UART + GUEST_LAYOUT_UART_SIZE) {
    const offset = <u32>(ipa - GUEST_LAYOUT_UART);
    accountSet(cpu, mmioKind(MMIO_DEV_PL011, write, offset));
    // The PL011's registers are 32-bit (Linux's driver and earlycon use 32-bit or 8-bit accesses).
    if (write) pl011Write(g, offset, <u32>value);
    else {
      result = pl011Read(g, offset);
      if (offset == UART_DR) consoleGuestRead(g);
    }
    // A DR write, one per character sent, changes no interrupt (the transmitter is never full, and what it
    // raises and masks stays as it was): skip the vGIC. Every other access may change the line.
    if (!write || offset != UART_DR) kickMask(cpu, vgicSetIrqLevel(g, 0, GUEST_UART_INTID, pl011Line(g) ? 1 : 0));
  } else {
    return false;
  }
  if (!write) setGuestReg(cpu, rt, extend(result, size, E.dabtSignExtend(esr), E.dabtSixtyFour(esr)));
  return true;
}

@inline function sizeMask(size: u32): u64 {
  return size >= 8 ? <u64>-1 : (<u64>1 << (<u64>size << 3)) - 1;
}

function extend(value: u64, size: u32, signed: bool, sixtyFour: bool): u64 {
  let v = value & sizeMask(size);
  if (signed && size < 8) {
    const shift = <u64>(64 - (size << 3));
    v = <u64>((<i64>(v << shift)) >> shift);
  }
  return sixtyFour ? v : v & 0xffffffff;
}

function refuse(cpu: u32, g: u32, ipa: u64, esr: u64): void {
  const left = logBudgetTake(faultsLogged, g);
  if (left >= 0) {
    lineStartGuest("guest", guestNamePtr(g));
    put(E.dabtIsWrite(esr) ? "write to " : "read of "); putHex(ipa);
    put(" outside its RAM and devices at pc "); putHex(frameGet(cpu, FRAME_PC));
    put(": external abort injected");
    if (left == 0) put(" (further ones are not logged)");
    lineEnd();
  }
  const fromEl0 = E.pstateIsEl0(frameGet(cpu, FRAME_PSTATE));
  injectException(cpu, E.esrEl1DataAbort(fromEl0, E.dabtIsWrite(esr)), frameGet(cpu, FRAME_FAR));
}

/** An instruction fetch outside the guest's RAM: refused the same way. */
export function instructionAbort(cpu: u32): u32 {
  const g = guestOfCpu(cpu);
  const ipa = E.abortIpa(frameGet(cpu, FRAME_HPFAR), frameGet(cpu, FRAME_FAR));
  if (logBudgetTake(faultsLogged, g) >= 0) {
    lineStartGuest("guest", guestNamePtr(g));
    put("instruction fetch from "); putHex(ipa); put(" outside its RAM: external abort injected");
    lineEnd();
  }
  injectException(cpu, E.esrEl1InstructionAbort(E.pstateIsEl0(frameGet(cpu, FRAME_PSTATE))), frameGet(cpu, FRAME_FAR));
  return continueCpu(cpu);
}
