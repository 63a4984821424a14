/** tools/run/native.ts and xtest-lib.ts: boot arguments and the native baseline's device tree (no QEMU here). */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { compileDts, decompileDtb } from "../../tools/images/dtb.ts";
import { NATIVE_INITRD_ADDR, nativeCmdline, nativeDts, withBootArgs } from "../../tools/run/native.ts";
import { FULL_XTEST, SHORT_XTEST, xtestSetup } from "../../tools/run/xtest-lib.ts";

const hasDtc = !spawnSync("dtc", ["--version"]).error;

test("withBootArgs replaces a key's value or appends it, and refuses spaces", () => {
  assert.is(withBootArgs("console=ttyAMA0 guest=tee1 run=x", { run: "teecheck,xtest", xtest: "all" }),
    "console=ttyAMA0 guest=tee1 run=teecheck,xtest xtest=all");
  assert.is(withBootArgs("a=1  b=2", {}), "a=1 b=2");
  assert.throws(() => withBootArgs("a=1", { xtest: "-t regression" }), /no spaces/);
});

test("the native command line is the TEE guests' kernel arguments with guest=native", () => {
  const c = nativeCmdline({ run: "teecheck,xtest", xtest: FULL_XTEST });
  assert.match(c, /^console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=\/init guest=native /);
  assert.match(c, / run=teecheck,xtest xtest=all$/);
});

test("xtestSetup: TEE guests run the selection, the others check they have no TEE", () => {
  const s = xtestSetup(setup, SHORT_XTEST, "t");
  assert.is(s.name, "t");
  const by = Object.fromEntries(s.guests.map((g) => [g.name, g.cmdline]));
  assert.match(by.tee1, /guest=tee1 run=teecheck,xtest xtest=-t,regression,1001,1004,4001,6001$/);
  assert.match(by.tee2, /guest=tee2 run=teecheck,xtest xtest=-t,regression,1001,1004,4001,6001$/);
  assert.match(by.plain, /guest=plain run=isolation,teecheck$/);
  assert.not.match(by.plain, /xtest=/);
});

test("nativeDts adds a /chosen that dtc merges into QEMU's own", () => {
  const qemu = `/dts-v1/;\n\n/ {\n\t#address-cells = <0x02>;\n\t#size-cells = <0x02>;\n\tchosen {\n\t\tstdout-path = "/pl011@9000000";\n\t};\n};\n`;
  const dts = nativeDts(qemu, 'guest=native say="x"', 0x6a_0000);
  assert.match(dts, /bootargs = "guest=native say=\\"x\\"";/);
  assert.match(dts, /linux,initrd-start = <0x0 0x48000000>;/);
  assert.match(dts, /linux,initrd-end = <0x0 0x486a0000>;/);
  assert.is(NATIVE_INITRD_ADDR, 0x4800_0000);
  if (!hasDtc) return;
  const dir = mkdtempSync(join(tmpdir(), "native-dtb-"));
  try {
    compileDts(dts, join(dir, "n.dtb"));
    const back = decompileDtb(join(dir, "n.dtb"));
    assert.is(back.match(/chosen \{/g)?.length, 1, "one chosen node");
    assert.match(back, /stdout-path = "\/pl011@9000000";/);
    assert.match(back, /linux,initrd-start = <0x00 0x48000000>;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
