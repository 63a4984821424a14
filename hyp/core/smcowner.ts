/**
 * Who is waiting for the SMC a CPU has in flight, so that smcReturned hands
 * each completion back to whoever asked for it.
 */
import { ACTION_SMC } from "./action";
import { MAX_CPUS, setSmc } from "./percpu";
import { PSCI_0_2_FN_SYSTEM_OFF } from "../arch/smccc";

export const SMC_OWNER_NONE: u8 = 0;
export const SMC_OWNER_PROBE: u8 = 1; // the boot probe of OP-TEE
export const SMC_OWNER_POWER: u8 = 2; // PSCI SYSTEM_OFF of the whole machine
export const SMC_OWNER_CPU_ON: u8 = 3; // PSCI CPU_ON of a physical CPU at boot
export const SMC_OWNER_TEE_CALL: u8 = 4; // a guest's call into OP-TEE, forwarded by the mediator
export const SMC_OWNER_VM_CREATED: u8 = 5; // the mediator announcing a TEE guest at boot
export const SMC_OWNER_VM_DESTROYED: u8 = 6; // the mediator saying a TEE guest is gone
export const SMC_OWNER_NOTIF: u8 = 7; // the mediator reading a guest's notification values (drain.ts)
export const SMC_OWNER_VM_CREATED_AGAIN: u8 = 8; // a restarting TEE guest announced again (core/lifecycle.ts)

const owners = memory.data(<i32>MAX_CPUS, 8);

/** Records the owner of the SMC now in `cpu`'s frame and asks the run loop to perform it. */
export function requestSmc(cpu: u32, owner: u8): u32 {
  store<u8>(owners + <usize>cpu, owner);
  return ACTION_SMC;
}

/** The owner of `cpu`'s completed SMC; the slot is cleared. */
export function takeSmcOwner(cpu: u32): u8 {
  const owner = load<u8>(owners + <usize>cpu);
  store<u8>(owners + <usize>cpu, SMC_OWNER_NONE);
  return owner;
}

/** Asks for PSCI SYSTEM_OFF of the machine on `cpu`. */
export function requestPowerOff(cpu: u32): u32 {
  setSmc(cpu, PSCI_0_2_FN_SYSTEM_OFF, 0, 0, 0);
  return requestSmc(cpu, SMC_OWNER_POWER);
}
