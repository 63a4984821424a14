/** The virtual GICv3 (hyp/vgic/): GICD/GICR emulation, injection, SGIs and the list registers. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Machine } from "../fakes/machine.ts";

interface VgicExports {
  memory: WebAssembly.Memory;
  vgicScratch(): number;
  vgicInitGuest(guest: number, vcpuCount: number, cpus: bigint): number;
  vgicMmioDist(guest: number, vcpu: number, offset: number, size: number, isWrite: number, value: bigint): bigint;
  vgicMmioRedist(guest: number, vcpu: number, offset: number, size: number, isWrite: number, value: bigint): bigint;
  vgicTakeKicks(guest: number): number;
  vgicRaiseIrq(guest: number, vcpu: number, intid: number): number;
  vgicSetIrqLevel(guest: number, vcpu: number, intid: number, high: number): number;
  vgicSgiWrite(guest: number, vcpu: number, value: bigint): number;
  vgicFlushLrs(guest: number, vcpu: number, lrs: number, lrCount: number): void;
  vgicSyncLrs(guest: number, vcpu: number, lrs: number, lrCount: number): void;
  vgicHasPendingIrq(guest: number, vcpu: number): number;
  vgicHasUndeliveredIrq(guest: number, vcpu: number): number;
}

// GICD
const CTLR = 0x0, TYPER = 0x4, IIDR = 0x8, TYPER2 = 0xc, IGROUPR = 0x80, ISENABLER = 0x100, ICENABLER = 0x180;
const ISPENDR = 0x200, ICPENDR = 0x280, ISACTIVER = 0x300, ICACTIVER = 0x380, IPRIORITYR = 0x400, ICFGR = 0xc00;
const IROUTER = 0x6000, PIDR2 = 0xffe8;
// GICR (offsets inside one vCPU's 128 KiB) and its SGI_base frame
const RD_STRIDE = 0x20000, GICR_TYPER = 0x8, GICR_WAKER = 0x14, SGI = 0x10000;
// ICH_LR<n>_EL2
const LR_PENDING = 1n << 62n, LR_ACTIVE = 1n << 63n, LR_HW = 1n << 61n, LR_GROUP1 = 1n << 60n;

/** Packs vCPU i → CPU cpus[i] into byte i, as Guest.cpus does. */
const packCpus = (cpus: number[]) => cpus.reduce((acc, c, i) => acc | (BigInt(c) << BigInt(8 * i)), 0n);

class Vgic {
  readonly c: VgicExports;
  /** Guest g with a vCPU on each of `cpus`, on machine `m` (a fresh one unless another guest's is given). */
  constructor(readonly g = 0, cpus = [0, 1], readonly m = new Machine()) {
    this.c = m.core as unknown as VgicExports;
    assert.is(this.c.vgicInitGuest(g, cpus.length, packCpus(cpus)), 1);
  }
  dist(off: number, size = 4, v = 0): number {
    return Number(this.c.vgicMmioDist(this.g, v, off, size, 0, 0n));
  }
  distW(off: number, value: number | bigint, size = 4, v = 0): void {
    assert.is(this.c.vgicMmioDist(this.g, v, off, size, 1, BigInt(value)), 0n);
  }
  dist64(off: number, v = 0): bigint {
    return this.c.vgicMmioDist(this.g, v, off, 8, 0, 0n);
  }
  rd(t: number, off: number, size = 4, v = 0): bigint {
    return this.c.vgicMmioRedist(this.g, v, t * RD_STRIDE + off, size, 0, 0n);
  }
  rdW(t: number, off: number, value: number | bigint, size = 4, v = 0): void {
    assert.is(this.c.vgicMmioRedist(this.g, v, t * RD_STRIDE + off, size, 1, BigInt(value)), 0n);
  }
  /** The scratch LR array, `count` entries, zeroed. */
  lrs(count = 4): BigUint64Array {
    const a = new BigUint64Array(this.c.memory.buffer, this.c.vgicScratch(), 8);
    a.fill(0n);
    return a.subarray(0, count);
  }
  flush(v: number, lrs: BigUint64Array): void {
    this.c.vgicFlushLrs(this.g, v, lrs.byteOffset, lrs.length);
  }
  sync(v: number, lrs: BigUint64Array): void {
    this.c.vgicSyncLrs(this.g, v, lrs.byteOffset, lrs.length);
  }
  /** Enables the distributor and SPI `intid` (and sets its priority), as Linux does. */
  enableSpi(intid: number, prio = 0xa0): void {
    this.distW(CTLR, 0x13);
    this.distW(IPRIORITYR + intid, prio, 1);
    this.distW(ISENABLER + 4 * (intid >> 5), 1 << (intid & 31));
  }
  enablePrivate(t: number, intid: number, prio = 0xa0): void {
    this.distW(CTLR, 0x13);
    this.rdW(t, SGI + 0x400 + intid, prio, 1);
    this.rdW(t, SGI + 0x100, 1 << intid);
  }
}

const intidOf = (lr: bigint) => Number(lr & 0xffffffffn);
const prioOf = (lr: bigint) => Number((lr >> 48n) & 0xffn);
const stateOf = (lr: bigint) => Number(lr >> 62n);

test("Linux's distributor bring-up: identification, CTLR, per-SPI set-up, IROUTER", () => {
  const x = new Vgic(0, [0, 1]);
  assert.is(x.dist(PIDR2) & 0xf0, 0x30, "GICv3 architecture revision");
  assert.is(x.dist(PIDR2), 0x3b);
  const typer = x.dist(TYPER);
  assert.is(typer & 0x1f, 7, "ITLinesNumber: 256 INTIDs");
  assert.is((typer >>> 19) & 0x1f, 9, "IDbits");
  assert.is(typer & ((1 << 16) | (1 << 17) | (1 << 8) | (1 << 10)), 0, "no MBIS, LPIS, ESPI, SecurityExtn");
  assert.is(x.dist(IIDR) >>> 0, 0x6800043b);
  assert.is(x.dist(TYPER2), 0);

  x.distW(CTLR, 0);
  assert.is(x.dist(CTLR) >>> 0, 0x50, "ARE and DS read as one, RWP as zero");
  for (let i = 32; i < 256; i += 32) x.distW(IGROUPR + i / 8, 0xffffffff);
  for (let i = 32; i < 256; i += 16) x.distW(ICFGR + i / 4, 0);
  for (let i = 32; i < 256; i += 4) x.distW(IPRIORITYR + i, 0xa0a0a0a0);
  for (let i = 32; i < 256; i += 32) x.distW(ICENABLER + i / 8, 0xffffffff);
  x.distW(CTLR, 0x13); // ARE_NS | EnableGrp1A | EnableGrp1
  assert.is(x.dist(CTLR) >>> 0, 0x53);
  for (let i = 32; i < 256; i++) x.distW(IROUTER + 8 * i, 0n, 8);

  assert.is(x.dist(IGROUPR + 4) >>> 0, 0xffffffff, "every interrupt is Group 1");
  assert.is(x.dist(IPRIORITYR + 64) >>> 0, 0xa0a0a0a0);
  assert.is(x.dist(ISENABLER + 4), 0);
  assert.is(x.dist64(IROUTER + 8 * 40), 0n);
  assert.equal(x.m.lines("vgic"), ["guest 0: 2 vCPUs, 224 SPIs"], "nothing Linux does is unexpected");
});

test("Linux's redistributor bring-up: TYPER walk, WAKER handshake, SGI/PPI set-up", () => {
  const x = new Vgic(1, [2, 3, 5]);
  assert.is(Number(x.rd(0, 0xffe8)) & 0xf0, 0x30);
  for (let t = 0; t < 3; t++) {
    const typer = x.rd(t, GICR_TYPER, 8);
    assert.is(typer >> 32n, BigInt(t), "Affinity_Value = vCPU index as Aff0");
    assert.is((typer >> 8n) & 0xffffn, BigInt(t), "Processor_Number");
    assert.is((typer >> 4n) & 1n, t === 2 ? 1n : 0n, "Last on the last vCPU only");
    assert.is(typer & 1n, 0n, "no LPIs");
    assert.is(x.rd(t, GICR_TYPER + 4), typer >> 32n, "upper half alone");
    assert.is(x.rd(t, GICR_TYPER), typer & 0xffffffffn, "lower half alone");
  }
  // gic_enable_redist(true): clear ProcessorSleep, poll until ChildrenAsleep clears.
  assert.is(x.rd(1, GICR_WAKER), 0x6n, "asleep after reset");
  x.rdW(1, GICR_WAKER, x.rd(1, GICR_WAKER) & ~2n);
  assert.is(x.rd(1, GICR_WAKER), 0n);
  assert.is(x.rd(0, GICR_WAKER), 0x6n, "each redistributor has its own");
  x.rdW(1, GICR_WAKER, 2);
  assert.is(x.rd(1, GICR_WAKER), 0x6n);
  assert.is(x.rd(1, 0x0), 0n, "GICR_CTLR: RWP reads 0");
  // gic_cpu_init / gic_cpu_config
  x.rdW(1, SGI + 0x80, 0xffffffff);
  x.rdW(1, SGI + 0x380, 0xffffffff); // ICACTIVER0
  x.rdW(1, SGI + 0x180, 0xffff0000); // ICENABLER0: PPIs off
  x.rdW(1, SGI + 0x100, 0x0000ffff); // ISENABLER0: SGIs on
  for (let i = 0; i < 32; i += 4) x.rdW(1, SGI + 0x400 + i, 0xa0a0a0a0);
  assert.is(x.rd(1, SGI + 0x80), 0xffffffffn);
  assert.is(x.rd(1, SGI + 0x100), 0xffffn);
  assert.is(x.rd(1, SGI + 0x180), 0xffffn, "ICENABLER reads the enables too");
  assert.is(x.rd(0, SGI + 0x100), 0n, "vCPU 0's SGIs are its own");
  assert.is(x.rd(1, SGI + 0x41c), 0xa0a0a0a0n);
  // ICFGR0 is all-edge and read-only; ICFGR1 (PPIs) keeps what Linux writes (it checks).
  x.rdW(1, SGI + 0xc00, 0);
  assert.is(x.rd(1, SGI + 0xc00), 0xaaaaaaaan);
  x.rdW(1, SGI + 0xc04, 0x00800000);
  assert.is(x.rd(1, SGI + 0xc04), 0x00800000n);
  assert.is(x.rd(1, SGI + 0xd00), 0n, "IGRPMODR0 RAZ");
  assert.equal(x.m.lines("vgic"), ["guest 1: 3 vCPUs, 224 SPIs"]);
});

test("IPRIORITYR: byte and word access, top 5 bits kept", () => {
  const x = new Vgic();
  x.distW(IPRIORITYR + 41, 0x47, 1);
  x.distW(IPRIORITYR + 42, 0xff, 1);
  assert.is(x.dist(IPRIORITYR + 40) >>> 0, 0x00f84000);
  assert.is(x.dist(IPRIORITYR + 42, 1), 0xf8);
  x.rdW(0, SGI + 0x405, 0x80, 1);
  assert.is(x.rd(0, SGI + 0x404), 0x8000n);
  assert.is(x.dist(IPRIORITYR + 4), 0, "the distributor's SGI/PPI bytes are RAZ (ARE=1)");
  x.distW(IPRIORITYR + 4, 0xffffffff);
  assert.is(x.rd(0, SGI + 0x404), 0x8000n, "… and WI");
});

test("ICFGR for SPIs keeps the edge bits only", () => {
  const x = new Vgic();
  x.distW(ICFGR + 8, 0xffffffff);
  assert.is(x.dist(ICFGR + 8) >>> 0, 0xaaaaaaaa);
  assert.is(x.dist(ICFGR + 4), 0, "ICFGR1 (PPIs) is the redistributor's");
});

test("SPI routing follows IROUTER's Aff0; the kick names the vCPU's physical CPU", () => {
  const x = new Vgic(0, [2, 3]);
  x.enableSpi(40);
  x.distW(IROUTER + 8 * 40, 1n, 8);
  assert.is(x.dist64(IROUTER + 8 * 40), 1n);
  assert.is(x.c.vgicRaiseIrq(0, 0, 40), 1 << 3, "vCPU 1 runs on CPU 3 (the vcpu argument is ignored for SPIs)");
  const l0 = x.lrs();
  x.flush(0, l0);
  assert.equal([...l0], [0n, 0n, 0n, 0n], "not for vCPU 0");
  const l1 = x.lrs();
  x.flush(1, l1);
  assert.is(intidOf(l1[0]), 40);

  x.distW(IROUTER + 8 * 41, 0n, 8);
  x.enableSpi(41);
  assert.is(x.c.vgicRaiseIrq(0, 1, 41), 1 << 2);
  // Routes that name no vCPU of ours go to vCPU 0.
  for (const route of [7n, 0x100n, 0x80000001n]) {
    x.distW(IROUTER + 8 * 42, route, 8);
    x.enableSpi(42);
    assert.is(x.c.vgicRaiseIrq(0, 1, 42), 1 << 2, `route ${route.toString(16)}`);
  }
  assert.is(x.dist64(IROUTER + 8 * 42), 0x80000001n, "IRM is kept");
  x.distW(IROUTER + 8 * 42, 0xff_7fff_ffffn, 8);
  assert.is(x.dist64(IROUTER + 8 * 42), 0xffffffn, "Aff3 and bits 30:24 are RES0 (A3V = 0)");
});

test("IROUTER by 32-bit halves, and reserved IROUTERs", () => {
  const x = new Vgic(0, [0, 1]);
  x.distW(IROUTER + 8 * 50, 1, 4);
  x.distW(IROUTER + 8 * 50 + 4, 0, 4);
  assert.is(x.dist64(IROUTER + 8 * 50), 1n);
  assert.is(x.dist(IROUTER + 8 * 50, 4), 1);
  x.enableSpi(50);
  assert.is(x.c.vgicRaiseIrq(0, 0, 50), 1 << 1);
  x.distW(IROUTER + 8 * 5, 1n, 8);
  assert.is(x.dist64(IROUTER + 8 * 5), 0n, "no IROUTER for SGIs/PPIs");
  assert.is(x.dist64(IROUTER + 8 * 300), 0n, "none beyond INTID 255");
});

test("a disabled interrupt stays pending, is not delivered, and enabling it kicks its CPU", () => {
  const x = new Vgic(0, [4, 6]);
  x.distW(CTLR, 0x13);
  x.distW(IROUTER + 8 * 33, 1n, 8);
  assert.is(x.c.vgicRaiseIrq(0, 0, 33), 0, "disabled: no kick");
  assert.is(x.dist(ISPENDR + 4), 1 << 1, "but pending");
  const l = x.lrs();
  x.flush(1, l);
  assert.is(l[0], 0n);
  assert.is(x.c.vgicHasPendingIrq(0, 1), 0);
  x.c.vgicTakeKicks(0);
  x.distW(ISENABLER + 4, 1 << 1);
  assert.is(x.c.vgicTakeKicks(0), 1 << 6, "vCPU 1 (CPU 6) must look at its LRs");
  assert.is(x.c.vgicTakeKicks(0), 0, "taken once");
  assert.is(x.c.vgicHasPendingIrq(0, 1), 1);
  x.flush(1, l);
  assert.is(intidOf(l[0]), 33);
});

test("nothing is delivered while the distributor's Group 1 is off", () => {
  const x = new Vgic();
  x.enableSpi(60);
  x.distW(CTLR, 0);
  x.c.vgicRaiseIrq(0, 0, 60);
  const l = x.lrs();
  x.flush(0, l);
  assert.is(l[0], 0n);
  x.c.vgicTakeKicks(0);
  x.distW(CTLR, 0x2);
  assert.is(x.c.vgicTakeKicks(0), 1 << 0, "turning it on kicks vCPUs with something pending");
  x.flush(0, l);
  assert.is(intidOf(l[0]), 60);
});

test("SGIs: target list, self, IRM (all but self), other clusters reach nobody", () => {
  const x = new Vgic(2, [1, 2, 3, 4]);
  for (let t = 0; t < 4; t++) x.enablePrivate(t, 5);
  const sgi = (intid: number, targets: number, extra = 0n) => (BigInt(intid) << 24n) | BigInt(targets) | extra;
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(5, 0b1010)), (1 << 2) | (1 << 4), "vCPUs 1 and 3 on CPUs 2 and 4");
  assert.is(x.rd(1, SGI + 0x200), 1n << 5n, "pending in vCPU 1's redistributor");
  assert.is(x.rd(3, SGI + 0x200), 1n << 5n);
  assert.is(x.rd(0, SGI + 0x200), 0n);
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(5, 0b1)), 1 << 1, "to itself");
  assert.is(x.rd(0, SGI + 0x200), 1n << 5n);
  x.rdW(0, SGI + 0x280, 1 << 5);
  x.rdW(1, SGI + 0x280, 1 << 5);
  x.rdW(3, SGI + 0x280, 1 << 5);
  assert.is(x.c.vgicSgiWrite(2, 2, sgi(5, 0, 1n << 40n)), (1 << 1) | (1 << 2) | (1 << 4), "IRM: all but vCPU 2");
  assert.is(x.rd(2, SGI + 0x200), 0n);
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(5, 0xffff, 1n << 16n)), 0, "Aff1 = 1: no such vCPU");
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(5, 0xffff, 1n << 44n)), 0, "RS = 1: no such vCPU");
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(5, 0xfff0)), 0, "list bits beyond the vCPUs");
  assert.is(x.c.vgicSgiWrite(2, 0, sgi(6, 0b10)), 0, "SGI 6 is not enabled: pending, no kick");
  assert.is(x.rd(1, SGI + 0x200), (1n << 5n) | (1n << 6n));
  const l = x.lrs();
  x.flush(1, l);
  assert.is(intidOf(l[0]), 5);
  assert.is(l[1], 0n);
});

test("flush fills LRs by priority (lowest INTID on ties); the rest wait", () => {
  const x = new Vgic();
  const prios: [number, number][] = [[40, 0x80], [41, 0x40], [42, 0xc0], [43, 0x40], [44, 0x20]];
  for (const [intid, p] of prios) {
    x.enableSpi(intid, p);
    x.c.vgicRaiseIrq(0, 0, intid);
  }
  x.enablePrivate(0, 1, 0x60);
  x.c.vgicRaiseIrq(0, 0, 1);
  const l = x.lrs(4);
  x.flush(0, l);
  assert.equal([...l].map(intidOf), [44, 41, 43, 1]);
  assert.equal([...l].map(prioOf), [0x20, 0x40, 0x40, 0x60]);
  for (const lr of l) {
    assert.is(stateOf(lr), 1, "Pending");
    assert.is(lr & LR_GROUP1, LR_GROUP1);
    assert.is(lr & LR_HW, 0n);
  }
  assert.is(x.c.vgicHasUndeliveredIrq(0, 0), 1, "40 and 42 found no LR");
  x.flush(0, l);
  assert.equal([...l].map(intidOf), [44, 41, 43, 1], "a second flush changes nothing");
  // The guest takes and completes 41: its LR becomes Invalid; 40 (0x80) goes in next.
  l[1] = 0n;
  x.sync(0, l);
  x.flush(0, l);
  assert.is(intidOf(l[1]), 40);
  l[0] = l[2] = 0n;
  x.sync(0, l);
  x.flush(0, l);
  assert.is(intidOf(l[0]), 42);
  assert.is(l[2], 0n);
  assert.is(x.c.vgicHasUndeliveredIrq(0, 0), 0);
});

test("an LR the module does not own and that is not Invalid is left alone", () => {
  const x = new Vgic();
  x.enableSpi(40);
  x.c.vgicRaiseIrq(0, 0, 40);
  const l = x.lrs(2);
  const foreign = LR_PENDING | 99n;
  l[0] = foreign;
  x.flush(0, l);
  assert.is(l[0], foreign);
  assert.is(intidOf(l[1]), 40);
});

test("the virtual timer goes in with HW = 1 and pINTID 27", () => {
  const x = new Vgic(0, [0, 1]);
  x.enablePrivate(1, 27, 0xa0);
  assert.is(x.c.vgicRaiseIrq(0, 1, 27), 1 << 1);
  const l = x.lrs();
  x.flush(1, l);
  assert.is(l[0], LR_PENDING | LR_HW | LR_GROUP1 | (0xa0n << 48n) | (27n << 32n) | 27n);
  // Other PPIs are purely virtual.
  x.enablePrivate(1, 30);
  x.c.vgicRaiseIrq(0, 1, 30);
  x.flush(1, l);
  assert.is(intidOf(l[1]), 30);
  assert.is(l[1] & LR_HW, 0n);
  // ICPENDR does not touch the timer's live LR: dropping it would leave the physical PPI active.
  x.rdW(1, SGI + 0x280, 1 << 27);
  x.flush(1, l);
  assert.is(stateOf(l[0]), 1);
});

test("sync: an acked LR stays and shows active; a completed one frees; a re-raise waits for completion", () => {
  const x = new Vgic();
  x.enableSpi(45);
  x.c.vgicRaiseIrq(0, 0, 45);
  const l = x.lrs(2);
  x.flush(0, l);
  assert.is(x.dist(ISPENDR + 4), 1 << 13, "pending while in the LR");
  // The guest acknowledges it: Pending → Active.
  l[0] = (l[0] & ~(3n << 62n)) | LR_ACTIVE;
  x.sync(0, l);
  assert.is(x.dist(ISPENDR + 4), 0);
  assert.is(x.dist(ISACTIVER + 4), 1 << 13);
  x.c.vgicRaiseIrq(0, 0, 45); // fires again while active
  x.flush(0, l);
  assert.is(stateOf(l[0]), 2, "the LR stays as it is");
  assert.is(l[1], 0n, "never in two LRs");
  // The guest deactivates it: Invalid.
  l[0] = l[0] & ~(3n << 62n);
  x.sync(0, l);
  assert.is(l[0], 0n);
  assert.is(x.dist(ISACTIVER + 4), 0);
  assert.is(x.dist(ISPENDR + 4), 1 << 13, "the second edge is still pending");
  x.flush(0, l);
  assert.is(intidOf(l[0]), 45);
  assert.is(stateOf(l[0]), 1);
});

test("a second edge before the guest takes the first is the same interrupt", () => {
  const x = new Vgic();
  x.enableSpi(45);
  x.c.vgicRaiseIrq(0, 0, 45);
  const l = x.lrs(2);
  x.flush(0, l);
  x.c.vgicRaiseIrq(0, 0, 45);
  x.sync(0, l); // still Pending in the LR
  l[0] = 0n; // taken and completed
  x.sync(0, l);
  x.flush(0, l);
  assert.equal([...l], [0n, 0n]);
  assert.is(x.c.vgicHasPendingIrq(0, 0), 0);
});

test("ICPENDR and ICENABLER withdraw a not-yet-taken LR at the next flush", () => {
  const x = new Vgic();
  x.enableSpi(46);
  x.enableSpi(47);
  x.c.vgicRaiseIrq(0, 0, 46);
  x.c.vgicRaiseIrq(0, 0, 47);
  const l = x.lrs(2);
  x.flush(0, l);
  assert.equal([...l].map(intidOf), [46, 47]);
  x.sync(0, l);
  x.distW(ICPENDR + 4, 1 << 14);
  x.distW(ICENABLER + 4, 1 << 15);
  assert.is(x.dist(ISPENDR + 4), 1 << 15, "46 no longer pending; 47 still is");
  x.flush(0, l);
  assert.equal([...l], [0n, 0n]);
  x.distW(ISENABLER + 4, 1 << 15);
  x.flush(0, l);
  assert.is(intidOf(l[0]), 47, "re-enabled: delivered");
  // ICACTIVER on an active LR clears its active state.
  l[0] = (l[0] & ~(3n << 62n)) | LR_ACTIVE;
  x.sync(0, l);
  x.distW(ICACTIVER + 4, 1 << 15);
  assert.is(x.dist(ISACTIVER + 4), 0);
  x.flush(0, l);
  assert.is(l[0], 0n);
});

test("a level line: pending while high, again after completion, withdrawn when it falls", () => {
  const x = new Vgic(0, [0, 1]);
  x.enableSpi(33);
  assert.is(x.c.vgicSetIrqLevel(0, 0, 33, 1), 1 << 0);
  const l = x.lrs(2);
  x.flush(0, l);
  assert.is(intidOf(l[0]), 33);
  x.distW(ICPENDR + 4, 1 << 1);
  assert.is(x.dist(ISPENDR + 4), 1 << 1, "ICPENDR cannot clear a high line");
  l[0] = 0n; // completed while the line is still high
  x.sync(0, l);
  x.flush(0, l);
  assert.is(intidOf(l[0]), 33, "delivered again");
  x.sync(0, l);
  assert.is(x.c.vgicSetIrqLevel(0, 0, 33, 0), 0);
  x.flush(0, l);
  assert.is(l[0], 0n, "the line fell before the guest took it");
  assert.is(x.dist(ISPENDR + 4), 0);
  // Falls while the guest handles it: completes, and is not pending again.
  x.c.vgicSetIrqLevel(0, 0, 33, 1);
  x.flush(0, l);
  l[0] = (l[0] & ~(3n << 62n)) | LR_ACTIVE;
  x.sync(0, l);
  x.c.vgicSetIrqLevel(0, 0, 33, 0);
  l[0] = 0n;
  x.sync(0, l);
  x.flush(0, l);
  assert.is(l[0], 0n);
});

test("vgicHasPendingIrq sees LRs and deliverable interrupts", () => {
  const x = new Vgic();
  assert.is(x.c.vgicHasPendingIrq(0, 0), 0);
  x.enablePrivate(0, 3);
  x.c.vgicRaiseIrq(0, 0, 3);
  assert.is(x.c.vgicHasPendingIrq(0, 0), 1);
  assert.is(x.c.vgicHasPendingIrq(0, 1), 0);
  const l = x.lrs(1);
  x.flush(0, l);
  assert.is(x.c.vgicHasPendingIrq(0, 0), 1, "pending in its LR");
  l[0] = 0n;
  x.sync(0, l);
  assert.is(x.c.vgicHasPendingIrq(0, 0), 0);
});

test("vgicInitGuest refuses bad numbers and resets a guest", () => {
  const x = new Vgic();
  assert.is(x.c.vgicInitGuest(4, 1, 0n), 0);
  assert.is(x.c.vgicInitGuest(1, 0, 0n), 0);
  assert.is(x.c.vgicInitGuest(1, 9, 0n), 0);
  assert.is(x.c.vgicInitGuest(1, 2, packCpus([0, 8])), 0);
  assert.is(x.c.vgicMmioDist(1, 0, CTLR, 4, 0, 0n), 0n, "a refused guest does not exist");
  x.enableSpi(40);
  x.c.vgicRaiseIrq(0, 0, 40);
  assert.is(x.c.vgicInitGuest(0, 2, packCpus([0, 1])), 1);
  assert.is(x.dist(CTLR), 0x50);
  assert.is(x.dist(ISPENDR + 4), 0);
  assert.is(x.dist(ISENABLER + 4), 0);
  assert.is(x.m.lines("vgic").filter((l) => l.includes("refused")).length, 4);
});

test("hostile accesses: RAZ/WI, never a trap, and a rationed log", () => {
  const x = new Vgic(0, [0, 1]);
  const c = x.c;
  const all = [0, 1, 2, 3, 4, 5, 7, 8, 16, 0xffffffff];
  for (const size of all) {
    for (const off of [0, 1, 3, 0x7ffc, 0xfffc, 0xffff, 0x10000, 0x6000, 0xffffffff, 0x80000000]) {
      for (const w of [0, 1]) {
        assert.is(typeof c.vgicMmioDist(0, 0, off, size, w, 0xffffffffffffffffn), "bigint");
        assert.is(typeof c.vgicMmioRedist(0, 1, off, size, w, 0xffffffffffffffffn), "bigint");
      }
    }
  }
  assert.is(c.vgicMmioDist(0, 0, 0xffffffff, 4, 0, 0n), 0n);
  assert.is(c.vgicMmioDist(0, 0, CTLR, 3, 0, 0n), 0n, "size 3");
  assert.is(c.vgicMmioDist(0, 0, TYPER + 1, 1, 0, 0n), 0n, "a byte of a word register");
  assert.is(c.vgicMmioDist(0, 0, IPRIORITYR + 33, 4, 0, 0n), 0n, "unaligned");
  assert.is(c.vgicMmioRedist(0, 0, 2 * RD_STRIDE + GICR_TYPER, 8, 0, 0n), 0n, "a frame beyond the vCPUs");
  assert.is(c.vgicMmioRedist(0, 0, 0xffffffff, 1, 0, 0n), 0n);
  assert.is(c.vgicMmioDist(7, 0, TYPER, 4, 0, 0n), 0n, "guest 7");
  assert.is(c.vgicMmioDist(0, 9, TYPER, 4, 0, 0n), 0n, "vCPU 9");
  assert.is(c.vgicMmioRedist(3, 0, GICR_TYPER, 8, 0, 0n), 0n, "a guest never initialised");
  assert.is(c.vgicRaiseIrq(0, 0, 5000), 0);
  assert.is(c.vgicRaiseIrq(0, 0, 0xffffffff), 0);
  assert.is(c.vgicRaiseIrq(7, 0, 40), 0);
  assert.is(c.vgicRaiseIrq(0, 9, 3), 0, "an SGI of a vCPU that does not exist");
  assert.is(c.vgicSetIrqLevel(9, 0, 40, 1), 0);
  assert.is(c.vgicSgiWrite(0, 0xffffffff, 0xffffffffffffffffn), 0);
  assert.is(c.vgicSgiWrite(0, 0, 0xffffffffffffffffn), 0, "Aff/RS set: nobody");
  assert.is(c.vgicTakeKicks(0xffffffff), 0);
  c.vgicFlushLrs(0, 0, 0xfffffff8, 8);
  c.vgicSyncLrs(0, 0, c.memory.buffer.byteLength - 8, 16);
  c.vgicFlushLrs(0, 0, c.vgicScratch(), 0xffffffff);
  c.vgicFlushLrs(7, 0, c.vgicScratch(), 4);
  assert.is(c.vgicHasPendingIrq(7, 7), 0);
  const lines = x.m.lines("vgic").filter((l) => l.startsWith("guest 0: GIC"));
  assert.is(lines.length, 4, "four lines per guest, ever");
  assert.ok(lines[3].endsWith("no more vgic warnings for this guest"));
  assert.match(lines[0], /^guest 0: GICD (read|write) at 0x[0-9a-f]+ size \d+ ignored \(RAZ\/WI\)/);
});

/** Guest `x`'s SPI `intid` as its registers read: CTLR, enable, pending, priority, route, group, config. */
function spiView(x: Vgic, intid: number): bigint[] {
  const word = (base: number) => BigInt(x.dist(base + 4 * (intid >> 5)) >>> 0);
  return [BigInt(x.dist(CTLR) >>> 0), word(ISENABLER), word(ISPENDR), word(ISACTIVER), word(IGROUPR), BigInt(x.dist(ICFGR + 4 * (intid >> 4)) >>> 0),
    BigInt(x.dist(IPRIORITYR + intid, 1)), x.dist64(IROUTER + 8 * intid)];
}

/** Whether SPI `intid` reaches vCPU v's list registers within a few exits, the guest finishing whatever else it got first. */
function delivers(x: Vgic, v: number, intid: number): boolean {
  for (let round = 0; round < 8; round++) {
    const l = x.lrs(4);
    x.flush(v, l);
    if ([...l].some((lr) => stateOf(lr) !== 0 && intidOf(lr) === intid)) return true;
    l.fill(0n); // the guest acknowledged and completed everything else
    x.sync(v, l);
  }
  return false;
}

test("random guest accesses never trap; the guest then works without a reset, and another guest never notices", () => {
  const x = new Vgic(0, [0, 1, 2]);
  const other = new Vgic(1, [3, 4], x.m);
  other.enableSpi(71, 0x80);
  const otherBefore = spiView(other, 71);
  let seed = 0x12345678;
  const rand = () => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return seed >>> 0;
  };
  const sizes = [1, 2, 4, 8, 3, 0];
  for (let i = 0; i < 20000; i++) {
    const off = rand() % 3 === 0 ? rand() : rand() & 0x7ffff;
    const size = sizes[rand() % sizes.length];
    const value = (BigInt(rand()) << 32n) | BigInt(rand());
    if (i & 1) x.c.vgicMmioDist(0, rand() % 3, off & (i & 2 ? 0xffff : 0xffffffff), size, rand() & 1, value);
    else x.c.vgicMmioRedist(0, rand() % 3, off, size, rand() & 1, value);
    if (i % 97 === 0) x.c.vgicSgiWrite(0, rand() % 3, value);
    if (i % 89 === 0) x.c.vgicRaiseIrq(0, rand() % 3, rand() % 300);
    if (i % 13 === 0) {
      const v = rand() % 3;
      const l = x.lrs(4);
      x.flush(v, l);
      for (let k = 0; k < 4; k++) if (rand() & 1) l[k] = l[k] & ~(3n << 62n);
      x.sync(v, l);
    }
  }
  // The other guest: its registers as they were, and its interrupt still delivered.
  assert.equal(spiView(other, 71), otherBefore, "guest 1's SPI 71 is as it set it up");
  assert.is(other.c.vgicRaiseIrq(1, 0, 71), 1 << 3, "accepted: kick CPU 3, its vCPU 0's");
  assert.ok(delivers(other, 0, 71), "guest 1's SPI 71 reaches its vCPU 0");
  // Guest 0 is not re-initialised: its driver sets SPI 70 up again through the registers alone, and it is delivered.
  x.distW(CTLR, 0);
  x.distW(ICPENDR + 8, 1 << (70 - 64));
  x.distW(ICACTIVER + 8, 1 << (70 - 64));
  x.distW(IGROUPR + 8, 0xffffffff);
  x.distW(IROUTER + 8 * 70, 0n, 8); // Aff0 = vCPU 0
  x.enableSpi(70);
  assert.is(x.c.vgicRaiseIrq(0, 0, 70), 1 << 0, "accepted: kick CPU 0, its vCPU 0's");
  assert.ok(delivers(x, 0, 70), "SPI 70 reaches vCPU 0");
});

test.run();
