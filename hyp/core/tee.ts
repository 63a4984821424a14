/**
 * The core's single route to the TEE mediator (core/tee-ops.ts): each event that concerns it goes through one
 * function here, and the mediator's verdict becomes what the CPU does next.
 */
import { lineEnd, lineStart, put } from "../lib/log";
import { guestWithdraw } from "./lifecycle";
import { continueCpu } from "./run";
import { requestSmc, SMC_OWNER_NOTIF, SMC_OWNER_TEE_CALL } from "./smcowner";
import { teeOps, TEE_FORWARD, TEE_GUEST_GONE, TEE_NOTIF_SMC, TEE_RESUME } from "./tee-ops";

/** What `cpu` does after the mediator's `verdict` (TEE_*). */
export function teeAct(cpu: u32, verdict: u32): u32 {
  const kind = verdict & 0xff;
  if (kind == TEE_RESUME) return continueCpu(cpu);
  if (kind == TEE_FORWARD) return requestSmc(cpu, SMC_OWNER_TEE_CALL);
  if (kind == TEE_NOTIF_SMC) return requestSmc(cpu, SMC_OWNER_NOTIF);
  if (kind == TEE_GUEST_GONE) return guestWithdraw((verdict >> 8) & 0xff, cpu);
  lineStart("tee");
  put("the mediator gave a verdict the core does not know: the CPU goes on");
  lineEnd();
  return continueCpu(cpu);
}

/** A guest's Trusted-OS call (SMCCC owners 50-63) from its vCPU on `cpu`. */
export function teeCall(cpu: u32, g: u32, fid: u32): u32 {
  return teeAct(cpu, teeOps().call(cpu, g, fid));
}

/** The SMC of a guest's call returned on `cpu` (SMC_OWNER_TEE_CALL). */
export function teeCallReturned(cpu: u32): u32 {
  return teeAct(cpu, teeOps().callReturned(cpu));
}

/** The SMC reading a guest's notification values returned on `cpu` (SMC_OWNER_NOTIF). */
export function teeNotifReturned(cpu: u32): u32 {
  return teeAct(cpu, teeOps().notifReturned(cpu));
}

/** Is `intid` the TEE's interrupt? */
export function teeOwnsInterrupt(intid: u32): bool {
  return teeOps().ownsInterrupt(intid);
}

export function teeInterrupt(cpu: u32, intid: u32): u32 {
  return teeAct(cpu, teeOps().interrupt(cpu, intid));
}

/** `cpu` was kicked: the mediator may have work for its guest here. */
export function teeKicked(cpu: u32): u32 {
  return teeAct(cpu, teeOps().kicked(cpu));
}
