/**
 * Static partitioning on fake hardware: the default setup's three guests,
 * booted by the core's own boot sequence, then driven by the traps a guest
 * can make: PSCI, stage-2 aborts, its UART, system power-off.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { setup as twoGuests } from "../setups/reboot.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { FRAME, Machine } from "../fakes/machine.ts";

const EC_HVC = 0x16n, EC_SMC = 0x17n, EC_DABT = 0x24n;
const IL = 1n << 25n;
const KICK_SGI = 1;
const MiB = 1n << 20n;

function booted(): Machine {
  const m = new Machine("virtualized", setupBootConfig(setup));
  m.boot(0);
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  return m;
}

function hvc(m: Machine, cpu: number, x0: number | bigint, x1 = 0n, x2 = 0n, x3 = 0n): bigint {
  m.setReg(cpu, 0, BigInt(x0));
  m.setReg(cpu, 1, x1);
  m.setReg(cpu, 2, x2);
  m.setReg(cpu, 3, x3);
  m.guestSync(cpu, (EC_HVC << 26n) | IL);
  return m.reg(cpu, 0);
}

/** A data abort with a valid syndrome: `size` bytes, register `rt`. */
function mmio(m: Machine, cpu: number, ipa: bigint, write: boolean, rt = 1, size = 4): void {
  const sas = BigInt(Math.log2(size));
  const esr = (EC_DABT << 26n) | IL | (1n << 24n) | (sas << 22n) | (BigInt(rt) << 16n) | (write ? 1n << 6n : 0n);
  m.guestSync(cpu, esr, ipa & 0xfffn, (ipa >> 12n) << 4n);
}

const s32 = (v: bigint) => BigInt.asIntN(32, v);

test("boot: CPUs 1-3 started through the firmware, then each guest's vCPU 0 enters its kernel", () => {
  const m = booted();
  assert.equal(m.firmware.cpusOn.map((c) => Number(c.mpidr)), [1, 2, 3]);
  assert.is(m.state.get(0), "guest");
  assert.is(m.state.get(1), "waiting", "tee1's vCPU 1 waits for PSCI CPU_ON");
  assert.is(m.state.get(2), "guest");
  assert.is(m.state.get(3), "guest");
  for (const cpu of [0, 2, 3]) {
    assert.is(m.get(cpu, FRAME.pc), 0x4020_0000n);
    assert.is(m.reg(cpu, 0), 0x4000_0000n, "x0 = the DTB");
    assert.is(m.get(cpu, FRAME.pstate), 0x3c5n);
    assert.is(m.get(cpu, FRAME.controlsDirty), 0n, "C loaded the EL2 controls the core asked for (and cleared the mark)");
    const loaded = m.hw.loaded.get(cpu)!;
    assert.is(loaded.vmpidr, 0x8000_0000n);
    assert.is(loaded.vttbr, m.get(cpu, FRAME.vttbr), "the guest's own VTTBR, as declared to C");
    for (const bit of [0n, 4n, 19n, 31n]) assert.ok(m.get(cpu, FRAME.hcr) & loaded.hcr & (1n << bit), `HCR_EL2 bit ${bit}`);
  }
  const vmids = [0, 2, 3].map((cpu) => m.hw.loaded.get(cpu)!.vttbr >> 48n);
  assert.equal(vmids, [1n, 2n, 3n]);
});

test("stage 2 maps each guest's RAM, and nothing else, to its own physical range", () => {
  const m = booted();
  const walk = (cpu: number, ipa: bigint) => BigInt.asIntN(64, (m.core as any).stage2Walk(m.get(cpu, FRAME.vttbr) & 0xffff_ffff_ffffn, ipa));
  const none = -1n; // an i64 -1 crosses into JavaScript signed
  assert.is(walk(0, 0x4000_0000n), 0x8000_0000n);
  assert.is(walk(0, 0x4000_0000n + 512n * MiB - 1n), 0x9fff_ffffn);
  assert.is(walk(0, 0x4000_0000n + 512n * MiB), none);
  assert.is(walk(2, 0x4012_3456n), 0xa012_3456n);
  assert.is(walk(3, 0x4000_0000n + 256n * MiB - 4n), 0xcfff_fffcn);
  assert.is(walk(3, 0x5000_0000n), none, "plain's isolation probe address");
  for (const device of [0x0800_0000n, 0x0n, 0x6000_0000n, 0xffff_f000n]) assert.is(walk(0, device), none);
  // The UART's register page (read-only: test/unit/pl011-page.test.ts), in the hypervisor's linear memory.
  assert.is(m.hw.classify(walk(0, 0x0900_0000n), 4096).kind, "linear");
});

test("boot: a CPU no guest uses is started too, and parks in the hypervisor (not in the firmware's pen)", () => {
  const m = new Machine("virtualized", setupBootConfig(twoGuests)); // tee1 on CPUs 0-1, tee2 on CPU 2
  m.boot(0);
  assert.equal(m.firmware.cpusOn.map((c) => Number(c.mpidr)), [1, 2, 3]);
  assert.ok(m.hw.console.some((l) => l.includes("boot: CPU 3: no guest uses it; parked in the hypervisor")), m.hw.console.join("\n"));
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  assert.is(m.state.get(3), "parked");
  assert.is(m.state.get(2), "guest");

  // Without the board's CPU count (no platform record to say it), only the CPUs a guest uses.
  const old = new Machine("virtualized", setupBootConfig(twoGuests));
  old.hw.platform.cpuCount = 0;
  old.boot(0);
  assert.equal(old.firmware.cpusOn.map((c) => Number(c.mpidr)), [1, 2]);
  assert.not.ok(old.hw.console.some((l) => l.includes("parked in the hypervisor")));
});

test("PSCI: version, features, and CPU_ON of tee1's second vCPU", () => {
  const m = booted();
  assert.is(hvc(m, 0, 0x84000000), 0x10001n);
  assert.is(hvc(m, 0, 0x8400000a, 0xc4000003n), 0n);
  assert.is(s32(hvc(m, 0, 0x8400000a, 0xc4000001n)), -1n, "CPU_SUSPEND is not offered");
  assert.is(hvc(m, 0, 0xc4000003, 1n, 0x4030_0000n, 0x1234n), 0n);
  assert.equal(m.hw.kicks, [1]);
  assert.is(s32(hvc(m, 0, 0xc4000003, 1n, 0x4030_0000n, 0n)), -5n, "ON_PENDING until it runs");
  assert.is(hvc(m, 0, 0xc4000004, 1n, 0n), 2n, "AFFINITY_INFO: ON_PENDING");
  m.wake(1, KICK_SGI);
  assert.is(m.state.get(1), "guest");
  assert.is(m.get(1, FRAME.pc), 0x4030_0000n);
  assert.is(m.reg(1, 0), 0x1234n);
  assert.is(m.get(1, FRAME.vmpidr), 0x8000_0001n);
  assert.is(s32(hvc(m, 0, 0xc4000003, 1n, 0x4030_0000n, 0n)), -4n, "ALREADY_ON");
  assert.is(hvc(m, 0, 0xc4000004, 1n, 0n), 0n, "AFFINITY_INFO: ON");
});

test("PSCI: CPU_ON of a vCPU the guest does not have, or at an address outside its RAM, is refused", () => {
  const m = booted();
  assert.is(s32(hvc(m, 0, 0xc4000003, 2n, 0x4030_0000n, 0n)), -2n);
  assert.is(s32(hvc(m, 0, 0xc4000003, 0x101n, 0x4030_0000n, 0n)), -2n, "Aff1 != 0");
  assert.is(s32(hvc(m, 0, 0xc4000003, 1n, 0x9000_0000n, 0n)), -9n, "another guest's PA as an IPA");
  assert.is(s32(hvc(m, 0, 0xc4000003, 1n, 0x0900_0000n, 0n)), -9n);
  assert.is(s32(hvc(m, 2, 0xc4000003, 1n, 0x4030_0000n, 0n)), -2n, "tee2 has one vCPU");
  assert.equal(m.hw.kicks, []);
  assert.is(m.state.get(1), "waiting");
});

test("SMCCC: unknown calls answer NOT_SUPPORTED; a trapped SMC resumes after the instruction", () => {
  const m = booted();
  assert.is(hvc(m, 0, 0x80000000), 0x10001n, "SMCCC_VERSION 1.1");
  assert.is(s32(hvc(m, 0, 0x80000001, 0x80008000n)), -1n, "no ARCH_WORKAROUND_1");
  assert.is(s32(hvc(m, 0, 0xc2001234)), -1n, "a SiP call");
  const pc = m.get(3, FRAME.pc);
  m.setReg(3, 0, 0x84000000n);
  m.guestSync(3, (EC_SMC << 26n) | IL);
  assert.is(m.reg(3, 0), 0x10001n);
  assert.is(m.get(3, FRAME.pc), pc + 4n);
  assert.equal(m.optee.calls.filter((c) => c.a7 !== 0 && c.a7 !== 0x7fff), [], "nothing from a guest reached OP-TEE");
});

test("an access outside the guest's RAM and devices gets an external abort, logged a few times only", () => {
  const m = booted();
  const pc = m.get(3, FRAME.pc);
  for (let i = 0; i < 10; i++) mmio(m, 3, 0x5000_0000n, false);
  assert.is(m.hw.injected.length, 10);
  const esr = m.hw.injected[0].esr;
  assert.is(esr >> 26n, 0x25n, "a data abort taken from EL1");
  assert.is(esr & 0x3fn, 0x10n, "synchronous external abort");
  assert.is(m.get(3, FRAME.pc), pc, "the faulting instruction is not skipped");
  const logged = m.hw.console.filter((l) => l.startsWith("[hyp] guest plain: read of 0x50000000"));
  assert.is(logged.length, 4);
  assert.is(m.state.get(3), "guest", "the guest keeps running");
  assert.is(m.state.get(0), "guest");
});

test("a data abort the hardware could not decode (no ISV) is refused, not emulated", () => {
  const m = booted();
  m.guestSync(0, (EC_DABT << 26n) | IL, 0n, (0x0900_0000n >> 12n) << 4n);
  assert.is(m.hw.injected.length, 1);
});

test("the virtual UART: a guest's output becomes whole console lines under its name", () => {
  const m = booted();
  const pc = m.get(2, FRAME.pc);
  for (const c of "hi there\r\n") {
    m.setReg(2, 5, BigInt(c.charCodeAt(0)));
    mmio(m, 2, 0x0900_0000n, true, 5);
  }
  assert.ok(m.hw.console.includes("[tee2] hi there"));
  assert.is(m.get(2, FRAME.pc), pc + 40n, "each access skipped");
  mmio(m, 2, 0x0900_0018n, false, 7);
  assert.is(m.reg(2, 7) & 0x80n, 0x80n, "FR: TXFE");
  mmio(m, 2, 0x0900_0fe0n, false, 7);
  assert.is(m.reg(2, 7), 0x11n, "PrimeCell id");
});

test("an unknown trap is given back to the guest as an undefined instruction", () => {
  const m = booted();
  m.guestSync(2, (0x07n << 26n) | IL);
  assert.is(m.hw.injected.length, 1);
  assert.is(m.hw.injected[0].esr, IL);
  assert.is(m.state.get(2), "guest");
});

test("SYSTEM_OFF stops that guest only; the last one powers the machine off", () => {
  const m = booted();
  hvc(m, 3, 0x84000008);
  assert.is(m.state.get(3), "parked");
  assert.is(m.firmware.poweredOff, false);
  assert.ok(m.hw.console.includes("[hyp] guest plain: powered off (PSCI SYSTEM_OFF)"));
  hvc(m, 2, 0x84000008);
  assert.is(m.firmware.poweredOff, false);
  hvc(m, 0, 0x84000008);
  assert.is(m.firmware.poweredOff, true);
});

test("console input goes to one guest; Ctrl-A 2 hands it to the second", () => {
  const m = booted();
  assert.ok(m.hw.console.includes("[hyp] console: input goes to tee1; Ctrl-A n: next guest, Ctrl-A 1-3: that guest"));
  const readChar = (cpu: number) => {
    mmio(m, cpu, 0x0900_0000n, false, 9);
    return Number(m.reg(cpu, 9));
  };
  m.hw.typed.push(0x61, 0x62);
  m.guestIrq(0, 33);
  assert.ok(m.hw.deactivated.includes(33));
  assert.is(readChar(0), 0x61);
  assert.is(readChar(0), 0x62);
  mmio(m, 0, 0x0900_0018n, false, 9);
  assert.is(m.reg(0, 9) & 0x10n, 0x10n, "FR: RXFE once drained");

  m.hw.typed.push(0x01, 0x32, 0x78); // Ctrl-A 2, then 'x'
  m.guestIrq(0, 33);
  assert.ok(m.hw.console.includes("[hyp] console: input goes to tee2; Ctrl-A n: next guest, Ctrl-A 1-3: that guest"));
  assert.ok(m.hw.kicks.includes(2), "tee2's CPU is told");
  assert.is(readChar(2), 0x78);
  mmio(m, 0, 0x0900_0018n, false, 9);
  assert.is(m.reg(0, 9) & 0x10n, 0x10n, "tee1 got nothing");

  m.hw.typed.push(0x01, 0x01); // a literal Ctrl-A
  m.guestIrq(0, 33);
  assert.is(readChar(2), 0x01);
});

test("Ctrl-A v prints every vCPU's virtual GIC, one line each, and nothing reaches a guest", () => {
  const m = booted();
  m.hw.typed.push(0x01, 0x76);
  m.guestIrq(0, 33);
  const lines = m.hw.console.filter((l: string) => l.startsWith("[hyp] vgic: ") && l.includes(" vCPU "));
  assert.equal(lines.map((l: string) => /^\[hyp\] vgic: (\S+) vCPU (\d+) \(CPU (\d+)\)/.exec(l)?.slice(1).join(" ")),
    ["tee1 0 0", "tee1 1 1", "tee2 0 2", "plain 0 3"]);
  for (const l of lines) assert.match(l, /ctlr \d+, LRs( 0x[0-9a-f]+){4} \(owned 0x[0-9a-f]+\), ready/);
  mmio(m, 0, 0x0900_0018n, false, 9);
  assert.is(m.reg(0, 9) & 0x10n, 0x10n, "FR: RXFE, tee1 got nothing");
});

test("a flood of typed input waits in the UART while the guest's FIFO is full: nothing is dropped", () => {
  const m = booted();
  const text = Array.from({ length: 100 }, (_, i) => 0x41 + (i % 26));
  m.hw.typed.push(...text);
  const got: number[] = [];
  for (let round = 0; round < 20 && got.length < text.length; round++) {
    if (m.hw.consoleInputOn) m.guestIrq(0, 33);
    assert.ok(m.hw.typed.length >= text.length - got.length - 32, "at most one FIFO's worth taken ahead of the guest");
    for (;;) {
      mmio(m, 0, 0x0900_0018n, false, 9);
      if (m.reg(0, 9) & 0x10n) break;
      mmio(m, 0, 0x0900_0000n, false, 9);
      got.push(Number(m.reg(0, 9)));
    }
  }
  assert.equal(got, text);
  assert.is(m.hw.consoleInputOn, true, "input flows again once the guest has read");
  assert.is(m.state.get(0), "guest");
});

test.run();
