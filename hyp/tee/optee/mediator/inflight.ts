/**
 * What each CPU's SMC into OP-TEE is for, so that its return (smcReturned,
 * possibly much later) goes back to the right guest and call. One per CPU:
 * a CPU is in at most one SMC.
 */
import { MAX_CPUS } from "../../../core/percpu";

export const FLIGHT_FAST: u32 = 1;
export const FLIGHT_STD: u32 = 2;

@unmanaged class Flight {
  fid: u32;
  guest: u32;
  call: i32;
  kind: u32;
}

const flights = memory.data(<i32>(MAX_CPUS * offsetof<Flight>()), 8);

@inline function at(cpu: u32): Flight {
  return changetype<Flight>(flights + <usize>(cpu * offsetof<Flight>()));
}

export function flightBegin(cpu: u32, kind: u32, g: u32, fid: u32, call: i32): void {
  const f = at(cpu);
  f.kind = kind;
  f.guest = g;
  f.fid = fid;
  f.call = call;
}

@inline export function flightKind(cpu: u32): u32 { return at(cpu).kind; }
@inline export function flightGuest(cpu: u32): u32 { return at(cpu).guest; }
@inline export function flightFid(cpu: u32): u32 { return at(cpu).fid; }
@inline export function flightCall(cpu: u32): i32 { return at(cpu).call; }

export function flightEnd(cpu: u32): void {
  at(cpu).kind = 0;
}

/** How many CPUs have an SMC in OP-TEE for guest g now: it is withdrawn from OP-TEE only when none has. */
export function flightsOf(g: u32): u32 {
  let n: u32 = 0;
  for (let cpu: u32 = 0; cpu < MAX_CPUS; cpu++) if (at(cpu).kind != 0 && at(cpu).guest == g) n++;
  return n;
}
