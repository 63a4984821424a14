/** tools/images/initramfs.ts: the shared initramfs, built from the firmware cache when it is there. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { BUSYBOX, TA_DIR, XTEST } from "../../tools/firmware/paths.ts";
import { APPLETS, INIT_SCRIPT, PLUGIN_PATH, TA_PATH, busyboxApplets, buildInitramfs, libraryClosure } from "../../tools/images/initramfs.ts";

/** The entries of a newc archive: name → {mode, link target or file data}. */
function parseNewc(data: Buffer): Map<string, { mode: number; data: Buffer }> {
  const entries = new Map<string, { mode: number; data: Buffer }>();
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    assert.is(data.toString("latin1", at, at + 6), "070701", `newc magic at ${at}`);
    const field = (i: number) => parseInt(data.toString("latin1", at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1), fileSize = field(6), nameSize = field(11);
    const name = data.toString("latin1", at + 110, at + 110 + nameSize - 1);
    const start = align(at + 110 + nameSize);
    if (name === "TRAILER!!!") return entries;
    entries.set(name, { mode, data: data.subarray(start, start + fileSize) });
    at = align(start + fileSize);
  }
}

const S_IFMT = 0o170000, S_IFLNK = 0o120000, S_IFREG = 0o100000;

test("the init script's markers", () => {
  for (const marker of ["GUEST-READY name=$guest kernel=$(uname -r) nproc=$(nproc) mem_kb=$mem_kb seconds_to_init=$up",
    "ISOLATION-PROBE result=bus-error", "ISOLATION-PROBE result=read value=$value", "ISOLATION-PROBE result=exit-$status",
    "RUN unknown: $step", "GUEST-DONE name=$guest", "poweroff -f", "ip link set lo up", "${probe_addr:-0x50000000}",
    'echo "TEE-DEVICE present"', 'echo "TEE-DEVICE absent"', "XTEST-START name=$guest args=$selection",
    "XTEST-END name=$guest status=$status seconds=", "XTEST-END name=$guest status=no-tee", "tee-supplicant -d",
    "insmod /lib/modules/tee.ko && insmod /lib/modules/optee.ko", "wait_for /dev/teepriv0", "dmesg -n \"${kmsg:-1}\"", "GUEST-REBOOT name=$guest boot=$boot", "reboot -f",
    "since_power_on=$since_power_on", "teebench) run_teebench ;;", "${poweroff_at:-}", "TEEBENCH-END name=$guest status=no-tee"]) {
    assert.ok(INIT_SCRIPT.includes(marker), marker);
  }
  // Steps run in the order given; xtest= turns commas into spaces; "all" is no argument.
  assert.ok(INIT_SCRIPT.includes(`for step in $(echo "\${run:-}" | tr ',' ' ')`));
  assert.ok(INIT_SCRIPT.includes(`args=$(echo "$selection" | tr ',' ' ')`));
  assert.ok(INIT_SCRIPT.includes(`[ "$args" = all ] && args=`));
  assert.ok(INIT_SCRIPT.startsWith("#!/bin/sh\n"));
  if (!spawnSync("sh", ["-n", "-c", INIT_SCRIPT]).error) assert.is(spawnSync("sh", ["-n", "-c", INIT_SCRIPT]).status, 0, "sh -n");
});

test("the archive has /init, busybox and its links, the libraries and the modules", () => {
  if (!existsSync(BUSYBOX)) {
    console.log("  (no firmware cache: run make deps; initramfs build not tested)");
    return;
  }
  assert.ok(APPLETS.every((a) => busyboxApplets(BUSYBOX).has(a)));
  const dir = mkdtempSync(join(tmpdir(), "initramfs-test-"));
  try {
    const out = join(dir, "initramfs.cpio.gz");
    const size = buildInitramfs(out);
    const gz = readFileSync(out);
    assert.is(gz.length, size);
    const files = parseNewc(gunzipSync(gz));
    const regular = (name: string) => {
      const e = files.get(name);
      assert.ok(e, `${name} is in the archive`);
      assert.is(e!.mode & S_IFMT, S_IFREG, `${name} is a file`);
      return e!;
    };
    const link = (name: string) => {
      const e = files.get(name);
      assert.ok(e, `${name} is in the archive`);
      assert.is(e!.mode & S_IFMT, S_IFLNK, `${name} is a link`);
      return e!.data.toString();
    };
    assert.is(regular("init").data.toString(), INIT_SCRIPT);
    assert.is(regular("init").mode & 0o777, 0o755);
    assert.is(regular("bin/busybox").data.subarray(0, 4).toString("latin1"), "\x7fELF");
    assert.is(link("bin/devmem"), "busybox");
    assert.is(link("bin/sh"), "busybox");
    assert.is(link("lib"), "usr/lib"); // so /lib/modules/… is usr/lib/modules/…
    assert.is(link("usr/lib/ld-linux-aarch64.so.1"), "aarch64-linux-gnu/ld-linux-aarch64.so.1");
    regular("usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1");
    regular("usr/lib/aarch64-linux-gnu/libc.so.6");
    // OP-TEE's userland: xtest, tee-supplicant and its plugin, the TAs where tee-supplicant looks (/lib/optee_armtz).
    assert.is(regular("usr/bin/xtest").mode & 0o777, 0o755);
    assert.is(regular("usr/sbin/tee-supplicant").mode & 0o777, 0o755);
    assert.is(regular("usr/bin/teebench").data.subarray(0, 4).toString("latin1"), "\x7fELF", "the TEEC benchmark, compiled");
    assert.ok([...files.keys()].some((f) => f.startsWith(`${PLUGIN_PATH}/`) && f.endsWith(".plugin")), "a supplicant plugin");
    const tas = [...files.keys()].filter((f) => f.startsWith(`${TA_PATH}/`) && f.endsWith(".ta"));
    assert.is(tas.length, 20, "the 20 test TAs");
    assert.is(TA_PATH, "usr/lib/optee_armtz"); // = /lib/optee_armtz through the lib link
    for (const lib of ["libteec.so.2", "libckteec.so.0", "libcrypto.so.3", "libz.so.1", "libzstd.so.1", "libm.so.6"]) {
      assert.is(regular(`usr/lib/aarch64-linux-gnu/${lib}`).data.subarray(0, 4).toString("latin1"), "\x7fELF", lib);
    }
    assert.ok(files.has("var/lib/optee-client/data"), "tee-supplicant's secure storage directory");
    for (const ko of ["tee.ko", "optee.ko"]) {
      assert.is(regular(`usr/lib/modules/${ko}`).data.subarray(0, 4).toString("latin1"), "\x7fELF", `${ko} decompressed`);
    }
    for (const d of ["dev", "proc", "sys", "tmp"]) assert.ok(files.has(d), d);
    // Reproducible: a second build gives the same bytes.
    buildInitramfs(join(dir, "again.cpio.gz"));
    assert.ok(readFileSync(join(dir, "again.cpio.gz")).equals(gz), "same bytes twice");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("xtest's library closure, from DT_NEEDED", () => {
  if (!existsSync(XTEST)) {
    console.log("  (no firmware cache: run make deps; closure not tested)");
    return;
  }
  assert.equal(libraryClosure([XTEST]), ["ld-linux-aarch64.so.1", "libc.so.6", "libckteec.so.0", "libcrypto.so.3",
    "libm.so.6", "libteec.so.2", "libz.so.1", "libzstd.so.1"]);
  assert.ok(existsSync(TA_DIR));
});

test.run();
