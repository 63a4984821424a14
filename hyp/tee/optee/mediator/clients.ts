/**
 * Which guests are OP-TEE's clients, under which id. A guest with the `tee`
 * flag gets client id = its index + 1 (0 is the hypervisor itself), announced
 * with VM_CREATED before its first vCPU runs and withdrawn with VM_DESTROYED
 * once its last vCPU has stopped. OP-TEE accepts a duplicate VM_CREATED, so
 * the mediator keeps track itself and never sends one twice.
 */
import { guestAt, guestCount, GUEST_FLAG_TEE, MAX_GUESTS } from "../../../core/guest";
import { setSmc, smcReg } from "../../../core/percpu";
import { opteeInfo } from "../info";
import * as smc from "../smc";
import { logClient } from "./log";
import { statReport, statReset } from "./stats";
import { heldReport } from "./held";
import { lifecycleLoud } from "../../../core/lifecycle";

const created = memory.data(<i32>MAX_GUESTS);

@inline export function clientIdOf(g: u32): u32 {
  return g + 1;
}

/** Is guest g OP-TEE's client now (its calls are mediated)? */
export function isClient(g: u32): bool {
  return g < MAX_GUESTS && load<u8>(created + <usize>g) != 0;
}

/** The next guest (from g on) that needs VM_CREATED, or MAX_GUESTS when none. */
export function nextGuestToCreate(g: u32): u32 {
  if (!opteeInfo.usableForGuests()) return MAX_GUESTS;
  for (; g < guestCount() && g < MAX_GUESTS; g++) {
    if ((guestAt(g).flags & GUEST_FLAG_TEE) != 0 && !isClient(g)) return g;
  }
  return MAX_GUESTS;
}

/** Loads VM_CREATED for guest g into `cpu`'s SMC registers (x7 = 0: from the hypervisor). */
export function loadVmCreated(cpu: u32, g: u32): void {
  setSmc(cpu, smc.OPTEE_SMC_VM_CREATED, <u64>clientIdOf(g), 0, 0);
}

/** VM_CREATED for guest g returned on `cpu`: g is a client if OP-TEE said OK. */
export function vmCreatedReturned(cpu: u32, g: u32): void {
  const a0 = <u32>smcReg(cpu, 0);
  const ok = a0 == smc.OPTEE_SMC_RETURN_OK;
  store<u8>(created + <usize>g, ok ? 1 : 0);
  if (ok && !lifecycleLoud(g)) return;
  logClient(g, "VM_CREATED", clientIdOf(g), ok ? "OK: this guest may use OP-TEE" : smc.opteeReturnName(a0));
}

/**
 * Guest g is gone: loads VM_DESTROYED into `cpu`'s SMC registers and returns
 * true, or false when g was not a client. It stops being one at once.
 */
export function loadVmDestroyed(cpu: u32, g: u32): bool {
  if (!isClient(g)) return false;
  store<u8>(created + <usize>g, 0);
  setSmc(cpu, smc.OPTEE_SMC_VM_DESTROYED, <u64>clientIdOf(g), 0, 0);
  return true;
}

export function vmDestroyedReturned(cpu: u32, g: u32): void {
  const a0 = <u32>smcReg(cpu, 0);
  if (a0 == smc.OPTEE_SMC_RETURN_OK && !lifecycleLoud(g)) {
    statReset(g);
    return;
  }
  logClient(g, "VM_DESTROYED", clientIdOf(g), smc.opteeReturnName(a0));
  statReport(g);
  heldReport(g);
}
