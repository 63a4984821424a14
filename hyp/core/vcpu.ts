/**
 * vCPUs: with static partitioning a vCPU is pinned to one physical CPU for
 * the whole boot, so all its state lives in that CPU's frame and is indexed
 * by the physical CPU number. A CPU is either unused, or runs vCPU v of
 * guest g, which is off (waiting for PSCI CPU_ON), starting, or running.
 */
import { HCR_GUEST, SPSR_EL1H_MASKED, VTCR_GUEST, vmpidrOf } from "../arch/el2";
import { guestAt, MAX_GUESTS, NO_GUEST } from "./guest";
import * as F from "./percpu";

export const VCPU_NONE: u8 = 0; // this CPU runs no guest
export const VCPU_OFF: u8 = 1;
export const VCPU_STARTING: u8 = 2; // CPU_ON accepted; enters the guest at its next event
export const VCPU_RUNNING: u8 = 3;

/** controlsDirty values: what C loads before the next entry. */
// CONTROLS_LOAD (HCR, VTTBR, VTCR, VMPIDR) and CONTROLS_RESET_EL1 (… and EL1 reset): tools/abi/frame.ts.
export { CONTROLS_LOAD, CONTROLS_RESET_EL1 } from "../gen/frame";
import { CONTROLS_RESET_EL1 } from "../gen/frame";

const guestOf = memory.data(<i32>F.MAX_CPUS, 8);
const vcpuIndex = memory.data(<i32>F.MAX_CPUS, 8);
const state = memory.data(<i32>F.MAX_CPUS, 8);

export function vcpuClearAll(): void {
  memory.fill(guestOf, <u8>NO_GUEST, F.MAX_CPUS);
  memory.fill(vcpuIndex, 0, F.MAX_CPUS);
  memory.fill(state, VCPU_NONE, F.MAX_CPUS);
}

export function vcpuBind(cpu: u32, g: u32, v: u32): void {
  store<u8>(guestOf + <usize>cpu, <u8>g);
  store<u8>(vcpuIndex + <usize>cpu, <u8>v);
  store<u8>(state + <usize>cpu, VCPU_OFF);
}

/** Guest of the vCPU on `cpu`, or NO_GUEST. */
@inline export function guestOfCpu(cpu: u32): u32 {
  return cpu < F.MAX_CPUS ? <u32>load<u8>(guestOf + <usize>cpu) : NO_GUEST;
}

@inline export function vcpuOfCpu(cpu: u32): u32 {
  return <u32>load<u8>(vcpuIndex + <usize>cpu);
}

@inline export function vcpuState(cpu: u32): u8 {
  return load<u8>(state + <usize>cpu);
}

@inline export function setVcpuState(cpu: u32, s: u8): void {
  store<u8>(state + <usize>cpu, s);
}

/**
 * Puts the vCPU on `cpu` at `entryIpa` with x0 = `context`, everything else
 * zero, EL1h with interrupts masked: the state PSCI CPU_ON and Linux's boot
 * protocol both ask for. The EL1 system registers are reset by C on entry.
 */
export function vcpuReset(cpu: u32, entryIpa: u64, context: u64): void {
  const g = guestOfCpu(cpu);
  if (g >= MAX_GUESTS) return;
  for (let n: u32 = 0; n < 31; n++) F.setGuestReg(cpu, n, 0);
  F.setGuestReg(cpu, 0, context);
  F.frameSet(cpu, F.FRAME_PC, entryIpa);
  F.frameSet(cpu, F.FRAME_PSTATE, SPSR_EL1H_MASKED);
  F.frameSet(cpu, F.FRAME_HCR, HCR_GUEST);
  F.frameSet(cpu, F.FRAME_VTTBR, guestAt(g).vttbr);
  F.frameSet(cpu, F.FRAME_VTCR, VTCR_GUEST);
  F.frameSet(cpu, F.FRAME_VMPIDR, vmpidrOf(vcpuOfCpu(cpu)));
  F.frameSet(cpu, F.FRAME_CONTROLS_DIRTY, CONTROLS_RESET_EL1);
  for (let i: u32 = 0; i < F.LR_COUNT; i++) F.frameSet(cpu, F.FRAME_LR + (i << 3), 0);
}
