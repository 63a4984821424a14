/**
 * The virtual redistributors (GICR): one 128 KiB pair of frames per vCPU,
 * vCPU i's at 0x20000 * i in the guest's GICR region (0x080a0000 on QEMU
 * virt), RD_base then SGI_base. Any vCPU may access any redistributor.
 *
 * RD_base: CTLR (0: no LPIs, RWP reads 0), IIDR, TYPER (Aff0 = processor
 * number = vCPU index, Last on the last vCPU, no LPIs, 16 PPIs), WAKER
 * (ProcessorSleep writable, ChildrenAsleep follows it at once: Linux polls
 * it), PIDR2. SGI_base: the n = 0 registers of the per-interrupt blocks,
 * IPRIORITYR0..7 (bytes too), ICFGR0 (read-only, all edge) and ICFGR1.
 *
 * RAZ/WI without a word: STATUSR, SYNCR, PROPBASER/PENDBASER (no LPIs),
 * IGRPMODR0, NSACR, the ID registers other than PIDR2. Anything else, a frame
 * with no vCPU behind it, or a wrong size or alignment: RAZ/WI with a rationed
 * log line (warn.ts).
 */
import { aligned, bitsRead, bitsWrite, configRead, configWrite, priorityRead, priorityWrite } from "../iregs";
import * as R from "../regs";
import { setWaker, vcpuCount, vcpuLive, waker } from "../state";
import { warnAccess } from "../warn";

/**
 * Emulates an access by vCPU `v` of guest `g` at `offset` from the start of
 * the guest's whole GICR region; offset / 128 KiB picks the redistributor.
 * Returns the value read, 0 for writes and for anything ignored.
 */
export function vgicRedistAccess(g: u32, v: u32, offset: u32, size: u32, isWrite: bool, value: u64): u64 {
  if (!vcpuLive(g, v)) return 0;
  const target = offset >> R.GICR_STRIDE_SHIFT;
  if (!aligned(offset, size) || target >= vcpuCount(g)) return ignored(g, offset, size, isWrite);
  const off = offset & R.GICR_FRAME_MASK;
  if (off >= R.GICR_SGI_BASE) return sgiFrame(g, target, off - R.GICR_SGI_BASE, size, isWrite, value, offset);
  return rdFrame(g, target, off, size, isWrite, value, offset);
}

function ignored(g: u32, offset: u32, size: u32, isWrite: bool): u64 {
  warnAccess(g, "GICR", offset, size, isWrite);
  return 0;
}

/** GICR_TYPER of redistributor `t`. */
function typer(g: u32, t: u32): u64 {
  let value = (<u64>t << 32) | (<u64>t << 8);
  if (t == vcpuCount(g) - 1) value |= R.TYPER_LAST;
  return value;
}

function rdFrame(g: u32, t: u32, off: u32, size: u32, isWrite: bool, value: u64, at: u32): u64 {
  // The 64-bit registers, which may also be read as two 32-bit halves.
  if ((off & ~4) == R.GICR_TYPER && size >= 4) {
    if (isWrite) return 0;
    const full = typer(g, t);
    return size == 8 ? full : (full >> (<u64>(off & 4) << 3)) & 0xffffffff;
  }
  if ((off & ~0xf) == R.GICR_PROPBASER && size >= 4) return 0;
  if (size != 4) return ignored(g, at, size, isWrite);
  switch (off) {
    case R.GICR_CTLR:
    case R.GICR_STATUSR:
    case R.GICR_SYNCR:
      return 0;
    case R.GICR_IIDR: return isWrite ? 0 : R.IIDR_VALUE;
    case R.GICR_WAKER: {
      if (isWrite) {
        setWaker(g, t, <u32>value & R.WAKER_PROCESSOR_SLEEP);
        return 0;
      }
      const sleep = waker(g, t);
      return sleep | (sleep != 0 ? R.WAKER_CHILDREN_ASLEEP : 0);
    }
    case R.PIDR2: return isWrite ? 0 : R.PIDR2_VALUE;
    default:
      if (off >= R.ID_REGS) return 0;
      return ignored(g, at, size, isWrite);
  }
}

function sgiFrame(g: u32, t: u32, off: u32, size: u32, isWrite: bool, value: u64, at: u32): u64 {
  const w = <u32>value;
  if (off >= R.GICR_IPRIORITYR0 && off < R.GICR_IPRIORITYR_END && (size == 1 || size == 4)) {
    if (!isWrite) return priorityRead(g, t, off - R.GICR_IPRIORITYR0, size);
    priorityWrite(g, t, off - R.GICR_IPRIORITYR0, size, w);
    return 0;
  }
  if (size != 4) return ignored(g, at, size, isWrite);
  if (off >= R.GICR_IGROUPR0 && off <= R.GICR_ICACTIVER0 && (off & 0x7f) == 0) {
    const block = (off - R.GICR_IGROUPR0) >> 7;
    if (!isWrite) return bitsRead(g, t, block, 0);
    bitsWrite(g, t, block, 0, w);
    return 0;
  }
  if (off == R.GICR_ICFGR0 || off == R.GICR_ICFGR1) {
    const first = (off - R.GICR_ICFGR0) << 2;
    if (!isWrite) return configRead(g, t, first);
    configWrite(g, t, first, w);
    return 0;
  }
  if (off == R.GICR_IGRPMODR0 || off == R.GICR_NSACR || off >= R.ID_REGS) return 0;
  return ignored(g, at, size, isWrite);
}
