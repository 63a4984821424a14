/**
 * GICv3 numbers the virtual GIC decodes and produces: register offsets and
 * fields of the distributor (GICD), the redistributor (GICR) and the list
 * registers (ICH_LR<n>_EL2). Arm IHI 0069 (GIC architecture v3/v4); the names
 * follow Linux's include/linux/irqchip/arm-gic-v3.h. No state here.
 */

// ---- Interrupt ID space -----------------------------------------------------

/** INTIDs 0..15 are SGIs, 16..31 PPIs (both per vCPU), 32.. SPIs (per guest). */
export const SGI_COUNT: u32 = 16;
export const PRIVATE_COUNT: u32 = 32;
/**
 * One past the largest INTID a guest has: 224 SPIs are plenty for the few
 * virtual devices a guest sees, and keep every table a fixed, small size.
 */
export const VGIC_MAX_INTID: u32 = 256;
/** The EL1 virtual timer's PPI (CNTV), forwarded with the LR's HW bit. */
export const VTIMER_INTID: u32 = 27;

// ---- Distributor: a 64 KiB frame --------------------------------------------

export const GICD_SIZE: u32 = 0x10000;
export const GICD_CTLR: u32 = 0x0000;
export const GICD_TYPER: u32 = 0x0004;
export const GICD_IIDR: u32 = 0x0008;
export const GICD_TYPER2: u32 = 0x000c;
export const GICD_STATUSR: u32 = 0x0010;
/** IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER: seven 0x80-byte blocks of one bit per INTID. */
export const GICD_IGROUPR: u32 = 0x0080;
export const GICD_ISENABLER: u32 = 0x0100;
export const GICD_BITS_END: u32 = 0x0400;
export const GICD_IPRIORITYR: u32 = 0x0400;
export const GICD_ITARGETSR: u32 = 0x0800;
export const GICD_ICFGR: u32 = 0x0c00;
export const GICD_IGRPMODR: u32 = 0x0d00;
export const GICD_NSACR: u32 = 0x0e00;
export const GICD_SGIR: u32 = 0x0f00;
/** End of GICD_SPENDSGIR: SGIR, CPENDSGIR and SPENDSGIR are legacy (ARE=0) registers. */
export const GICD_LEGACY_SGI_END: u32 = 0x0f30;
export const GICD_IROUTER: u32 = 0x6000;
/** IROUTER<n> exist for n < 1020. */
export const GICD_IROUTER_END: u32 = 0x6000 + 8 * 1020;
/** The identification block (PIDR4..7, PIDR0..3, CIDR0..3). */
export const ID_REGS: u32 = 0xffd0;
export const PIDR2: u32 = 0xffe8;

/** GICD_CTLR with DS=1 (one security state): the bits the guest can write. */
export const CTLR_ENABLE_GRP0: u32 = 1 << 0;
export const CTLR_ENABLE_GRP1: u32 = 1 << 1;
export const CTLR_WRITABLE: u32 = CTLR_ENABLE_GRP0 | CTLR_ENABLE_GRP1;
/** ARE and DS read as one: affinity routing always, no secure view. RWP (bit 31) reads 0: writes take effect at once. */
export const CTLR_ARE: u32 = 1 << 4;
export const CTLR_DS: u32 = 1 << 6;

/** ITLinesNumber = 7 (32 × 8 INTIDs), IDbits = 9 (10-bit INTIDs); no LPIs, MBIs, ESPIs, security extension. */
export const TYPER_VALUE: u32 = ((VGIC_MAX_INTID / 32) - 1) | (9 << 19);
/**
 * Implementer Arm (0x43b), product 0x68 ('h'), revision 0. Deliberately not
 * an IIDR on Linux's quirk list (irq-gic-v3.c gic_quirks: 0x0 is HIP07's,
 * 0x0204043b HIP06's, 0x0400043b/0x0402043b GIC-700's and T241's).
 */
export const IIDR_VALUE: u32 = 0x6800043b;
/** ArchRev 3 (bits 7:4), JEDEC-assigned (bit 3), Arm's DES_1 (bits 2:0). */
export const PIDR2_VALUE: u32 = 0x3b;

/** IROUTER: Aff2.Aff1.Aff0 and Interrupt_Routing_Mode; Aff3 is RES0 (TYPER.A3V = 0). */
export const IROUTER_WRITABLE: u64 = 0x80ffffff;
export const IROUTER_IRM: u64 = <u64>1 << 31;

// ---- Redistributor: two 64 KiB frames per vCPU ------------------------------

export const GICR_STRIDE_SHIFT: u32 = 17; // 128 KiB per vCPU
export const GICR_FRAME_MASK: u32 = 0x1ffff;
export const GICR_SGI_BASE: u32 = 0x10000;
// RD_base
export const GICR_CTLR: u32 = 0x0000;
export const GICR_IIDR: u32 = 0x0004;
export const GICR_TYPER: u32 = 0x0008;
export const GICR_STATUSR: u32 = 0x0010;
export const GICR_WAKER: u32 = 0x0014;
export const GICR_PROPBASER: u32 = 0x0070;
export const GICR_PENDBASER: u32 = 0x0078;
export const GICR_SYNCR: u32 = 0x00c0;
export const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
export const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
export const TYPER_LAST: u64 = <u64>1 << 4;
// SGI_base (offsets inside the second frame): the n = 0 registers of the GICD blocks.
export const GICR_IGROUPR0: u32 = 0x0080;
export const GICR_ICACTIVER0: u32 = 0x0380;
export const GICR_IPRIORITYR0: u32 = 0x0400;
export const GICR_IPRIORITYR_END: u32 = 0x0420;
export const GICR_ICFGR0: u32 = 0x0c00;
export const GICR_ICFGR1: u32 = 0x0c04;
export const GICR_IGRPMODR0: u32 = 0x0d00;
export const GICR_NSACR: u32 = 0x0e00;

/** The bit-per-INTID blocks, in offset order (index = (offset - 0x80) / 0x80). */
export const BLOCK_IGROUPR: u32 = 0;
export const BLOCK_ISENABLER: u32 = 1;
export const BLOCK_ICENABLER: u32 = 2;
export const BLOCK_ISPENDR: u32 = 3;
export const BLOCK_ICPENDR: u32 = 4;
export const BLOCK_ISACTIVER: u32 = 5;
export const BLOCK_ICACTIVER: u32 = 6;

/** Priorities keep their top 5 bits (32 levels, the minimum with DS=1; what KVM and QEMU's vCPU interface keep). */
export const PRIORITY_MASK: u8 = 0xf8;

// ---- List registers (ICH_LR<n>_EL2) -----------------------------------------

/** ICH_VTR_EL2.ListRegs allows at most 16. */
export const MAX_LRS: u32 = 16;
export const LR_STATE_SHIFT: u64 = 62;
export const LR_STATE_PENDING: u32 = 1;
export const LR_STATE_ACTIVE: u32 = 2;
export const LR_HW: u64 = <u64>1 << 61;
export const LR_GROUP1: u64 = <u64>1 << 60;
export const LR_PRIORITY_SHIFT: u64 = 48;
export const LR_PINTID_SHIFT: u64 = 32;
export const LR_STATE_CLEAR: u64 = 0x3fffffffffffffff;

// ---- ICC_SGI1R_EL1 ----------------------------------------------------------

export const SGI1R_INTID_SHIFT: u64 = 24;
export const SGI1R_IRM: u64 = <u64>1 << 40;
/** Aff1 (23:16), Aff2 (39:32), RS (47:44), Aff3 (55:48): all must be 0 to name one of our vCPUs. */
export const SGI1R_HIGH_AFFINITY: u64 = 0x00fff0ff00ff0000;
export const SGI1R_TARGET_LIST: u64 = 0xffff;
