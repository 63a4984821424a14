/**
 * What every guest sees, whatever board it runs on: a small QEMU-virt-like
 * machine. The hypervisor maps RAM through stage 2 and emulates the GIC
 * distributor (and redistributors, or the CPU interface on GICv2) and the PL011; tools/ writes the same facts
 * into each guest's device tree and places the images at these offsets.
 */
export const GUEST_LAYOUT = {
  /** Guest RAM starts here in the guest's (intermediate) physical address space. */
  ramIpa: 0x4000_0000,
  /** Offsets inside guest RAM where the loader puts each image (the DTB first: Linux wants it 8-byte aligned, ≤ 2 MiB). */
  dtbOffset: 0x0,
  dtbMaxSize: 0x20_0000,
  /** A 2 MiB-aligned place for the Image (text_offset is 0 in 6.12; its image_size is ~37 MiB). */
  kernelOffset: 0x20_0000,
  /** Well past the kernel's image_size (its .bss included). */
  initramfsOffset: 0x400_0000,
  gicd: { ipa: 0x0800_0000, size: 0x1_0000 },
  /** GICv2 boards: the CPU interface, which is the GIC's own virtual CPU interface (GICV) mapped by stage 2. */
  gicc: { ipa: 0x0801_0000, size: 0x2000 },
  /** One 128 KiB frame (RD_base + SGI_base) per vCPU, vCPU i at ipa + i * stride. */
  gicr: { ipa: 0x080a_0000, stride: 0x2_0000 },
  uart: { ipa: 0x0900_0000, size: 0x1000, spi: 1 /* INTID 33 */ },
  /**
   * TEE guests' OP-TEE node: OP-TEE's asynchronous-notification interrupt, rising edge, at OP-TEE's own
   * number (SPI 187 = INTID 219, as OP-TEE writes it into the host's tree); hyp/core/layout.ts mirrors it.
   */
  optee: { notifSpi: 187 /* INTID 219 */ },
  /** Architected timer PPIs as in QEMU's own device tree: secure, non-secure physical, virtual, hypervisor. */
  timerPpis: [13, 14, 11, 10],
  /** vCPU i has MPIDR affinity 0 = i (VMPIDR_EL2); PSCI is reached with HVC. */
  psciMethod: "hvc",
} as const;
