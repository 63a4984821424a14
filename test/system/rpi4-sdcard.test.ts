/**
 * `make sdcard SETUP=rpi4` (tools/sdcard/sdcard.ts): the image cannot be booted here, so its contents and its
 * file system are checked: an MBR with one FAT32 partition 1 MiB in, holding exactly the files the Pi 4's
 * firmware loads, config.txt naming each of them, the boot configuration in its place in the "kernel", and
 * `fsck.vfat -n` clean.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../../configs/rpi4.ts";
import { BUILD } from "../../tools/run/boot-lib.ts";
import { buildSdcard, SDCARD_PARTITION_OFFSET } from "../../tools/sdcard/sdcard.ts";

const FILES = ["start4.elf", "fixup4.dat", "config.txt", "bl31.bin", "bcm2711-rpi-4-b.dtb", "tee-hyp.bin", "images.bin"];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  assert.is(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test("make sdcard SETUP=rpi4: one FAT32 partition with the firmware, TF-A, the hypervisor and the guests; fsck clean", async () => {
  const image = await buildSdcard(setup);
  const bytes = readFileSync(image);
  assert.is(bytes.readUInt16LE(510), 0xaa55, "an MBR");
  assert.is(bytes.readUInt8(446 + 4), 0x0c, "partition 1 is FAT32 (LBA)");
  assert.is(bytes.readUInt32LE(446 + 8) * 512, SDCARD_PARTITION_OFFSET);
  const partition = join(BUILD, "rpi4", "sdcard-partition.img");
  writeFileSync(partition, bytes.subarray(SDCARD_PARTITION_OFFSET));

  // mtools' listing, one name per line (-b: bare).
  const listed = run("mdir", ["-b", "-i", partition, "::"]).split("\n").map((l) => l.replace(/^::\//, "").trim()).filter(Boolean);
  assert.equal([...listed].sort(), [...FILES].sort());
  const fsck = spawnSync("fsck.vfat", ["-n", partition], { encoding: "utf8" });
  assert.is(fsck.status, 0, `fsck.vfat -n: ${fsck.stdout}${fsck.stderr}`);
  assert.match(fsck.stdout, /\d+ files, \d+\/\d+ clusters/);

  const config = run("mtype", ["-i", partition, "::config.txt"]);
  for (const line of ["arm_64bit=1", "enable_uart=1", "enable_gic=1", "armstub=bl31.bin", "kernel=tee-hyp.bin",
    "kernel_address=0x200000", "device_tree=bcm2711-rpi-4-b.dtb", "initramfs images.bin 0x4000000"]) {
    assert.ok(config.split("\n").includes(line), `config.txt has "${line}"`);
  }
  const copied = join(BUILD, "rpi4", "sdcard-tee-hyp.bin");
  run("mcopy", ["-n", "-o", "-i", partition, "::tee-hyp.bin", copied]);
  const kernel = readFileSync(copied);
  const h = setup.board.hypervisor;
  assert.is(kernel.readUInt32LE(56), 0x644d5241, "an arm64 Image header (\"ARM\\x64\")");
  assert.is(kernel.readUInt32LE(h.bootConfig.base - h.image.base), 0x43505948, "the boot configuration where the hypervisor reads it");
  const store = join(BUILD, "rpi4", "sdcard-images.bin");
  run("mcopy", ["-n", "-o", "-i", partition, "::images.bin", store]);
  const images = readFileSync(store);
  assert.ok(images.length > 30 << 20 && images.length <= h.imageStore.size, `images.bin: ${images.length} bytes, inside the image store`);
});

test.run();
