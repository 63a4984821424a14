/**
 * EL3 as the hypervisor's SMCs meet it: PSCI answered by a small model of
 * TF-A's, Trusted-OS calls (owners 50..63) passed to the OP-TEE model,
 * anything else answered SMC_UNK, as TF-A does.
 */
import { OpteeModel } from "./optee.ts";

export const PSCI_SYSTEM_OFF = 0x84000008;
export const PSCI_CPU_ON_64 = 0xc4000003;
const SMC_UNK = 0xffffffffn;

export class FirmwareModel {
  poweredOff = false;
  /** Physical CPUs started with CPU_ON: target MPIDR and entry point. */
  readonly cpusOn: { mpidr: bigint; entry: bigint }[] = [];
  readonly optee: OpteeModel;

  constructor(optee: OpteeModel) {
    this.optee = optee;
  }

  smc(x: bigint[]): bigint[] {
    const fid = Number(x[0] & 0xffffffffn);
    const owner = (fid >>> 24) & 0x3f;
    if (fid === PSCI_SYSTEM_OFF) {
      this.poweredOff = true;
      return x; // never returns on the real machine; the run loop stops here
    }
    if (fid === PSCI_CPU_ON_64) {
      this.cpusOn.push({ mpidr: x[1], entry: x[2] });
      return [0n, ...x.slice(1)];
    }
    if (owner >= 50 && owner <= 63) return this.optee.call(x);
    return [SMC_UNK, ...x.slice(1)];
  }
}
