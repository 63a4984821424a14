/**
 * The native baseline: the same TF-A with Debian's *non*-virtualized OP-TEE 4.5 as BL32 and the guests' own
 * kernel and initramfs booted directly as BL33 — no hypervisor — on QEMU virt with `-smp 2 -m 2048 -cpu max`
 * (design.md §3). What every guest's xtest must match.
 *
 * QEMU refuses `-initrd`/`-append` without `-kernel`, and with `-bios -kernel` it puts no initrd in the DTB.
 * So: dump QEMU's own DTB with exactly the options of the run (`-bios` included: with firmware QEMU leaves
 * PSCI to it), decompile it, add a /chosen with the command line and the initramfs, recompile (the raw dump
 * is padded past 1 MiB, which TF-A refuses), and boot with `-dtb` and the initramfs put in RAM by QEMU's
 * loader device. TF-A (ARM_LINUX_KERNEL_AS_BL33) enters the kernel at EL2 with x0 = that DTB.
 *
 * Usage: tsx tools/run/native.ts [key=value …]   (boots it once with those boot arguments, prints the console)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";
import { setup } from "../../configs/qemu-virt.ts";
import { PROJECT_ROOT, kernelImage, shown } from "../firmware/paths.ts";
import { compileDts, decompileDtb } from "../images/dtb.ts";
import { sharedInitramfs, upToDate } from "../images/qemu-loads.ts";
import { BUILD, RESULTS } from "./boot-lib.ts";
import { runMain } from "../lib/cli.ts";
import { QEMU, requireQemu, runQemu, type QemuResult } from "./qemu.ts";

/** The measured reference's machine: two CPUs, 2 GiB. */
export const NATIVE_SMP = 2;
export const NATIVE_MEMORY_MIB = 2048;
/** Where QEMU's loader puts the initramfs: past the DTB (0x40000000), OP-TEE's SHM (0x42000000 + 2 MiB), below the kernel (0x60000000). */
export const NATIVE_INITRD_ADDR = 0x4800_0000;
/** The kernel goes where TF-A loads BL33 (0x60000000): the initramfs must end before it. */
const NATIVE_INITRD_LIMIT = 0x6000_0000;

export const NATIVE_DIR = join(BUILD, "native");
export const NATIVE_FLASH = join(BUILD, "flash-native-linux.bin");
const TFA_TOOL = join(PROJECT_ROOT, "tools/firmware/tfa.ts");
const TSX = join(PROJECT_ROOT, "node_modules/.bin/tsx");

/** The tee guests' command line with each `key=value` of `args` set (replaced if there, appended if not). */
export function withBootArgs(cmdline: string, args: Record<string, string>): string {
  const words = cmdline.split(/\s+/).filter(Boolean);
  for (const [key, value] of Object.entries(args)) {
    const word = `${key}=${value}`;
    if (/\s/.test(word)) throw new Error(`boot argument ${JSON.stringify(word)}: no spaces (use commas)`);
    const at = words.findIndex((w) => w.startsWith(`${key}=`));
    if (at >= 0) words[at] = word;
    else words.push(word);
  }
  return words.join(" ");
}

/** The native command line: the same kernel arguments the guests get, with these boot arguments. */
export function nativeCmdline(args: Record<string, string>): string {
  const tee = setup.guests.find((g) => g.tee);
  if (!tee) throw new Error("configs/qemu-virt.ts has no tee guest to take the kernel command line from");
  return withBootArgs(tee.cmdline, { guest: "native", ...args });
}

/** QEMU's DTB source with a /chosen (merged by dtc into QEMU's own) giving the command line and the initramfs. */
export function nativeDts(qemuDts: string, cmdline: string, initrdSize: number): string {
  const cells = (n: number) => `0x${Math.floor(n / 2 ** 32).toString(16)} 0x${(n % 2 ** 32).toString(16)}`;
  const quoted = cmdline.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  return `${qemuDts}
/ {
	chosen {
		bootargs = "${quoted}";
		linux,initrd-start = <${cells(NATIVE_INITRD_ADDR)}>;
		linux,initrd-end = <${cells(NATIVE_INITRD_ADDR + initrdSize)}>;
	};
};
`;
}

/** build/flash-native-linux.bin: TF-A + the non-virtualized OP-TEE + Debian's kernel as BL33 (rebuilt when stale). */
export function nativeFlash(): string {
  const kernel = kernelImage();
  if (upToDate(NATIVE_FLASH, [kernel, TFA_TOOL])) return NATIVE_FLASH;
  const r = spawnSync(TSX, [TFA_TOOL, "--variant", "native-linux", "--bl33", kernel, "--out", NATIVE_FLASH], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`building ${shown(NATIVE_FLASH)} failed (see above)`);
  return NATIVE_FLASH;
}

/** Dumps QEMU's DTB for the native machine (same options as the run) and writes the DTB to boot with. */
export function nativeDtb(flash: string, initramfs: string, cmdline: string, out: string): string {
  mkdirSync(NATIVE_DIR, { recursive: true });
  const dump = join(NATIVE_DIR, "qemu-dump.dtb");
  const q = qemuVirt.qemu;
  requireQemu();
  const r = spawnSync(QEMU, [
    "-M", `${q.machine},dumpdtb=${dump}`, "-cpu", q.cpu, "-smp", String(NATIVE_SMP), "-m", String(NATIVE_MEMORY_MIB),
    "-nic", "none", "-display", "none", "-monitor", "none", "-bios", flash,
  ], { encoding: "utf8", timeout: 60_000 });
  if (r.error || !existsSync(dump)) throw new Error(`qemu -machine dumpdtb failed: ${r.error?.message ?? r.stderr.trim()}`);
  const size = statSync(initramfs).size;
  if (NATIVE_INITRD_ADDR + size > NATIVE_INITRD_LIMIT) throw new Error(`${shown(initramfs)} (${size} bytes) runs into the kernel at 0x60000000`);
  compileDts(nativeDts(decompileDtb(dump), cmdline, size), out);
  return out;
}

export interface NativeOptions {
  /** Boot arguments for /init (guest=native is added). */
  args: Record<string, string>;
  timeoutSeconds: number;
  /** Each console line, prefixed "[native] " like a guest's under the hypervisor. */
  onLine?: (line: string) => void;
  secureLog?: string;
  /** More QEMU arguments (the TEE-call bench's `-icount`). */
  qemuArgs?: string[];
}

/** Boots the native baseline once. Its console lines come back prefixed "[native] ", so guest parsers read them. */
export async function bootNative(o: NativeOptions): Promise<QemuResult> {
  const flash = nativeFlash();
  const initramfs = sharedInitramfs();
  const cmdline = nativeCmdline(o.args);
  const dtb = nativeDtb(flash, initramfs, cmdline, join(NATIVE_DIR, "native.dtb"));
  const result = await runQemu({
    board: qemuVirt,
    flash,
    smp: NATIVE_SMP,
    memoryMiB: NATIVE_MEMORY_MIB,
    loads: [{ file: initramfs, addr: NATIVE_INITRD_ADDR }],
    extraArgs: ["-dtb", dtb, ...(o.qemuArgs ?? [])],
    secureLog: o.secureLog ?? join(RESULTS, "native-secure.log"),
    timeoutSeconds: o.timeoutSeconds,
    onLine: o.onLine ? (l) => o.onLine!(`[native] ${l}`) : undefined,
  });
  return { ...result, lines: result.lines.map((l) => `[native] ${l}`) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = Object.fromEntries(process.argv.slice(2).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
  runMain("native", async () => {
    const r = await bootNative({ args, timeoutSeconds: 900, onLine: (l) => console.log(l) });
    console.log(`[native] QEMU ${r.timedOut ? "timed out" : `exited ${r.exitCode}`} after ${r.seconds.toFixed(1)} s`);
  });
}
