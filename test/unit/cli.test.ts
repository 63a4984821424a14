/**
 * Errors a person can act on: `make run` with a bad setup file, QEMU missing, a missing firmware file each end in
 * one line naming the cause and the fix, exit status 2, no JavaScript stack. Runs the real tool (tools/run/run.ts)
 * as a process, the way make does.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../tools/firmware/paths.ts";

const TSX = join(PROJECT_ROOT, "node_modules/.bin/tsx");
const RUN = join(PROJECT_ROOT, "tools/run/run.ts");
const DEFAULT_SETUP = join(PROJECT_ROOT, "configs/qemu-virt.ts");
const dir = mkdtempSync(join(tmpdir(), "tee-hyp-cli-"));

/** A setup file: the default one with `change` applied to its guests. */
function setupFile(name: string, change: string): string {
  const file = join(dir, name);
  writeFileSync(file, `import { setup as base } from ${JSON.stringify(DEFAULT_SETUP)};\n` +
    `const guests = structuredClone(base.guests);\n${change}\nexport const setup = { ...base, guests };\n`);
  return file;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [TSX, RUN, ...args], { cwd: PROJECT_ROOT, encoding: "utf8", env, timeout: 60_000 });
  const errLines = r.stderr.split("\n").filter((l) => l.trim());
  return { status: r.status, errLines, stdout: r.stdout };
}

/** One stderr line matching `pattern`, exit 2, and nothing that looks like a stack frame. */
function saysOnce(r: ReturnType<typeof run>, pattern: RegExp) {
  assert.is(r.status, 2, `exit status (stderr: ${r.errLines.join(" | ")})`);
  assert.is(r.errLines.length, 1, `one line, got: ${r.errLines.join(" | ")}`);
  assert.match(r.errLines[0], pattern);
  assert.not.match(r.errLines[0] + r.stdout, /\n\s+at |node:internal|\.ts:\d+:\d+\)/);
}

test("a guest's RAM overlapping another's: one line naming both guests and the file, exit 2", () => {
  const file = setupFile("overlap.ts", "guests[1].ram = { base: guests[0].ram.base + 0x1000_0000, size: guests[1].ram.size };");
  saysOnce(run(["--setup", file]), /overlap\.ts: guests\[1\]\.ram \(tee2\): overlaps guests\[0\]\.ram \(tee1\) at 0x[0-9a-f]+-0x[0-9a-f]+: fix the setup file$/);
});

test("a CPU the board does not have, and one given to two guests", () => {
  saysOnce(run(["--setup", setupFile("cpu.ts", "guests[2].cpus = [7];")]), /guests\[2\]\.cpus\[0\] \(plain\): CPU 7 does not exist/);
  saysOnce(run(["--setup", setupFile("twice.ts", "guests[2].cpus = [1];")]), /CPU 1 already belongs to guests\[0\] \(tee1\)/);
});

test("a setup file that does not exist, does not parse, or exports no setup", () => {
  saysOnce(run(["--setup", join(dir, "absent.ts")]), /absent\.ts: no such setup file .*SETUP=/);
  const broken = join(dir, "broken.ts");
  writeFileSync(broken, "export const setup = {\n");
  saysOnce(run(["--setup", broken]), /broken\.ts: cannot be loaded \(.*broken\.ts:\d+:\d+: ERROR: .*\): fix the file$/);
  const empty = join(dir, "empty.ts");
  writeFileSync(empty, "export const other = 1;\n");
  saysOnce(run(["--setup", empty]), /empty\.ts: exports no `setup`/);
});

test("QEMU not on PATH: one line that says to run make deps", () => {
  // node itself stays reachable (process.execPath); nothing else is on PATH.
  const r = run([], { ...process.env, PATH: dirname("/nonexistent/x") });
  saysOnce(r, /qemu-system-aarch64 is not installed: run make deps/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
