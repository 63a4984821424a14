/**
 * The per-interrupt registers, which the distributor (SPIs) and each
 * redistributor's SGI_base frame (SGIs and PPIs) share — and, on GICv2, the
 * distributor alone, its SGI/PPI parts banked per vCPU: the bit-per-INTID
 * blocks (IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER), IPRIORITYR and
 * ICFGR. The caller has decoded which INTIDs a register covers and checked
 * that they exist; `v` picks whose SGIs/PPIs (ignored for SPIs).
 *
 * What the guest reads is the union of the record and of its LR copy, minus
 * what the guest cleared since (see irq.ts). Every interrupt is Group 1:
 * IGROUPR reads as all ones and ignores writes.
 */
import {
  BLOCK_ICACTIVER, BLOCK_ICENABLER, BLOCK_ICPENDR, BLOCK_IGROUPR, BLOCK_ISACTIVER, BLOCK_ISENABLER, BLOCK_ISPENDR,
  PRIORITY_MASK, SGI_COUNT,
} from "./regs";
import {
  IRQ_ACTIVE, IRQ_EDGE, IRQ_ENABLED, IRQ_LR_ACTIVE, IRQ_LR_PENDING, IRQ_PENDING, REQ_CLEAR_ACTIVE, REQ_CLEAR_PENDING,
  addKick, irqAt, irqFlags, irqPriority, irqReq, irqTarget, setIrqFlags, setIrqPriority,
} from "./state";
import {
  deliverable, irqClearActive, irqClearPending, irqDisable, irqEnable, irqSetActive, irqSetPending,
} from "./irq";

/** A register access naturally aligned and of a size the bus can produce: what every front end accepts first. */
export function aligned(offset: u32, size: u32): bool {
  return (size == 1 || size == 2 || size == 4 || size == 8) && (offset & (size - 1)) == 0;
}

/** Bit `block` (BLOCK_*) of one interrupt, as the guest reads it. */
function stateBit(r: usize, block: u32): bool {
  const f = irqFlags(r), req = irqReq(r);
  switch (block) {
    case BLOCK_ISENABLER:
    case BLOCK_ICENABLER:
      return (f & IRQ_ENABLED) != 0;
    case BLOCK_ISPENDR:
    case BLOCK_ICPENDR:
      return (f & IRQ_PENDING) != 0 || ((f & IRQ_LR_PENDING) != 0 && (req & REQ_CLEAR_PENDING) == 0);
    case BLOCK_ISACTIVER:
    case BLOCK_ICACTIVER:
      return (f & IRQ_ACTIVE) != 0 || ((f & IRQ_LR_ACTIVE) != 0 && (req & REQ_CLEAR_ACTIVE) == 0);
    default:
      return true; // IGROUPR: Group 1
  }
}

/** The 32-bit register of `block` covering INTIDs first..first+31. */
export function bitsRead(g: u32, v: u32, block: u32, first: u32): u32 {
  if (block == BLOCK_IGROUPR) return 0xffffffff;
  let value: u32 = 0;
  for (let i: u32 = 0; i < 32; i++) {
    if (stateBit(irqAt(g, v, first + i), block)) value |= (<u32>1) << i;
  }
  return value;
}

/**
 * Writes ones to the register of `block` covering first..first+31. An
 * interrupt that becomes deliverable adds its target's CPU to the guest's
 * kicks, so a vCPU running elsewhere hears of it (vgicTakeKicks).
 */
export function bitsWrite(g: u32, v: u32, block: u32, first: u32, value: u32): void {
  if (block == BLOCK_IGROUPR) return;
  let bits = value;
  while (bits != 0) {
    const intid = first + ctz<u32>(bits);
    bits &= bits - 1;
    const r = irqAt(g, v, intid);
    switch (block) {
      case BLOCK_ISENABLER: irqEnable(g, r, intid); break;
      case BLOCK_ICENABLER: irqDisable(g, r, intid); break;
      case BLOCK_ISPENDR: irqSetPending(g, r, intid); break;
      case BLOCK_ICPENDR: irqClearPending(g, r, intid); break;
      case BLOCK_ISACTIVER: irqSetActive(g, r, intid); break;
      case BLOCK_ICACTIVER: irqClearActive(g, r, intid); break;
      default: break;
    }
    if ((block == BLOCK_ISENABLER || block == BLOCK_ISPENDR) && deliverable(r)) addKick(g, irqTarget(r));
  }
}

/** `size` (1 or 4) bytes of IPRIORITYR from INTID `first`, lowest INTID in the lowest byte. */
export function priorityRead(g: u32, v: u32, first: u32, size: u32): u32 {
  let value: u32 = 0;
  for (let i: u32 = 0; i < size; i++) value |= (<u32>irqPriority(irqAt(g, v, first + i))) << (i << 3);
  return value;
}

/**
 * A new priority applies from the next time the interrupt enters an LR; one
 * already in an LR keeps the priority it was delivered with.
 */
export function priorityWrite(g: u32, v: u32, first: u32, size: u32, value: u32): void {
  for (let i: u32 = 0; i < size; i++) {
    setIrqPriority(irqAt(g, v, first + i), (<u8>(value >> (i << 3))) & PRIORITY_MASK);
  }
}

/** ICFGR covering INTIDs first..first+15, two bits each: 0b10 edge, 0b00 level. */
export function configRead(g: u32, v: u32, first: u32): u32 {
  let value: u32 = 0;
  for (let i: u32 = 0; i < 16; i++) {
    if ((irqFlags(irqAt(g, v, first + i)) & IRQ_EDGE) != 0) value |= (<u32>2) << (i << 1);
  }
  return value;
}

/**
 * Keeps what the guest configured, so that it reads back (Linux checks, and
 * warns about PPIs that do not change). Delivery does not depend on it: only
 * vgicSetLevel makes an interrupt level-sensitive. SGIs stay edge.
 */
export function configWrite(g: u32, v: u32, first: u32, value: u32): void {
  if (first < SGI_COUNT) return;
  for (let i: u32 = 0; i < 16; i++) {
    const r = irqAt(g, v, first + i);
    const edge = ((value >> ((i << 1) + 1)) & 1) != 0;
    setIrqFlags(r, edge ? irqFlags(r) | IRQ_EDGE : irqFlags(r) & ~IRQ_EDGE);
  }
}
