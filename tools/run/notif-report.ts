/**
 * What OP-TEE's notification test watchdog (core/tests/notif_test_wd.c, compiled into Debian's builds) says
 * in the secure world's log, and how many notification interrupts each guest took. Once a guest has enabled
 * asynchronous notifications, OP-TEE sends it DO_BOTTOM_HALF every second and counts a timeout whenever the
 * previous one was not served in time; it prints
 *   WD <client id> call_count N, timeout_count M     (virtualized build)
 *   WD call_count N, timeout_count M                 (plain build: the native baseline)
 * for calls 1-9, every 60th call, and at every timeout. A notification routed to the wrong guest, delayed
 * or lost shows up as a timeout. The guest's /init prints `TEE-NOTIF-IRQS name=<guest> count=<n>`
 * (tools/images/initramfs.ts).
 */

import type { BottomHalf } from "../bench/xtest-trace.ts";

export interface Watchdog {
  /** The last call_count printed: exact up to 9, then to within 60 (it prints every 60th call). */
  calls: number;
  /** The last timeout_count printed: exact, since every timeout is printed. */
  timeouts: number;
}

/** One client's notifications, as build/results/xtest.json records them. */
export interface Notifications {
  watchdogCalls: number | null;
  watchdogTimeouts: number | null;
  /** Interrupts the guest's optee driver took; null when the guest never said. */
  interrupts: number | null;
}

/** The NATIVE key: the plain build's lines carry no client id. */
export const NATIVE = 0;

/** The watchdog's last word per client id (NATIVE for the plain build's lines); the log is in order. */
export function parseWatchdog(secureLog: string): Map<number, Watchdog> {
  const out = new Map<number, Watchdog>();
  for (const m of secureLog.matchAll(/\bWD (?:(\d+) )?call_count (\d+), timeout_count (\d+)/g)) {
    out.set(m[1] === undefined ? NATIVE : Number(m[1]), { calls: Number(m[2]), timeouts: Number(m[3]) });
  }
  return out;
}

/** The notification interrupts guest `name` reported, from console lines as the hypervisor tags them. */
export function notifInterrupts(lines: string[], name: string, prefix = `[${name}] `): number | null {
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    const m = /^TEE-NOTIF-IRQS name=(\S+) count=(\d+)/.exec(line.slice(prefix.length));
    if (m && m[1] === name) return Number(m[2]);
  }
  return null;
}

/** Both together, for one client. */
export function notificationsOf(wd: Map<number, Watchdog>, id: number, interrupts: number | null): Notifications {
  const w = wd.get(id);
  return { watchdogCalls: w?.calls ?? null, watchdogTimeouts: w?.timeouts ?? null, interrupts };
}

/** The watchdog prints every 60th call: its last count trails the true one by < 60 s; 10 more for boot. */
export const WATCHDOG_SLACK_SECONDS = 70;

/**
 * Why guest `name`'s notifications do not hold up against the native run; empty when they do. `seconds`
 * is xtest's wall time in the guest: the watchdog runs from the driver's probe (before xtest) to the
 * guest's end (after it), so it must have counted at least that many seconds, less what it leaves unprinted.
 */
export function compareNotifications(name: string, g: Notifications, native: Notifications | null, seconds: number | null): string[] {
  if (g.watchdogCalls === null) return [`${name}: OP-TEE's watchdog never ran for it (were notifications enabled? see the secure log)`];
  const problems: string[] = [];
  const nativeTimeouts = native?.watchdogTimeouts ?? 0;
  if ((g.watchdogTimeouts ?? 0) > nativeTimeouts) {
    problems.push(`${name}: OP-TEE's watchdog counted ${g.watchdogTimeouts} timeout(s), native ${nativeTimeouts}: a DO_BOTTOM_HALF was not served within its second`);
  }
  if (seconds !== null && g.watchdogCalls < seconds - WATCHDOG_SLACK_SECONDS) {
    problems.push(`${name}: OP-TEE's watchdog counted ${g.watchdogCalls} calls over ${seconds} s of xtest: notifications stopped`);
  }
  if (!g.interrupts) problems.push(`${name}: its optee driver took no notification interrupt`);
  return problems;
}

export interface Figure {
  n: number;
  medianUs: number | null;
  maxUs: number | null;
}

export interface GuestLatency {
  toGet: Figure;
  /** To the guest's DO_BOTTOM_HALF call reaching the hypervisor: the guest kernel's own delay. */
  toBottomHalfCall: Figure;
  /** Of that, the time in which one of the guest's OP-TEE threads was free (Linux queues a call until one is). */
  toBottomHalfCallThreadFree: Figure;
  /** Of that, the longest single stretch with a thread free (the rest were hand-overs between its own callers). */
  toBottomHalfCallFreeStretch: Figure;
  /** The guest's own calls begun while its DO_BOTTOM_HALF was due (a count, not µs). */
  callsBegunMeanwhile: Figure;
  /** From that call reaching the hypervisor to OP-TEE's return from it: the hypervisor's and OP-TEE's share. */
  bottomHalfServed: Figure;
  toBottomHalf: Figure;
  /** DO_BOTTOM_HALF calls OP-TEE turned away (ETHREAD_LIMIT): every thread of the guest was busy. */
  bottomHalfNoThread: number;
  watchdogTimeouts: number | null;
}

const FIGURE = /n (\d+)(?: median (\d+) max (\d+)(?: us)?)?/;

function figure(text: string): Figure {
  const m = FIGURE.exec(text);
  if (!m) throw new Error(`no figure in "${text}"`);
  return { n: Number(m[1]), medianUs: m[2] ? Number(m[2]) : null, maxUs: m[3] ? Number(m[3]) : null };
}

/**
 * The hypervisor's notification latency line for `name` (hyp/tee/optee/mediator/stats.ts, latency.ts), if it said
 * one: `[hyp] optee <name>: notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE n N median M max W us;
 * to DO_BOTTOM_HALF called n …; served in n …; to DO_BOTTOM_HALF done n …; K DO_BOTTOM_HALF calls found every OP-TEE thread busy` (median and max only when n > 0).
 */
export function parseLatency(lines: string[], name: string): Omit<GuestLatency, "watchdogTimeouts"> | null {
  const prefix = `[hyp] optee ${name}: notification latency from INTID 219: `;
  const line = lines.find((l) => l.startsWith(prefix));
  if (!line) return null;
  const parts = line.slice(prefix.length).split("; ");
  const part = (head: string): Figure => {
    const p = parts.find((x) => x.startsWith(head));
    return p ? figure(p.slice(head.length)) : { n: 0, medianUs: null, maxUs: null };
  };
  return {
    toGet: part("to GET_ASYNC_NOTIF_VALUE "),
    toBottomHalfCall: part("to DO_BOTTOM_HALF called "),
    toBottomHalfCallThreadFree: part("with a thread free "),
    toBottomHalfCallFreeStretch: part("at a stretch "),
    callsBegunMeanwhile: part("own calls begun meanwhile "),
    bottomHalfServed: part("served in "),
    toBottomHalf: part("to DO_BOTTOM_HALF done "),
    bottomHalfNoThread: Number(/^(\d+) DO_BOTTOM_HALF/.exec(parts.at(-1) ?? "")?.[1] ?? 0),
  };
}

/** The hypervisor's share of a bottom half (delivery to the guest's GET, then the call's service) stays under this. */
export const HYP_SHARE_LIMIT_US = 500_000;

/**
 * A guest's own account of its bottom halves (its kernel's trace, init's xtest_trace=optee; xtest-trace.ts
 * bottomHalves): from its notification's hard interrupt to its DO_BOTTOM_HALF entering the driver's call queue,
 * and in that queue, waiting for one of its OP-TEE threads to come free (its own calls hold them).
 */
export interface GuestBottomHalves {
  count: number;
  /** Those that took half the watchdog's second or more from the interrupt to leaving the queue. */
  late: number;
  worstBeforeQueueUs: number;
  worstInQueueUs: number;
}

export function bottomHalfSummary(bhs: BottomHalf[]): GuestBottomHalves {
  const done = bhs.filter((b) => b.queued !== null && b.dequeued !== null);
  const us = (s: number) => Math.round(s * 1e6);
  return {
    count: done.length,
    late: done.filter((b) => b.dequeued! - b.irq >= HYP_SHARE_LIMIT_US / 1e6).length,
    worstBeforeQueueUs: Math.max(0, ...done.map((b) => us(b.queued! - b.irq))),
    worstInQueueUs: Math.max(0, ...done.map((b) => us(b.dequeued! - b.queued!))),
  };
}

/**
 * Whether guest `name`'s watchdog timeouts are its own kernel's doing. First, by the hypervisor's own
 * measurements (`latency`, parseLatency): every notification reached the guest's GET, and every DO_BOTTOM_HALF
 * call was served once it reached the hypervisor, with both together under half the watchdog's second. Then, what
 * the guest did in between: with its kernel's trace (`trace`), every bottom half entered the driver's call queue
 * within that half second of its interrupt, so a late one waited in the queue for one of the guest's OP-TEE
 * threads, held by its own calls (Linux queues every call, DO_BOTTOM_HALF included, first come first served).
 * Without the trace, the hypervisor's estimate of the same: of the time to the call, the part with fewer of the
 * guest's calls open than it has OP-TEE threads stayed under the half second (an overestimate: a thread that comes
 * free goes to the queue's first caller, and a hand-over to a caller not yet running shows as free). Says why, or
 * null when the hypervisor's share could have caused them.
 */
export function timeoutsOnGuestSide(name: string, latency: Omit<GuestLatency, "watchdogTimeouts"> | null, trace: GuestBottomHalves | null = null): string | null {
  if (!latency) return null;
  const get = latency.toGet.maxUs, served = latency.bottomHalfServed.maxUs, called = latency.toBottomHalfCall.maxUs;
  const free = latency.toBottomHalfCallThreadFree.maxUs;
  if (get === null || served === null || called === null) return null;
  if (get + served >= HYP_SHARE_LIMIT_US) return null;
  const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
  const hyp = `${name}'s watchdog timeouts are its kernel's: notifications reached its GET within ${ms(get)} and OP-TEE served ` +
    `each DO_BOTTOM_HALF within ${ms(served)} of its call; the kernel made that call up to ${ms(called)} after the interrupt, `;
  if (trace && trace.count > 0) {
    if (trace.worstBeforeQueueUs >= HYP_SHARE_LIMIT_US) return null;
    return hyp + `and by its own trace each bottom half entered its driver's call queue within ${ms(trace.worstBeforeQueueUs)} ` +
      `of the interrupt and then waited up to ${ms(trace.worstInQueueUs)} there for one of its OP-TEE threads, held by its own calls`;
  }
  if (free === null || free >= HYP_SHARE_LIMIT_US) return null;
  return hyp + `but never more than ${ms(free)} of it with one of its OP-TEE threads free: it waited for its own calls to end`;
}
