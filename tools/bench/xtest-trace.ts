/**
 * Reads the kernel trace a guest prints with init's xtest_trace=1 (XTEST-TRACE lines: its tracefs trace of
 * xtest's run, gzip'd and base64'd) and says where its CPUs waited: each CPU's time in idle, the spans in which
 * every CPU was idle (under -icount those cost clock without instructions), what ended each such span, and how
 * long a sent IPI took to reach its target. A slow run's late wake-ups show here as long all-idle spans ended by
 * a timer rather than by the interrupt the work was waiting for.
 *
 * With --bottom-halves (a trace of init's xtest_trace=optee): each of OP-TEE's notifications from the guest's hard
 * interrupt to its DO_BOTTOM_HALF leaving the driver's call queue, and the latest of them by step.
 *
 * Usage: tsx tools/bench/xtest-trace.ts [--bottom-halves] <console log> [guest]   (guest: the name= of the lines, default any)
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { pathToFileURL } from "node:url";

export interface TraceEvent { cpu: number; t: number; event: string; fields: string; task: string }

/** The trace text a console log carries for `guest` (or the first guest that printed one), or null. */
export function traceText(log: string, guest?: string): string | null {
  const chunks: string[] = [];
  for (const line of log.split("\n")) {
    const m = /XTEST-TRACE name=(\S+) (\S+)\s*$/.exec(line);
    if (!m || (guest && m[1] !== guest)) continue;
    guest ??= m[1];
    chunks.push(m[2]);
  }
  return chunks.length ? gunzipSync(Buffer.from(chunks.join(""), "base64")).toString("utf8") : null;
}

/** tracefs's text format: `<task>-<pid> [<cpu>] <flags> <seconds>: <event>: <fields>`. */
export function parseTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^\s*(.*?)\s+\[(\d+)\]\s+(?:\S{4,5}\s+)?(\d+\.\d+):\s+(\w+):\s?(.*)$/.exec(line);
    if (m) out.push({ task: m[1], cpu: Number(m[2]), t: Number(m[3]), event: m[4], fields: m[5] });
  }
  return out.sort((a, b) => a.t - b.t);
}

const IDLE_EXIT = "4294967295";
const field = (e: TraceEvent, name: string) => new RegExp(`(?:^|\\s)${name}=(\\S+)`).exec(e.fields)?.[1];

/** What an interrupt was, in words: the handler's name, and for the timer the hrtimer callback that ran. */
function cause(events: TraceEvent[], from: number, cpu: number): string {
  for (let i = from; i < events.length && events[i].t - events[from].t < 0.002; i++) {
    const e = events[i];
    if (e.cpu !== cpu) continue;
    if (e.event === "ipi_entry") return `IPI ${e.fields.replace(/[()]/g, "")}`;
    if (e.event === "hrtimer_expire_entry") return `timer ${field(e, "function") ?? "?"}`;
    if (e.event === "irq_handler_entry" && field(e, "name") !== "IPI" && field(e, "name") !== "arch_timer") return `irq ${field(e, "name")}`;
  }
  return "unknown";
}

export interface IdleSpan { start: number; end: number; endedBy: string; cpu: number }

export interface TraceSummary {
  seconds: number;
  idleByCpu: number[];
  allIdle: { count: number; seconds: number; byCause: Record<string, { count: number; seconds: number }>; longest: IdleSpan[] };
  interrupts: Record<string, number>;
  ipiLatency: { count: number; medianUs: number; worstUs: number };
  wfiLike: number;
  /** Seconds each task ran (sched_switch), all CPUs together; the idle task is the time in idle. */
  runByTask: Record<string, number>;
}

export function summarize(events: TraceEvent[]): TraceSummary {
  const cpus = Math.max(...events.map((e) => e.cpu)) + 1;
  const idleSince: (number | null)[] = new Array(cpus).fill(null);
  const idleByCpu: number[] = new Array(cpus).fill(0);
  const spans: IdleSpan[] = [];
  const interrupts: Record<string, number> = {};
  let allIdleFrom: number | null = null;
  let entries = 0;
  // IPIs sent to each CPU and not yet taken there.
  const ipiSent: number[][] = Array.from({ length: cpus }, () => []);
  const ipiDelays: number[] = [];
  const runByTask: Record<string, number> = {};
  const runningSince: (number | null)[] = new Array(cpus).fill(null);
  events.forEach((e, i) => {
    if (e.event === "sched_switch") {
      const prev = /prev_comm=(.*?) prev_pid=/.exec(e.fields)?.[1] ?? "?";
      const from = runningSince[e.cpu] ?? events[0].t;
      runByTask[prev] = (runByTask[prev] ?? 0) + e.t - from;
      runningSince[e.cpu] = e.t;
    }
    if (e.event === "cpu_idle") {
      const cpu = Number(field(e, "cpu_id") ?? e.cpu);
      if (field(e, "state") === IDLE_EXIT) {
        if (idleSince[cpu] !== null) idleByCpu[cpu] += e.t - idleSince[cpu]!;
        if (allIdleFrom !== null) spans.push({ start: allIdleFrom, end: e.t, endedBy: cause(events, i, cpu), cpu });
        idleSince[cpu] = null;
        allIdleFrom = null;
      } else {
        entries++;
        idleSince[cpu] = e.t;
        if (idleSince.every((s) => s !== null)) allIdleFrom = e.t;
      }
    } else if (e.event === "irq_handler_entry") {
      const name = field(e, "name") ?? "?";
      interrupts[name] = (interrupts[name] ?? 0) + 1;
    } else if (e.event === "ipi_send_cpu") {
      ipiSent[Number(field(e, "cpu"))]?.push(e.t);
    } else if (e.event === "ipi_send_cpumask") {
      for (const c of cpuList(field(e, "cpumask") ?? "")) ipiSent[c]?.push(e.t);
    } else if (e.event === "ipi_entry") {
      const sent = ipiSent[e.cpu].shift();
      if (sent !== undefined) ipiDelays.push(e.t - sent);
      ipiSent[e.cpu].length = 0;
    }
  });
  const byCause: TraceSummary["allIdle"]["byCause"] = {};
  for (const s of spans) {
    const c = (byCause[s.endedBy] ??= { count: 0, seconds: 0 });
    c.count++;
    c.seconds += s.end - s.start;
  }
  ipiDelays.sort((a, b) => a - b);
  return {
    seconds: events.length ? events[events.length - 1].t - events[0].t : 0,
    idleByCpu,
    allIdle: {
      count: spans.length, seconds: spans.reduce((a, s) => a + s.end - s.start, 0), byCause,
      longest: [...spans].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 10),
    },
    interrupts,
    ipiLatency: { count: ipiDelays.length, medianUs: (ipiDelays[ipiDelays.length >> 1] ?? 0) * 1e6, worstUs: (ipiDelays.at(-1) ?? 0) * 1e6 },
    wfiLike: entries,
    runByTask,
  };
}

/** "0-1,3" → [0, 1, 3]. */
function cpuList(s: string): number[] {
  return s.split(",").filter(Boolean).flatMap((p) => {
    const [a, b] = p.split("-").map(Number);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, k) => a + k);
  });
}

const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

export function report(s: TraceSummary): string[] {
  const lines = [
    `traced ${s.seconds.toFixed(3)} s; idle entries ${s.wfiLike}; idle per CPU: ${s.idleByCpu.map(ms).join(", ")}`,
    `every CPU idle: ${s.allIdle.count} spans, ${ms(s.allIdle.seconds)} in all; ended by:`,
    ...Object.entries(s.allIdle.byCause).sort((a, b) => b[1].seconds - a[1].seconds)
      .map(([c, v]) => `  ${c}: ${v.count}, ${ms(v.seconds)}`),
    `longest: ${s.allIdle.longest.map((x) => `${ms(x.end - x.start)} at ${x.start.toFixed(4)} (${x.endedBy}, CPU ${x.cpu})`).join("; ")}`,
    `interrupts: ${Object.entries(s.interrupts).sort((a, b) => b[1] - a[1]).map(([n, c]) => `${n} ${c}`).join(", ")}`,
    `ran: ${Object.entries(s.runByTask).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, t]) => `${n} ${ms(t)}`).join(", ")}`,
    `IPI sent to taken: ${s.ipiLatency.count}, median ${s.ipiLatency.medianUs.toFixed(0)} µs, worst ${s.ipiLatency.worstUs.toFixed(0)} µs`,
  ];
  return lines;
}

/**
 * One of OP-TEE's notifications as the guest lived it (xtest_trace=optee), in seconds of its clock: the hard
 * interrupt, its irq thread woken and switched in, the thread entering the driver's call queue for its
 * DO_BOTTOM_HALF and leaving it with a free OP-TEE thread (then it makes the call). Absent steps are null. A
 * second interrupt before the first's call leaves the first open (OP-TEE's watchdog counts from the oldest).
 */
export interface BottomHalf { irq: number; woken: number | null; running: number | null; queued: number | null; dequeued: number | null; irqs: number }

const isOpteeThread = (comm: string | undefined) => comm !== undefined && comm.includes("optee");

export function bottomHalves(events: TraceEvent[]): BottomHalf[] {
  const out: BottomHalf[] = [];
  let open: BottomHalf | null = null;
  for (const e of events) {
    if (e.event === "irq_handler_entry" && field(e, "name") === "optee_notification") {
      if (open) open.irqs++;
      else out.push((open = { irq: e.t, woken: null, running: null, queued: null, dequeued: null, irqs: 1 }));
    } else if (!open) {
      continue;
    } else if (e.event === "sched_wakeup" && isOpteeThread(field(e, "comm"))) {
      open.woken ??= e.t;
    } else if (e.event === "sched_switch" && isOpteeThread(/next_comm=(.*?) next_pid=/.exec(e.fields)?.[1])) {
      open.running ??= e.t;
    } else if (e.event === "optee_cq_wait" && isOpteeThread(e.task)) {
      open.queued ??= e.t;
    } else if (e.event === "optee_cq_waited" && isOpteeThread(e.task) && open.queued !== null) {
      open.dequeued = e.t;
      open = null;
    }
  }
  return out;
}

export function reportBottomHalves(bhs: BottomHalf[]): string[] {
  const done = bhs.filter((b) => b.dequeued !== null);
  const span = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);
  const worst = (f: (b: BottomHalf) => number | null) => Math.max(0, ...done.map((b) => f(b) ?? 0));
  const late = [...done].sort((a, b) => b.dequeued! - b.irq - (a.dequeued! - a.irq)).slice(0, 12);
  const part = (label: string, s: number | null) => `${label} ${s === null ? "-" : ms(s)}`;
  return [
    `bottom halves: ${bhs.length} (${done.length} reached the call), ${bhs.filter((b) => b.irqs > 1).length} with a second interrupt before the call`,
    `worst: interrupt to irq thread woken ${ms(worst((b) => span(b.irq, b.woken)))}, woken to running ${ms(worst((b) => span(b.woken, b.running)))}, ` +
      `running to the call queue ${ms(worst((b) => span(b.running, b.queued)))}, in the call queue (waiting for a free OP-TEE thread) ${ms(worst((b) => span(b.queued, b.dequeued)))}`,
    `over 0.5 s from the interrupt to the call: ${done.filter((b) => b.dequeued! - b.irq >= 0.5).length}; latest:`,
    ...late.map((b) => `  at ${b.irq.toFixed(3)}: ${ms(b.dequeued! - b.irq)} = ${part("woken", span(b.irq, b.woken))}, ${part("running", span(b.woken ?? b.irq, b.running))}, ` +
      `${part("queued", span(b.running ?? b.irq, b.queued))}, ${part("waited in the queue", span(b.queued, b.dequeued))}; ${b.irqs} interrupt(s)`),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const bh = args.includes("--bottom-halves");
  const [file, guest] = args.filter((a) => a !== "--bottom-halves");
  if (!file) {
    console.error("usage: tsx tools/bench/xtest-trace.ts [--bottom-halves] <console log> [guest]");
    process.exit(2);
  }
  const text = traceText(readFileSync(file, "utf8"), guest);
  if (!text) {
    console.error(`${file}: no XTEST-TRACE lines (boot with xtest_trace=1, or xtest_trace=optee for --bottom-halves)`);
    process.exit(1);
  }
  const events = parseTrace(text);
  for (const l of bh ? reportBottomHalves(bottomHalves(events)) : report(summarize(events))) console.log(l);
}
