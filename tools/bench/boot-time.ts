/**
 * `make bench` (boot time): seconds from power-on to the guest's /init, as
 * the guest's own clock (/proc/uptime) measures it, for the same kernel,
 * initramfs and device tree booted
 *   native   directly by QEMU at EL1, no firmware, no hypervisor, 1 CPU;
 *   alone    as the only guest (plain, 1 vCPU) of the hypervisor;
 *   shared   as one of the default setup's three guests, all booting at once.
 * Figures, not tests: the host is shared and noisy. The goal is ≤ 1.2× native.
 * Writes build/results/bench-boot.json.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";
import { setup } from "../../configs/qemu-virt.ts";
import { kernelImage } from "../firmware/paths.ts";
import { buildGuestImages, IMAGES_DIR } from "../images/qemu-loads.ts";
import { RESULTS } from "../run/boot-lib.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { parseGuests } from "../run/guests-report.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const guest = setup.guests.find((g) => g.name === "plain")!;

function native(): number | null {
  const args = [
    "-M", "virt,gic-version=3", "-cpu", "max", "-smp", "1", "-m", String(guest.ram.size >> 20),
    "-nic", "none", "-display", "none", "-monitor", "none", "-serial", "stdio",
    "-kernel", kernelImage(), "-dtb", join(IMAGES_DIR, "plain.dtb"),
    "-device", `loader,file=${join(IMAGES_DIR, "initramfs.cpio.gz")},addr=0x${(GUEST_LAYOUT.ramIpa + GUEST_LAYOUT.initramfsOffset).toString(16)},force-raw=on`,
  ];
  const r = spawnSync("qemu-system-aarch64", args, { encoding: "latin1", timeout: 300_000 });
  const lines = (r.stdout ?? "").split("\n").map((l) => `[plain] ${l.replace(/\r$/, "")}`);
  return parseGuests(["plain"], lines)[0].secondsToInit;
}

const median = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
};

async function main(): Promise<void> {
  await buildGuestImages(setup); // the DTB and initramfs native boots from too
  const results = { native: [] as (number | null)[], alone: [] as (number | null)[], shared: [] as (number | null)[] };
  for (let i = 0; i < RUNS; i++) {
    results.native.push(native());
    const alone = await bootGuests({ ...setup, name: "bench-alone", guests: [guest] });
    results.alone.push(alone.guests[0].secondsToInit);
    const shared = await bootGuests(setup);
    results.shared.push(shared.guests.find((g) => g.name === "plain")!.secondsToInit);
    console.log(`[bench] run ${i + 1}/${RUNS}: native ${results.native[i]} s, alone ${results.alone[i]} s, shared ${results.shared[i]} s`);
  }
  const n = median(results.native), a = median(results.alone), s = median(results.shared);
  const ratio = (x: number | null) => (x !== null && n ? (x / n).toFixed(2) + "×" : "?");
  console.log(`[bench] seconds to /init (median of ${RUNS}), kernel ${guest.kernel}, 1 vCPU:`);
  console.log(`[bench]   native (QEMU, EL1)          ${n}`);
  console.log(`[bench]   under the hypervisor, alone ${a}  (${ratio(a)} native)`);
  console.log(`[bench]   one of three guests         ${s}  (${ratio(s)} native; 4 vCPUs share the host's 2 cores)`);
  writeFileSync(join(RESULTS, "bench-boot.json"), JSON.stringify({ runs: RUNS, results, median: { native: n, alone: a, shared: s } }, null, 2) + "\n");
}

main().catch((e: Error) => {
  console.error(`[bench] ${e.message}`);
  process.exit(1);
});
