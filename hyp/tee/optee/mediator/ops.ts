/**
 * The OP-TEE mediator behind the core's TEE seam (core/tee-ops.ts): each method hands the core's event to the
 * file that handles it and passes its verdict back. main.ts registers it.
 */
import { MAX_GUESTS } from "../../../core/guest";
import { Tee } from "../../../core/tee-ops";
import { opteeInfo } from "../info";
import { probeBegin, probeContinue } from "../probe";
import { putOpteeFunction } from "../profile-names";
import { loadVmCreated, loadVmDestroyed, nextGuestToCreate, vmCreatedReturned, vmDestroyedReturned } from "./clients";
import { CFG_CORE_ASYNC_NOTIF_GIC_INTID, notifDrainHere, notifDrainReturned, notifInterrupt } from "./drain";
import { flightEnd, flightsOf } from "./inflight";
import { teeCall, teeGuestDiscard, teeGuestForget, teeSmcReturned } from "./index";

export class OpteeMediator extends Tee {
  probeBegin(cpu: u32): void { probeBegin(cpu); }
  probeContinue(cpu: u32): bool { return probeContinue(cpu); }
  usableForGuests(): bool { return opteeInfo.usableForGuests(); }
  nextGuestToCreate(g: u32): u32 { return nextGuestToCreate(g); }
  loadGuestCreated(cpu: u32, g: u32): void { loadVmCreated(cpu, g); }
  guestCreatedReturned(cpu: u32, g: u32): void { vmCreatedReturned(cpu, g); }
  loadGuestDestroyed(cpu: u32, g: u32): bool { return loadVmDestroyed(cpu, g); }
  guestDestroyedReturned(cpu: u32, g: u32): void { vmDestroyedReturned(cpu, g); }
  guestForget(g: u32): void { teeGuestForget(g); }
  guestDiscard(g: u32): void { teeGuestDiscard(g); }
  smcsInFlight(g: u32): u32 { return g < MAX_GUESTS ? flightsOf(g) : 0; }
  cpuLeftSecureWorld(cpu: u32): void { flightEnd(cpu); }
  call(cpu: u32, g: u32, fid: u32): u32 { return teeCall(cpu, g, fid); }
  callReturned(cpu: u32): u32 { return teeSmcReturned(cpu); }
  notifReturned(cpu: u32): u32 { return notifDrainReturned(cpu); }
  ownsInterrupt(intid: u32): bool { return intid == CFG_CORE_ASYNC_NOTIF_GIC_INTID; }
  interrupt(cpu: u32, intid: u32): u32 { return notifInterrupt(cpu); }
  kicked(cpu: u32): u32 { return notifDrainHere(cpu); }
  putFunctionName(fid: u32, key: u32): void { putOpteeFunction(fid, key); }
}
