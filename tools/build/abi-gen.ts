/**
 * Writes every layout and constant the core, C and assembly share from their one description in tools/abi/
 * (and configs/guest-layout.ts): boot's frame.h, action.h and abi.h, and the core's hyp/gen/*.ts, which the
 * AssemblyScript files re-export (asc cannot import tools/' plain TypeScript). The Node fakes and tools/ import
 * tools/abi/ directly. Run by the Makefile before anything that uses them.
 * Usage: tsx tools/build/abi-gen.ts <dir for the C headers> <dir for the core's files>
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as account from "../abi/account.ts";
import * as action from "../abi/action.ts";
import * as bootconfig from "../abi/bootconfig.ts";
import * as el2 from "../abi/el2.ts";
import * as frame from "../abi/frame.ts";
import * as irq from "../abi/irq.ts";
import * as limits from "../abi/limits.ts";
import * as platform from "../abi/platform.ts";
import { GUEST_LAYOUT } from "../../configs/guest-layout.ts";

const hex = (n: number) => `0x${n.toString(16)}`;
const generated = (from: string) => `Generated from ${from} by tools/build/abi-gen.ts: do not edit.`;
/** A C header: where it comes from, what it holds, its lines. */
const cFile = (from: string, what: string, lines: string[]) =>
  [`/* ${generated(from)} */`, `/* ${what} */`, "#pragma once", ...lines].join("\n") + "\n";
/** One of the core's files. */
const asFile = (from: string, lines: string[]) => [`// ${generated(from)}`, ...lines].join("\n") + "\n";

/** The module's exported numbers, in source order. */
function numbers(module: object): [string, number][] {
  return Object.entries(module).filter((e): e is [string, number] => typeof e[1] === "number");
}

// ---- C ------------------------------------------------------------------------------------------------
function frameStruct(): string[] {
  const lines = ["struct frame {"];
  let at = 0;
  for (const f of frame.FRAME_FIELDS) {
    if (f.offset > at) lines.push(`\tuint8_t pad_${hex(at)}[${f.offset - at}];`);
    const size = (f.type === "u64" ? 8 : 4) * (f.count ?? 1);
    lines.push(`\t/* ${f.doc} */`, `\t${f.type === "u64" ? "uint64_t" : "uint32_t"} ${f.c}${f.count ? `[${f.count}]` : ""};`);
    at = f.offset + size;
  }
  lines.push("};");
  const asserts = frame.FRAME_FIELDS.map((f) =>
    `_Static_assert(__builtin_offsetof(struct frame, ${f.c}) == ${frame.frameMacro(f)}, "frame.${f.c}");`);
  return [...lines, ...asserts, `_Static_assert(sizeof(struct frame) <= FRAME_SIZE, "frame size");`];
}

function frameHeader(): string {
  return cFile("tools/abi/frame.ts", "The per-CPU frame in the core's linear memory: offsets (also for assembly) and struct frame.", [
    `#define FRAME_SIZE ${hex(frame.FRAME_SIZE)}`,
    ...frame.FRAME_FIELDS.map((f) => `#define ${frame.frameMacro(f)} ${hex(f.offset)}`),
    `#define FRAME_LR_COUNT ${frame.LR_COUNT}`,
    `#define CONTROLS_LOAD ${frame.CONTROLS_LOAD}`,
    `#define CONTROLS_RESET_EL1 ${frame.CONTROLS_RESET_EL1}`,
    ...Object.entries(frame.EXIT_KINDS).map(([name, code]) => `#define ${name} ${code}`),
    "#ifndef __ASSEMBLER__",
    "#include <stdint.h>",
    ...frameStruct(),
    "#endif",
  ]);
}

function actionHeader(): string {
  return cFile("tools/abi/action.ts", "The core's answers to the run loop.", [
    ...action.ACTIONS.map((a) => `#define ${a.name} ${a.code}u /* ${a.doc} */`),
    `#define ACTION_KIND(a) ((a) & ${hex(action.ACTION_KIND_MASK)}u)`,
    `#define ACTION_GUEST(a) (((a) >> ${action.ACTION_GUEST_SHIFT}) & 0xffu)`,
  ]);
}

function abiHeader(): string {
  const what = "Limits, interrupt numbers, the platform record, the profile's slots and EL2 values the core and C " +
    "share (C only: not for assembly).";
  return cFile("tools/abi/limits.ts, irq.ts, platform.ts, account.ts and el2.ts", what, [
    ...[limits, irq, platform, account].flatMap(numbers).map(([name, v]) => `#define ${name} ${v}u`),
    ...numbers(el2).map(([name, v]) => `#define ${name} ${hex(v)}ull`),
  ]);
}

// ---- the core (AssemblyScript) --------------------------------------------------------------------------
const asConst = (name: string, v: number, type: string) => `export const ${name}: ${type} = ${hex(v)};`;

function asNumbers(from: string, module: object, type: (name: string, v: number) => string): string {
  return asFile(from, numbers(module).map(([name, v]) => asConst(name, v, type(name, v))));
}

function asFrame(): string {
  return asFile("tools/abi/frame.ts", [
    asConst("FRAME_SIZE", frame.FRAME_SIZE, "u32"),
    asConst("SMC_REGS", frame.SMC_REGS, "u32"),
    asConst("LR_COUNT", frame.LR_COUNT, "u32"),
    asConst("CONTROLS_LOAD", frame.CONTROLS_LOAD, "u64"),
    asConst("CONTROLS_RESET_EL1", frame.CONTROLS_RESET_EL1, "u64"),
    ...frame.FRAME_FIELDS.flatMap((f) => [`/** ${f.doc} */`, asConst(frame.frameMacro(f), f.offset, "u32")]),
    ...Object.entries(frame.EXIT_KINDS).map(([name, code]) => asConst(name, code, "u32")),
  ]);
}

function asAction(): string {
  return asFile("tools/abi/action.ts", [
    ...action.ACTIONS.flatMap((a) => [`/** ${a.doc[0].toUpperCase()}${a.doc.slice(1)}. */`, asConst(a.name, a.code, "u32")]),
    asConst("ACTION_KIND_MASK", action.ACTION_KIND_MASK, "u32"),
    asConst("ACTION_GUEST_SHIFT", action.ACTION_GUEST_SHIFT, "u32"),
  ]);
}

/** What every guest sees (configs/guest-layout.ts), as the core's constants. */
function asGuestLayout(): string {
  const L = GUEST_LAYOUT;
  const SPI_BASE = 32, PPI_BASE = 16;
  return asFile("configs/guest-layout.ts", [
    asConst("GUEST_LAYOUT_RAM_IPA", L.ramIpa, "u64"),
    asConst("GUEST_LAYOUT_GICD", L.gicd.ipa, "u64"),
    asConst("GUEST_LAYOUT_GICD_SIZE", L.gicd.size, "u64"),
    asConst("GUEST_LAYOUT_GICC", L.gicc.ipa, "u64"),
    asConst("GUEST_LAYOUT_GICC_SIZE", L.gicc.size, "u64"),
    asConst("GUEST_LAYOUT_GICR", L.gicr.ipa, "u64"),
    asConst("GUEST_LAYOUT_GICR_STRIDE", L.gicr.stride, "u32"),
    asConst("GUEST_LAYOUT_UART", L.uart.ipa, "u64"),
    asConst("GUEST_LAYOUT_UART_SIZE", L.uart.size, "u64"),
    asConst("GUEST_UART_INTID", SPI_BASE + L.uart.spi, "u32"),
    asConst("VTIMER_INTID", PPI_BASE + L.timerPpis[2], "u32"),
    asConst("GUEST_OPTEE_NOTIF_INTID", SPI_BASE + L.optee.notifSpi, "u32"),
  ]);
}

export function abiFiles(): Record<string, string> {
  return {
    "c/frame.h": frameHeader(),
    "c/action.h": actionHeader(),
    "c/abi.h": abiHeader(),
    "as/frame.ts": asFrame(),
    "as/action.ts": asAction(),
    "as/limits.ts": asNumbers("tools/abi/limits.ts", limits, () => "u32"),
    "as/bootconfig.ts": asNumbers("tools/abi/bootconfig.ts", bootconfig, () => "u32"),
    "as/el2.ts": asNumbers("tools/abi/el2.ts", el2, () => "u64"),
    "as/irq.ts": asNumbers("tools/abi/irq.ts", irq, () => "u32"),
    "as/account.ts": asNumbers("tools/abi/account.ts", account, () => "u32"),
    "as/platform.ts": asNumbers("tools/abi/platform.ts", platform, () => "u32"),
    "as/guest-layout.ts": asGuestLayout(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cDir, asDir] = process.argv.slice(2);
  if (!cDir || !asDir) {
    console.error("usage: abi-gen.ts <dir for the C headers> <dir for the core's files>");
    process.exit(2);
  }
  mkdirSync(cDir, { recursive: true });
  mkdirSync(asDir, { recursive: true });
  for (const [name, text] of Object.entries(abiFiles())) {
    const [kind, file] = name.split("/");
    writeFileSync(join(kind === "c" ? cDir : asDir, file), text);
  }
}
