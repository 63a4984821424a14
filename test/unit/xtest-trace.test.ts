/** Reading a guest's kernel trace of xtest back (init's xtest_trace=1, tools/bench/xtest-trace.ts). */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { gzipSync } from "node:zlib";
import { bottomHalves, parseTrace, reportBottomHalves, summarize, traceText } from "../../tools/bench/xtest-trace.ts";

// Two CPUs: CPU 0 idles twice, CPU 1 runs xtest, sends CPU 0 an IPI, then idles too: one span with both idle.
const TRACE = `# tracer: nop
#
          <idle>-0       [000] d....     1.000000: cpu_idle: state=1 cpu_id=0
           xtest-169     [001] d.s..     1.000100: ipi_send_cpu: cpu=0 callsite=ttwu_queue_wakelist+0x178/0x198 callback=x
          <idle>-0       [000] d....     1.000110: cpu_idle: state=4294967295 cpu_id=0
          <idle>-0       [000] d.h..     1.000111: irq_handler_entry: irq=2 name=IPI
          <idle>-0       [000] d.h..     1.000112: ipi_entry: (Function call interrupts)
          <idle>-0       [000] d....     1.000120: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=tee-supplicant next_pid=150 next_prio=120
  tee-supplicant-150     [000] d....     1.000300: sched_switch: prev_comm=tee-supplicant prev_pid=150 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
          <idle>-0       [000] d....     1.000310: cpu_idle: state=1 cpu_id=0
           xtest-169     [001] d....     1.000400: sched_switch: prev_comm=xtest prev_pid=169 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120
          <idle>-0       [001] d....     1.000410: cpu_idle: state=1 cpu_id=1
          <idle>-0       [001] d....     1.004410: cpu_idle: state=4294967295 cpu_id=1
          <idle>-0       [001] d.h..     1.004411: irq_handler_entry: irq=11 name=arch_timer
          <idle>-0       [001] d.h..     1.004412: hrtimer_expire_entry: hrtimer=0000 function=tick_nohz_handler now=1004411000
`;

test("a console log's base64 lines, of one guest, back to the trace", () => {
  const b64 = gzipSync(Buffer.from(TRACE)).toString("base64");
  const half = Math.ceil(b64.length / 2);
  const log = [
    "[tee2] XTEST-TRACE name=tee2 AAAA",
    "[tee1] XTEST-TRACE-BEGIN name=tee1",
    `[tee1] XTEST-TRACE name=tee1 ${b64.slice(0, half)}`,
    `[tee1] XTEST-TRACE name=tee1 ${b64.slice(half)}`,
    "[tee1] XTEST-TRACE-END name=tee1",
  ].join("\n");
  assert.is(traceText(log, "tee1"), TRACE);
  assert.is(traceText("no trace here", "tee1"), null);
});

test("idle per CPU, the span with every CPU idle and what ended it, tasks' run time, IPI latency", () => {
  const events = parseTrace(TRACE);
  assert.is(events.length, 13);
  const s = summarize(events);
  assert.equal(s.idleByCpu.map((t) => Math.round(t * 1e6)), [110, 4000]);
  assert.is(s.allIdle.count, 1);
  assert.is(Math.round(s.allIdle.seconds * 1e6), 4000);
  assert.equal(Object.keys(s.allIdle.byCause), ["timer tick_nohz_handler"]);
  assert.is(s.interrupts.IPI, 1);
  assert.is(s.interrupts.arch_timer, 1);
  assert.is(s.ipiLatency.count, 1);
  assert.is(Math.round(s.ipiLatency.medianUs), 12);
  assert.is(Math.round(s.runByTask["tee-supplicant"] * 1e6), 180);
});

// xtest_trace=optee: one bottom half straight through, one that waits 0.9 s in the call queue behind the guest's own
// calls, with the watchdog's next interrupt meanwhile.
const OPTEE_TRACE = `# tracer: nop
          <idle>-0       [000] d.h..     2.000000: irq_handler_entry: irq=13 name=optee_notification
          <idle>-0       [000] d.h..     2.000010: sched_wakeup: comm=irq/13-optee_no pid=120 prio=49 target_cpu=000
          <idle>-0       [000] d....     2.000020: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=irq/13-optee_no next_pid=120 next_prio=49
 irq/13-optee_no-120     [000] .....     2.000030: optee_cq_wait: (optee_cq_wait_init+0x0/0x120 [optee])
 irq/13-optee_no-120     [000] .....     2.000040: optee_cq_waited: (optee_smc_do_call_with_arg+0x90/0x2c0 [optee] <- optee_cq_wait_init)
           xtest-169     [001] d.h..     3.000000: irq_handler_entry: irq=13 name=optee_notification
           xtest-169     [001] d.h..     3.000010: sched_wakeup: comm=irq/13-optee_no pid=120 prio=49 target_cpu=000
 irq/13-optee_no-120     [000] .....     3.000100: optee_cq_wait: (optee_cq_wait_init+0x0/0x120 [optee])
          <idle>-0       [001] d.h..     3.500000: irq_handler_entry: irq=13 name=optee_notification
 irq/13-optee_no-120     [000] .....     3.900100: optee_cq_waited: (optee_smc_do_call_with_arg+0x90/0x2c0 [optee] <- optee_cq_wait_init)
`;

test("each notification from the guest's hard interrupt to its DO_BOTTOM_HALF leaving the driver's call queue", () => {
  const bhs = bottomHalves(parseTrace(OPTEE_TRACE));
  assert.is(bhs.length, 2);
  assert.equal(bhs[0], { irq: 2, woken: 2.00001, running: 2.00002, queued: 2.00003, dequeued: 2.00004, irqs: 1 });
  assert.equal(bhs[1], { irq: 3, woken: 3.00001, running: null, queued: 3.0001, dequeued: 3.9001, irqs: 2 });
  const lines = reportBottomHalves(bhs);
  assert.match(lines[0], /bottom halves: 2 \(2 reached the call\), 1 with a second interrupt/);
  assert.match(lines[1], /in the call queue \(waiting for a free OP-TEE thread\) 900\.0 ms/);
  assert.match(lines[2], /over 0\.5 s from the interrupt to the call: 1;/);
});

test.run();
