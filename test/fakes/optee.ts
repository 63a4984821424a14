/**
 * A scripted model of OP-TEE 4.5's SMC ABI as the hypervisor sees it
 * (optee_smc.h; behaviour measured against Debian's builds, design.md §5).
 * Three kinds of secure world: Debian's virtualized build, the plain build,
 * and none at all (TF-A without an SPD answers every Trusted-OS call with
 * SMC_UNK). Every call is recorded so tests can check what OP-TEE was asked.
 */

export const OPTEE_SMC_CALLS_UID = 0xbf00ff01;
export const OPTEE_SMC_CALLS_REVISION = 0xbf00ff03;
export const OPTEE_SMC_CALL_GET_OS_REVISION = 0xb2000001;
export const OPTEE_SMC_EXCHANGE_CAPABILITIES = 0xb2000009;
export const OPTEE_SMC_VM_CREATED = 0xb200000d;
export const OPTEE_SMC_VM_DESTROYED = 0xb200000e;
export const OPTEE_SMC_GET_THREAD_COUNT = 0xb200000f;

export const OK = 0;
export const ENOTAVAIL = 7;
export const UNKNOWN = 0xffffffff;

/** What Debian's virtualized build reports: everything but UNREGISTERED_SHM (measured: 0xfd). */
export const CAPS_VIRTUALIZED = 0xfd;
/** The plain build: the same minus VIRTUALIZATION. */
export const CAPS_PLAIN = 0xf5;
const UID = [0x384fb3e0, 0xe7f811e3, 0xaf630002, 0xa5d5c51b];

export type SecureWorldKind = "virtualized" | "plain" | "absent";

export interface SmcRecord {
  fid: number;
  /** x1 and x7 as 32-bit values: OP-TEE reads a0..a7 as 32-bit registers. */
  a1: number;
  a7: number;
}

export class OpteeModel {
  readonly calls: SmcRecord[] = [];
  /** Guest ids currently created (a multiset: OP-TEE accepts duplicates). */
  readonly guests: number[] = [];
  /** Debian's virtualized build has room for 2 guests. */
  maxGuests = 2;
  threadCount = 2;

  constructor(readonly kind: SecureWorldKind) {}

  /** Answers one SMC: x0..x7 in, x0..x7 out. */
  call(x: bigint[]): bigint[] {
    const fid = Number(x[0] & 0xffffffffn);
    const a1 = Number(x[1] & 0xffffffffn);
    const a7 = Number(x[7] & 0xffffffffn);
    this.calls.push({ fid, a1, a7 });
    return this.answer(fid, a1, a7).map((v) => BigInt(v >>> 0)).concat([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]).slice(0, 8);
  }

  private answer(fid: number, a1: number, a7: number): number[] {
    if (this.kind === "absent") return [UNKNOWN];
    const virt = this.kind === "virtualized";
    switch (fid) {
      case OPTEE_SMC_CALLS_UID: return UID;
      case OPTEE_SMC_CALLS_REVISION: return [2, 0];
      case OPTEE_SMC_CALL_GET_OS_REVISION: return [4, 5, 0];
      case OPTEE_SMC_VM_CREATED:
      case OPTEE_SMC_VM_DESTROYED:
        if (!virt) return [UNKNOWN];
        if (a7 !== 0) return [ENOTAVAIL]; // only the hypervisor may manage guests
        return fid === OPTEE_SMC_VM_CREATED ? this.create(a1) : this.destroy(a1);
    }
    // Every other fast call comes from a client: in the virtualized build it must be a known one.
    if (virt && a7 !== 0 && !this.guests.includes(a7)) return [ENOTAVAIL];
    switch (fid) {
      case OPTEE_SMC_EXCHANGE_CAPABILITIES: return [OK, virt ? CAPS_VIRTUALIZED : CAPS_PLAIN, 66, 4];
      case OPTEE_SMC_GET_THREAD_COUNT: return [OK, this.threadCount];
      default: return [UNKNOWN];
    }
  }

  private create(id: number): number[] {
    if (this.guests.length >= this.maxGuests) return [ENOTAVAIL];
    this.guests.push(id);
    return [OK];
  }

  private destroy(id: number): number[] {
    const i = this.guests.indexOf(id);
    if (i >= 0) this.guests.splice(i, 1);
    return [OK];
  }
}
