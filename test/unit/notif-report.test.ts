/** Reading OP-TEE's notification watchdog and the guests' interrupt counts back (tools/run/notif-report.ts). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bottomHalfSummary, compareNotifications, NATIVE, notifInterrupts, notificationsOf, parseLatency, parseWatchdog, timeoutsOnGuestSide } from "../../tools/run/notif-report.ts";

const VIRT_LOG = `D/TC:0 1   test_wd_callback:46 WD 1 call_count 1, timeout_count 0
D/TC:1 1 0 test_wd_callback:46 WD 2 call_count 1, timeout_count 0
D/TC:0 1   test_wd_callback:46 WD 1 call_count 9, timeout_count 0
D/TC:0 1   test_wd_callback:46 WD 1 call_count 240, timeout_count 0
D/TC:0 0   test_wd_callback:46 WD 2 call_count 17, timeout_count 1
`;

test("the last WD line per client id; the plain build's lines have no id", () => {
  const wd = parseWatchdog(VIRT_LOG);
  assert.equal(Object.fromEntries(wd), { 1: { calls: 240, timeouts: 0 }, 2: { calls: 17, timeouts: 1 } });
  const native = parseWatchdog("D/TC:0 0 test_wd_callback:49 WD call_count 240, timeout_count 0\n");
  assert.equal(native.get(NATIVE), { calls: 240, timeouts: 0 });
});

test("TEE-NOTIF-IRQS of the named guest only", () => {
  const lines = ["[tee1] TEE-NOTIF-IRQS name=tee1 count=22", "[plain] TEE-NOTIF-IRQS name=plain count=0", "[tee2] other"];
  assert.is(notifInterrupts(lines, "tee1"), 22);
  assert.is(notifInterrupts(lines, "plain"), 0);
  assert.is(notifInterrupts(lines, "tee2"), null);
});

test("the verdict: timeouts native did not have, a count that fell behind xtest, no interrupts, no watchdog", () => {
  const wd = parseWatchdog(VIRT_LOG);
  const native = { watchdogCalls: 240, watchdogTimeouts: 0, interrupts: 240 };
  assert.equal(compareNotifications("tee1", notificationsOf(wd, 1, 250), native, 230), []);
  assert.equal(compareNotifications("tee1", notificationsOf(wd, 1, 250), native, 315).length, 1, "240 calls over 315 s");
  assert.match(compareNotifications("tee2", notificationsOf(wd, 2, 17), native, 10).join(), /1 timeout\(s\), native 0/);
  assert.equal(compareNotifications("tee2", notificationsOf(wd, 2, 17), { ...native, watchdogTimeouts: 1 }, 10), []);
  assert.match(compareNotifications("tee3", notificationsOf(wd, 3, 0), native, 10).join(), /never ran/);
  assert.match(compareNotifications("tee1", notificationsOf(wd, 1, 0), native, 10).join(), /no notification interrupt/);
});

test("the hypervisor's latency line", () => {
  const lines = [
    "[hyp] optee tee2: notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE n 3 median 250 max 700 us; to DO_BOTTOM_HALF called n 2 median 90 max 120 us; with a thread free n 2 median 40 max 60 us; at a stretch n 2 median 30 max 50 us; own calls begun meanwhile n 2 median 4 max 9; served in n 0; to DO_BOTTOM_HALF done n 0; 2 DO_BOTTOM_HALF calls found every OP-TEE thread busy",
  ];
  assert.equal(parseLatency(lines, "tee2"), {
    toGet: { n: 3, medianUs: 250, maxUs: 700 }, toBottomHalfCall: { n: 2, medianUs: 90, maxUs: 120 },
    toBottomHalfCallThreadFree: { n: 2, medianUs: 40, maxUs: 60 }, toBottomHalfCallFreeStretch: { n: 2, medianUs: 30, maxUs: 50 },
    callsBegunMeanwhile: { n: 2, medianUs: 4, maxUs: 9 }, bottomHalfServed: { n: 0, medianUs: null, maxUs: null },
    toBottomHalf: { n: 0, medianUs: null, maxUs: null }, bottomHalfNoThread: 2,
  });
  assert.is(parseLatency(lines, "tee1"), null);
});

test("watchdog timeouts are the guest kernel's only when the hypervisor's measured share leaves no room for them", () => {
  const line = (get: number, called: number, served: number, free = 20_000) => [
    `[hyp] optee tee1: notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE n 900 median 1501 max ${get} us; ` +
    `to DO_BOTTOM_HALF called n 865 median 9000 max ${called} us; with a thread free n 865 median 900 max ${free} us; ` +
    `served in n 865 median 300 max ${served} us; ` +
    `to DO_BOTTOM_HALF done n 865 median 9045 max ${called + served} us; 0 DO_BOTTOM_HALF calls found every OP-TEE thread busy`,
  ];
  assert.match(timeoutsOnGuestSide("tee1", parseLatency(line(57_798, 2_600_000, 6_000), "tee1")) ?? "", /up to 2600\.0 ms after the interrupt/);
  assert.is(timeoutsOnGuestSide("tee1", parseLatency(line(450_000, 2_600_000, 60_000), "tee1")), null, "delivery + service reach 0.5 s");
  assert.is(timeoutsOnGuestSide("tee1", parseLatency(line(1_000, 2_600_000, 1_200_000), "tee1")), null, "OP-TEE or the hypervisor held the call");
  assert.is(timeoutsOnGuestSide("tee1", parseLatency(line(1_000, 2_600_000, 6_000, 700_000), "tee1")), null,
    "0.7 s late with a thread free: not explained by the guest's own calls");
  assert.match(timeoutsOnGuestSide("tee1", parseLatency(line(1_000, 2_600_000, 6_000), "tee1")) ?? "", /never more than 20\.0 ms of it with one of its OP-TEE threads free/);
  assert.is(timeoutsOnGuestSide("tee1", null), null, "no measurements, no excuse");
  const old = ["[hyp] optee tee1: notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE n 3 median 250 max 700 us; to DO_BOTTOM_HALF done n 3 median 1 max 2 us; 0 DO_BOTTOM_HALF calls found every OP-TEE thread busy"];
  assert.is(timeoutsOnGuestSide("tee1", parseLatency(old, "tee1")), null, "a line without the split");
  const noFree = [line(1_000, 2_600_000, 6_000)[0].replace(/with a thread free [^;]*; /, "")];
  assert.is(timeoutsOnGuestSide("tee1", parseLatency(noFree, "tee1")), null, "a line without the thread-free part");
});

test("with the guest's own trace, a late bottom half is its kernel's when it waited in the driver's call queue", () => {
  const line = [
    "[hyp] optee tee1: notification latency from INTID 219: to GET_ASYNC_NOTIF_VALUE n 9 median 900 max 47680 us; " +
    "to DO_BOTTOM_HALF called n 9 median 1800 max 3576312 us; with a thread free n 9 median 1700 max 1304036 us; " +
    "served in n 9 median 787 max 16926 us; to DO_BOTTOM_HALF done n 9 median 2624 max 3577147 us; 0 DO_BOTTOM_HALF calls found every OP-TEE thread busy",
  ];
  const lat = parseLatency(line, "tee1");
  assert.is(timeoutsOnGuestSide("tee1", lat), null, "1.3 s with a thread free, by the hypervisor's estimate alone");
  const bh = (irq: number, queued: number, dequeued: number) => ({ irq, woken: irq + 0.0001, running: irq + 0.0002, queued, dequeued, irqs: 1 });
  const queued = bottomHalfSummary([bh(10, 10.0003, 13.5734), bh(20, 20.0832, 20.09), { ...bh(30, 30.001, 0), dequeued: null }]);
  assert.equal(queued, { count: 2, late: 1, worstBeforeQueueUs: 83200, worstInQueueUs: 3573100 });
  assert.match(timeoutsOnGuestSide("tee1", lat, queued) ?? "", /entered its driver's call queue within 83\.2 ms of the interrupt and then waited up to 3573\.1 ms/);
  const slow = bottomHalfSummary([bh(10, 10.7, 10.8)]);
  assert.is(timeoutsOnGuestSide("tee1", lat, slow), null, "0.7 s before it even asked for the call");
  assert.is(timeoutsOnGuestSide("tee1", parseLatency([line[0].replace("max 16926 us", "max 600000 us")], "tee1"), queued), null, "served too slowly");
});

test.run();
