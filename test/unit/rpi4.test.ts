/**
 * The Raspberry Pi 4 port on fake hardware: the rpi4 setup booted by the core on a GICv2 platform (what
 * boot/platform.c reports from the GIC-400 and the board's device tree), guest RAM checked against the device
 * tree, and the tools' side of the port: the board header, BL31's stub patch.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { rpi4 } from "../../configs/boards/rpi4.ts";
import { setup } from "../../configs/rpi4.ts";
import { setupBootConfig } from "../../tools/build/bootconfig.ts";
import { boardHeader } from "../../tools/build/board-header.ts";
import { patchBl31Stub } from "../../tools/run/firmware.ts";
import { FRAME, Machine } from "../fakes/machine.ts";
import type { FakePlatform } from "../fakes/hw.ts";

const EC_DABT = 0x24n, IL = 1n << 25n;
const GICV = 0xff84_6000n;

/** What boot/platform.c says on QEMU raspi4b behind TF-A (design.md §8). */
function rpi4Platform(): FakePlatform {
  return {
    gicVersion: 2, listRegisters: 4, consoleIntid: 153, gicvPa: GICV, deviceTree: true, psci: true, cpuCount: 4,
    ram: [{ base: 0n, size: 0x3c00_0000n }],
    reserved: [{ base: 0n, size: 0x1000n }, { base: 0x0300_0000n, size: 0x10_0000n }],
    hypervisor: { base: 0x20_0000n, size: 0x160_0000n },
    imageStore: { base: 0x0400_0000n, size: 0x400_0000n },
  };
}

function booted(platform = rpi4Platform()): Machine {
  const m = new Machine("absent", setupBootConfig(setup));
  m.hw.platform = platform;
  m.boot(0);
  for (const cpu of [1, 2, 3]) m.boot(cpu);
  return m;
}

function mmioRead(m: Machine, cpu: number, ipa: bigint): bigint {
  const esr = (EC_DABT << 26n) | IL | (1n << 24n) | (2n << 22n) | (1n << 16n);
  m.guestSync(cpu, esr, ipa & 0xfffn, (ipa >> 12n) << 4n);
  return m.reg(cpu, 1);
}

test("rpi4: the core reads the platform, refuses nothing, says OP-TEE is absent and starts every guest", () => {
  const m = booted();
  assert.ok(m.hw.console.includes("[hyp] platform: GICv2, 4 list registers; RAM 0x0+960 MiB, 2 reserved regions (device tree); PSCI"),
    m.hw.console.join("\n"));
  assert.not.ok(m.hw.console.some((l) => l.includes("refused")), "every guest's RAM is free in the device tree");
  assert.is(m.hw.console.filter((l) => l.startsWith("[hyp] optee: no OP-TEE")).length, 1);
  for (const cpu of [0, 2, 3]) assert.is(m.state.get(cpu), "guest");
});

test("rpi4: stage 2 maps the GIC's virtual CPU interface at the guest's GICC, and nothing else of the GIC", () => {
  const m = booted();
  const walk = (cpu: number, ipa: bigint) => BigInt.asIntN(64, (m.core as any).stage2Walk(m.get(cpu, FRAME.vttbr) & 0xffff_ffff_ffffn, ipa));
  for (const cpu of [0, 2, 3]) {
    assert.is(walk(cpu, 0x0801_0000n), GICV);
    assert.is(walk(cpu, 0x0801_1004n), GICV + 0x1004n, "GICV_DIR's page");
    assert.is(walk(cpu, 0x0801_2000n), -1n);
    assert.is(walk(cpu, 0x0800_0000n), -1n, "the distributor stays emulated");
  }
  assert.is(walk(0, 0x4000_0000n), 0x0a00_0000n);
  assert.is(walk(3, 0x4000_0000n), 0x2a00_0000n);
});

test("rpi4: the distributor is a GICv2's; the GICv3 redistributor window is nobody's", () => {
  const m = booted();
  assert.is((mmioRead(m, 0, 0x0800_0004n) >> 5n) & 7n, 1n, "GICD_TYPER.CPUNumber: linux1 has 2 vCPUs");
  assert.is(mmioRead(m, 0, 0x0800_0fe8n) & 0xf0n, 0x20n, "GICv2 PIDR2");
  const injected = m.hw.injected.length;
  mmioRead(m, 0, 0x080a_0008n);
  assert.is(m.hw.injected.length, injected + 1, "an abort is injected, as for any address with no device");
});

test("guest RAM the device tree does not give as free is refused, with the reason", () => {
  const p = rpi4Platform();
  p.reserved.push({ base: 0x1a00_0000n, size: 0x20_0000n }); // inside linux2's RAM
  const m = booted(p);
  assert.ok(m.hw.console.some((l) => /guest record 1 refused: its RAM is not free RAM in the firmware's device tree/.test(l)), m.hw.console.join("\n"));
  assert.is(m.state.get(2), "parked", "linux2's CPU has nothing to run");
  const none = booted({ ...rpi4Platform(), deviceTree: false });
  assert.ok(none.hw.console.includes("[hyp] platform: GICv2, 4 list registers; no device tree: no RAM to give guests"));
  assert.is(none.hw.console.filter((l) => l.includes("refused")).length, 3);
});

test("board.h for rpi4: the GICv2 addresses, no redistributors, the MMIO window, the image store, the PL011's pins", () => {
  const h = boardHeader("rpi4");
  for (const line of ["#define BOARD_GIC_VERSION 2", "#define BOARD_GICH_BASE U64(0xff844000)", "#define BOARD_GICV_BASE U64(0xff846000)",
    "#define BOARD_UART0_INTID 153u", "#define BOARD_OPTEE_NOTIF_INTID 0u", "#define HYP_IMAGE_STORE_PA U64(0x4000000)",
    "#define BOARD_DEVICES { { U64(0xfc000000), U64(0x4000000) } }", "#define BOARD_UART0_PIN_TX 14u"]) {
    assert.ok(h.split("\n").includes(line), `${line}\n${h}`);
  }
  assert.not.match(h, /GICR/);
  assert.match(boardHeader("qemu-virt"), /#define BOARD_GICR_STRIDE U64\(0x20000\)/);
});

test("BL31's stub header is filled as the VideoCore firmware fills it", () => {
  const bl31 = Buffer.alloc(0x200);
  bl31.writeUInt32LE(0x5afe570b, 0xf0);
  const patched = patchBl31Stub(bl31, rpi4.dtb, rpi4.hypervisor.image.base);
  assert.equal([0xf0, 0xf4, 0xf8, 0xfc].map((o) => patched.readUInt32LE(o)), [0, 0, 0x0300_0000, 0x20_0000]);
  assert.throws(() => patchBl31Stub(Buffer.alloc(0x200), 0, 0), /stub magic/);

});

test.run();
