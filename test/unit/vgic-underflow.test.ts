/**
 * The underflow maintenance interrupt (issue 13): when more virtual interrupts wait than a vCPU's list
 * registers hold, the core asks C to enter the guest with it on (FRAME_LR_UNDERFLOW), so the rest go in as
 * soon as the guest has completed all but one, not at some unrelated later exit; and it asks no more once
 * everything fits.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Machine } from "../fakes/machine.ts";
import { bootTee } from "../fakes/tee-guest.ts";
import { FRAME } from "../../tools/abi/frame.ts";
import { MAINTENANCE_PPI as MAINTENANCE_INTID } from "../../tools/abi/irq.ts";

const FRAME_LR_UNDERFLOW = FRAME.lrUnderflow;
const GICD_CTLR = 0x0, GICD_ISENABLER1 = 0x104, ENABLE_GRP1 = 2n;
/** SPIs 32..37: six, two more than the LRs the fake hardware has (4). */
const SPIS = [32, 33, 34, 35, 36, 37];

interface VgicExports {
  vgicMmioDist(g: number, v: number, offset: number, size: number, isWrite: number, value: bigint): bigint;
  vgicRaiseIrq(g: number, v: number, intid: number): number;
}
const vgic = (m: Machine) => m.core as unknown as VgicExports;

function underflowAsked(m: Machine, cpu: number): number {
  return new DataView(m.core.memory.buffer).getUint32(m.core.cpuFrame(cpu) + FRAME_LR_UNDERFLOW, true);
}

/** tee1 (guest 0, vCPU 0 on CPU 0) with Group 1 on and SPIs 32-63 enabled, routed to vCPU 0 (the reset route). */
function booted() {
  const t = bootTee();
  vgic(t.m).vgicMmioDist(0, 0, GICD_CTLR, 4, 1, ENABLE_GRP1);
  vgic(t.m).vgicMmioDist(0, 0, GICD_ISENABLER1, 4, 1, 0xffff_ffffn);
  return t;
}

/** What the guest does with every LR it was given: takes and completes it (the LR goes Invalid). */
function completeAll(m: Machine, cpu: number): void {
  const lrs = m.core.cpuFrame(cpu) + FRAME.lr;
  const view = new DataView(m.core.memory.buffer);
  for (let i = 0; i < 4; i++) view.setBigUint64(lrs + 8 * i, 0n, true);
}

test("six interrupts for four LRs: entered with underflow on; the maintenance exit brings in the last two", () => {
  const { m } = booted();
  for (const intid of SPIS) vgic(m).vgicRaiseIrq(0, 0, intid);
  m.guestIrq(0, 1); // any exit: the flush before the next entry fills the LRs
  assert.is(underflowAsked(m, 0), 1, "two still wait");
  completeAll(m, 0);
  m.guestIrq(0, MAINTENANCE_INTID);
  assert.is(underflowAsked(m, 0), 0, "the last two are in LRs now: no more underflow");
  const lrs = m.core.cpuFrame(0) + FRAME.lr;
  const view = new DataView(m.core.memory.buffer);
  const intids = [0, 1, 2, 3].map((i) => Number(view.getBigUint64(lrs + 8 * i, true) & 0xffffn)).filter((x) => x !== 0);
  assert.equal(intids.sort((a, b) => a - b), [36, 37]);
  assert.ok(m.hw.deactivated.includes(MAINTENANCE_INTID), "the maintenance interrupt is deactivated");
});

test("no more interrupts than LRs: underflow is never asked for", () => {
  const { m } = booted();
  for (const intid of SPIS.slice(0, 4)) vgic(m).vgicRaiseIrq(0, 0, intid);
  m.guestIrq(0, 1);
  assert.is(underflowAsked(m, 0), 0);
});

test.run();
