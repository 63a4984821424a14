/** tools/images/dtb.ts: each guest's device tree, as source and (when dtc exists) compiled and decompiled. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setup } from "../setups/three-guests.ts";
import { buildGuestDtb, compileDts, decompileDtb, guestDts } from "../../tools/images/dtb.ts";

const byName = (name: string) => setup.guests.find((g) => g.name === name)!;
const INITRD = 0x1e_8480; // 2,000,000 bytes
const hasDtc = !spawnSync("dtc", ["--version"]).error;

test("tee1: 2 cpus, its RAM and command line, an optee node", () => {
  const dts = guestDts(setup, byName("tee1"), INITRD);
  assert.is(dts.match(/cpu@\d+ \{/g)?.length, 2);
  assert.match(dts, /memory@40000000 \{[^}]*reg = <0x0 0x40000000 0x0 0x20000000>;/);
  assert.ok(dts.includes(`bootargs = "${byName("tee1").cmdline}";`), "the configured command line");
  assert.match(dts, /bootargs = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=\/init guest=tee1 /);
  assert.match(dts, /linux,initrd-start = <0x0 0x44000000>;/);
  assert.match(dts, /linux,initrd-end = <0x0 0x441e8480>;/);
  assert.match(dts, /<0x0 0x80a0000 0x0 0x40000>/); // two redistributor frames
  assert.match(dts, /method = "hvc";/);
  assert.match(dts, /optee \{\s*compatible = "linaro,optee-tz";\s*method = "smc";\s*interrupts = <0 187 1>;/, "OP-TEE's notification SPI, rising edge");
});

test("plain: 1 cpu, no optee node", () => {
  const dts = guestDts(setup, byName("plain"), INITRD);
  assert.is(dts.match(/cpu@\d+ \{/g)?.length, 1);
  assert.not.match(dts, /optee/);
  assert.not.match(dts, /firmware/);
  assert.match(dts, /guest=plain run=isolation/);
  assert.match(dts, /reg = <0x0 0x40000000 0x0 0x10000000>;/);
});

test("command lines are quoted safely", () => {
  const g = { ...byName("plain"), cmdline: 'say="hi" back\\slash' };
  assert.match(guestDts(setup, g, INITRD), /bootargs = "say=\\"hi\\" back\\\\slash";/);
});

test("every guest's tree compiles without warnings and decompiles with the expected nodes", () => {
  if (!hasDtc) {
    console.log("  (dtc not installed: compile check skipped)");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "dtb-test-"));
  try {
    for (const g of setup.guests) {
      const out = join(dir, `${g.name}.dtb`);
      assert.is(compileDts(guestDts(setup, g, INITRD), out), "", `dtc warnings for ${g.name}`);
      buildGuestDtb(setup, g, INITRD, out);
      const back = decompileDtb(out);
      for (const node of ["memory@40000000", "cpus", "psci", "intc@8000000", "timer", "apb-pclk", "pl011@9000000", "chosen"]) {
        assert.match(back, new RegExp(`\\n\\t${node} \\{`), `${g.name}: ${node}`);
      }
      assert.is(back.match(/\tcpu@\d+ \{/g)?.length, g.cpus.length, `${g.name}: cpus`);
      assert.is(/linaro,optee-tz/.test(back), g.tee, `${g.name}: optee node`);
      assert.match(back, /interrupt-parent = <0x01>;/);
      assert.match(back, /stdout-path = "\/pl011@9000000";/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dtc's errors are reported", () => {
  if (!hasDtc) return;
  const dir = mkdtempSync(join(tmpdir(), "dtb-test-"));
  try {
    assert.throws(() => compileDts("/dts-v1/;\n/ { broken", join(dir, "x.dtb")), /dtc failed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
