/** The shape of a board description: the facts the hypervisor and the tools need about one machine. */

export interface Range {
  base: number;
  size: number;
}

export interface NamedRange extends Range {
  name: string;
}

/** A GICv3: distributor and one redistributor frame pair per CPU, in CPU order. */
export interface GicV3 {
  version: 3;
  distributor: number;
  redistributors: number;
  /** Bytes from one CPU's redistributor to the next (RD_base + SGI_base, and VLPI frames on GICv4). */
  redistributorStride: number;
}

/** A GICv2 with the virtualization extensions (GIC-400): the hypervisor drives GICH, guests get GICV. */
export interface GicV2 {
  version: 2;
  distributor: number;
  /** GICC: the physical CPU interface (banked per CPU). */
  cpuInterface: number;
  /** GICH: the virtual interface control registers of the calling CPU. */
  hypervisorInterface: number;
  /** GICV: the virtual CPU interface, 8 KiB, mapped at each guest's GICC address through stage 2. */
  virtualCpuInterface: number;
}

/** How the firmware starts the hypervisor on this board (tools/run/firmware.ts loads it accordingly). */
export type BootFirmware =
  /** TF-A bl1 + fip (BL31, OP-TEE as BL32, the hypervisor as BL33) as QEMU's -bios: QEMU virt. */
  | { kind: "tfa-fip" }
  /**
   * Debian's TF-A BL31 for the board at 0 (every CPU resets there in EL3, as behind the VideoCore firmware's
   * armstub=), the board's DTB at `dtb`: BL31 enters the hypervisor at its image base at EL2 with x0 = the DTB.
   */
  | { kind: "tfa-bl31"; platform: "rpi4" };

export interface Board {
  /** Short name used in file names and logs. */
  name: string;
  /** Physical CPUs the firmware supports. */
  cpuCount: number;
  /**
   * Non-secure RAM as the firmware's device tree describes it, for the tools' checks of a setup. The
   * hypervisor itself reads /memory and the reserved regions from the device tree it is handed.
   */
  ram: Range;
  /** The PL011 the hypervisor prints on, and its interrupt (INTID) for console input. */
  uart0: number;
  uart0Intid: number;
  gic: GicV3 | GicV2;
  /** Where the hypervisor maps Device memory in its own address space: the board's MMIO windows. */
  devices: Range[];
  /** Where the device tree is: QEMU virt's firmware leaves it there; on other boards the tools put it there. */
  dtb: number;
  /** RAM that belongs to nobody we may hand out: the DTB, OP-TEE's static shared memory, … */
  reserved: NamedRange[];
  hypervisor: {
    image: Range;
    bootConfig: Range;
    wasmMemory: Range;
    /**
     * Pristine copies of the guests' images (kernel, initramfs, DTB), put there once by the loader and
     * never mapped into any guest: the hypervisor copies them into a guest's RAM at every (re)start. On the
     * Raspberry Pi 4 the VideoCore firmware loads it from the SD card as one file (config.txt `initramfs`).
     */
    imageStore: Range;
  };
  /** The BCM2711's power management block, whose watchdog powers off when there is no PSCI (boot/firmware.c). */
  pmWatchdog?: number;
  /** The PL011's pins, on boards whose firmware gives them to another UART (the Pi 4: GPIO14/15, ALT0). */
  uart0Pins?: { gpio: number; pins: number[]; altFunction: number; clockHz: number };
  /** OP-TEE's asynchronous-notification interrupt (INTID), on boards whose firmware runs OP-TEE. */
  opteeNotifIntid?: number;
  firmware: BootFirmware;
  /**
   * `globals`: QEMU -global options the board needs to behave like the real one; `dtbDisable`: nodes of the
   * board's device tree QEMU does not emulate (boards whose tools hand the firmware a device tree).
   */
  qemu: { machine: string; cpu: string; memoryMiB: number; globals?: string[]; dtbDisable?: string[] };
}
