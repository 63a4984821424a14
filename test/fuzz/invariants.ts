/**
 * What must hold after every fuzz step, whatever the guests did. Each check returns what broke, as readable
 * lines (empty: all well):
 *
 *   addresses   OP-TEE saw no address that is not the caller's own page or the hypervisor's linear memory, no
 *               argument changed under it, C refused no copy the core should have checked (misdeeds)
 *   no trap     the core never trapped (the fake machine contains a trap as boot/core.c does: still a bug)
 *   holdings    the mediator holds at least what OP-TEE holds of each guest's (buffers, RPC buffers), and
 *               exactly that when no call of the guest is open; every RPC buffer OP-TEE writes to is a pool page
 *               the mediator holds for that guest (not one freed, or another guest's); its open calls are OP-TEE's busy threads
 *               whenever no SMC of the guest is in the secure world (no lost call state)
 *   destroyed   nothing of a guest outlives its VM_DESTROYED, in the mediator or in OP-TEE
 *   work        no guest event made the core do more than WORK_BOUND
 */
import type { Machine } from "../fakes/machine.ts";
import { misdeeds } from "../fakes/tee-guest.ts";
import type { World } from "./world.ts";

export const HOLDS_SHM_BUFFERS = 0, HOLDS_RPC_BUFFERS = 1, HOLDS_CALLS = 2, HOLDS_POOL_PAGES = 3;

interface MediatorExports {
  mediatorHolds(g: number, what: number): number;
  mediatorPoolHolder(pa: bigint): number;
}

export function holds(m: Machine, g: number, what: number): number {
  return (m.core as unknown as MediatorExports).mediatorHolds(g, what);
}

/** The RPC argument buffers OP-TEE keeps for guest g that are not pool pages the mediator holds for g. */
function rpcArgsNotHeld(m: Machine, g: number): bigint[] {
  const core = m.core as unknown as MediatorExports;
  return m.optee.rpcArgPasOf(g + 1).filter((pa) => core.mediatorPoolHolder(pa) !== g + 1);
}

/** Misdeeds and contained traps since the last check (both lists are consumed). */
export function checkMachine(m: Machine, seen: { misdeeds: number }): string[] {
  const all = misdeeds(m);
  const broken = all.slice(seen.misdeeds);
  seen.misdeeds = all.length;
  broken.push(...m.faults.splice(0).map((f) => `the core trapped serving guest ${f.guest} on CPU ${f.cpu} (contained): ${f.what}`));
  return broken;
}

/** A guest's SMC is in the secure world now (a CPU of it held there). */
function inSecureWorld(w: World, index: number): boolean {
  return w.actors[index].cpus.some((cpu) => w.m.state.get(cpu) === "in SMC");
}

export function checkHoldings(w: World): string[] {
  const broken: string[] = [];
  for (const a of w.actors) {
    const g = a.index, optee = w.m.optee;
    const shm = holds(w.m, g, HOLDS_SHM_BUFFERS), rpc = holds(w.m, g, HOLDS_RPC_BUFFERS), calls = holds(w.m, g, HOLDS_CALLS);
    const opteeShm = optee.shmOf(a.client).length, opteeRpc = optee.rpcArgsOf(a.client).length;
    const busy = optee.threadsOf(a.client).filter((t) => t !== "free").length;
    if (opteeShm > shm) broken.push(`guest ${g}: OP-TEE holds ${opteeShm} of its buffers, the mediator counts ${shm}`);
    if (opteeRpc > rpc) broken.push(`guest ${g}: OP-TEE holds ${opteeRpc} of its RPC buffers, the mediator counts ${rpc}`);
    const stray = rpcArgsNotHeld(w.m, g);
    if (stray.length) broken.push(`guest ${g}: OP-TEE writes RPC requests to ${stray.map((pa) => `0x${pa.toString(16)}`).join(", ")}, not a page the mediator holds for it`);
    if (inSecureWorld(w, g)) continue;
    if (calls !== busy) broken.push(`guest ${g}: the mediator has ${calls} calls open, OP-TEE ${busy} threads busy`);
    if (calls === 0 && (shm !== opteeShm || rpc !== opteeRpc)) {
      broken.push(`guest ${g}, no call open: the mediator holds ${shm} buffers and ${rpc} RPC buffers, OP-TEE ${opteeShm} and ${opteeRpc}`);
    }
  }
  return broken;
}

/** For each guest whose VM_DESTROYED was sent in this step: nothing of it left anywhere. */
export function checkDestroyed(w: World): string[] {
  const broken: string[] = [];
  for (const client of w.destroyed) {
    const g = client - 1;
    if (inSecureWorld(w, g)) continue; // its withdrawal waits for that SMC: checked when it returns
    const left = [0, 1, 2, 3].map((what) => holds(w.m, g, what));
    const optee = w.m.optee;
    if (left.some((n) => n !== 0)) broken.push(`guest ${g} after VM_DESTROYED: the mediator still holds ${left.join("/")} (buffers/RPC buffers/calls/pool pages)`);
    if (optee.shmOf(client).length || optee.rpcArgsOf(client).length || optee.threadsOf(client).some((t) => t !== "free")) {
      broken.push(`guest ${g} after VM_DESTROYED: OP-TEE still holds something of client ${client}`);
    }
  }
  for (const line of w.m.hw.console.slice(w.linesChecked)) {
    if (line.includes("after VM_DESTROYED it holds") && !line.includes("holds 0 buffers, 0 RPC buffers, 0 calls, 0 pool pages")) broken.push(`the mediator says: ${line}`);
  }
  w.linesChecked = w.m.hw.console.length;
  w.destroyed.clear();
  return broken;
}

export function checkWork(w: World): string[] {
  return w.overWork.splice(0);
}
