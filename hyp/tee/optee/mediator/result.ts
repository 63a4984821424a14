/** How the mediator answers a guest's SMC itself: x0..x3, 32-bit values, as OP-TEE's SMC32 calls return them. */
import { setGuestReg } from "../../../core/percpu";

export function setResult(cpu: u32, a0: u32, a1: u32, a2: u32, a3: u32): void {
  setGuestReg(cpu, 0, <u64>a0);
  setGuestReg(cpu, 1, <u64>a1);
  setGuestReg(cpu, 2, <u64>a2);
  setGuestReg(cpu, 3, <u64>a3);
}
