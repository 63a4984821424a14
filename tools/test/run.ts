/**
 * Runs uvu over test directories, shows its output as it comes, and ends
 * with one plain line a person or CI can read: "tests: N passed, M failed".
 * Exits non-zero if any test failed or a suite ran no test.
 *
 * Usage: tsx tools/test/run.ts test/unit [test/system …]
 */
import { spawn } from "node:child_process";

const ANSI = /\u001b\[[0-9;]*m/g;

function runSuite(dir: string): Promise<{ total: number; passed: number; skipped: number; code: number }> {
  return new Promise((resolve) => {
    console.log(`[test] ${dir}`);
    const child = spawn("node_modules/.bin/uvu", ["-r", "tsx", dir, ".test.ts$"], { stdio: ["ignore", "pipe", "inherit"] });
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
  const dirs = process.argv.slice(2);
  let passed = 0, failed = 0, skipped = 0, broken = false;
  for (const dir of dirs) {
    const r = await runSuite(dir);
    passed += r.passed;
    skipped += r.skipped;
    failed += r.total - r.passed - r.skipped;
    if (r.code !== 0 || r.total === 0) broken = true;
  }
  console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return broken || failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
