/**
 * The virtual GICv2 distributor (GICD at the guest's 0x08000000): the
 * emulation of one trapped access, decoded from a stage-2 data abort. The
 * guest's CPU interface is not emulated: it is the GIC-400's virtual CPU
 * interface (GICV), mapped at the guest's GICC address by stage 2.
 *
 * The guest sees a GICv2 without the security extensions, 256 INTIDs and
 * one CPU interface per vCPU (CPU interface n = vCPU n). Every interrupt is
 * Group 0 (what Linux's GICv2 driver enables in its CPU interface), so
 * IGROUPR is RAZ/WI. The per-interrupt registers are the model's
 * (iregs.ts), with the SGI/PPI parts banked: register 0 of each block, and
 * the first 32 bytes of IPRIORITYR and ITARGETSR, are the accessing vCPU's.
 * ITARGETSR of an SPI names one vCPU: the lowest bit written that names a
 * vCPU (or vCPU 0), and reads back as that bit; of an SGI/PPI it reads the
 * vCPU's own bit. GICD_SGIR sends SGIs (deliver.ts); CPENDSGIR/SPENDSGIR
 * are RAZ/WI. Registers are 32-bit, except IPRIORITYR and ITARGETSR (bytes
 * too). Anything else, or a wrong size or alignment: RAZ/WI with a rationed
 * log line (warn.ts). Nothing here can fault or abort.
 */
import { distEnablesWrite, sgiSend } from "../deliver";
import { aligned, bitsRead, bitsWrite, configRead, configWrite, priorityRead, priorityWrite } from "../iregs";
import { deliverable, irqRoute } from "../irq";
import * as R from "../regs";
import * as V2 from "./regs";
import { addKick, addKickCpus, distCtlr, irqAt, irqTarget, vcpuCount, vcpuLive } from "../state";
import { warnAccess } from "../warn";

/**
 * Emulates a guest access of `size` bytes at `offset` in the GICv2
 * distributor by vCPU `v` of guest `g`. Returns the value read, 0 for writes
 * and for anything ignored.
 */
export function vgicDistV2Access(g: u32, v: u32, offset: u32, size: u32, isWrite: bool, value: u64): u64 {
  if (!vcpuLive(g, v)) return 0;
  if (!aligned(offset, size) || size == 8 || offset >= V2.GICD_V2_SIZE) return ignored(g, offset, size, isWrite);
  const w = <u32>value;
  if (offset >= R.GICD_IPRIORITYR && offset < R.GICD_ITARGETSR && (size == 1 || size == 4)) {
    const first = offset - R.GICD_IPRIORITYR;
    if (!isWrite) return priorityRead(g, v, first, size);
    priorityWrite(g, v, first, size, w);
    return 0;
  }
  if (offset >= R.GICD_ITARGETSR && offset < V2.GICD_ITARGETSR_END && (size == 1 || size == 4)) {
    return targets(g, v, offset - R.GICD_ITARGETSR, size, isWrite, w);
  }
  if (size != 4) return ignored(g, offset, size, isWrite);
  return word(g, v, offset, isWrite, w);
}

function ignored(g: u32, offset: u32, size: u32, isWrite: bool): u64 {
  warnAccess(g, "GICD", offset, size, isWrite);
  return 0;
}

function word(g: u32, v: u32, offset: u32, isWrite: bool, w: u32): u64 {
  switch (offset) {
    case R.GICD_CTLR: {
      if (!isWrite) return (distCtlr(g) & R.CTLR_ENABLE_GRP1) != 0 ? V2.CTLR_ENABLE : 0;
      distEnablesWrite(g, (w & V2.CTLR_ENABLE) != 0 ? R.CTLR_ENABLE_GRP1 : 0);
      return 0;
    }
    case R.GICD_TYPER: return isWrite ? 0 : V2.typerValue(vcpuCount(g));
    case R.GICD_IIDR: return isWrite ? 0 : V2.IIDR_V2_VALUE;
    case V2.GICD_SGIR: {
      if (isWrite) sgir(g, v, w);
      return 0;
    }
    case V2.GICD_PIDR2: return isWrite ? 0 : V2.PIDR2_V2_VALUE;
    default: break;
  }
  if (offset >= R.GICD_IGROUPR && offset < R.GICD_ISENABLER) return 0; // IGROUPR: Group 0, RAZ/WI
  if (offset >= R.GICD_ISENABLER && offset < R.GICD_BITS_END) return bits(g, v, offset, isWrite, w);
  if (offset >= R.GICD_ICFGR && offset < R.GICD_ICFGR + (R.VGIC_MAX_INTID >> 2)) return config(g, v, offset, isWrite, w);
  if ((offset >= V2.GICD_CPENDSGIR && offset < V2.GICD_SPENDSGIR_END) || offset >= V2.GICD_ID_REGS) return 0;
  if (offset >= R.GICD_ICFGR && offset < R.GICD_ICFGR + 0x100) return 0; // ICFGR past our INTIDs
  return ignored(g, offset, 4, isWrite);
}

/** The bit-per-INTID blocks: register n covers INTIDs 32n..32n+31; n = 0 is the accessing vCPU's. */
function bits(g: u32, v: u32, offset: u32, isWrite: bool, w: u32): u64 {
  const block = (offset - R.GICD_IGROUPR) >> 7;
  const first = ((offset & 0x7f) >> 2) << 5;
  if (first >= R.VGIC_MAX_INTID) return 0;
  if (!isWrite) return bitsRead(g, v, block, first);
  bitsWrite(g, v, block, first, w);
  return 0;
}

/** ICFGR<n> covers INTIDs 16n..16n+15; n = 0 (SGIs, always edge) is read-only, n = 1 the vCPU's PPIs. */
function config(g: u32, v: u32, offset: u32, isWrite: bool, w: u32): u64 {
  const first = (offset - R.GICD_ICFGR) << 2;
  if (!isWrite) return configRead(g, v, first);
  configWrite(g, v, first, w);
  return 0;
}

/** ITARGETSR bytes from INTID `first`: one vCPU bit per byte. */
function targets(g: u32, v: u32, first: u32, size: u32, isWrite: bool, w: u32): u64 {
  if (first + size > R.VGIC_MAX_INTID) return 0;
  let value: u32 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const intid = first + i;
    if (intid < R.PRIVATE_COUNT) {
      value |= (<u32>1 << v) << (i << 3); // read-only: the accessing vCPU's own interrupts
    } else if (isWrite) {
      routeSpi(g, intid, (w >> (i << 3)) & 0xff);
    } else {
      value |= (<u32>1 << irqTarget(irqAt(g, 0, intid))) << (i << 3);
    }
  }
  return isWrite ? 0 : value;
}

/** An SPI's CPU targets byte: the lowest vCPU it names; one that names none of ours routes to vCPU 0. */
function routeSpi(g: u32, intid: u32, byte: u32): void {
  const ours = byte & ((<u32>1 << vcpuCount(g)) - 1);
  irqRoute(g, intid, ours != 0 ? <u64>ctz<u32>(ours) : 0);
  const r = irqAt(g, 0, intid);
  if (deliverable(r)) addKick(g, irqTarget(r)); // its new vCPU may be running elsewhere
}

/** GICD_SGIR: SGI SGIINTID to the CPUTargetList, to every other vCPU, or to the sender itself. */
function sgir(g: u32, v: u32, w: u32): void {
  const all: u32 = (1 << vcpuCount(g)) - 1;
  const filter = (w >> V2.SGIR_FILTER_SHIFT) & 3;
  let targets: u32 = 0;
  if (filter == V2.SGIR_FILTER_LIST) targets = (w >> V2.SGIR_TARGETS_SHIFT) & 0xff & all;
  else if (filter == V2.SGIR_FILTER_OTHERS) targets = all & ~(<u32>1 << v);
  else if (filter == V2.SGIR_FILTER_SELF) targets = <u32>1 << v;
  // The CPUs to kick go out with the others the caller takes after the access (vgicTakeKicks).
  addKickCpus(g, sgiSend(g, targets, w & V2.SGIR_INTID_MASK));
}
