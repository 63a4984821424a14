/**
 * The Raspberry Pi 4 port on QEMU raspi4b (issue 11): Debian's TF-A rpi4 BL31
 * enters the hypervisor (built for the board: GIC-400, its GICv2 back end) at
 * EL2 with the board's DTB; three Debian guests boot behind a virtual GICv2,
 * plain's read past its RAM is a bus error, the probe finds no OP-TEE and
 * says so in one line, and the machine powers off when the last guest does.
 * The console goes to build/results/rpi4-console.log.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../../configs/rpi4.ts";
import { RESULTS } from "../../tools/run/boot-lib.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";

test("rpi4: three guests behind a virtual GICv2 on raspi4b, no OP-TEE, power-off at the end", async () => {
  const run = await bootGuests(setup, { timeoutSeconds: 600 });
  const lines = run.result.lines;
  writeFileSync(join(RESULTS, "rpi4-console.log"), lines.join("\n") + "\n");
  const see = "see build/results/rpi4-console.log";
  assert.ok(lines.some((l) => /BL31: v2\.\d+/.test(l)), `TF-A's BL31 ran (${see})`);
  assert.ok(lines.includes("[hyp] EL2 hypervisor (rpi4), MMU on, console up"), `the hypervisor took over (${see})`);
  assert.ok(lines.some((l) => /^\[hyp\] platform: GICv2, 4 list registers; RAM 0x0\+960 MiB/.test(l)),
    `GICH_VTR and the device tree were read (${see})`);
  assert.is(run.probe.opteePresent, false);
  assert.match(run.probe.verdict ?? "", /^no OP-TEE/);
  const absent = lines.filter((l) => /^\[hyp\] optee: no OP-TEE in the secure world/.test(l));
  assert.is(absent.length, 1, "the probe says it in one line");
  const by = Object.fromEntries(run.guests.map((g) => [g.name, g]));
  for (const g of setup.guests) {
    assert.ok(by[g.name].booted, `${g.name} booted (${see})`);
    assert.is(by[g.name].nproc, g.cpus.length, `${g.name}: nproc`);
    assert.ok((by[g.name].mem ?? 0) > 128 * 1024, `${g.name}: MemTotal ${by[g.name].mem} kB`);
    assert.ok(by[g.name].done, `${g.name} ran its /init to the end`);
  }
  assert.is(by.plain.isolation, "bus-error");
  assert.is(run.result.timedOut, false, "the machine powered off when the last guest did");
  assert.ok(lines.some((l) => l.includes("PSCI_SYSTEM_OFF")), "through TF-A's PSCI SYSTEM_OFF");
});

test.run();
