/**
 * Runs QEMU for a board and collects the normal-world console line by line.
 * The secure world's UART (OP-TEE's log) goes to a file. QEMU exits 0 even
 * when killed, so callers judge a run by what the console printed, and
 * `timedOut` says whether we had to kill it.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Board } from "../../configs/boards/board.ts";

export interface Load {
  file: string;
  addr: number;
}

export interface QemuOptions {
  board: Board;
  /** The -bios flash image (TF-A + OP-TEE + the hypervisor). */
  flash: string;
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

export function qemuArgs(o: QemuOptions): string[] {
  const q = o.board.qemu;
  const args = [
    "-M", q.machine, "-cpu", q.cpu, "-smp", String(o.smp ?? o.board.cpuCount), "-m", String(o.memoryMiB ?? q.memoryMiB),
    // Without -nic none, QEMU installed without recommends stops at once (no efi-virtio.rom).
    "-nic", "none", "-display", "none", "-monitor", "none",
    "-bios", o.flash,
    "-serial", "stdio", "-serial", `file:${o.secureLog}`,
  ];
  for (const l of o.loads) args.push("-device", `loader,file=${l.file},addr=0x${l.addr.toString(16)},force-raw=on`);
  args.push(...(o.extraArgs ?? []));
  return args;
}

export function runQemu(o: QemuOptions): Promise<QemuResult> {
  mkdirSync(dirname(o.secureLog), { recursive: true });
  const started = Date.now();
  const child = spawn("qemu-system-aarch64", qemuArgs(o), { stdio: [o.interactive ? "inherit" : o.input ? "pipe" : "ignore", "pipe", "pipe"] });
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
    child.kill("SIGKILL");
  }, o.timeoutSeconds * 1000);
  return new Promise((resolve, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start qemu-system-aarch64 (${e.message}): run make deps`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (partial) take(partial);
      for (const l of stderr.split("\n").filter((s) => s.trim())) take(`[qemu stderr] ${l}`);
      resolve({ lines, exitCode: code, timedOut, seconds: (Date.now() - started) / 1000 });
    });
  });
}
