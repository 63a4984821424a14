/**
 * The virtual PL011's register page: one 4 KiB page of hypervisor memory per
 * guest, holding the image of its UART's registers (vdev/pl011.ts keeps it
 * current), which stage 2 maps read-only at the UART's IPA while no read has
 * a side effect. Reads then cost no trap: earlycon polls FR before and after
 * every character (two traps of its three), Linux's driver once per character,
 * and its interrupt handler reads RIS/MIS. Writes still fault, as stage-2
 * permission faults with a valid ISS (Arm ARM D24.2.41, ESR_EL2.ISV: set for
 * stage-2 aborts on single-register loads and stores whatever the fault;
 * KVM's read-only memory slots rely on the same), and are emulated as before. While input waits in the receive FIFO, a DR read
 * pops it: the page is unmapped and every access traps until the FIFO is
 * empty again.
 *
 * The guest reads the page through its Device mapping, which bypasses the
 * caches the core writes through: every change is cleaned to the point of
 * coherency (cacheClean). On QEMU (no caches modelled) that costs nothing.
 */
import { cacheClean, linearMemoryPa, stage2Invalidate } from "../hw/imports";
import { guestAt, MAX_GUESTS } from "../core/guest";
import { GUEST_LAYOUT_UART } from "../core/layout";
import { stage2SetReadOnlyPage } from "../core/stage2";

const PAGE: u32 = 4096;
const VTTBR_BADDR: u64 = 0x0000_ffff_ffff_fffe;
const pages = memory.data(<i32>(MAX_GUESTS * PAGE), <i32>PAGE);

/** Where guest g's register image is, in linear memory (a whole page: nothing else lives in it). */
@inline export function registerPage(g: u32): usize {
  return pages + <usize>(g * PAGE);
}

/** Makes [offset, offset + len) of guest g's image visible to the guest's uncached reads. */
export function registerPagePublish(g: u32, offset: u32, len: u32): void {
  cacheClean(registerPage(g) + <usize>offset, len);
}

/**
 * Maps guest g's register page read-only at its UART's IPA (`readable`) or unmaps it, so that every access
 * traps. Unmapping completes before this returns (the TLBs of every CPU forget the page): after it, no read
 * of the guest can miss a side effect. Nothing happens for a guest without stage-2 tables.
 */
export function registerPageMap(g: u32, readable: bool): void {
  const root = guestAt(g).vttbr & VTTBR_BADDR;
  if (root == 0) return;
  const pa = readable ? linearMemoryPa() + <u64>registerPage(g) : 0;
  if (stage2SetReadOnlyPage(root, GUEST_LAYOUT_UART, pa) && !readable) stage2Invalidate(g + 1); // VMID g + 1 (core/boot.ts)
}
