/**
 * GICv2 distributor numbers the GICv2 front end decodes (Arm IHI 0048B,
 * 4.3 "Distributor register descriptions"; the names follow Linux's
 * include/linux/irqchip/arm-gic.h). The per-interrupt blocks sit at the
 * offsets GICv3 inherited, so regs.ts's BLOCK_* and GICD_* serve both. No state.
 */
import { VGIC_MAX_INTID } from "../regs";

/** GICv2's distributor is 4 KiB; the guest's window is GUEST_LAYOUT's 64 KiB, the rest reserved. */
export const GICD_V2_SIZE: u32 = 0x1000;
export const GICD_ITARGETSR_END: u32 = 0x0c00;
export const GICD_SGIR: u32 = 0x0f00;
export const GICD_CPENDSGIR: u32 = 0x0f10;
export const GICD_SPENDSGIR_END: u32 = 0x0f30;
export const GICD_ID_REGS: u32 = 0x0fd0;
export const GICD_PIDR2: u32 = 0x0fe8;

/** GICD_CTLR of a distributor without the security extensions: one enable. */
export const CTLR_ENABLE: u32 = 1 << 0;

/** ITLinesNumber (bits 4:0): 32 × (n + 1) INTIDs; CPUNumber (bits 7:5): vCPUs - 1; no security extensions. */
export function typerValue(vcpuCount: u32): u32 {
  return ((VGIC_MAX_INTID / 32) - 1) | ((vcpuCount - 1) << 5);
}
/** Implementer Arm (0x43b), ProductID 0x02 (as KVM's GICv2 model says), revision 0. */
export const IIDR_V2_VALUE: u32 = 0x0200043b;
/** ArchRev 2 (bits 7:4), JEDEC-assigned (bit 3), Arm's DES_1 (bits 2:0). */
export const PIDR2_V2_VALUE: u32 = 0x2b;

// GICD_SGIR: TargetListFilter (25:24), CPUTargetList (23:16), SGIINTID (3:0).
export const SGIR_FILTER_SHIFT: u32 = 24;
export const SGIR_FILTER_LIST: u32 = 0;
export const SGIR_FILTER_OTHERS: u32 = 1;
export const SGIR_FILTER_SELF: u32 = 2;
export const SGIR_TARGETS_SHIFT: u32 = 16;
export const SGIR_INTID_MASK: u32 = 0xf;
