/**
 * What a guest's restarts cost the machine, by step, on the generic timer (hw timeNs): from its end to its
 * vCPU 0 starting again, split into the wait for its calls still in OP-TEE, VM_DESTROYED, clearing its RAM and
 * copying its images (C, outside the lock) and VM_CREATED. Printed per guest when the machine powers off, so
 * that a reboot loop's cost to the other guests can be weighed against the hypervisor's own share:
 *
 *   [hyp] guest tee2: 13 restarts, end to start mean 212.4 ms, worst 410.0 ms; mean/worst: calls in flight
 *         0.0/0.8 ms, VM_DESTROYED 3.1/9.0 ms, RAM cleared and images copied 150.2/300.5 ms, VM_CREATED 2.0/5.1 ms;
 *         images loaded on CPU 2
 */
import { timeNs } from "../hw/imports";
import { lineEnd, lineStartGuest, put, putDec } from "../lib/log";
import { guestCount, guestNamePtr, MAX_GUESTS } from "./guest";

export const STEP_IN_FLIGHT: u32 = 0;
export const STEP_VM_DESTROYED: u32 = 1;
export const STEP_IMAGES: u32 = 2;
export const STEP_VM_CREATED: u32 = 3;
const STEPS: u32 = 4;
/** The end-to-start total is kept as one more step. */
const TOTAL: u32 = STEPS;

/*
 * Per guest: +0 u64 endedAt, +8 u64 stepStartedAt, +16 u32 restarts, +20 u32 restarting (1 between end and
 * start), then per step and the total: u64 sum, u64 worst.
 */
const PER_GUEST: u32 = 24 + (STEPS + 1) * 16;
const table = memory.data(<i32>(MAX_GUESTS * PER_GUEST), 8);
/** Per guest, the CPUs that cleared its RAM and copied its images at a restart, one bit each: a restart's copy
 * belongs on the guest's own CPU, never on another guest's. */
const loadedOn = memory.data(<i32>(MAX_GUESTS * 4), 4);

@inline function at(g: u32): usize {
  return table + <usize>(g * PER_GUEST);
}

function add(g: u32, step: u32, ns: u64): void {
  const slot = at(g) + 24 + <usize>(step * 16);
  store<u64>(slot, load<u64>(slot) + ns);
  if (ns > load<u64>(slot, 8)) store<u64>(slot, ns, 8);
}

/** Guest g has ended and will start again: its clock starts, and its first step (calls in flight) with it. */
export function restartBegin(g: u32): void {
  if (g >= MAX_GUESTS) return;
  const now = timeNs();
  store<u64>(at(g), now);
  store<u64>(at(g), now, 8);
  store<u32>(at(g), 1, 20);
}

/** Step `step` of guest g's restart starts now. */
export function restartStepStart(g: u32, step: u32): void {
  if (g < MAX_GUESTS && load<u32>(at(g), 20) != 0) store<u64>(at(g), timeNs(), 8);
}

/** Step `step` of guest g's restart is done: its time is added. */
export function restartStepDone(g: u32, step: u32): void {
  if (g >= MAX_GUESTS || step >= STEPS || load<u32>(at(g), 20) == 0) return;
  add(g, step, timeNs() - load<u64>(at(g), 8));
}

/** `cpu` cleared guest g's RAM and copied its images for a restart. */
export function restartLoadedOn(g: u32, cpu: u32): void {
  if (g >= MAX_GUESTS || cpu >= 32 || load<u32>(at(g), 20) == 0) return;
  const slot = loadedOn + <usize>(g * 4);
  store<u32>(slot, load<u32>(slot) | (<u32>1 << cpu));
}

/** Guest g's vCPU 0 starts again: the restart is counted. */
export function restartEnd(g: u32): void {
  if (g >= MAX_GUESTS || load<u32>(at(g), 20) == 0) return;
  add(g, TOTAL, timeNs() - load<u64>(at(g)));
  store<u32>(at(g), load<u32>(at(g), 16) + 1, 16);
  store<u32>(at(g), 0, 20);
}

/** One line per guest that restarted. */
export function restartReportAll(): void {
  for (let g: u32 = 0; g < guestCount() && g < MAX_GUESTS; g++) {
    const n = load<u32>(at(g), 16);
    if (n == 0) continue;
    lineStartGuest("guest", guestNamePtr(g));
    putDec(n); put(n == 1 ? " restart" : " restarts");
    put(", end to start mean "); putMs(mean(g, TOTAL, n)); put(", worst "); putMs(worst(g, TOTAL));
    put("; mean/worst: calls in flight "); putStep(g, STEP_IN_FLIGHT, n);
    put(", VM_DESTROYED "); putStep(g, STEP_VM_DESTROYED, n);
    put(", RAM cleared and images copied "); putStep(g, STEP_IMAGES, n);
    put(", VM_CREATED "); putStep(g, STEP_VM_CREATED, n);
    putCpus(load<u32>(loadedOn + <usize>(g * 4)));
    lineEnd();
  }
}

/** "; images loaded on CPU 2" (or "CPUs 0, 2"), when any restart loaded them. */
function putCpus(mask: u32): void {
  if (mask == 0) return;
  put(popcnt(mask) == 1 ? "; images loaded on CPU " : "; images loaded on CPUs ");
  let first = true;
  for (let cpu: u32 = 0; cpu < 32; cpu++) {
    if ((mask & (<u32>1 << cpu)) == 0) continue;
    if (!first) put(", ");
    putDec(cpu);
    first = false;
  }
}

function mean(g: u32, step: u32, n: u32): u64 {
  return load<u64>(at(g) + 24 + <usize>(step * 16)) / <u64>n;
}

function worst(g: u32, step: u32): u64 {
  return load<u64>(at(g) + 24 + <usize>(step * 16), 8);
}

function putStep(g: u32, step: u32, n: u32): void {
  putTenths(mean(g, step, n)); put("/"); putMs(worst(g, step));
}

/** Milliseconds to a tenth: the SMCs of a restart take well under one. */
function putTenths(ns: u64): void {
  const tenths = (ns + 50_000) / 100_000;
  putDec(tenths / 10); put("."); putDec(tenths % 10);
}

function putMs(ns: u64): void {
  putTenths(ns); put(" ms");
}
