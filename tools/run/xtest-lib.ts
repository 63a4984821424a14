/**
 * Running xtest on the real stack, natively and under the hypervisor: shared by `make xtest`
 * (tools/run/xtest.ts), `make run` and the system test. The guests' /init runs xtest when its boot
 * arguments say so (tools/images/initramfs.ts); this file sets them and reads the results back
 * (tools/run/xtest-report.ts).
 */
import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Setup } from "../../configs/setup.ts";
import { bootGuests, type GuestsRun } from "./guests-lib.ts";
import { bootNative, withBootArgs } from "./native.ts";
import type { QemuResult } from "./qemu.ts";
import { XtestTracker, parseXtest, type XtestReport } from "./xtest-report.ts";

/** The whole default suite (regression + pkcs11): what `make xtest` compares. */
export const FULL_XTEST = "all";
/**
 * A short selection for `make test` and `make run`: core self tests, a user TA's crypto, the hash API, and
 * secure storage (through tee-supplicant's RPCs). `-t regression` keeps the pkcs11 suite (which fails
 * natively: Debian ships no PKCS#11 TA) out, so all four must pass.
 */
export const SHORT_XTEST = "-t,regression,1001,1004,4001,6001";

/** `setup` with every TEE guest running xtest (`selection`, commas for spaces) and every other guest checking it has no TEE. */
export function xtestSetup(setup: Setup, selection: string, name = `${setup.name}-xtest`, bootArgs: Record<string, Record<string, string>> = {}): Setup {
  return {
    ...setup,
    name,
    guests: setup.guests.map((g) => ({
      ...g,
      cmdline: withBootArgs(
        g.tee
          ? withBootArgs(g.cmdline, { run: "teecheck,xtest", xtest: selection })
          : withBootArgs(g.cmdline, { run: "isolation,teecheck" }),
        bootArgs[g.name] ?? {},
      ),
    })),
  };
}

/** Follows several guests' xtest runs on one console, for progress lines while QEMU runs. */
export class Progress {
  readonly trackers: Map<string, XtestTracker>;
  /** Where each guest's /init is: booting, up (GUEST-READY), done (GUEST-DONE). */
  private readonly phase = new Map<string, string>();
  private readonly started = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(names: string[]) {
    this.trackers = new Map(names.map((n) => [n, new XtestTracker(n)]));
  }

  /** One console line (with its "[name] " prefix). */
  line(l: string): void {
    const m = /^\[([^\]]+)\] (.*)$/.exec(l);
    if (!m || !this.trackers.has(m[1])) return;
    this.trackers.get(m[1])!.feed(m[2]);
    if (m[2].startsWith("GUEST-READY ")) this.phase.set(m[1], "up");
    if (m[2].startsWith("GUEST-DONE ")) this.phase.set(m[1], "done");
  }

  /** "2:30 tee1 regression_4006 (57 cases) | tee2 …". */
  summary(): string {
    const s = Math.round((Date.now() - this.started) / 1000);
    const parts = [...this.trackers.values()].map((t) => {
      const r = t.report();
      const phase = this.phase.get(r.name) ?? "booting";
      const state = r.status !== null ? `xtest done (status ${r.status})`
        : r.currentCase ? `${r.currentCase} (case ${r.casesBegun})`
        : r.started ? "starting xtest" : phase;
      return `${r.name} ${state}`;
    });
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")} ${parts.join(" | ")}`;
  }

  /** Prints summary() every `seconds` until stop(). */
  every(seconds: number, print: (s: string) => void): void {
    this.timer = setInterval(() => print(this.summary()), seconds * 1000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export interface XtestRunOptions {
  selection: string;
  timeoutSeconds: number;
  /** Every console line goes here as it arrives. */
  log?: string;
  /** Every console line, for a person watching. */
  onLine?: (l: string) => void;
  /** A progress line every progressSeconds (default 30). */
  onProgress?: (summary: string) => void;
  progressSeconds?: number;
  /** More QEMU arguments (the TEE-call bench's `-icount`). */
  qemuArgs?: string[];
}

/** Runs `fn` with a line sink that feeds the log, the caller and the progress trackers. */
async function withConsole<T extends { lines: string[] }>(
  names: string[],
  o: XtestRunOptions,
  fn: (onLine: (l: string) => void) => Promise<T>,
): Promise<T> {
  const progress = new Progress(names);
  let log: ReturnType<typeof createWriteStream> | undefined;
  if (o.log) {
    mkdirSync(dirname(o.log), { recursive: true });
    log = createWriteStream(o.log);
  }
  if (o.onProgress) progress.every(o.progressSeconds ?? 30, o.onProgress);
  try {
    return await fn((l) => {
      log?.write(`${l}\n`);
      progress.line(l);
      o.onLine?.(l);
    });
  } finally {
    progress.stop();
    await new Promise<void>((resolve) => (log ? log.end(resolve) : resolve()));
  }
}

export interface NativeXtest {
  result: QemuResult;
  native: XtestReport;
}

/** The native baseline running `selection` (tools/run/native.ts). */
export async function nativeXtest(o: XtestRunOptions & { secureLog?: string; bootArgs?: Record<string, string> }): Promise<NativeXtest> {
  const result = await withConsole(["native"], o, (onLine) =>
    bootNative({ args: { run: "teecheck,xtest", xtest: o.selection, ...o.bootArgs }, timeoutSeconds: o.timeoutSeconds, onLine, secureLog: o.secureLog,
      qemuArgs: o.qemuArgs }));
  return { result, native: parseXtest("native", result.lines) };
}

export interface HypXtest {
  run: GuestsRun;
  /** One report per guest of the setup, TEE guests and the others (whose teeDevice says what they found). */
  guests: XtestReport[];
}

/** `setup` under the hypervisor with its TEE guests running `selection` at the same time. */
export async function hypXtest(
  setup: Setup,
  o: XtestRunOptions & { name?: string; bootArgs?: Record<string, Record<string, string>> },
): Promise<HypXtest> {
  const s = xtestSetup(setup, o.selection, o.name, o.bootArgs);
  const names = s.guests.map((g) => g.name);
  const run = await withConsole(names, o, async (onLine) => {
    const r = await bootGuests(s, { timeoutSeconds: o.timeoutSeconds, onLine, qemuArgs: o.qemuArgs });
    return { ...r, lines: r.result.lines };
  });
  return { run, guests: names.map((n) => parseXtest(n, run.result.lines)) };
}
