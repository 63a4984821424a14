/**
 * A synchronous exception from a guest, dispatched by ESR_EL2.EC in one
 * table. Whatever the hypervisor does not handle is given back to the guest
 * as an undefined instruction: a guest's mistake never stops a CPU.
 */
import * as E from "../arch/esr";
import { FRAME_ESR, FRAME_PC, frameGet, frameSet, guestReg } from "../core/percpu";
import { continueCpu } from "../core/run";
import { kickMask } from "../core/kick";
import { guestOfCpu, vcpuOfCpu } from "../core/vcpu";
import { injectException } from "../hw/imports";
import { guestNamePtr, MAX_GUESTS } from "../core/guest";
import { lineEnd, lineStartGuest, put, putHex } from "../lib/log";
import { logBudgetTake } from "../lib/budget";
import { dataAbort, instructionAbort } from "./mmio";
import { smcccCall } from "./smccc";
import { vgicSgiWrite } from "../vgic/exports";
import { accountSet, KIND_HVC, KIND_IABT, KIND_OTHER, KIND_SHIFT, KIND_SMC, KIND_SYSREG, KIND_WFX, mmioKind,
  MMIO_DEV_NONE, smcccKind } from "../core/account";

export function guestSync(cpu: u32): u32 {
  const esr = frameGet(cpu, FRAME_ESR);
  const ec = E.esrClass(esr);
  switch (ec) {
    case E.EC_HVC64: {
      accountSet(cpu, smcccKind(KIND_HVC, <u32>guestReg(cpu, 0)));
      return smcccCall(cpu); // ELR already points past the HVC
    }
    case E.EC_SMC64: {
      accountSet(cpu, smcccKind(KIND_SMC, <u32>guestReg(cpu, 0)));
      skipInstruction(cpu); // a trapped SMC returns to the SMC itself
      return smcccCall(cpu);
    }
    case E.EC_DABT_LOWER: {
      accountSet(cpu, mmioKind(MMIO_DEV_NONE, E.dabtIsWrite(esr), 0)); // trap/mmio.ts names the device
      return dataAbort(cpu);
    }
    case E.EC_IABT_LOWER: {
      accountSet(cpu, KIND_IABT << KIND_SHIFT);
      return instructionAbort(cpu);
    }
    case E.EC_SYSREG: {
      accountSet(cpu, (KIND_SYSREG << KIND_SHIFT) | (<u32>esr & 0x3fffff));
      return systemRegister(cpu, esr);
    }
    case E.EC_WFX: {
      accountSet(cpu, KIND_WFX << KIND_SHIFT);
      skipInstruction(cpu);
      return continueCpu(cpu);
    }
    default: {
      accountSet(cpu, (KIND_OTHER << KIND_SHIFT) | ec);
      logUnhandled(cpu, esr);
      return undefinedInstruction(cpu);
    }
  }
}

/** Unhandled traps logged per guest (lib/budget.ts). */
const unhandledLogged = memory.data(<i32>MAX_GUESTS);

function logUnhandled(cpu: u32, esr: u64): void {
  const g = guestOfCpu(cpu);
  const left = logBudgetTake(unhandledLogged, g);
  if (left < 0) return;
  lineStartGuest("guest", guestNamePtr(g));
  put("unhandled trap, ESR "); putHex(esr); put(" (EC "); putHex(E.esrClass(esr)); put(") at pc ");
  putHex(frameGet(cpu, FRAME_PC)); put(": undefined instruction injected");
  if (left == 0) put(" (further ones are not logged)");
  lineEnd();
}

function skipInstruction(cpu: u32): void {
  frameSet(cpu, FRAME_PC, frameGet(cpu, FRAME_PC) + 4);
}

/** Only ICC_SGI1R_EL1 writes trap on purpose (HCR_EL2.IMO): a guest's IPI. */
function systemRegister(cpu: u32, esr: u64): u32 {
  if (E.sysregKey(esr) != E.SYSREG_ICC_SGI1R_EL1 || E.sysregIsRead(esr)) return undefinedInstruction(cpu);
  const value = guestReg(cpu, E.sysregRt(esr));
  kickMask(cpu, vgicSgiWrite(guestOfCpu(cpu), vcpuOfCpu(cpu), value));
  skipInstruction(cpu);
  return continueCpu(cpu);
}

function undefinedInstruction(cpu: u32): u32 {
  injectException(cpu, E.ESR_EL1_UNDEF, 0);
  return continueCpu(cpu);
}
