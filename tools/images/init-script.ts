/**
 * The guests' /init (a busybox sh script, the same for every guest and the native baseline; initramfs.ts puts
 * it in the archive).
 *
 * /init reads the guest's `key=value` boot arguments from its environment (the kernel hands over the ones it
 * does not know; a value cannot hold a space):
 *   guest=<name>        printed in its marker lines
 *   run=<step>,<step>…  what to do, in order:
 *     isolation         read one word past the end of its RAM (probe_addr, default 0x50000000), say what happened
 *     teecheck          load tee + optee, then say whether /dev/tee0 exists (a guest without TEE must say absent)
 *     xtest             load tee + optee, wait for /dev/teepriv0 (tee_wait seconds, default 30), start
 *                       `tee-supplicant -d`, run xtest with the `xtest=` selection, print all of its output
 *     idle              load tee + optee, then sit idle (every vCPU in WFI) for hold= seconds: OP-TEE's watchdog
 *                       sends a notification every second (the notification-latency bench)
 *     busy              the same with one busy loop per CPU, so that no vCPU waits in WFI
 *     ksyms             name kernel code: for each offset from the kernel's _text in ksyms=<hex>,<hex>…, the
 *                       symbol that holds it (/proc/kallsyms); KASLR moves the whole kernel, so offsets taken
 *                       in one boot (KERNEL-TEXT below) name code in any other
 *     forks             the same with one loop per CPU starting /bin/true over and over: as busy, plus the
 *                       TLB invalidations of every process's end (the control for a neighbour that reboots)
 *   hold=<seconds>      how long idle and busy last (default 30)
 *   xtest=<args>        xtest's arguments with commas for spaces (`xtest=-t,regression,1001,4001` runs
 *                       `xtest -t regression 1001 4001`); `all` (the default) runs the whole default suite
 *                       (regression + pkcs11). A bare number is a substring match on case names.
 *     teebench          load tee + optee, wait for /dev/tee0, run guest/teebench (TEEC calls to OP-TEE's
 *                       invoke-tests pseudo TA, timed one by one; no tee-supplicant) and print its lines
 *   teebench_n=<N>      calls per teebench path (default 200)
 *   teebench_procs=<n>  n teebench processes at once, named <guest>.1 … <guest>.n (default 1: one, named <guest>)
 *   teebench_samples=1  teebench also prints every call's time (TEEBENCH-SAMPLES lines)
 *   bench_at=<seconds>  teebench starts once the machine's counter reaches this many seconds since power-on
 *                       (guests that finish booting at different times then measure at the same time)
 *   bench_until=<s>     and stops after the round during which it reaches this many (so they stop together)
 *   tee_wait=<seconds>  how long the xtest and teebench steps wait for the optee driver's devices
 *   shell=1             stay in a shell after the steps (a person at `make run`)
 *   reboots=<n>         after the steps, reboot (`reboot -f`, PSCI SYSTEM_RESET) instead of powering off, until
 *                       this is the (n+1)-th start: the hypervisor restarts the guest from pristine images and
 *                       writes the start number into its device tree (/chosen/hyp,boot-count)
 *   kmsg=<level>        the console log level kept while xtest/teebench run (default 1: kernel messages off, so
 *                       they cannot split xtest's lines; 4 lets warnings such as a hung task's through)
 *   reboot_until=<s>    the same, for as long as the machine's counter is below <s> seconds since power-on (a
 *                       reboot loop alongside another guest's long run: make xtest-reboot)
 *   repeat_until=<s>    run the steps again, in the same life, for as long as the machine's counter is below <s>
 *                       seconds since power-on: the control of a reboot loop (the same work without the restarts)
 *   xtest_stats=1       around xtest, each CPU's time (/proc/stat: user, system, idle, irq… in 10 ms ticks) and
 *                       every interrupt count (/proc/interrupts): where a slower run waited, and what woke it;
 *                       and the cpuinsns plugin's marker, so that it writes every CPU's instructions there; and
 *                       where the kernel's _text is in this boot (KERNEL-TEXT)
 *   xtest_marks=1       just before and just after xtest, the cpuinsns plugin's marker with the counter's time
 *                       (XTEST-MARKS), and KERNEL-TEXT: the plugin's instructions between the two against the clock between
 *                       them say how long every CPU waited (under -icount the clock advances only by instructions
 *                       executed, or by a jump when all CPUs wait); cheaper than xtest_stats, which prints
 *   xtest_trace=1       trace the kernel while xtest runs (tracefs: CPU idle entry and exit, interrupt handlers,
 *                       IPIs sent, task wake-ups and switches, expired hrtimers) and print the trace after XTEST-END,
 *                       gzip'd and base64'd (tools/bench/xtest-trace.ts reads it): who waited for what, and
 *                       which interrupt ended each wait
 *   xtest_trace=optee   instead, only what OP-TEE's notification costs the guest: the optee_notification hard
 *                       interrupt, its irq thread's wake-ups and switches, and the thread's waits for a free OP-TEE
 *                       thread in the driver's call queue (kprobes on optee_cq_wait_init); small enough for a full
 *                       xtest (xtest-trace.ts --bottom-halves)
 *   xtest_at=<s>        the xtest step starts xtest itself (tee driver and tee-supplicant up) once the machine's
 *                       counter reaches <s> seconds since power-on: after the kernel's own boot work (make bench)
 *   start_at=<s>        before the steps, wait until the machine's counter reaches <s> seconds since power-on:
 *                       guests whose runs must overlap start them together, whichever reached /init first
 *   poweroff_at=<s>     after the steps, stay up (idle) until the machine's counter reaches <s> seconds since
 *                       power-on: the benchmarks keep every guest up until all are measured, as a powered-off
 *                       guest's CPU can cost the others instructions
 * and prints, on the console:
 *   GUEST-READY name=<guest> kernel=<release> nproc=<n> mem_kb=<MemTotal> seconds_to_init=<uptime at /init>
 *               since_power_on=<the generic timer's counter at /init, in seconds: firmware and hypervisor included>
 *               boot=<which start of this guest: 1 the first, then one more after each reboot; 0 natively>
 *   GUEST-REBOOT name=<guest> boot=<n>   about to reboot (reboots=)
 *   GUEST-REPEAT name=<guest> round=<n>  running the steps again (repeat_until=)
 *   ISOLATION-PROBE start addr=<addr>
 *   ISOLATION-PROBE result=bus-error | result=read value=<v> | result=exit-<status>
 *   TEE-DEVICE present | TEE-DEVICE absent
 *   XTEST-START name=<guest> args=<xtest=, as given>
 *   XTEST-ERROR name=<guest> <what went wrong, in words>
 *   XTEST-END name=<guest> status=<xtest's exit status (its failed case count) | no-tee | no-supplicant> seconds=<wall>
 *   XTEST-STATS name=<guest> at=before|after <a /proc/stat cpu line or a /proc/interrupts line>   (xtest_stats=1)
 *   KERNEL-TEXT name=<guest> addr=<_text, hex>   (xtest_stats=1, xtest_marks=1)
 *   XTEST-MARKS name=<guest> before=<seconds since power-on> after=<seconds>   (xtest_marks=1)
 *   XTEST-TRACE-BEGIN name=<guest>, XTEST-TRACE name=<guest> <base64>…, XTEST-TRACE-END name=<guest>   (xtest_trace=1)
 *   KSYM name=<guest> off=<hex> <symbol>+0x<hex>   (run=ksyms)
 *   HOLD-START name=<guest> load=idle|busy|forks seconds=<n>, HOLD-END name=<guest> load=idle|busy|forks
 *   TEEBENCH-START … / TEEBENCH path=… / TEEBENCH-ERROR … / TEEBENCH-END name=<guest> status=ok|failed|no-tee
 *                       (guest/teebench/teebench.c documents them)
 *   RUN unknown: <step>
 *   TEE-NOTIF-IRQS name=<guest> count=<n>   OP-TEE notification interrupts the optee driver took (its
 *                       /proc/interrupts line "optee_notification", all CPUs); 0 without one
 *   GUEST-DONE name=<guest>
 * then powers the guest off (PSCI SYSTEM_OFF). Kernel messages stop reaching the console while xtest runs
 * (`dmesg -n 1`), so they cannot split xtest's lines.
 *
 * Usage: tsx tools/images/initramfs.ts <out.cpio.gz>
 */
export const INIT_SCRIPT = `#!/bin/sh
# /init of every guest, written by tools/images/initramfs.ts. The kernel hands the boot arguments it does not
# know (guest=, run=, probe_addr=, xtest=, tee_wait=, shell=) to us as environment variables.
export PATH=/bin:/usr/bin:/sbin:/usr/sbin

# The archive has no device nodes, so the kernel started us without a console: get one from devtmpfs first.
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
read -r up _ </proc/uptime
since_power_on=$(teebench --since-power-on 2>/dev/null || echo unknown)
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
ip link set lo up

guest=\${guest:-unnamed}
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# The hypervisor writes which start this is into our device tree (a big-endian u32); natively there is none.
boot=0
if [ -r /proc/device-tree/chosen/hyp,boot-count ]; then
  set -- $(od -An -tu1 /proc/device-tree/chosen/hyp,boot-count)
  boot=$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))
fi
echo "GUEST-READY name=$guest kernel=$(uname -r) nproc=$(nproc) mem_kb=$mem_kb seconds_to_init=$up since_power_on=$since_power_on boot=$boot"

# Read one 32-bit word at probe_addr (default: just past 256 MiB of RAM at 0x40000000). Outside our RAM the
# hypervisor must refuse it: the read dies of SIGBUS (status 128 + 7).
isolation_probe() {
  addr=\${probe_addr:-0x50000000}
  echo "ISOLATION-PROBE start addr=$addr"
  value=$( (devmem "$addr" 32) )
  status=$?
  if [ "$status" -eq 135 ]; then
    echo "ISOLATION-PROBE result=bus-error"
  elif [ "$status" -eq 0 ]; then
    echo "ISOLATION-PROBE result=read value=$value"
  else
    echo "ISOLATION-PROBE result=exit-$status"
  fi
}

now() { read -r t _ </proc/uptime; echo "$t"; }
# To /proc/uptime's 10 ms: under -icount shift=0 a short xtest selection takes ~1.5 s of guest time.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# tee, then optee (there is no modules.dep). The optee driver probes while it loads if the device tree has
# /firmware/optee and OP-TEE answers; its devices appear in devtmpfs a moment later.
tee_loaded=
load_tee() {
  [ -n "$tee_loaded" ] && return
  tee_loaded=1
  insmod /lib/modules/tee.ko && insmod /lib/modules/optee.ko
}

# wait_for <path> <seconds>: succeeds once <path> exists.
wait_for() {
  n=0
  while [ ! -e "$1" ]; do
    [ "$n" -ge $(($2 * 10)) ] && return 1
    usleep 100000
    n=$((n + 1))
  done
}

tee_check() {
  load_tee
  if wait_for /dev/tee0 2; then echo "TEE-DEVICE present"; else echo "TEE-DEVICE absent"; fi
}

# xtest= with commas for spaces; "all" (or nothing) is the whole default suite.
# xtest_stats <before|after>: with xtest_stats=1, each CPU's times and the interrupt counts, one line each.
xtest_stats() {
  [ "\${xtest_stats:-}" = 1 ] || return 0
  [ "$1" = before ] && kernel_text
  { grep '^cpu' /proc/stat; cat /proc/interrupts; } | tr -s ' ' | sed "s/^/XTEST-STATS name=$guest at=$1 /"
  # The marker too (teebench): under tools/bench/profile/cpuinsns.c, each CPU's instructions at this point.
  teebench --since-power-on >/dev/null 2>&1 || :
}

# xtest_trace <start|stop|print>: with xtest_trace=1, the kernel's trace of xtest's run (what woke each waiting
# CPU); printed after XTEST-END so that printing it is not timed.
xtest_trace() {
  case "\${xtest_trace:-}" in 1|optee) ;; *) return 0 ;; esac
  t=/sys/kernel/tracing
  case $1 in
  start)
    mount -t tracefs tracefs $t 2>/dev/null
    echo 0 >$t/tracing_on
    echo 16384 >$t/buffer_size_kb
    echo >$t/trace
    if [ "$xtest_trace" = optee ]; then
      trace_optee_notification
    else
      for e in power/cpu_idle irq/irq_handler_entry ipi sched/sched_wakeup sched/sched_switch timer/hrtimer_expire_entry; do
        echo 1 >$t/events/$e/enable
      done
    fi
    echo 1 >$t/tracing_on ;;
  stop) echo 0 >$t/tracing_on ;;
  print)
    echo "XTEST-TRACE-BEGIN name=$guest"
    gzip -c $t/trace | base64 | sed "s/^/XTEST-TRACE name=$guest /"
    echo "XTEST-TRACE-END name=$guest" ;;
  esac
}

# xtest_trace=optee: the notification's hard interrupt, its irq thread (the comm is cut to 15 characters:
# irq/<n>-optee_no) woken, switched in and out, and its waits in the driver's call queue for a free OP-TEE thread.
trace_optee_notification() {
  echo 'name == "optee_notification"' >$t/events/irq/irq_handler_entry/filter
  echo 'comm ~ "*optee*"' >$t/events/sched/sched_wakeup/filter
  echo 'prev_comm ~ "*optee*" || next_comm ~ "*optee*"' >$t/events/sched/sched_switch/filter
  for e in irq/irq_handler_entry sched/sched_wakeup sched/sched_switch; do echo 1 >$t/events/$e/enable; done
  # optee:<symbol> when the driver is a module, the bare symbol when it is built in.
  if { echo 'p:optee_cq_wait optee:optee_cq_wait_init' >>$t/kprobe_events || echo 'p:optee_cq_wait optee_cq_wait_init' >>$t/kprobe_events; } 2>/dev/null &&
    { echo 'r:optee_cq_waited optee:optee_cq_wait_init' >>$t/kprobe_events || echo 'r:optee_cq_waited optee_cq_wait_init' >>$t/kprobe_events; } 2>/dev/null; then
    for e in optee_cq_wait optee_cq_waited; do
      echo 'comm ~ "*optee*"' >$t/events/kprobes/$e/filter
      echo 1 >$t/events/kprobes/$e/enable
    done
  else
    echo "XTEST-ERROR name=$guest no kprobe on optee_cq_wait_init: the trace lacks the call queue's waits"
  fi
}

# Where this boot put the kernel (KASLR): bench-profile names kernel code by its offset from _text.
kernel_text() {
  echo 0 >/proc/sys/kernel/kptr_restrict
  echo "KERNEL-TEXT name=$guest addr=$(awk '$3 == "_text" { print $1; exit }' /proc/kallsyms)"
}

run_xtest() {
  selection=\${xtest:-all}
  args=$(echo "$selection" | tr ',' ' ')
  [ "$args" = all ] && args=
  wait_s=\${tee_wait:-30}
  echo "XTEST-START name=$guest args=$selection"
  t0=$(now)
  load_tee
  if ! wait_for /dev/teepriv0 "$wait_s"; then
    echo "XTEST-ERROR name=$guest /dev/teepriv0 never appeared within $wait_s s: the optee driver found no OP-TEE (is the OP-TEE mediator in the hypervisor? does this guest's device tree have /firmware/optee?)"
    dmesg | grep -e ' optee: ' -e ' tee: ' | tail -n 5 | sed "s/^/XTEST-ERROR name=$guest dmesg: /"
    echo "XTEST-END name=$guest status=no-tee seconds=$(since "$t0")"
    return
  fi
  # Once per life: a second one could not open /dev/teepriv0 (repeat_until runs this again).
  if [ -z "$supplicant_up" ] && ! tee-supplicant -d; then
    echo "XTEST-ERROR name=$guest tee-supplicant -d failed"
    echo "XTEST-END name=$guest status=no-supplicant seconds=$(since "$t0")"
    return
  fi
  supplicant_up=1
  dmesg -n "\${kmsg:-1}"
  # The kernel's own work from boot (its crypto self-tests: RSA, ECC, SHA-256, ~0.5 G instructions) may still
  # run; a benchmark starts xtest once it is surely over, at the same moment natively and as a guest.
  [ -n "\${xtest_at:-}" ] && wait_until "$xtest_at"
  xtest_trace start
  t0=$(now)
  xtest_stats before
  if [ "\${xtest_marks:-}" = 1 ]; then
    kernel_text
    mark0=$(teebench --since-power-on)
  fi
  xtest $args # the selection splits into words on purpose
  status=$?
  [ "\${xtest_marks:-}" = 1 ] && echo "XTEST-MARKS name=$guest before=$mark0 after=$(teebench --since-power-on)"
  xtest_stats after
  echo "XTEST-END name=$guest status=$status seconds=$(since "$t0")"
  xtest_trace stop
  xtest_trace print
}

# hold <idle|busy|forks>: the TEE driver loaded, stay hold= seconds idle, or with every CPU in a busy loop (forks:
# one that starts a process each turn).
hold() {
  load_tee
  wait_for /dev/teepriv0 \${tee_wait:-30}
  seconds=\${hold:-30}
  pids=
  if [ "$1" = busy ]; then
    for _ in $(seq "$(nproc)"); do
      sh -c 'while :; do :; done' &
      pids="$pids $!"
    done
  elif [ "$1" = forks ]; then
    for _ in $(seq "$(nproc)"); do
      sh -c 'while :; do /bin/true; done' &
      pids="$pids $!"
    done
  fi
  echo "HOLD-START name=$guest load=$1 seconds=$seconds"
  sleep "$seconds"
  [ -n "$pids" ] && kill $pids
  echo "HOLD-END name=$guest load=$1"
}

# TEEC calls to the invoke-tests pseudo TA, which lives in OP-TEE's core: no TA to load, so no tee-supplicant.
run_teebench() {
  load_tee
  wait_s=\${tee_wait:-30}
  if ! wait_for /dev/tee0 "$wait_s"; then
    echo "TEEBENCH-ERROR name=$guest /dev/tee0 never appeared within $wait_s s: the optee driver found no OP-TEE"
    echo "TEEBENCH-END name=$guest status=no-tee"
    return
  fi
  dmesg -n "\${kmsg:-1}"
  procs=\${teebench_procs:-1}
  if [ "$procs" -le 1 ]; then
    teebench_one "$guest"
    return
  fi
  i=1
  while [ "$i" -le "$procs" ]; do
    teebench_one "$guest.$i" &
    i=$((i + 1))
  done
  wait
}

teebench_one() {
  teebench -g "$1" -n "\${teebench_n:-200}" -a "\${bench_at:-0}" -u "\${bench_until:-0}" \${teebench_samples:+-v}
}

# ksyms=<hex>,<hex>…: each offset from _text named by the text symbol at or below it.
name_ksyms() {
  echo 0 >/proc/sys/kernel/kptr_restrict
  awk -v want="\${ksyms:-}" -v guest="$guest" '
    # awk counts in doubles (53 bits): only the low 40 bits of an address, and offsets from _text modulo 2^40.
    function hex(s,   i, c, n) { n = 0; s = tolower(s); sub(/^0x/, "", s); if (length(s) > 10) s = substr(s, length(s) - 9)
      for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); n = n * 16 + c - 1 }
      return n }
    $3 == "_text" { text = hex($1) }
    $2 ~ /^[tT]$/ { n++; addr[n] = hex($1); name[n] = $3 }
    END {
      span = 1099511627776
      for (i = 1; i <= n; i++) rel[i] = (addr[i] - text + span) % span
      k = split(want, offs, ",")
      for (j = 1; j <= k; j++) {
        at = hex(offs[j]); best = 0
        for (i = 1; i <= n; i++) if (rel[i] <= at && (best == 0 || rel[i] > rel[best])) best = i
        if (best) printf "KSYM name=%s off=%s %s+0x%x\\n", guest, offs[j], name[best], at - rel[best]
        else printf "KSYM name=%s off=%s ?\\n", guest, offs[j]
      }
    }' /proc/kallsyms
}

# Below <s> seconds since power-on (the machine's counter)?
before() { awk -v now="$(teebench --since-power-on)" -v until="$1" 'BEGIN { exit !(now < until) }'; }
# Sleeps until the machine's counter reaches <s> seconds since power-on (at once if it has).
wait_until() {
  usleep "$(awk -v at="$1" -v now="$(teebench --since-power-on)" 'BEGIN { d = at - now; printf "%d", (d > 0 ? d * 1e6 : 0) }')"
}

[ -n "\${start_at:-}" ] && wait_until "$start_at"

round=1
while :; do
  for step in $(echo "\${run:-}" | tr ',' ' '); do
    case "$step" in
      isolation) isolation_probe ;;
      teecheck) tee_check ;;
      xtest) run_xtest ;;
      idle) hold idle ;;
      busy) hold busy ;;
      ksyms) name_ksyms ;;
      forks) hold forks ;;
      teebench) run_teebench ;;
      *) echo "RUN unknown: $step" ;;
    esac
  done
  [ -n "\${repeat_until:-}" ] && before "$repeat_until" || break
  round=$((round + 1))
  echo "GUEST-REPEAT name=$guest round=$round"
done

# OP-TEE's asynchronous notifications (issue 10): the interrupts the optee driver took, summed over CPUs.
count=$(awk '/optee_notification/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)
echo "TEE-NOTIF-IRQS name=$guest count=$count"
echo "GUEST-DONE name=$guest"
[ -n "\${poweroff_at:-}" ] && wait_until "$poweroff_at"
# shell=1 (make run at a terminal): stay up for a person; the console reaches us through the hypervisor.
if [ "\${shell:-}" = 1 ]; then
  echo "GUEST-SHELL name=$guest: exit the shell to power this guest off"
  setsid cttyhack sh
fi
again=
[ -n "\${reboots:-}" ] && [ "$boot" -le "$reboots" ] && again=1
[ -n "\${reboot_until:-}" ] && before "$reboot_until" && again=1
if [ -n "$again" ]; then
  echo "GUEST-REBOOT name=$guest boot=$boot"
  reboot -f
  sleep 5
  echo "GUEST-DONE reboot failed"
fi
poweroff -f
sleep 5
echo "GUEST-DONE poweroff failed"
`;
