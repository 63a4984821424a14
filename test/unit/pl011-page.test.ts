/**
 * The virtual PL011's register page (hyp/vdev/pl011-page.ts): stage 2 maps each guest's UART page read-only onto
 * a page of the hypervisor's memory holding what a trapped read would answer, unmaps it while input waits, and
 * writes still fault (as permission faults, whose IPA comes from FAR). A hostile guest writing every offset and
 * flooding output neither stalls nor corrupts the others.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../../configs/qemu-virt.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { FRAME, Machine } from "../fakes/machine.ts";

const EC_DABT = 0x24n, IL = 1n << 25n, ISV = 1n << 24n, WNR = 1n << 6n;
const DFSC_TRANSLATION_L3 = 0x07n, DFSC_PERMISSION_L3 = 0x0fn;
const UART = 0x0900_0000n;
/** tee1 on CPU 0 (VMID 1), tee2 on CPU 2 (VMID 2), plain on CPU 3 (VMID 3). */
const CPU_OF = { tee1: 0, tee2: 2, plain: 3 } as const;

function booted(): Machine {
  const m = new Machine("virtualized", setupBootConfig(setup));
  m.boot(0);
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  return m;
}

/** Where stage 2 sends the guest on `cpu`'s UART page: a PA, or undefined when it is unmapped. */
function uartPagePa(m: Machine, cpu: number): bigint | undefined {
  const root = m.get(cpu, FRAME.vttbr) & 0xffff_ffff_ffffn;
  const pa = BigInt.asIntN(64, (m.core as any).stage2Walk(root, UART));
  return pa < 0n ? undefined : pa;
}

/** A trapped access as the hardware reports it: translation fault (page unmapped) or permission fault (a write to the page). */
function trap(m: Machine, cpu: number, offset: number, write: boolean, value = 0n, size = 4, dfsc = DFSC_TRANSLATION_L3): bigint {
  const rt = 9n, sas = BigInt(Math.log2(size));
  if (write) m.setReg(cpu, 9, value);
  const esr = (EC_DABT << 26n) | IL | ISV | (sas << 22n) | (rt << 16n) | (write ? WNR : 0n) | dfsc;
  // A permission fault leaves HPFAR_EL2 unknown: give it garbage, the core must use FAR's page offset.
  const hpfar = dfsc === DFSC_PERMISSION_L3 ? 0xdead_0000n : ((UART + BigInt(offset)) >> 12n) << 4n;
  m.guestSync(cpu, esr, 0xffff_0000_1234_5000n | BigInt(offset), hpfar);
  return m.reg(cpu, 9);
}

/** A read as the guest sees it: from the page when mapped (no trap), else trapped. */
function guestRead(m: Machine, cpu: number, offset: number): { value: bigint; trapped: boolean } {
  const pa = uartPagePa(m, cpu);
  if (pa === undefined) return { value: trap(m, cpu, offset, false), trapped: true };
  const bytes = m.hw.physRead(pa + BigInt(offset), 4)!;
  return { value: BigInt(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true)), trapped: false };
}

/** A write as the guest makes it: a permission fault while the page is mapped, a translation fault otherwise. */
function guestWrite(m: Machine, cpu: number, offset: number, value: bigint, size = 4): void {
  trap(m, cpu, offset, true, value, size, uartPagePa(m, cpu) === undefined ? DFSC_TRANSLATION_L3 : DFSC_PERMISSION_L3);
}

/** Every word offset of the page reads the same from the page as through a trap (the FIFO being empty). */
function assertPageMatchesTraps(m: Machine, cpu: number): void {
  const pa = uartPagePa(m, cpu);
  assert.ok(pa !== undefined, "the page is mapped");
  for (let offset = 0; offset < 0x1000; offset += 4) {
    const fromPage = guestRead(m, cpu, offset).value;
    assert.is(fromPage, trap(m, cpu, offset, false), `offset 0x${offset.toString(16)}`);
  }
}

test("each guest reads its own register page, in hypervisor memory, with what a trap would answer", () => {
  const m = booted();
  const pages = Object.values(CPU_OF).map((cpu) => uartPagePa(m, cpu)!);
  assert.is(new Set(pages).size, 3, "one page per guest");
  for (const pa of pages) {
    assert.is(pa % 4096n, 0n);
    assert.is(m.hw.classify(pa, 4096).kind, "linear");
  }
  for (const cpu of Object.values(CPU_OF)) assertPageMatchesTraps(m, cpu);
  const fr = guestRead(m, 0, 0x18);
  assert.is(fr.trapped, false);
  assert.is(fr.value, 0x90n, "FR: TXFE | RXFE");
});

test("a write to the page faults as a permission fault and is emulated from FAR's offset; the page follows it", () => {
  const m = booted();
  const pc = m.get(2, FRAME.pc);
  for (const c of "hello\n") guestWrite(m, 2, 0x000, BigInt(c.charCodeAt(0)));
  assert.ok(m.hw.console.includes("[tee2] hello"));
  assert.is(m.get(2, FRAME.pc), pc + 24n, "each write skipped");
  assert.is(m.hw.injected.length, 0);
  const page = Number(uartPagePa(m, 2)! - m.hw.linearMemoryPa);
  const cleanedBefore = m.hw.cleaned.length;
  guestWrite(m, 2, 0x038, 0x30n); // IMSC: RX | TX
  const covers = (at: number) => m.hw.cleaned.slice(cleanedBefore).some((c) => c.ptr <= at && at + 4 <= c.ptr + c.len);
  assert.ok(covers(page + 0x38) && covers(page + 0x40), "IMSC and MIS cleaned for the guest's uncached reads");
  guestWrite(m, 2, 0x030, 0x301n); // CR
  guestWrite(m, 2, 0x02c, 0x70n); // LCRH
  assert.is(guestRead(m, 2, 0x038).value, 0x30n);
  assert.is(guestRead(m, 2, 0x040).value, 0x20n, "MIS: TX");
  assert.is(guestRead(m, 2, 0x030).value, 0x301n);
  assertPageMatchesTraps(m, 2);
  assertPageMatchesTraps(m, 0);
});

test("typed input unmaps the page (TLB invalidated) until the guest has read the last byte", () => {
  const m = booted();
  const invalidatedBefore = m.hw.invalidated.length;
  m.hw.typed.push(0x61, 0x62);
  m.guestIrq(0, 33);
  assert.is(uartPagePa(m, 0), undefined, "unmapped: a DR read must pop the FIFO");
  assert.ok(m.hw.invalidated.slice(invalidatedBefore).includes(1), "VMID 1's TLB entries invalidated");
  assert.ok(uartPagePa(m, 2) !== undefined, "other guests keep theirs");
  const fr = guestRead(m, 0, 0x18);
  assert.ok(fr.trapped);
  assert.is(fr.value & 0x10n, 0n, "FR: data waiting");
  assert.is(guestRead(m, 0, 0x000).value, 0x61n);
  assert.ok(uartPagePa(m, 0) === undefined, "one byte still waits");
  assert.is(guestRead(m, 0, 0x000).value, 0x62n);
  assert.ok(uartPagePa(m, 0) !== undefined, "mapped again once the FIFO is empty");
  assert.is(guestRead(m, 0, 0x18).value & 0x10n, 0x10n, "FR from the page: RXFE");
  assertPageMatchesTraps(m, 0);
});

test("a guest's restart with input waiting gives it its page back, as at power-on", () => {
  const m = booted();
  const before = uartPagePa(m, CPU_OF.tee2);
  m.hw.typed.push(0x01, 0x32, 0x78); // Ctrl-A 2, then 'x' for tee2
  m.guestIrq(0, 33);
  guestWrite(m, CPU_OF.tee2, 0x038, 0x30n);
  assert.is(uartPagePa(m, CPU_OF.tee2), undefined);
  m.setReg(CPU_OF.tee2, 0, 0x84000009n); // PSCI SYSTEM_RESET
  m.guestSync(CPU_OF.tee2, (0x16n << 26n) | IL);
  assert.is(m.state.get(CPU_OF.tee2), "guest");
  assert.is(uartPagePa(m, CPU_OF.tee2), before, "mapped again, the same page");
  assert.is(guestRead(m, CPU_OF.tee2, 0x038).value, 0n, "IMSC as at reset");
  assert.is(guestRead(m, CPU_OF.tee2, 0x018).value, 0x90n, "the byte typed before the reset is gone");
  assertPageMatchesTraps(m, CPU_OF.tee2);
});

test("a hostile guest (every offset written, output flooded) stalls and corrupts no one", () => {
  const m = booted();
  let seed = 0x1234_5678;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
  for (let offset = 0; offset < 0x1000; offset += 1) {
    for (const size of [1, 2, 4, 8]) {
      if (offset % size) continue;
      guestWrite(m, CPU_OF.plain, offset, BigInt(rand()) | (BigInt(rand()) << 32n), size);
    }
  }
  for (let i = 0; i < 50_000; i++) guestWrite(m, CPU_OF.plain, 0, BigInt(i % 97 === 0 ? 0x0a : 0x20 + (rand() % 0x60)));
  // Malformed accesses (no ISV) to the page are refused, not emulated.
  m.guestSync(CPU_OF.plain, (EC_DABT << 26n) | IL | WNR | DFSC_PERMISSION_L3, 0x40n, 0n);
  assert.is(m.hw.injected.length, 1);
  assert.is(m.faults.length, 0, "no trap in the core");
  assert.is(m.state.get(CPU_OF.plain), "guest");
  assertPageMatchesTraps(m, CPU_OF.plain);
  // Lines are whole and bounded: the flood was cut into console lines of at most 224 characters.
  const flood = m.hw.console.filter((l) => l.startsWith("[plain] "));
  assert.ok(flood.length > 200);
  assert.ok(flood.every((l) => l.length <= "[plain] ".length + 224));
  // The others are untouched and carry on.
  for (const c of "still here\n") guestWrite(m, CPU_OF.tee1, 0, BigInt(c.charCodeAt(0)));
  assert.ok(m.hw.console.includes("[tee1] still here"));
  assertPageMatchesTraps(m, CPU_OF.tee1);
  assertPageMatchesTraps(m, CPU_OF.tee2);
  assert.is(guestRead(m, CPU_OF.tee1, 0x030).value, 0x300n, "tee1's CR as at reset");
});

test.run();
