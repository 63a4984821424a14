/** tools/config/check.ts: the default setup passes, and each rule fails with a message naming the field. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setup as shippedSetup } from "../../configs/qemu-virt.ts";
import { setup as defaultSetup } from "../setups/three-guests.ts";
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { checkSetup, ConfigError, formatRange, type ImageFiles } from "../../tools/config/check.ts";
import { storeLayout } from "../../tools/images/qemu-loads.ts";

const MiB = 1024 * 1024;
const noFiles: ImageFiles = { kernel: () => undefined, initramfs: () => undefined };

/** A copy of the default setup with its guests changed. */
function withGuests(change: (guests: GuestConfig[]) => GuestConfig[] | void, base: Setup = defaultSetup): Setup {
  const copy: Setup = structuredClone(base);
  const replaced = change(copy.guests);
  if (replaced) copy.guests = replaced;
  return copy;
}

function fails(s: Setup, pattern: RegExp, files: ImageFiles = noFiles) {
  try {
    checkSetup(s, files);
  } catch (e) {
    assert.instance(e, ConfigError);
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected ConfigError matching ${pattern}`);
}

const guest = (name: string, cpus: number[], base: number, size: number, tee = false): GuestConfig => ({
  name, cpus, ram: { base, size }, kernel: "debian", initramfs: "debian", cmdline: `guest=${name}`, tee,
});

test("the shipped setup and the tests' own pass (with the real files when they exist)", () => {
  for (const s of [shippedSetup, defaultSetup]) {
    checkSetup(s);
    checkSetup(s, noFiles);
  }
  assert.is(defaultSetup.guests.length, 3);
  assert.is(defaultSetup.board.ram.size, 3072 * MiB);
});

test("no guests: the hypervisor boots alone", () => {
  checkSetup(withGuests(() => []), noFiles);
});

test("formatRange shows the last byte", () => {
  assert.is(formatRange({ base: 0x8000_0000, size: 512 * MiB }), "0x80000000-0x9fffffff");
});

test("names: valid and unique", () => {
  fails(withGuests((g) => void (g[1].name = "tee 2")), /^guests\[1\]\.name: "tee 2"/);
  fails(withGuests((g) => void (g[1].name = "a-very-long-name-indeed")), /^guests\[1\]\.name:/);
  fails(withGuests((g) => void (g[1].name = "")), /^guests\[1\]\.name:/);
  fails(withGuests((g) => void (g[2].name = "TEE1")), /^guests\[2\]\.name \(TEE1\): the same name as guests\[0\]/);
});

test("CPUs: at least one, existing, owned once", () => {
  fails(withGuests((g) => void (g[1].cpus = [])), /^guests\[1\]\.cpus \(tee2\): needs at least one CPU/);
  fails(withGuests((g) => void (g[1].cpus = [4])), /^guests\[1\]\.cpus\[0\] \(tee2\): CPU 4 does not exist/);
  fails(withGuests((g) => void (g[1].cpus = [-1])), /^guests\[1\]\.cpus\[0\] \(tee2\): CPU -1 does not exist/);
  fails(withGuests((g) => void (g[2].cpus = [1])), /^guests\[2\]\.cpus\[0\] \(plain\): CPU 1 already belongs to guests\[0\] \(tee1\)/);
  fails(withGuests((g) => void (g[0].cpus = [0, 0])), /^guests\[0\]\.cpus\[1\] \(tee1\): CPU 0 is listed twice/);
});

test("at most 8 vCPUs per guest", () => {
  const big: Setup = { ...structuredClone(defaultSetup), board: { ...defaultSetup.board, cpuCount: 16 } };
  big.guests = [guest("wide", [0, 1, 2, 3, 4, 5, 6, 7, 8], 0x8000_0000, 512 * MiB)];
  fails(big, /^guests\[0\]\.cpus \(wide\): 9 vCPUs, at most 8/);
  big.guests[0].cpus.pop();
  checkSetup(big, noFiles);
});

test("RAM: 2 MiB aligned, at least 64 MiB, inside the board's RAM", () => {
  fails(withGuests((g) => void (g[2].ram.base += 0x1000)), /^guests\[2\]\.ram\.base \(plain\): 0xc0001000 is not 2 MiB aligned/);
  fails(withGuests((g) => void (g[2].ram.size += MiB)), /^guests\[2\]\.ram\.size \(plain\): .* not a multiple of 2 MiB/);
  fails(withGuests((g) => void (g[2].ram.size = 32 * MiB)), /^guests\[2\]\.ram\.size \(plain\): 32 MiB is less than 64 MiB/);
  fails(withGuests((g) => void (g[2].ram.base = 0xf800_0000)), /^guests\[2\]\.ram \(plain\): 0xf8000000-0x107ffffff is not inside board\.ram 0x40000000-0xffffffff/);
  fails(withGuests((g) => void (g[2].ram.base = 0x2000_0000)), /^guests\[2\]\.ram \(plain\): .* not inside board\.ram/);
});

test("RAM: no overlap between guests", () => {
  fails(
    withGuests((g) => void (g[1].ram.base = 0x9000_0000)),
    /^guests\[1\]\.ram \(tee2\): overlaps guests\[0\]\.ram \(tee1\) at 0x90000000-0x9fffffff$/,
  );
  fails(
    withGuests((g) => void (g[1].ram = { ...g[0].ram })),
    /^guests\[1\]\.ram \(tee2\): overlaps guests\[0\]\.ram \(tee1\) at 0x80000000-0x9fffffff$/,
  );
});

test("RAM: no overlap with the board's reserved regions or the hypervisor", () => {
  const at = (base: number, size = 64 * MiB) => withGuests((g) => void (g[2].ram = { base, size }));
  fails(at(0x4000_0000), /^guests\[2\]\.ram \(plain\): overlaps board\.reserved "QEMU device tree" at 0x40000000-0x401fffff$/);
  fails(at(0x4200_0000), /^guests\[2\]\.ram \(plain\): overlaps board\.reserved "OP-TEE static SHM" at 0x42000000-0x421fffff$/);
  fails(at(0x5e00_0000), /^guests\[2\]\.ram \(plain\): overlaps board\.hypervisor\.image at 0x60000000-0x603fffff$/);
  const board = structuredClone(defaultSetup.board);
  board.hypervisor.image = { base: 0x7000_0000, size: 4 * MiB }; // move the image away to reach the next region
  const s = (b: number) => ({ ...withGuests((g) => void (g[2].ram = { base: b, size: 64 * MiB })), board });
  fails(s(0x6000_0000), /^guests\[2\]\.ram \(plain\): overlaps board\.hypervisor\.bootConfig at 0x60400000-0x60400fff$/);
  board.hypervisor.bootConfig = { base: 0x7040_0000, size: 4096 };
  fails(s(0x6000_0000), /^guests\[2\]\.ram \(plain\): overlaps board\.hypervisor\.wasmMemory at 0x60800000-0x617fffff$/);
});

test("OP-TEE: at most 2 guests with the virtualized build, 1 with the plain one", () => {
  fails(
    withGuests((g) => void (g[2].tee = true)),
    /^guests\[2\]\.tee \(plain\): 3 guests want OP-TEE, at most 2: Debian's virtualized OP-TEE has room for 2 guests$/,
  );
  fails({ ...structuredClone(defaultSetup), opteeVariant: "native" }, /^guests\[1\]\.tee \(tee2\): .*at most 1/);
});

test("images: the kernel must end before the initramfs, the initramfs before the end of RAM", () => {
  const dir = mkdtempSync(join(tmpdir(), "config-test-"));
  try {
    const image = (name: string, imageSize: number, magic = true) => {
      const h = Buffer.alloc(64);
      h.writeBigUInt64LE(BigInt(imageSize), 16);
      if (magic) h.write("ARM\x64", 56, "latin1");
      writeFileSync(join(dir, name), h);
      return join(dir, name);
    };
    const small = image("small", 30 * MiB);
    const big = image("big", 63 * MiB);
    const junk = image("junk", 1, false);
    const initrd = join(dir, "initrd");
    writeFileSync(initrd, Buffer.alloc(4096));
    const files = (kernel: string): ImageFiles => ({ kernel: () => kernel, initramfs: () => initrd });
    checkSetup(defaultSetup, files(small));
    fails(defaultSetup, /^guests\[0\]\.kernel \(tee1\): its image_size 63 MiB at offset 0x200000 runs into the initramfs at offset 0x4000000$/, files(big));
    fails(defaultSetup, /^guests\[0\]\.kernel \(tee1\): .* is not an arm64 Image/, files(junk));
    fails(
      withGuests((g) => void (g[2].ram.size = 64 * MiB)),
      /^guests\[2\]\.initramfs \(plain\): 4096 bytes at offset 0x4000000 do not fit in 64 MiB of RAM$/,
      files(small),
    );
    // Missing files are not checked here (buildGuestImages insists on them).
    checkSetup(defaultSetup, { kernel: () => join(dir, "none"), initramfs: () => join(dir, "none") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("onReset and onCrash take only their named policies", () => {
  fails(withGuests((g) => void ((g[1] as GuestConfig).onReset = "reboot" as never)), /^guests\[1\]\.onReset \(tee2\): "reboot" must be "restart" or "stop"/);
  fails(withGuests((g) => void ((g[0] as GuestConfig).onCrash = "panic" as never)), /^guests\[0\]\.onCrash \(tee1\): "panic" must be "stop" or "restart"/);
  checkSetup(withGuests((g) => { g[0].onReset = "stop"; g[1].onCrash = "restart"; }), { kernel: () => undefined, initramfs: () => undefined });
});

test("kernel, initramfs and cmdline must be set", () => {
  fails(withGuests((g) => void (g[0].kernel = "")), /^guests\[0\]\.kernel \(tee1\)/);
  fails(withGuests((g) => void (g[0].initramfs = "")), /^guests\[0\]\.initramfs \(tee1\)/);
  fails(withGuests((g) => void (g[0].cmdline = "x".repeat(3000))), /^guests\[0\]\.cmdline \(tee1\): .*at most 2047/);
});

test("each distinct image is loaded once into the image store; each guest's record says where its own are", () => {
  const dir = mkdtempSync(join(tmpdir(), "store-"));
  const file = (name: string, size: number) => {
    const path = join(dir, name);
    writeFileSync(path, Buffer.alloc(size));
    return path;
  };
  const kernel = file("Image", 0x25_0000), initrd = file("initrd", 0x1_2345);
  const paths = Object.fromEntries(defaultSetup.guests.map((g) => [g.name, { kernel, initramfs: initrd, dtb: file(`${g.name}.dtb`, 0x1000) }]));
  const { loads, images } = storeLayout(defaultSetup, paths, { tee1: 0x40 });
  const base = defaultSetup.board.hypervisor.imageStore.base;
  assert.equal(loads.map((l) => [l.file.slice(dir.length + 1), l.addr - base]), [
    ["tee1.dtb", 0], ["Image", 0x1_0000], ["initrd", 0x26_0000], ["tee2.dtb", 0x28_0000], ["plain.dtb", 0x29_0000],
  ]);
  assert.equal(images.tee2.kernel, { pa: base + 0x1_0000, size: 0x25_0000 }, "the kernel is shared");
  assert.equal(images.tee2.dtb.pa, base + 0x28_0000);
  assert.is(images.tee1.bootCountOffset, 0x40);
  const small = { ...defaultSetup, board: { ...defaultSetup.board, hypervisor: { ...defaultSetup.board.hypervisor, imageStore: { base, size: 0x10_0000 } } } };
  assert.throws(() => storeLayout(small, paths), /imageStore: the guests' images need 2\.\d MiB, the store has 1 MiB/);
});

test.run();
