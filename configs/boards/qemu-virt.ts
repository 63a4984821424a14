/**
 * QEMU `virt` (AArch64, secure=on, virtualization=on, GICv3) as Debian's
 * TF-A and OP-TEE 4.5 expect it: every fact about this board lives here.
 * Measured facts: ../shared/design.md §2.
 */
import type { Board } from "./board.ts";

const MiB = 1024 * 1024;

export const qemuVirt: Board = {
  name: "qemu-virt",
  cpuCount: 4, // Debian's OP-TEE is built with CFG_TEE_CORE_NB_CORE=4
  ram: { base: 0x4000_0000, size: 3072 * MiB },
  uart0: 0x0900_0000, // normal world; UART1 (0x09040000) carries OP-TEE's log
  uart0Intid: 33, // SPI 1
  gic: { version: 3, distributor: 0x0800_0000, redistributors: 0x080a_0000, redistributorStride: 0x2_0000 },
  // Flash, GIC, UARTs, …: everything below RAM.
  devices: [{ base: 0, size: 0x4000_0000 }],
  dtb: 0x4000_0000, // QEMU writes its device tree at the base of RAM
  reserved: [
    { name: "QEMU device tree", base: 0x4000_0000, size: 2 * MiB },
    { name: "OP-TEE static SHM", base: 0x4200_0000, size: 2 * MiB },
  ],
  hypervisor: {
    // TF-A loads BL33 here and enters it at EL2 (PLAT=qemu's NS_IMAGE_OFFSET).
    image: { base: 0x6000_0000, size: 4 * MiB },
    // The boot configuration blob, put in RAM by QEMU's loader device.
    bootConfig: { base: 0x6040_0000, size: 4096 },
    // The core's linear memory. It must lie in the non-secure RAM OP-TEE
    // knows from the device tree, or OP-TEE refuses buffers built there.
    wasmMemory: { base: 0x6080_0000, size: 16 * MiB },
    // Each distinct image once: Debian's kernel (~37 MiB), the initramfs (~7 MiB), one DTB per guest.
    imageStore: { base: 0x6200_0000, size: 128 * MiB },
  },
  // Debian's OP-TEE raises SPI 187 for every guest's notifications (design.md §5).
  opteeNotifIntid: 219,
  firmware: { kind: "tfa-fip" },
  qemu: {
    machine: "virt,secure=on,virtualization=on,gic-version=3",
    cpu: "max",
    memoryMiB: 3072,
  },
};
