/**
 * The machine every guest sees (mirrors configs/guest-layout.ts, which
 * tools/ writes into each guest's device tree): where its devices sit in
 * its IPA space and which interrupts they use.
 */
export const GUEST_LAYOUT_GICD: u64 = 0x0800_0000;
export const GUEST_LAYOUT_GICD_SIZE: u64 = 0x1_0000;
/** GICv2 boards: the guest's CPU interface, where stage 2 maps the GIC's virtual CPU interface (GICV, 8 KiB). */
export const GUEST_LAYOUT_GICC: u64 = 0x0801_0000;
export const GUEST_LAYOUT_GICC_SIZE: u64 = 0x2000;
export const GUEST_LAYOUT_GICR: u64 = 0x080a_0000;
export const GUEST_LAYOUT_GICR_STRIDE: u32 = 0x2_0000;
export const GUEST_LAYOUT_UART: u64 = 0x0900_0000;
export const GUEST_LAYOUT_UART_SIZE: u64 = 0x1000;
/** SPI 1 as the device tree says (<0 1 4>). */
export const GUEST_UART_INTID: u32 = 33;
/** The EL1 virtual timer's PPI (11 in the device tree: INTID 27). */
export const VTIMER_INTID: u32 = 27;
/**
 * OP-TEE's notification interrupt as TEE guests see it: SPI 187, edge (<0 187 1>
 * in their device tree), the number OP-TEE itself puts in the host's tree, so
 * a guest's driver needs nothing special.
 */
export const GUEST_OPTEE_NOTIF_INTID: u32 = 219;
