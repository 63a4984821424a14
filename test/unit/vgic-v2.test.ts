/**
 * The virtual GICv2 distributor (hyp/vgic/v2/) over the shared interrupt model: what Linux's GICv2 driver does
 * at boot, banked SGI/PPI registers, ITARGETSR routing, GICD_SGIR, and that guest input never traps.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Machine } from "../fakes/machine.ts";

interface V2Exports {
  memory: WebAssembly.Memory;
  vgicScratch(): number;
  vgicInitGuest(guest: number, vcpuCount: number, cpus: bigint): number;
  vgicMmioDistV2(guest: number, vcpu: number, offset: number, size: number, isWrite: number, value: bigint): bigint;
  vgicTakeKicks(guest: number): number;
  vgicRaiseIrq(guest: number, vcpu: number, intid: number): number;
  vgicFlushLrs(guest: number, vcpu: number, lrs: number, lrCount: number): void;
}

const CTLR = 0x0, TYPER = 0x4, IIDR = 0x8, IGROUPR = 0x80, ISENABLER = 0x100, ISPENDR = 0x200, IPRIORITYR = 0x400;
const ITARGETSR = 0x800, ICFGR = 0xc00, SGIR = 0xf00, PIDR2 = 0xfe8;
const LR_PENDING = 1n << 62n;

class V2 {
  readonly m = new Machine();
  readonly c = this.m.core as unknown as V2Exports;
  /** Guest 0 with vCPU i on physical CPU cpus[i]. */
  constructor(readonly cpus = [2, 3]) {
    const packed = cpus.reduce((acc, c, i) => acc | (BigInt(c) << BigInt(8 * i)), 0n);
    assert.is(this.c.vgicInitGuest(0, cpus.length, packed), 1);
  }
  rd(off: number, size = 4, v = 0): number {
    return Number(this.c.vgicMmioDistV2(0, v, off, size, 0, 0n));
  }
  wr(off: number, value: number, size = 4, v = 0): void {
    assert.is(this.c.vgicMmioDistV2(0, v, off, size, 1, BigInt(value >>> 0)), 0n);
  }
  /** vCPU v's LRs after a flush (4 of them). */
  flush(v: number): BigUint64Array {
    const lrs = new BigUint64Array(this.c.memory.buffer, this.c.vgicScratch(), 4);
    lrs.fill(0n);
    this.c.vgicFlushLrs(0, v, lrs.byteOffset, 4);
    return lrs;
  }
}

test("Linux's GICv2 bring-up: TYPER, IIDR, PIDR2, CTLR's one enable, Group 0 everywhere", () => {
  const x = new V2();
  assert.is(x.rd(TYPER) & 0x1f, 7, "ITLinesNumber: 256 INTIDs");
  assert.is((x.rd(TYPER) >> 5) & 7, 1, "CPUNumber: 2 CPU interfaces");
  assert.is(x.rd(TYPER) & (1 << 10), 0, "no security extensions");
  assert.is(x.rd(IIDR) >>> 0, 0x0200043b);
  assert.is(x.rd(PIDR2) & 0xf0, 0x20, "GICv2 architecture revision");
  x.wr(CTLR, 1);
  assert.is(x.rd(CTLR), 1);
  x.wr(IGROUPR + 4, 0xffffffff);
  assert.is(x.rd(IGROUPR + 4), 0, "IGROUPR is RAZ/WI: Group 0");
  x.wr(CTLR, 0);
  assert.is(x.rd(CTLR), 0);
});

test("SGI and PPI registers are banked per vCPU; ITARGETSR 0-31 read the vCPU's own bit", () => {
  const x = new V2();
  x.wr(ISENABLER, 1 << 27, 4, 1);
  assert.is(x.rd(ISENABLER, 4, 1) >>> 0, 1 << 27);
  assert.is(x.rd(ISENABLER, 4, 0), 0, "vCPU 0's PPIs are its own");
  x.wr(IPRIORITYR + 27, 0xa0, 1, 1);
  assert.is(x.rd(IPRIORITYR + 27, 1, 1), 0xa0);
  assert.is(x.rd(IPRIORITYR + 27, 1, 0), 0);
  assert.is(x.rd(ITARGETSR, 4, 0), 0x01010101);
  assert.is(x.rd(ITARGETSR + 28, 4, 1), 0x02020202);
  x.wr(ITARGETSR, 0x02020202, 4, 0);
  assert.is(x.rd(ITARGETSR, 4, 0), 0x01010101, "read-only");
  assert.is(x.rd(ICFGR) >>> 0, 0xaaaaaaaa, "SGIs are edge-triggered");
  x.wr(ICFGR, 0);
  assert.is(x.rd(ICFGR) >>> 0, 0xaaaaaaaa, "and stay so");
});

test("ITARGETSR routes an SPI to the lowest vCPU it names; the SPI is delivered there", () => {
  const x = new V2();
  x.wr(CTLR, 1);
  x.wr(ITARGETSR + 40, 0x03, 1);
  assert.is(x.rd(ITARGETSR + 40, 1), 0x01, "one of N: the lowest");
  x.wr(ITARGETSR + 40, 0x02, 1);
  assert.is(x.rd(ITARGETSR + 40, 1), 0x02);
  x.wr(ITARGETSR + 40, 0xf0, 1);
  assert.is(x.rd(ITARGETSR + 40, 1), 0x01, "no vCPU of ours named: vCPU 0");
  x.wr(ITARGETSR + 40, 0x02, 1);
  x.wr(IPRIORITYR + 40, 0xa0, 1);
  x.wr(ISENABLER + 4, 1 << 8);
  assert.is(x.c.vgicRaiseIrq(0, 0, 40), 1 << 3, "kick vCPU 1's CPU (3)");
  assert.is(Number(x.flush(1)[0] & 0x3ffn), 40);
  assert.is(x.flush(0)[0], 0n);
});

test("GICD_SGIR: a target list, every other vCPU, or the sender; the targets' CPUs are kicked", () => {
  const x = new V2([2, 3]);
  x.wr(CTLR, 1);
  for (const v of [0, 1]) x.wr(ISENABLER, 0xffff, 4, v);
  x.c.vgicTakeKicks(0);
  x.wr(SGIR, (0 << 24) | (0x02 << 16) | 5, 4, 0);
  assert.is(x.c.vgicTakeKicks(0), 1 << 3);
  const l1 = x.flush(1);
  assert.is(Number(l1[0] & 0x3ffn), 5);
  assert.ok((l1[0] & LR_PENDING) !== 0n);
  x.wr(SGIR, (1 << 24) | 6, 4, 1);
  assert.is(x.c.vgicTakeKicks(0), 1 << 2, "others of vCPU 1: vCPU 0");
  x.wr(SGIR, (2 << 24) | 7, 4, 0);
  assert.is(x.c.vgicTakeKicks(0), 1 << 2, "self");
  x.wr(SGIR, (0 << 24) | (0xfc << 16) | 3, 4, 0);
  assert.is(x.c.vgicTakeKicks(0), 0, "no vCPU of ours in the list");
  assert.is(x.rd(ISPENDR) & 0xff, (1 << 6) | (1 << 7), "vCPU 0 has SGIs 6 and 7 pending");
});

test("guest input never traps: sizes, alignment, offsets past the distributor, unknown guests", () => {
  const x = new V2();
  for (const [off, size] of [[0x1, 4], [0x2, 2], [0x1000, 4], [0xffff, 1], [0x0, 8], [0xf00, 1], [0x7, 1]]) {
    assert.is(x.c.vgicMmioDistV2(0, 0, off, size, 1, 0xffffffffn), 0n);
    assert.is(x.c.vgicMmioDistV2(0, 0, off, size, 0, 0n), 0n);
  }
  assert.is(x.c.vgicMmioDistV2(3, 0, CTLR, 4, 0, 0n), 0n, "a guest vgicInit never accepted");
  assert.is(x.c.vgicMmioDistV2(0, 7, CTLR, 4, 0, 0n), 0n, "a vCPU it does not have");
  assert.is(x.c.vgicMmioDistV2(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 1, 0n), 0n);
});

test.run();
