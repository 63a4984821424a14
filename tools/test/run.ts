/**
 * Runs uvu over test directories, shows its output as it comes, and ends
 * with one plain line a person or CI can read: "tests: N passed, M failed".
 * Exits non-zero if any test failed or a suite ran no test.
 *
 * Usage: tsx tools/test/run.ts [--only <regex>] test/unit [test/system …]
 *   --only: in the directories after test/unit, only the files whose name matches (make test SETUP=<name>
 *   runs the unit tests and the system tests named <name>*.test.ts).
 */
import { spawn } from "node:child_process";

const ANSI = /\u001b\[[0-9;]*m/g;

function runSuite(dir: string, pattern = ".test.ts$"): Promise<{ total: number; passed: number; skipped: number; code: number }> {
  return new Promise((resolve) => {
    console.log(`[test] ${dir}`);
    const child = spawn("node_modules/.bin/uvu", ["-r", "tsx", dir, pattern], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      process.stdout.write(chunk);
      out += chunk.toString();
    });
    child.on("close", (code) => {
      const plain = out.replace(ANSI, "");
      const count = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? 0);
      resolve({ total: count("Total"), passed: count("Passed"), skipped: count("Skipped"), code: code ?? 1 });
    });
  });
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const only = args[0] === "--only" ? args.splice(0, 2)[1] : undefined;
  let passed = 0, failed = 0, skipped = 0, broken = false;
  for (const dir of args) {
    const r = await runSuite(dir, only && dir !== "test/unit" ? `^${only}.*\\.test\\.ts$` : ".test.ts$");
    passed += r.passed;
    skipped += r.skipped;
    failed += r.total - r.passed - r.skipped;
    if (r.code !== 0 || r.total === 0) broken = true;
  }
  console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return broken || failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
