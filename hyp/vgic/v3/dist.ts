/**
 * The virtual distributor (GICD, 64 KiB at the guest's 0x08000000): the
 * emulation of one trapped access, decoded from a stage-2 data abort.
 *
 * The guest sees a GICv3 with one security state (GICD_CTLR.DS = 1) and
 * affinity routing always on (ARE RAO/WI, no GICv2 mode), 256 INTIDs, no LPIs,
 * MBIs or extended SPIs. Registers are 32-bit, except IPRIORITYR (bytes too)
 * and IROUTER (64-bit, or either 32-bit half).
 *
 * RAZ/WI without a word: the SGI/PPI parts of the per-interrupt registers
 * (they live in the redistributors when ARE = 1), registers past INTID 255,
 * GICD_STATUSR, TYPER2, IGRPMODR (everything is Group 1), NSACR, ITARGETSR,
 * the legacy SGI registers and the ID registers other than PIDR2. Anything
 * else, and any access of the wrong size or alignment, is RAZ/WI with a
 * rationed log line (warn.ts). Nothing here can fault or abort.
 */
import { aligned, bitsRead, bitsWrite, configRead, configWrite, priorityRead, priorityWrite } from "../iregs";
import { deliverable, irqRoute } from "../irq";
import * as R from "../regs";
import { distEnablesWrite } from "../deliver";
import { addKick, distCtlr, irqAt, irqTarget, route, vcpuLive } from "../state";
import { warnAccess } from "../warn";

/**
 * Emulates a guest access of `size` bytes (1, 2, 4 or 8) at `offset` in the
 * distributor by vCPU `v` of guest `g`. Returns the value read, 0 for writes
 * and for anything ignored.
 */
export function vgicDistAccess(g: u32, v: u32, offset: u32, size: u32, isWrite: bool, value: u64): u64 {
  if (!vcpuLive(g, v)) return 0;
  if (!aligned(offset, size) || offset >= R.GICD_SIZE) return ignored(g, offset, size, isWrite);
  if (offset >= R.GICD_IROUTER && offset < R.GICD_IROUTER_END) return irouter(g, offset, size, isWrite, value);
  if (offset >= R.GICD_IPRIORITYR && offset < R.GICD_ITARGETSR && (size == 1 || size == 4)) {
    return priority(g, offset - R.GICD_IPRIORITYR, size, isWrite, <u32>value);
  }
  if (size == 1 && quiet(offset)) return 0; // ITARGETSR and the SGI pending registers are byte-accessible
  if (size != 4) return ignored(g, offset, size, isWrite);
  return word(g, offset, isWrite, <u32>value);
}

function ignored(g: u32, offset: u32, size: u32, isWrite: bool): u64 {
  warnAccess(g, "GICD", offset, size, isWrite);
  return 0;
}

/** Reserved or unimplemented-by-design registers that are RAZ/WI without a log line. */
function quiet(offset: u32): bool {
  return (offset >= R.GICD_ITARGETSR && offset < R.GICD_ICFGR) ||
    (offset >= R.GICD_IGRPMODR && offset < R.GICD_IGRPMODR + 0x80) ||
    (offset >= R.GICD_NSACR && offset < R.GICD_LEGACY_SGI_END) ||
    offset >= R.ID_REGS;
}

function word(g: u32, offset: u32, isWrite: bool, w: u32): u64 {
  if (offset < R.GICD_IGROUPR) return control(g, offset, isWrite, w);
  if (offset < R.GICD_BITS_END) return bits(g, offset, isWrite, w);
  if (offset >= R.GICD_ICFGR && offset < R.GICD_IGRPMODR) return config(g, offset, isWrite, w);
  if (offset == R.PIDR2) return isWrite ? 0 : R.PIDR2_VALUE;
  if (quiet(offset)) return 0;
  return ignored(g, offset, 4, isWrite);
}

function control(g: u32, offset: u32, isWrite: bool, w: u32): u64 {
  switch (offset) {
    case R.GICD_CTLR: {
      if (!isWrite) return distCtlr(g) | R.CTLR_ARE | R.CTLR_DS;
      distEnablesWrite(g, w); // RWP reads 0: the write takes effect at once
      return 0;
    }
    case R.GICD_TYPER: return isWrite ? 0 : R.TYPER_VALUE;
    case R.GICD_IIDR: return isWrite ? 0 : R.IIDR_VALUE;
    case R.GICD_TYPER2:
    case R.GICD_STATUSR:
      return 0;
    default:
      return ignored(g, offset, 4, isWrite);
  }
}

/** The bit-per-INTID blocks: register n covers INTIDs 32n..32n+31; n = 0 is the redistributors'. */
function bits(g: u32, offset: u32, isWrite: bool, w: u32): u64 {
  const block = (offset - R.GICD_IGROUPR) >> 7;
  const first = ((offset & 0x7f) >> 2) << 5;
  if (first == 0 || first >= R.VGIC_MAX_INTID) return 0;
  if (!isWrite) return bitsRead(g, 0, block, first);
  bitsWrite(g, 0, block, first, w);
  return 0;
}

/** IPRIORITYR bytes from INTID `first`; the SGI/PPI bytes (first < 32) are the redistributors'. */
function priority(g: u32, first: u32, size: u32, isWrite: bool, w: u32): u64 {
  if (first < R.PRIVATE_COUNT || first + size > R.VGIC_MAX_INTID) return 0;
  if (!isWrite) return priorityRead(g, 0, first, size);
  priorityWrite(g, 0, first, size, w);
  return 0;
}

/** ICFGR<n> covers INTIDs 16n..16n+15; n = 0, 1 are the redistributors'. */
function config(g: u32, offset: u32, isWrite: bool, w: u32): u64 {
  const first = (offset - R.GICD_ICFGR) << 2;
  if (first < R.PRIVATE_COUNT || first >= R.VGIC_MAX_INTID) return 0;
  if (!isWrite) return configRead(g, 0, first);
  configWrite(g, 0, first, w);
  return 0;
}

/** IROUTER<n>, n = SPI INTID: 64-bit, or either 32-bit half. */
function irouter(g: u32, offset: u32, size: u32, isWrite: bool, value: u64): u64 {
  if (size != 8 && size != 4) return ignored(g, offset, size, isWrite);
  const intid = (offset - R.GICD_IROUTER) >> 3;
  if (intid < R.PRIVATE_COUNT || intid >= R.VGIC_MAX_INTID) return 0;
  const shift: u64 = (offset & 4) != 0 ? 32 : 0;
  const old = route(g, intid);
  if (!isWrite) return size == 8 ? old : (old >> shift) & 0xffffffff;
  if (size == 8) irqRoute(g, intid, value);
  else irqRoute(g, intid, (old & ~(<u64>0xffffffff << shift)) | ((value & 0xffffffff) << shift));
  const r = irqAt(g, 0, intid);
  if (deliverable(r)) addKick(g, irqTarget(r)); // its new vCPU may be running elsewhere
  return 0;
}
