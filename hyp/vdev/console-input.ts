/**
 * Keyboard input on the hypervisor console goes to one guest at a time, its
 * virtual PL011's receive FIFO. Ctrl-A starts a command (as in QEMU and
 * screen): Ctrl-A n gives the input to the next running guest, Ctrl-A 1..4
 * to that guest, Ctrl-A p prints the per-exit profile (core/profile.ts), Ctrl-A v every vCPU's virtual GIC
 * (vgic/report.ts), Ctrl-A Ctrl-A sends one Ctrl-A. The boot CPU takes the
 * UART's receive interrupt; bytes are drained a bounded number at a time so
 * a flood of input cannot hold the core.
 */
import { consoleInputEnable, consoleRead, gicDeactivate } from "../hw/imports";
import { lineEnd, lineStart, putName, put } from "../lib/log";
import { guestAt, guestCount, guestNamePtr, GUEST_RUNNING, cpuOfVcpu } from "../core/guest";
import { GUEST_UART_INTID } from "../core/layout";
import { kickMask } from "../core/kick";
import { pl011Line, pl011Receive, pl011RxRoom } from "./pl011";
import { vgicSetIrqLevel } from "../vgic/exports";
import { profileReportAll } from "../core/profile";
import { vgicReportAll } from "../vgic/report";
import { platform } from "../core/platform";

/** The CPU that takes console input (boot/gic_v*.c route the UART's interrupt to it): it never parks. */
export const CONSOLE_CPU: u32 = 0;
const CTRL_A: u32 = 0x01;
/** Bytes taken per interrupt; the rest wait in the UART for the next one. */
const DRAIN_LIMIT: u32 = 32;

let focus: u32 = 0;
let commandPending = false;
/** The UART's receive interrupt is masked until the focused guest makes room. */
let paused = false;

export function consoleFocus(): u32 {
  return focus;
}

/** Says where input goes and how to move it: printed once guests run. */
export function consoleAnnounce(): void {
  if (guestCount() == 0) return;
  lineStart("console");
  put("input goes to "); putName(guestNamePtr(focus), 16);
  put("; Ctrl-A n: next guest, Ctrl-A 1-"); put(guestCount() == 1 ? "1" : guestCount() == 2 ? "2" : guestCount() == 3 ? "3" : "4");
  put(": that guest");
  lineEnd();
}

/** The UART has input: hand it to the focused guest. Runs on whichever CPU took the interrupt (`cpu`). */
export function consoleInput(cpu: u32): void {
  let fed = false;
  for (let n: u32 = 0; n < DRAIN_LIMIT; n++) {
    if (focusIsRunning() && pl011RxRoom(focus) == 0) {
      // Leave the rest in the UART: no byte is dropped, and no interrupt storm while the guest catches up.
      paused = true;
      consoleInputEnable(0);
      break;
    }
    const c = consoleRead();
    if (c < 0) break;
    if (take(<u32>c)) fed = true;
  }
  gicDeactivate(platform.consoleIntid); // the board's UART0 interrupt (core/platform.ts)
  if (fed && focus < guestCount()) {
    const mask = vgicSetIrqLevel(focus, 0, GUEST_UART_INTID, pl011Line(focus) ? 1 : 0);
    // The guest's UART interrupt goes to its vCPU 0: make sure that CPU looks, even if it is this one.
    kickMask(cpu, mask | (1 << cpuOfVcpu(focus, 0)));
  }
}

/** One typed byte; true when it went into a guest's FIFO. */
function take(c: u32): bool {
  if (commandPending) {
    commandPending = false;
    if (c == CTRL_A) return deliver(c);
    if (c == 0x6e /* n */) switchTo(nextRunning());
    else if (c == 0x70 /* p */) profileReportAll();
    else if (c == 0x76 /* v */) vgicReportAll();
    else if (c >= 0x31 && c < 0x31 + guestCount()) switchTo(c - 0x31);
    return false;
  }
  if (c == CTRL_A) {
    commandPending = true;
    return false;
  }
  return deliver(c);
}

function focusIsRunning(): bool {
  return focus < guestCount() && guestAt(focus).state == GUEST_RUNNING;
}

function deliver(c: u32): bool {
  return focusIsRunning() && pl011Receive(focus, c);
}

/** Guest g read from its UART: if input was paused for it and it has room now, let input flow again. */
export function consoleGuestRead(g: u32): void {
  if (paused && (g != focus || pl011RxRoom(g) > 0)) {
    paused = false;
    consoleInputEnable(1);
  }
}

function nextRunning(): u32 {
  for (let i: u32 = 1; i <= guestCount(); i++) {
    const g = (focus + i) % guestCount();
    if (guestAt(g).state == GUEST_RUNNING) return g;
  }
  return focus;
}

function switchTo(g: u32): void {
  focus = g;
  consoleAnnounce();
  if (paused) {
    paused = false;
    consoleInputEnable(1);
  }
}
