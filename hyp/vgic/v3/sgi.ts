/**
 * SGIs a vCPU sends by writing ICC_SGI1R_EL1, which traps to EL2
 * (HCR_EL2.IMO). Our vCPUs' affinities are 0.0.0.index, so a target list
 * names vCPUs directly when Aff3, Aff2, Aff1 and RS are all 0; a write aimed
 * elsewhere reaches nobody, as on hardware. GICv3 keeps no per-source state
 * for SGIs: one pending bit per SGI per target.
 */
import { sgiSend } from "../deliver";
import { SGI1R_HIGH_AFFINITY, SGI1R_INTID_SHIFT, SGI1R_IRM, SGI1R_TARGET_LIST } from "../regs";
import { vcpuCount, vcpuLive } from "../state";

/**
 * Emulates vCPU `v` of guest `g` writing `sgi1r` to ICC_SGI1R_EL1: INTID in
 * bits 27:24, to every other vCPU if IRM (bit 40) is set, else to the
 * TargetList (bits 15:0). Returns the physical CPUs to kick: those of the
 * targets on which the SGI is enabled (the sender's own CPU included when
 * it targets itself).
 */
export function vgicSgi(g: u32, v: u32, sgi1r: u64): u32 {
  if (!vcpuLive(g, v)) return 0;
  const all: u32 = (1 << vcpuCount(g)) - 1;
  let targets: u32 = 0;
  if ((sgi1r & SGI1R_IRM) != 0) targets = all & ~(<u32>1 << v);
  else if ((sgi1r & SGI1R_HIGH_AFFINITY) == 0) targets = <u32>(sgi1r & SGI1R_TARGET_LIST) & all;
  return sgiSend(g, targets, <u32>(sgi1r >> SGI1R_INTID_SHIFT) & 0xf);
}
