/**
 * Writes the C view of a board (boot/'s board.h) from configs/boards/, so the
 * board's facts live in one place. U64() keeps the numbers usable in C, in
 * assembly and in the (preprocessed) linker script. Usage: tsx tools/build/board-header.ts <board> <out.h>
 */
import { writeFileSync } from "node:fs";
import type { Board } from "../../configs/boards/board.ts";
import { boardByName } from "../lib/boards.ts";

const hex = (n: number) => `U64(0x${n.toString(16)})`;

/** BOARD_GIC_VERSION picks the back end (boot/gic_v2.c or gic_v3.c); each gets only its own addresses. */
function gicLines(b: Board): string[] {
  const g = b.gic;
  const lines = [`#define BOARD_GIC_VERSION ${g.version}`, `#define BOARD_GICD_BASE ${hex(g.distributor)}`];
  if (g.version === 3) {
    lines.push(`#define BOARD_GICR_BASE ${hex(g.redistributors)}`, `#define BOARD_GICR_STRIDE ${hex(g.redistributorStride)}`);
  } else {
    lines.push(`#define BOARD_GICC_BASE ${hex(g.cpuInterface)}`, `#define BOARD_GICH_BASE ${hex(g.hypervisorInterface)}`,
      `#define BOARD_GICV_BASE ${hex(g.virtualCpuInterface)}`);
  }
  return lines;
}

/** The MMIO windows as an initializer of struct range[] (boot/mmu.c). */
function deviceLines(b: Board): string[] {
  const items = b.devices.map((d) => `{ ${hex(d.base)}, ${hex(d.size)} }`).join(", ");
  return [`#define BOARD_DEVICE_COUNT ${b.devices.length}u`, `#define BOARD_DEVICES { ${items} }`];
}

/** The PL011's pin multiplexing and clock (boot/console.c), on boards that need it. */
function uartPinLines(b: Board): string[] {
  const p = b.uart0Pins;
  if (!p) return ["#define BOARD_UART0_PINS 0"];
  return ["#define BOARD_UART0_PINS 1", `#define BOARD_GPIO_BASE ${hex(p.gpio)}`, `#define BOARD_UART0_PIN_TX ${p.pins[0]}u`,
    `#define BOARD_UART0_PIN_RX ${p.pins[1]}u`, `#define BOARD_UART0_ALT ${p.altFunction}u`, `#define BOARD_UART0_CLOCK_HZ ${p.clockHz}u`];
}

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
    `#define BOARD_UART0_BASE ${hex(b.uart0)}`,
    `#define BOARD_UART0_INTID ${b.uart0Intid}u`,
    // 0: no OP-TEE on this board, nothing to enable.
    `#define BOARD_OPTEE_NOTIF_INTID ${b.opteeNotifIntid ?? 0}u`,
    ...gicLines(b),
    ...deviceLines(b),
    ...uartPinLines(b),
    ...(b.pmWatchdog !== undefined ? [`#define BOARD_PM_BASE ${hex(b.pmWatchdog)}`] : []),
    // Where the device tree is when the firmware does not say (TF-A on QEMU virt enters BL33 with x0 = 0).
    `#define BOARD_DTB_PA ${hex(b.dtb)}`,
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
