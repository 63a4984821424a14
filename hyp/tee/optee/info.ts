/**
 * What the boot probe learned about OP-TEE; the mediator reads it to decide
 * whether guests get a TEE and what to tell them.
 */
import { OPTEE_SMC_SEC_CAP_VIRTUALIZATION } from "./smc";

export class OpteeInfo {
  present: bool = false;
  osMajor: u32 = 0;
  osMinor: u32 = 0;
  vmCreatedOk: bool = false;
  vmDestroyedOk: bool = false;
  capabilities: u32 = 0;
  maxNotifValue: u32 = 0;
  rpcParamCount: u32 = 0;
  threadCount: u32 = 0;

  reset(): void {
    this.present = false;
    this.osMajor = 0;
    this.osMinor = 0;
    this.vmCreatedOk = false;
    this.vmDestroyedOk = false;
    this.capabilities = 0;
    this.maxNotifValue = 0;
    this.rpcParamCount = 0;
    this.threadCount = 0;
  }

  /** OP-TEE can keep guests apart: it accepted a VM and reports VIRTUALIZATION. */
  usableForGuests(): bool {
    return this.present && this.vmCreatedOk &&
      (this.capabilities & OPTEE_SMC_SEC_CAP_VIRTUALIZATION) != 0;
  }
}

export const opteeInfo = new OpteeInfo();
