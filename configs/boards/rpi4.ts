/**
 * Raspberry Pi 4 Model B (BCM2711: 4 × Cortex-A72, GIC-400), as QEMU 10's `raspi4b` emulates it and as the
 * real board boots it with Debian's TF-A `rpi4/bl31.bin` as armstub: every fact about this board lives here.
 * Measured facts: ../shared/design.md §8. No OP-TEE: Debian ships none for this board.
 */
import type { Board } from "./board.ts";

const MiB = 1024 * 1024;

export const rpi4: Board = {
  name: "rpi4",
  cpuCount: 4,
  // QEMU's raspi4b describes 0-0x3c000000 (the VideoCore framebuffer follows); a 4 GB board has more, and the
  // hypervisor takes what its device tree says.
  ram: { base: 0, size: 0x3c00_0000 },
  uart0: 0xfe20_1000, // PL011 uart0; the real board needs GPIO14/15 on ALT0 (boot/console.c)
  uart0Intid: 153, // SPI 121
  gic: {
    version: 2,
    distributor: 0xff84_1000,
    cpuInterface: 0xff84_2000,
    hypervisorInterface: 0xff84_4000,
    virtualCpuInterface: 0xff84_6000,
  },
  // The peripherals (low alias 0xfc000000, main 0xfe000000) and the ARM-local block with the GIC (0xff800000).
  devices: [{ base: 0xfc00_0000, size: 0x400_0000 }],
  // Where the tools put the board's DTB and patch its address into BL31's stub header, as the VideoCore
  // firmware would. BL31 grows it in place to 1 MiB (fdt_open_into): it needs that much room.
  dtb: 0x0300_0000,
  reserved: [
    { name: "TF-A BL31 (atf@0, and the spin table at 0xd8)", base: 0, size: 0x8_0000 },
    { name: "board device tree (grown by BL31 to 1 MiB)", base: 0x0300_0000, size: 2 * MiB },
    { name: "the image store (the SD card's images.bin)", base: 0x0400_0000, size: 64 * MiB },
    { name: "QEMU's device tree on the -kernel (armstub) path", base: 0x0800_0000, size: 2 * MiB },
  ],
  hypervisor: {
    // The firmware's kernel_address (config.txt), and where the tools make BL31 enter BL33 on QEMU.
    image: { base: 0x20_0000, size: 4 * MiB },
    bootConfig: { base: 0x60_0000, size: 4096 },
    wasmMemory: { base: 0x80_0000, size: 16 * MiB },
    // Each distinct guest image once (Debian's kernel ~37 MiB, the initramfs ~7 MiB, the DTBs): the SD card's
    // images.bin, which the VideoCore firmware loads here (config.txt `initramfs images.bin 0x4000000`).
    imageStore: { base: 0x0400_0000, size: 64 * MiB },
  },
  // With enable_uart=1 and no overlay the firmware puts the mini UART on GPIO14/15 and the PL011 on Bluetooth:
  // the hypervisor takes the pins back for the PL011 (ALT0, function select 0b100), whose clock is 48 MHz.
  uart0Pins: { gpio: 0xfe20_0000, pins: [14, 15], altFunction: 0b100, clockHz: 48_000_000 },
  // Without armstub= (the VideoCore's own armstub: no PSCI) the hypervisor powers off through it.
  pmWatchdog: 0xfe10_0000,
  firmware: { kind: "tfa-bl31", platform: "rpi4" },
  qemu: {
    machine: "raspi4b",
    cpu: "cortex-a72",
    memoryMiB: 2048, // raspi4b accepts no other size
    // The board's own DTB describes no RAM (the VideoCore firmware fills /memory in) and devices QEMU lacks,
    // on which Linux takes external aborts: the HDMI/DVP blocks (design.md §8), and PCIe, GENET, the RNG and
    // the thermal sensor, which QEMU's -dtb path deletes itself (raspi4b.c) and the loader path does not.
    // tools/run/firmware.ts writes board.ram into /memory and disables these before TF-A reads the tree.
    dtbDisable: ["/soc/clock@7ef00000", "/soc/interrupt-controller@7ef00100", "/soc/hdmi@7ef00700",
      "/soc/i2c@7ef04500", "/soc/hdmi@7ef05700", "/soc/i2c@7ef09500",
      "/scb/pcie@7d500000", "/scb/ethernet@7d580000", "/soc/rng@7e104000", "/soc/avs-monitor@7d5d2000/thermal"],
    globals: [
      // Without it TF-A puts every interrupt in Group 1 of a GIC whose Group 0 is all a non-secure
      // GICD_CTLR write enables: no interrupt would arrive (design.md §8).
      "arm_gic.has-security-extensions=on",
      // The board's 54 MHz; QEMU's default 62.5 MHz makes guest time run 16 % fast.
      "cortex-a72-arm-cpu.cntfrq=54000000",
    ],
  },
};
