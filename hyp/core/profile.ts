/**
 * Prints the per-exit profile (core/account.ts) per guest: one line per kind of exit, costliest first, with
 * how many there were and the EL2 instructions (or cycles) they took in all and on average. Printed when the
 * machine powers off and on demand (Ctrl-A p on the console); `make bench` reads these lines:
 *
 *   [hyp] profile: tee1: 48213 exits, 20123456 EL2 instructions (PMU event 0x08, EL2 only)
 *   [hyp] profile: tee1 smc:optee:CALL_WITH_ARG:INVOKE_COMMAND+memref count=900 el2=1234567 avg=1371
 *   [hyp] profile: tee1 other:140-kinds count=2311 el2=123456 avg=53      (beyond the costliest PRINTED_KINDS)
 */
import { ACCOUNT_ENTRY, ACCOUNT_SLOTS, accountTable, KIND_HVC, KIND_IABT, KIND_IRQ, KIND_MMIO, KIND_OTHER,
  KIND_SHIFT, KIND_SMC, KIND_SYSREG, KIND_WFX, MMIO_DEV_GICD, MMIO_DEV_GICR, MMIO_DEV_PL011 } from "./account";
import { cpuOfVcpu, guestAt, guestCount, guestNamePtr, MAX_GUESTS } from "./guest";
import { FRAME_ACCOUNT_EVENT, frameGet, MAX_CPUS } from "./percpu";
import { lineEnd, lineStart, put, putDec, putHex, putName } from "../lib/log";
import { profileSmcccName } from "./profile-names";
import * as A from "../gen/account";

/** One guest's kinds merged over its CPUs (each vCPU has its own physical CPU and table). */
const MERGED_SLOTS: u32 = ACCOUNT_SLOTS * 2;
const merged = memory.data(<i32>(MERGED_SLOTS * ACCOUNT_ENTRY), 16);
const INST_RETIRED: u64 = A.PMU_EVENT_INST_RETIRED;

export function profileReportAll(): void {
  for (let g: u32 = 0; g < guestCount() && g < MAX_GUESTS; g++) profileReport(g);
}

export function profileReport(g: u32): void {
  const event = frameGet(cpuOfVcpu(g, 0), FRAME_ACCOUNT_EVENT);
  const unit = event == INST_RETIRED ? "instructions" : "cycles";
  lineStart("profile");
  putName(guestNamePtr(g), 16);
  if (event == 0) {
    put(": no EL2 profile (no PMU counter to spare on its CPUs)");
    lineEnd();
    return;
  }
  const kinds = mergeGuest(g);
  let exits: u64 = 0, total: u64 = 0;
  for (let i: u32 = 0; i < MERGED_SLOTS; i++) {
    exits += <u64>load<u32>(slot(i), A.ACCOUNT_COUNT_AT);
    total += load<u64>(slot(i), A.ACCOUNT_TOTAL_AT);
  }
  put(": "); putDec(exits); put(" exits, "); putDec(total); put(" EL2 "); put(unit);
  put(" (PMU event "); putHex(event); put(", EL2 only), "); putDec(kinds); put(" kinds");
  lineEnd();
  printCostliestFirst(g, kinds);
}

@inline function slot(i: u32): usize {
  return merged + <usize>(i * ACCOUNT_ENTRY);
}

/** Fills `merged` with guest g's kinds; returns how many. */
function mergeGuest(g: u32): u32 {
  memory.fill(merged, 0, MERGED_SLOTS * ACCOUNT_ENTRY);
  let kinds: u32 = 0;
  for (let v: u32 = 0; v < guestAt(g).vcpuCount; v++) {
    const cpu = cpuOfVcpu(g, v);
    if (cpu >= MAX_CPUS) continue;
    const table = accountTable(cpu);
    for (let i: u32 = 0; i < ACCOUNT_SLOTS; i++) {
      const from = table + <usize>(i * ACCOUNT_ENTRY);
      const key = load<u32>(from, A.ACCOUNT_KEY_AT);
      if (key == 0) continue;
      let j = key % MERGED_SLOTS;
      while (load<u32>(slot(j)) != 0 && load<u32>(slot(j)) != key) j = (j + 1) % MERGED_SLOTS;
      if (load<u32>(slot(j)) == 0) kinds++;
      store<u32>(slot(j), key);
      store<u32>(slot(j), load<u32>(slot(j), A.ACCOUNT_COUNT_AT) + load<u32>(from, A.ACCOUNT_COUNT_AT), A.ACCOUNT_COUNT_AT);
      store<u64>(slot(j), load<u64>(slot(j), A.ACCOUNT_TOTAL_AT) + load<u64>(from, A.ACCOUNT_TOTAL_AT), A.ACCOUNT_TOTAL_AT);
    }
  }
  return kinds;
}

/** Kinds printed one per line; the rest are summed in one line (Linux at boot touches ~150 GIC registers). */
const PRINTED_KINDS: u32 = 24;

/** Selection by total: at power-off or on request only, over at most MERGED_SLOTS kinds. */
function printCostliestFirst(g: u32, kinds: u32): void {
  const lines = kinds < PRINTED_KINDS ? kinds : PRINTED_KINDS;
  for (let n: u32 = 0; n < lines; n++) {
    let best: u32 = MERGED_SLOTS;
    for (let i: u32 = 0; i < MERGED_SLOTS; i++) {
      if (load<u32>(slot(i)) == 0) continue;
      if (best == MERGED_SLOTS || load<u64>(slot(i), A.ACCOUNT_TOTAL_AT) > load<u64>(slot(best), A.ACCOUNT_TOTAL_AT)) best = i;
    }
    if (best == MERGED_SLOTS) return;
    const count = load<u32>(slot(best), A.ACCOUNT_COUNT_AT);
    const total = load<u64>(slot(best), A.ACCOUNT_TOTAL_AT);
    lineStart("profile");
    putName(guestNamePtr(g), 16); put(" "); putKind(load<u32>(slot(best)));
    put(" count="); putDec(count); put(" el2="); putDec(total);
    put(" avg="); putDec(count ? total / <u64>count : 0);
    lineEnd();
    store<u32>(slot(best), 0); // printed
  }
  if (kinds > lines) printRest(g, kinds - lines);
}

function printRest(g: u32, kinds: u32): void {
  let count: u64 = 0, total: u64 = 0;
  for (let i: u32 = 0; i < MERGED_SLOTS; i++) {
    if (load<u32>(slot(i)) == 0) continue;
    count += <u64>load<u32>(slot(i), A.ACCOUNT_COUNT_AT);
    total += load<u64>(slot(i), A.ACCOUNT_TOTAL_AT);
  }
  lineStart("profile");
  putName(guestNamePtr(g), 16); put(" other:"); putDec(kinds); put("-kinds");
  put(" count="); putDec(count); put(" el2="); putDec(total); put(" avg="); putDec(count ? total / count : 0);
  lineEnd();
}

function putKind(key: u32): void {
  const kind = key >> KIND_SHIFT;
  if (kind == KIND_HVC || kind == KIND_SMC) {
    put(kind == KIND_HVC ? "hvc:" : "smc:");
    profileSmcccName(key);
  } else if (kind == KIND_MMIO) {
    const dev = (key >> 24) & 0xf;
    put("mmio:");
    put(dev == MMIO_DEV_GICD ? "gicd" : dev == MMIO_DEV_GICR ? "gicr" : dev == MMIO_DEV_PL011 ? "pl011" : "refused");
    put((key >> 23) & 1 ? ":write:" : ":read:");
    putHex(key & 0xfffff);
  } else if (kind == KIND_SYSREG) {
    put("sysreg:"); putHex(key & 0x3fffff);
  } else if (kind == KIND_WFX) {
    put("wfi");
  } else if (kind == KIND_IRQ) {
    put("irq:"); putDec(key & 0x3ff);
  } else if (kind == KIND_IABT) {
    put("iabt");
  } else if (kind == KIND_OTHER) {
    put("trap:ec"); putHex(key & 0x3f);
  } else {
    put("key:"); putHex(key);
  }
}
