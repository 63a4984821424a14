/**
 * The guard test (test only, BOOT_FLAG_GUARD_TEST; no shipped setup has it): the core hands C what a bug in it
 * could, to prove on the real stack that C refuses it and that only the guest concerned pays
 * (test/system/guard.test.ts). At guest guardForeignRam's first Trusted-OS call the core asks C to copy from
 * another guest's RAM; at guest guardBadSpsr's first, it leaves EL2h in the SPSR the guest is to be entered
 * in. C refuses both (boot/glue.c, boot/guests.c) and the guest is stopped as after a core fault.
 */
import { bootConfig, BOOT_FLAG_GUARD_TEST } from "./bootconfig";
import { guestAt, guestCount } from "./guest";
import { FRAME_PSTATE, frameGet, frameSet } from "./percpu";
import { SPSR_M_EL2H } from "../arch/el2";
import { guestRamRead } from "../hw/imports";
import { lineEnd, lineStart, put, putDec } from "../lib/log";

const SPSR_M_MASK: u64 = 0x1f;
const scratch = memory.data(64, 8);
let foreignRamFired = false;
let badSpsrFired = false;

/** Says at boot that the guard test is on: a test image, never a shipped one. */
export function guardTestAnnounce(): void {
  if ((bootConfig.flags & BOOT_FLAG_GUARD_TEST) == 0) return;
  lineStart("selftest");
  put("GUARD TEST ON (test only): the core will hand C another guest's RAM for guest "); putDec(bootConfig.guardForeignRam);
  put(" and an EL2h SPSR for guest "); putDec(bootConfig.guardBadSpsr);
  lineEnd();
}

/** Is the guard test on? One test on the Trusted-OS call path when it is off. */
@inline export function guardTestArmed(): bool {
  return (bootConfig.flags & BOOT_FLAG_GUARD_TEST) != 0;
}

/** Guest g makes a Trusted-OS call on `cpu` (call only when guardTestArmed). */
export function guardTestCheck(cpu: u32, g: u32): void {
  if (g == bootConfig.guardForeignRam && !foreignRamFired) {
    foreignRamFired = true;
    const other = otherGuest(g);
    if (other < guestCount()) guestRamRead(guestAt(other).ramPa, scratch, 64); // C refuses: g stops here
  }
  if (g == bootConfig.guardBadSpsr && !badSpsrFired) {
    badSpsrFired = true;
    frameSet(cpu, FRAME_PSTATE, (frameGet(cpu, FRAME_PSTATE) & ~SPSR_M_MASK) | SPSR_M_EL2H); // C refuses to enter
  }
}

function otherGuest(g: u32): u32 {
  return g == 0 ? 1 : 0;
}
