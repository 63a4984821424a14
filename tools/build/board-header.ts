/**
 * Writes the C view of a board (boot/'s board.h) from configs/boards/, so the
 * board's facts live in one place. U64() keeps the numbers usable in C, in
 * assembly and in the (preprocessed) linker script. Usage: tsx tools/build/board-header.ts <board> <out.h>
 */
import { writeFileSync } from "node:fs";
import { boardByName } from "../lib/boards.ts";

const hex = (n: number) => `U64(0x${n.toString(16)})`;

export function boardHeader(name: string): string {
  const b = boardByName(name);
  const h = b.hypervisor;
  const lines = [
    `/* Generated from configs/boards/${b.name}.ts by tools/build/board-header.ts: do not edit. */`,
    "#pragma once",
    "#if defined(__ASSEMBLER__) || defined(LINKER_SCRIPT)",
    "#define U64(x) x",
    "#else",
    "#define U64(x) x##ull",
    "#endif",
    `#define BOARD_NAME "${b.name}"`,
    `#define BOARD_CPU_COUNT ${b.cpuCount}u`,
    `#define BOARD_RAM_BASE ${hex(b.ram.base)}`,
    `#define BOARD_RAM_SIZE ${hex(b.ram.size)}`,
    `#define BOARD_UART0_BASE ${hex(b.uart0)}`,
    `#define BOARD_GICD_BASE ${hex(b.gic.distributor)}`,
    `#define BOARD_GICR_BASE ${hex(b.gic.redistributors)}`,
    `#define HYP_IMAGE_BASE ${hex(h.image.base)}`,
    `#define HYP_IMAGE_SIZE ${hex(h.image.size)}`,
    `#define HYP_BOOT_CONFIG_PA ${hex(h.bootConfig.base)}`,
    `#define HYP_BOOT_CONFIG_SIZE ${hex(h.bootConfig.size)}`,
    `#define HYP_WASM_MEM_PA ${hex(h.wasmMemory.base)}`,
    `#define HYP_WASM_MEM_SIZE ${hex(h.wasmMemory.size)}`,
    `#define HYP_IMAGE_STORE_PA ${hex(h.imageStore.base)}`,
    `#define HYP_IMAGE_STORE_SIZE ${hex(h.imageStore.size)}`,
  ];
  return lines.join("\n") + "\n";
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, out] = process.argv.slice(2);
  if (!name || !out) {
    console.error("usage: board-header.ts <board> <out.h>");
    process.exit(2);
  }
  writeFileSync(out, boardHeader(name));
}
