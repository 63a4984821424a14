/**
 * The real stack in QEMU: Debian's TF-A and OP-TEE 4.5 with the hypervisor as
 * BL33 (build/flash.bin from `make`). Asserts on what the console printed:
 * QEMU exits 0 even when killed.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { BUILD, RESULTS, bootHypervisor } from "../../tools/run/boot-lib.ts";

const TIMEOUT = 180; // seconds: a boot takes about one; the host may be busy

function lineIndex(lines: string[], pattern: RegExp): number {
  return lines.findIndex((l) => pattern.test(l));
}

test("the hypervisor boots at EL2 under TF-A and probes the virtualized OP-TEE 4.5", async () => {
  const { result, report } = await bootHypervisor(setup, {
    timeoutSeconds: TIMEOUT,
    secureLog: join(RESULTS, "system-boot-secure.log"),
  });
  const lines = result.lines;
  assert.is(result.timedOut, false, "QEMU powered off by itself");
  assert.is(result.exitCode, 0);
  const bl31 = lineIndex(lines, /BL31: v2\.12/);
  const hyp = lineIndex(lines, /^\[hyp\] EL2 hypervisor \(qemu-virt\), MMU on, console up$/);
  assert.ok(bl31 >= 0 && hyp > bl31, "TF-A's BL31 hands over to the hypervisor");
  assert.is(report.uid, "384fb3e0-e7f8-11e3-af63-0002a5d5c51b");
  assert.is(report.osRevision, "4.5");
  assert.is(report.apiRevision, "2.0");
  assert.is(report.vmCreated, "OK");
  assert.is(report.virtualization, true);
  assert.ok(report.capabilities?.names.includes("DYNAMIC_SHM"));
  assert.ok((report.threadCount ?? 0) >= 1);
  assert.is(report.vmDestroyed, "OK");
  assert.match(report.verdict ?? "", /^ready: OP-TEE 4\.5 is virtualization-aware/);
  assert.is(report.poweredOff, true);
  assert.is(report.trap, null);
});

test("with OP-TEE built without virtualization the hypervisor says so in one line and carries on", async () => {
  const { result, report } = await bootHypervisor(setup, {
    flash: join(BUILD, "flash-native.bin"),
    timeoutSeconds: TIMEOUT,
    secureLog: join(RESULTS, "system-native-secure.log"),
  });
  assert.is(result.timedOut, false);
  assert.is(report.opteePresent, true);
  assert.is(report.osRevision, "4.5");
  assert.is(report.virtualization, false);
  assert.is(report.vmDestroyed, null);
  const verdicts = result.lines.filter((l) => l.includes("not virtualization-aware"));
  assert.is(verdicts.length, 1);
  assert.match(verdicts[0], /guests will have no TEE$/);
  assert.is(report.poweredOff, true);
});

test("an out-of-bounds read in the core traps, says which trap and where, and stops the CPU", async () => {
  const { result, report } = await bootHypervisor(setup, {
    bootConfig: join(BUILD, "bootconfig-oob.bin"),
    timeoutSeconds: TIMEOUT,
    secureLog: join(RESULTS, "system-oob-secure.log"),
  });
  const lines = result.lines;
  assert.is(result.timedOut, false, "the machine powers off once no CPU can run the core");
  const trap = lines.find((l) => l.includes("core trapped"));
  assert.ok(trap, "a trap line");
  assert.match(trap!, /^\[hyp\] cpu 0: core trapped: out-of-bounds memory access \(WASM_RT_TRAP_OOB\) in export cpuStart at pc 0x[0-9a-f]+$/);
  assert.not.ok(lines.some((l) => l.includes("selftest: FAILED")), "the read did not return");
  assert.is(report.uid, null, "nothing after the trap ran: no probe");
  assert.ok(lines.includes("[hyp] cpu 0: stopped; the core is not entered again"));

  // "Where": the pc is the faulting load (the MMU's guard after linear memory caught it) inside the generated
  // code of the core that did the read: the self test itself, or the boot function or export binaryen inlined
  // it into (which one depends on its inlining heuristics). addr2line -i names the whole inlining chain.
  const pc = /at pc (0x[0-9a-f]+)/.exec(trap!)![1];
  const where = spawnSync("aarch64-linux-gnu-addr2line", ["-f", "-i", "-e", join(BUILD, "hyp.elf"), pc], { encoding: "utf8" });
  const functions = where.stdout.split("\n").filter((_, i) => i % 2 === 0);
  assert.ok(functions.some((f) => /^(w2c_hyp_core_boot_(bootCpuStart|selfTestOutOfBounds)|w2c_hyp_main_cpuStart|Z_hypcoreZ_cpuStart)$/.test(f)),
    `the pc is in the self test's code: ${functions.join(" <- ")}`);
});

test.run();
