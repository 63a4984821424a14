/** tbprof's per-CPU windows read back and compared by code (tools/run/reboot-profile.ts, reboot-cost --profile). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { clearSnapshots, moreIn, opteeText, summarize, windowBlocks, type Place } from "../../tools/run/reboot-profile.ts";

const WFE = "5f2003d5", LDAXR = "02fc5f88", NOP = "1f2003d5";
const head = (first: string) => (first + NOP.repeat(3)).padEnd(32, "0");
const line = (va: string, insns: number, executions: number, hash: string, first: string) => `${va} ${insns} ${executions} ${hash} 0 ${head(first)}`;

function snapshots(dir: string, name: string, ...marks: string[][]): string {
  const out = join(dir, name);
  marks.forEach((lines, i) => writeFileSync(`${out}.mark${i + 1}`, lines.join("\n") + "\n"));
  return out;
}

const place: Place = { el2: { base: 0x4000_0000, size: 0x100_0000 }, optee: { va: 0x8139_5000n, size: 0x6_5000n } };

test("the window is the difference of the last two snapshots, by region, with likely spin loops apart", () => {
  const dir = mkdtempSync(join(tmpdir(), "tbprof-"));
  const out = snapshots(dir, "t.txt",
    [line("ffff800010000000", 4, 1_000_000, "aa", NOP)],
    [line("ffff800010000000", 4, 2_000_000, "aa", NOP), line("81395100", 2, 500_000, "bb", WFE)],
    [line("ffff800010000000", 4, 3_000_000, "aa", NOP), line("81395100", 2, 1_500_000, "bb", WFE), line("40001000", 10, 100_000, "cc", LDAXR),
      line("81395100", 2, 1_000_000, "bb", WFE)]);
  const blocks = windowBlocks(out, [0, 1])!;
  assert.is(blocks.find((b) => b.hash === "bb")!.executions, 2_000_000, "a block translated twice counts both translations");
  assert.equal(summarize(blocks, place), { byRegion: { kernel: 4, optee: 4, el2: 1 }, spinning: { optee: 4, el2: 1 } });
  clearSnapshots(out);
  assert.is(windowBlocks(out, [0, 1]), null, "an earlier run's snapshots are gone");
});

test("a debug lock's retry call and retry count are spinning with its trylock; other calls are not", () => {
  const dir = mkdtempSync(join(tmpdir(), "tbprof-"));
  const at = (offset: number) => (0x8139_5000 + offset).toString(16);
  const block = (offset: number, insns: number, executions: number, hash: string, bytes: string) =>
    `${at(offset)} ${insns} ${executions} ${hash} 0 ${bytes.padEnd(32, "0")}`;
  // OP-TEE 4.5's thread_lock_global (tee-pager_v2.bin): trylock at +0x3fa8, its loop at +0x1c540 / +0x1c580.
  const out = snapshots(dir, "d", [], [
    block(0x3fa8, 4, 1_000_000, "t", "e10300aa2200805220fc5f8860000035"), // mov x1, x0; mov w2, #1; ldaxr w0, [x1]; cbnz
    block(0x1c540, 2, 900_000, "r", "e00314aa999eff97"), // mov x0, x20; bl +0x3fa8
    block(0x1c580, 3, 900_000, "c", "b5060091bf0216ebc1fdff54"), // add x21, x21, #1; cmp x21, x22; b.ne +0x1c540
    block(0x2000, 2, 500_000, "o", "e00314aaff010094"), // mov x0, x20; bl +0x2800: no lock there
  ]);
  assert.equal(summarize(windowBlocks(out, [0])!, place), { byRegion: { optee: 9.5 }, spinning: { optee: 8.5 } });
});

test("runs are compared by the bytes of their blocks, wherever ASLR put them", () => {
  const dir = mkdtempSync(join(tmpdir(), "tbprof-"));
  const a = windowBlocks(snapshots(dir, "a", [], [line("81395100", 2, 1_000_000, "bb", WFE)]), [0])!;
  const moved: Place = { ...place, optee: { va: 0x9000_0000n, size: 0x6_5000n } };
  const b = windowBlocks(snapshots(dir, "b", [], [line("90000100", 2, 4_000_000, "bb", WFE), line("90000200", 1, 1_000_000, "dd", NOP)]), [0])!;
  const rows = moreIn({ blocks: a, place }, { blocks: b, place: moved });
  assert.match(rows[0], /^\s+6\.0 M\s+optee\+0x100\s+spin\? 5f2003d5/);
  assert.match(rows[1], /^\s+1\.0 M\s+optee\+0x200\s+1f2003d5/);
});

test("with per-vCPU counts, only the asked vCPUs' executions count", () => {
  const dir = mkdtempSync(join(tmpdir(), "tbprof-"));
  const out = snapshots(dir, "c", [`${line("60004000", 10, 30, "ee", NOP)} 10,10,10,0,0,0,0,0`],
    [`${line("60004000", 10, 330, "ee", NOP)} 10,10,310,0,0,0,0,0`]);
  assert.equal(windowBlocks(out, [0, 1]), [], "nothing on CPUs 0 and 1 in the window");
  assert.is(windowBlocks(out, [2])![0].executions, 300);
});

test("OP-TEE's code is where its memory map says, in this boot", () => {
  const log = "D/TC:0 0   dump_mmap_table:917 type TEE_RAM_RX   va 0x81395000..0x813f9fff pa 0x0e100000..0x0e164fff size 0x00065000 (smallpg)\n";
  assert.equal(opteeText(log), { va: 0x8139_5000n, size: 0x6_5000n });
  assert.is(opteeText(""), null);
});

test.run();
