/**
 * `make xtest`: OP-TEE's whole test suite, natively and in two guests at once, compared.
 *   1. the native baseline (tools/run/native.ts: TF-A + Debian's non-virtualized OP-TEE + the guests' kernel
 *      and initramfs, no hypervisor, -smp 2 -m 2048) runs full xtest;
 *   2. the default setup (configs/qemu-virt.ts) under the hypervisor: tee1 and tee2 run full xtest at the
 *      same time, plain checks it has no TEE.
 * Writes build/results/xtest.json (per run: subtests, failed, cases, failedCases, skipped, seconds,
 * oomIgnored, notifications; plain's teeDevice; the verdict), the consoles to build/results/xtest-native.log
 * and xtest-hyp.log, prints a table, and exits non-zero unless every TEE guest matches native:
 * the same failed cases, as many skipped, OOMs ignored only in regression_1013.* and exactly the subtests
 * those cost (xtest-report.ts), the same failed subtests; OP-TEE's notification watchdog no more timeouts
 * than natively, unless the hypervisor's own measurements and the guest's own trace of its bottom halves put every
 * late one on the guest's side (notificationProblems), and a call count that kept up with xtest's seconds
 * (notif-report.ts); and plain has no /dev/tee0. Each TEE guest traces its bottom halves (init's xtest_trace=optee;
 * XTEST_TRACE=<guest,…|none> to choose) and xtest.json says what the trace found (bottomHalves).
 *
 * Usage: tsx tools/run/xtest.ts [--only native|hyp] [--selection <xtest=…>] [--verbose] [--reboot-loop <s>]
 *   --only hyp reuses the native results of the last run (build/results/xtest.json) with the same selection.
 *   --reboot-loop <s> (make xtest-reboot, issue 14): tee2 runs a short selection and reboots, over and over,
 *      for the first <s> seconds of the machine, while tee1 runs the selection; tee1 must match native, every
 *      life of tee2 must pass and leave nothing held after its VM_DESTROYED. Writes build/results/xtest-reboot.json
 *      instead (tee2's reboots and passes under tee2.rebootLoop); reuses xtest.json's native run when it has one.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { setup } from "../../configs/qemu-virt.ts";
import type { Setup } from "../../configs/setup.ts";
import { parseReboots, type RebootReport } from "./reboot-report.ts";
import { RESULTS } from "./boot-lib.ts";
import { FULL_XTEST, hypXtest, nativeXtest } from "./xtest-lib.ts";
import { caseRanges, checkNative, compareWithNative, type XtestReport } from "./xtest-report.ts";
import { bottomHalfSummary, compareNotifications, NATIVE, notifInterrupts, notificationsOf, parseLatency, parseWatchdog, timeoutsOnGuestSide,
  type GuestBottomHalves, type Notifications } from "./notif-report.ts";
import { bottomHalves, parseTrace, traceText } from "../bench/xtest-trace.ts";

const log = (s: string) => console.log(`[xtest] ${s}`);
const JSON_OUT = join(RESULTS, "xtest.json");
const REBOOT_JSON_OUT = join(RESULTS, "xtest-reboot.json");
/** What tee2 runs in each life of the reboot loop. */
const REBOOT_SELECTION = "-t,regression,1001,4001";

/** The setup whose tee2 restarts on reboot (the default, said here so that it stays so for this run). */
function rebootLoopSetup(): Setup {
  return { ...setup, guests: setup.guests.map((g) => (g.name === "tee2" ? { ...g, onReset: "restart" as const } : g)) };
}

/** OP-TEE's watchdog in a secure log, and the interrupts a console says `name` took (issue 10). */
function notificationsIn(secureLog: string, id: number, lines: string[], name: string): Notifications {
  const text = existsSync(secureLog) ? readFileSync(secureLog, "latin1") : "";
  return notificationsOf(parseWatchdog(text), id, notifInterrupts(lines, name));
}

/** What xtest.json keeps of a run. */
function summary(r: XtestReport, notifications?: Notifications | null) {
  return {
    subtests: r.subtests, failed: r.failed, cases: r.cases, failedCases: r.failedCases, skipped: r.skipped,
    seconds: r.seconds, oomIgnored: r.oomIgnored, oomSubtestsLost: r.oomSubtestsLost, status: r.status,
    ...(notifications ? { notifications } : {}),
    ...(r.errors.length ? { errors: r.errors } : {}),
    ...(r.aborted ? { aborted: true } : {}),
  };
}

function table(rows: { name: string; r: XtestReport }[]): string[] {
  const head = ["run", "subtests", "failed", "cases", "failed", "skipped", "OOM ignored", "seconds"];
  const cells = rows.map(({ name, r }) => [name, r.subtests, r.failed, r.cases, r.failedCases.length, r.skipped,
    r.oomIgnored.length, r.seconds].map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join("  ");
  return [fmt(head), ...cells.map(fmt)];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      selection: { type: "string", default: FULL_XTEST },
      verbose: { type: "boolean", default: false },
      "native-timeout": { type: "string", default: "1800" },
      "hyp-timeout": { type: "string", default: "3600" },
      "reboot-loop": { type: "string" },
    },
  });
  const rebootLoop = values["reboot-loop"] ? Number(values["reboot-loop"]) : null;
  if (rebootLoop !== null && !(rebootLoop > 0)) throw new Error("--reboot-loop <seconds>, more than 0");
  const out_json = rebootLoop ? REBOOT_JSON_OUT : JSON_OUT;
  const reuseNative = values.only === "hyp" || (rebootLoop !== null && nativeOnFile(values.selection!));
  const selection = values.selection!;
  if (values.only && !["native", "hyp"].includes(values.only)) throw new Error("--only native|hyp");
  const onLine = values.verbose ? (l: string) => console.log(`  | ${l}`) : undefined;
  const progress = (s: string) => log(s);
  const problems: string[] = [];

  let native: XtestReport | null = null;
  let nativeSummary: ReturnType<typeof summary> | null = null;
  let nativeNotif: Notifications | null = null;
  if (!reuseNative) {
    log(`native baseline: TF-A + OP-TEE 4.5 (not virtualized) + Debian's kernel, -smp 2 -m 2048, xtest=${selection}`);
    const n = await nativeXtest({
      selection, timeoutSeconds: Number(values["native-timeout"]), log: join(RESULTS, "xtest-native.log"),
      secureLog: join(RESULTS, "xtest-native-secure.log"), onLine, onProgress: progress,
    });
    native = n.native;
    nativeNotif = notificationsIn(join(RESULTS, "xtest-native-secure.log"), NATIVE, n.result.lines, "native");
    if (n.result.timedOut) problems.push(`native: QEMU did not power off within ${values["native-timeout"]} s`);
    log(`native done in ${n.result.seconds.toFixed(0)} s: ${native.subtests ?? "?"} subtests, ${native.failed ?? "?"} failed; console in build/results/xtest-native.log`);
  } else {
    const old = existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, "utf8")) : null;
    if (!old?.native || old.selection !== selection) throw new Error(`--only hyp needs a native run with xtest=${selection} in ${JSON_OUT}: run without --only first`);
    nativeSummary = old.native;
    nativeNotif = old.native.notifications ?? null;
    native = { name: "native", started: true, args: selection, currentCase: null, casesBegun: 0, aborted: false, errors: [], teeDevice: true,
      ...old.native };
    log(`native: from the previous run (${JSON_OUT})`);
  }
  const nativeProblems = checkNative(native!);
  problems.push(...nativeProblems);

  const out: Record<string, unknown> = { selection, native: nativeSummary ?? summary(native!, nativeNotif) };
  const rows = [{ name: "native", r: native! }];
  if (values.only !== "native") {
    const tees = setup.guests.filter((g) => g.tee).map((g) => g.name);
    const others = setup.guests.filter((g) => !g.tee).map((g) => g.name);
    log(`hypervisor: ${setup.name} with ${tees.join(" and ")} running xtest=${selection} at the same time, ${others.join(", ")} checking it has no TEE`);
    const hypSetup = rebootLoop ? rebootLoopSetup() : setup;
    const bootArgs: Record<string, Record<string, string>> = rebootLoop ? { tee2: { run: "xtest", xtest: REBOOT_SELECTION, reboot_until: String(rebootLoop) } } : {};
    // Each TEE guest running the whole suite traces what its notifications cost it (init's xtest_trace=optee: its
    // hard interrupt, irq thread and waits in the driver's call queue), for the watchdog's verdict below;
    // XTEST_TRACE=<guest,…|none> says which instead.
    for (const name of tracedGuests(tees, rebootLoop)) bootArgs[name] = { ...bootArgs[name], xtest_trace: "optee" };
    if (rebootLoop) log(`tee2 instead reboots in a loop for the first ${rebootLoop} s, running xtest=${REBOOT_SELECTION} in each life`);
    const h = await hypXtest(hypSetup, {
      selection, name: rebootLoop ? "xtest-reboot" : "xtest", timeoutSeconds: Number(values["hyp-timeout"]),
      log: join(RESULTS, rebootLoop ? "xtest-reboot-hyp.log" : "xtest-hyp.log"), onLine, onProgress: progress, bootArgs,
    });
    if (h.run.result.timedOut) problems.push(`hypervisor: QEMU did not power off within ${values["hyp-timeout"]} s`);
    if (h.run.probe.verdict && !/^ready/.test(h.run.probe.verdict)) problems.push(`hypervisor: OP-TEE probe says: ${h.run.probe.verdict}`);
    log(`hypervisor done in ${h.run.result.seconds.toFixed(0)} s; console in build/results/${rebootLoop ? "xtest-reboot-hyp.log" : "xtest-hyp.log"}`);
    const secureLog = join(RESULTS, rebootLoop ? "xtest-reboot-secure.log" : "xtest-secure.log");
    for (const g of h.guests) {
      if (rebootLoop && g.name === "tee2") {
        const loop = parseReboots("tee2", h.run.result.lines);
        out.tee2 = { rebootLoop: loop };
        problems.push(...rebootLoopProblems(loop));
        log(`tee2   reboot loop: ${loop.lives.length} lives, ${loop.reboots} reboots, ${loop.lives.filter((l) => l.xtestStatus === "0").length} passed xtest=${REBOOT_SELECTION}`);
      } else if (tees.includes(g.name)) {
        // Client id = the guest's index + 1 (mediator/clients.ts).
        const notif = notificationsIn(secureLog, setup.guests.findIndex((c) => c.name === g.name) + 1, h.run.result.lines, g.name);
        const bottomHalves = guestBottomHalves(h.run.result.lines, g.name);
        out[g.name] = { ...summary(g, notif), ...(bottomHalves ? { bottomHalves } : {}) };
        if (bottomHalves) log(`${g.name.padEnd(6)} bottom halves by its own trace: ${bottomHalves.count}, ${bottomHalves.late} of them 0.5 s or more to the call; worst from the interrupt to its driver's call queue ${(bottomHalves.worstBeforeQueueUs / 1000).toFixed(1)} ms, in the queue (its OP-TEE threads held by its own calls) ${(bottomHalves.worstInQueueUs / 1000).toFixed(1)} ms`);
        problems.push(...notificationProblems(g.name, notif, nativeNotif, g.seconds, h.run.result.lines, bottomHalves));
        rows.push({ name: g.name, r: g });
        // Without a usable baseline only the guest's own failures can be told apart.
        const own = compareWithNative(native!, g).filter((p) => !nativeProblems.length || g.subtests === null || !/native/.test(p));
        problems.push(...own, ...(nativeProblems.length && g.subtests !== null ? [`${g.name}: not compared (no native baseline)`] : []));
      } else {
        out[g.name] = { teeDevice: g.teeDevice };
        if (g.teeDevice !== false) problems.push(`${g.name}: ${g.teeDevice ? "has /dev/tee0, but it has no TEE access" : "did not report whether it has /dev/tee0"}`);
      }
    }
  }
  out.verdict = { ok: problems.length === 0, problems };
  writeFileSync(out_json, JSON.stringify(out, null, 2) + "\n");

  console.log("");
  for (const line of table(rows)) log(line);
  for (const { name, r } of rows) log(`${name.padEnd(6)} failed cases: ${caseRanges(r.failedCases)}${r.oomIgnored.length ? `; OOM ignored in ${r.oomIgnored.join(" ")}` : ""}`);
  for (const [name, v] of Object.entries(out)) {
    const n = (v as { notifications?: Notifications } | null)?.notifications;
    if (n) log(`${name.padEnd(6)} notifications: OP-TEE's watchdog ${n.watchdogCalls ?? "-"} calls, ${n.watchdogTimeouts ?? "-"} timeouts; ${n.interrupts ?? "-"} interrupts taken`);
  }
  for (const [name, v] of Object.entries(out)) {
    if (v && typeof v === "object" && "teeDevice" in v) log(`${name.padEnd(6)} /dev/tee0: ${(v as { teeDevice: boolean | null }).teeDevice === false ? "absent (no TEE, as configured)" : String((v as { teeDevice: boolean | null }).teeDevice)}`);
  }
  log(`wrote ${out_json}`);
  if (problems.length) {
    for (const p of problems) log(`FAIL ${p}`);
    return 1;
  }
  log(values.only === "native" ? "PASS: the native baseline ran" : "PASS: every TEE guest matches the native baseline; plain has no TEE");
  return 0;
}

/**
 * compareNotifications, except that a watchdog timeout more than natively fails the run only if the hypervisor's
 * own measurements (`lines`: the run's console) leave room for it to be the hypervisor's (notif-report.ts
 * timeoutsOnGuestSide). The watchdog counts wall-clock time, and here 3 busy vCPUs share the host's cores where the
 * native run has 2 (a reboot loop adds a booting guest): a guest's calls into OP-TEE take longer in wall time, and
 * Linux queues its DO_BOTTOM_HALF until one of them ends and frees one of the guest's 2 OP-TEE threads.
 */
function notificationProblems(name: string, notif: Notifications, native: Notifications | null, seconds: number | null, lines: string[],
  trace: GuestBottomHalves | null): string[] {
  const problems = compareNotifications(name, notif, native, seconds);
  const excuse = timeoutsOnGuestSide(name, parseLatency(lines, name), trace);
  if (!excuse) return problems;
  const kept = problems.filter((p) => !/watchdog counted \d+ timeout/.test(p));
  if (kept.length < problems.length) log(`${name}: ${notif.watchdogTimeouts} watchdog timeout(s), not the hypervisor's: ${excuse}`);
  return kept;
}

/** The TEE guests that trace their bottom halves: every one running the whole run (not a reboot loop's tee2). */
function tracedGuests(tees: string[], rebootLoop: number | null): string[] {
  const env = process.env.XTEST_TRACE;
  if (env) return env === "none" ? [] : env.split(",");
  return tees.filter((name) => !(rebootLoop && name === "tee2"));
}

/** What guest `name`'s own trace says of its bottom halves, if it printed one. */
function guestBottomHalves(lines: string[], name: string): GuestBottomHalves | null {
  const text = traceText(lines.join("\n"), name);
  return text ? bottomHalfSummary(bottomHalves(parseTrace(text))) : null;
}

/** Is there a native run of `selection` in xtest.json to compare with? */
function nativeOnFile(selection: string): boolean {
  const old = existsSync(JSON_OUT) ? JSON.parse(readFileSync(JSON_OUT, "utf8")) : null;
  return Boolean(old?.native && old.selection === selection);
}

/** A reboot loop passes when every life ran its selection to a pass and nothing survived a VM_DESTROYED. */
function rebootLoopProblems(loop: RebootReport): string[] {
  const problems: string[] = [];
  if (loop.reboots < 2) problems.push(`tee2: rebooted ${loop.reboots} times in its loop, want at least 2`);
  loop.lives.forEach((l) => {
    if (l.xtestStatus !== "0") problems.push(`tee2: life ${l.boot}: xtest=${REBOOT_SELECTION} ${l.xtestStatus === null ? "did not finish" : `failed (status ${l.xtestStatus})`}`);
  });
  // VM_CREATED / VM_DESTROYED lines are left out after a loop's 8th start except at starts 2^n: not counted here.
  loop.heldAfter.forEach((h, i) => {
    if (h.buffers || h.rpcBuffers || h.calls || h.poolPages) problems.push(`tee2: after VM_DESTROYED ${i + 1} it still held ${JSON.stringify(h)}`);
  });
  return problems;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(`[xtest] ${e.message}`);
  process.exit(1);
});
