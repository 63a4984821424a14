/**
 * Runs QEMU for a board and collects the normal-world console line by line.
 * The secure world's UART (OP-TEE's log) goes to a file. QEMU exits 0 even
 * when killed, so callers judge a run by what the console printed, and
 * `timedOut` says whether we had to kill it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Board } from "../../configs/boards/board.ts";
import { UserError } from "../lib/cli.ts";

/** QEMU 10 is the first with `raspi4b`; bookworm's own 7.2 lacks it. The binary every tool runs. */
export const QEMU = "qemu-system-aarch64";
export const QEMU_MIN_MAJOR = 10;
const QEMU_FIX = "run make deps (it installs qemu-system-arm from bookworm-backports)";
let qemuChecked = false;

/** Throws a UserError naming the fix when QEMU is missing or older than QEMU_MIN_MAJOR. */
export function requireQemu(): void {
  if (qemuChecked) return;
  const r = spawnSync(QEMU, ["--version"], { encoding: "utf8" });
  if (r.error) throw new UserError(`${QEMU} is not installed: ${QEMU_FIX}`);
  const version = /version (\d+)\.(\d+)\.?(\d*)/.exec(r.stdout ?? "");
  if (!version) throw new UserError(`${QEMU} --version printed no version ("${(r.stdout ?? "").split("\n")[0]}"): ${QEMU_FIX}`);
  if (Number(version[1]) < QEMU_MIN_MAJOR) {
    throw new UserError(`${QEMU} is ${version[0].slice(8)}, older than ${QEMU_MIN_MAJOR}: ${QEMU_FIX}`);
  }
  qemuChecked = true;
}

export interface Load {
  file: string;
  addr: number;
}

export interface QemuOptions {
  board: Board;
  /** The -bios flash image (TF-A + OP-TEE + the hypervisor), on boards that boot from one (firmware.ts). */
  flash?: string;
  /** Files QEMU's loader device puts in RAM before reset. */
  loads: Load[];
  /** Where the secure world's console goes. */
  secureLog: string;
  timeoutSeconds: number;
  smp?: number;
  /** RAM in MiB (default: the board's). */
  memoryMiB?: number;
  /** More QEMU arguments, after the rest (the native baseline's `-dtb`). */
  extraArgs?: string[];
  /** Called with each console line as it arrives (without the line ending). */
  onLine?: (line: string) => void;
  /** Typed on the console (QEMU's stdin) once a line matches `after`: a scripted person at the keyboard. */
  input?: { after: RegExp; text: string }[];
  /** A person at a terminal: QEMU reads our stdin directly. */
  interactive?: boolean;
}

export interface QemuResult {
  lines: string[];
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
}

/**
 * Before a run that hangs is killed: QEMU's monitor is asked for every CPU's registers (its pc and exception
 * level say whether it sleeps in a guest, spins in the hypervisor or is parked), printed as `[qemu monitor]`
 * lines, then Ctrl-A v is typed on the console (the hypervisor prints every vCPU's virtual GIC,
 * hyp/vgic/report.ts). In that order: the console's interrupt makes the hypervisor and the GIC act, which can
 * end the very hang (it did: boot/gic_v2.c), so the registers are read first.
 */
const HANG_KEYS = "\x01v";
const HANG_QUESTIONS = ["info registers -a"];
const CONSOLE_ANSWER_MS = 2000;
const MONITOR_ANSWER_MS = 3000;

export function qemuArgs(o: QemuOptions, monitorSocket?: string): string[] {
  const q = o.board.qemu;
  const args = [
    "-M", q.machine, "-cpu", q.cpu, "-smp", String(o.smp ?? o.board.cpuCount), "-m", String(o.memoryMiB ?? q.memoryMiB),
    // Without -nic none, QEMU installed without recommends stops at once (no efi-virtio.rom).
    "-nic", "none", "-display", "none",
    "-monitor", monitorSocket ? `unix:${monitorSocket},server=on,wait=off` : "none",
    ...(o.flash ? ["-bios", o.flash] : []),
    "-serial", "stdio", "-serial", `file:${o.secureLog}`,
  ];
  for (const g of q.globals ?? []) args.push("-global", g);
  for (const l of o.loads) args.push("-device", `loader,file=${l.file},addr=0x${l.addr.toString(16)},force-raw=on`);
  args.push(...(o.extraArgs ?? []));
  return args;
}

export function runQemu(o: QemuOptions): Promise<QemuResult> {
  requireQemu();
  if (o.flash && !existsSync(o.flash)) throw new UserError(`${o.flash} is missing: run make (it builds the flash image)`);
  for (const l of o.loads) if (!existsSync(l.file)) throw new UserError(`${l.file} is missing: run make, or make deps for firmware files`);
  mkdirSync(dirname(o.secureLog), { recursive: true });
  const started = Date.now();
  const monitor = join(tmpdir(), `tee-hyp-qemu-${process.pid}-${started}.sock`);
  const child = spawn(QEMU, qemuArgs(o, monitor), { stdio: [o.interactive ? "inherit" : "pipe", "pipe", "pipe"] });
  const pendingInput = [...(o.input ?? [])];
  const lines: string[] = [];
  let partial = "";
  let timedOut = false;
  const take = (line: string) => {
    lines.push(line);
    o.onLine?.(line);
    while (pendingInput.length && pendingInput[0].after.test(line)) child.stdin?.write(pendingInput.shift()!.text);
  };
  child.stdout.setEncoding("latin1");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const p of parts) take(p.replace(/\r$/, ""));
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => {
    timedOut = true;
    void askMonitor(monitor, HANG_QUESTIONS).then((answer) => {
      for (const l of answer) take(`[qemu monitor] ${l}`);
      if (!o.interactive) child.stdin?.write(HANG_KEYS);
      setTimeout(() => child.kill("SIGKILL"), o.interactive ? 0 : CONSOLE_ANSWER_MS);
    });
  }, o.timeoutSeconds * 1000);
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new UserError(`could not start ${QEMU} (${e.message}): ${QEMU_FIX}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      rmSync(monitor, { force: true });
      if (partial) take(partial);
      for (const l of stderr.split("\n").filter((s) => s.trim())) take(`[qemu stderr] ${l}`);
      resolve({ lines, exitCode: code, timedOut, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** Sends `questions` to QEMU's human monitor at `socket` and returns what it printed (nothing if it is not there). */
function askMonitor(socket: string, questions: string[]): Promise<string[]> {
  return new Promise((resolve) => {
    let text = "";
    const done = () => {
      conn.destroy();
      resolve(text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").split(/\r?\n/).filter((l) => l.trim() && !l.startsWith("(qemu)") && !/^[QZP]\d\d=/.test(l) && !/^FFR=/.test(l)));
    };
    const conn = createConnection(socket);
    conn.setEncoding("latin1");
    conn.on("data", (chunk: string) => (text += chunk));
    conn.on("error", done);
    conn.on("connect", () => {
      for (const q of questions) conn.write(q + "\n");
      setTimeout(done, MONITOR_ANSWER_MS);
    });
  });
}
