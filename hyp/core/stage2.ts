/**
 * Stage-2 translation tables: each guest's IPA space → its own RAM, nothing
 * else but, on a GICv2 board, the GIC's virtual CPU interface (GICV) at the
 * guest's GICC address, which the guest drives itself, and its UART's
 * register page, read-only (vdev/pl011-page.ts), while no read of it has a
 * side effect. The other devices the guest sees (GIC distributor and
 * redistributors) are deliberately unmapped: every access to them faults
 * into the hypervisor, which emulates them, and any other address outside RAM
 * faults too and is refused. The UART page is the only read-only page of any
 * guest: a stage-2 permission fault is always a write to it (trap/mmio.ts).
 *
 * Format (VTCR_GUEST in arch/el2.ts): 4 KiB granule, walk from level 1, one
 * level-1 entry per GiB pointing to a level-2 table of 2 MiB blocks, and a
 * level-3 table of 4 KiB pages where a device window needs one. Tables live
 * in a pool in linear memory; the hardware walks them at
 * linearMemoryPa() + offset.
 */
import { linearMemoryPa } from "../hw/imports";
import { guestAt } from "./guest";
import { GUEST_LAYOUT_GICC, GUEST_LAYOUT_GICC_SIZE, GUEST_LAYOUT_UART } from "./layout";
import { gicIsV2, platform } from "./platform";

const PAGE: u32 = 4096;
const ENTRIES: u32 = 512;
/**
 * 1 level-1 table per guest + 1 level-2 table per GiB of RAM, + a level-2 table for the first GiB's devices, a
 * level-3 table for the UART's page and, on GICv2 boards, one for GICV: 4 guests of up to 2 GiB fit either way.
 */
const POOL_PAGES: u32 = 24;
const pool = memory.data(<i32>(POOL_PAGES * PAGE), <i32>PAGE);
let poolUsed: u32 = 0;

const BLOCK_2M: u64 = 1 << 21;
const DESC_VALID: u64 = 1;
const DESC_TABLE: u64 = 3; // valid + table (levels 0-2)
const DESC_BLOCK: u64 = 1; // valid + block
const S2_MEMATTR_NORMAL_WB: u64 = 0xf << 2; // outer and inner write-back
const S2_AP_RW: u64 = 3 << 6;
const S2_AP_RO: u64 = 1 << 6;
const S2_SH_INNER: u64 = 3 << 8;
const S2_AF: u64 = 1 << 10;
const S2_MEMATTR_DEVICE_NGNRE: u64 = 0x1 << 2;
const S2_XN: u64 = <u64>1 << 54;
const DESC_PAGE: u64 = 3; // valid + page (level 3)
const PAGE_4K: u64 = 4096;
const ADDR_MASK: u64 = 0x0000_ffff_ffff_f000;

/** The attributes of a guest RAM block: normal write-back memory, read/write, executable. */
export const S2_RAM_BLOCK: u64 = DESC_BLOCK | S2_MEMATTR_NORMAL_WB | S2_AP_RW | S2_SH_INNER | S2_AF;

function allocTable(): usize {
  if (poolUsed == POOL_PAGES) return 0;
  const table = pool + <usize>(poolUsed * PAGE);
  poolUsed++;
  memory.fill(table, 0, PAGE);
  return table;
}

@inline function paOf(table: usize): u64 {
  return linearMemoryPa() + <u64>table;
}

/** Linear-memory address of a table the hardware knows by PA; 0 if the PA is not in the pool. */
function tableAt(pa: u64): usize {
  const base = linearMemoryPa() + <u64>pool;
  if (pa < base || pa >= base + <u64>(POOL_PAGES * PAGE)) return 0;
  return <usize>(pa - linearMemoryPa());
}

/**
 * Builds guest g's tables mapping its RAM (2 MiB aligned, checked by the
 * caller) and returns the level-1 table's PA, or 0 when the pool is full.
 */
export function stage2Build(g: u32): u64 {
  const guest = guestAt(g);
  const l1 = allocTable();
  if (l1 == 0) return 0;
  for (let off: u64 = 0; off < guest.ramSize; off += BLOCK_2M) {
    const ipa = guest.ramIpa + off;
    const l1Slot = l1 + <usize>((ipa >> 30) << 3);
    let l2 = tableAt(load<u64>(l1Slot) & ADDR_MASK);
    if (l2 == 0) {
      l2 = allocTable();
      if (l2 == 0) return 0;
      store<u64>(l1Slot, paOf(l2) | DESC_TABLE);
    }
    store<u64>(l2 + <usize>(((ipa >> 21) & <u64>(ENTRIES - 1)) << 3), (guest.ramPa + off) | S2_RAM_BLOCK);
  }
  if (gicIsV2() && !mapDevicePages(l1, GUEST_LAYOUT_GICC, platform.gicvPa, GUEST_LAYOUT_GICC_SIZE)) return 0;
  if (pageTableFor(l1, GUEST_LAYOUT_UART) == 0) return 0; // its slot, filled by stage2SetReadOnlyPage
  return paOf(l1);
}

/** The level-3 table that holds `ipa`'s page, made (with its level-2 table) if absent; 0 when the pool is full. */
function pageTableFor(l1: usize, ipa: u64): usize {
  const l2 = nextTable(l1 + <usize>((ipa >> 30) << 3));
  if (l2 == 0) return 0;
  return nextTable(l2 + <usize>(((ipa >> 21) & <u64>(ENTRIES - 1)) << 3));
}

/** The existing level-3 slot of `ipa` in the tables at `rootPa`, or 0 when there is none (no walk allocates). */
function pageSlot(rootPa: u64, ipa: u64): usize {
  const l1 = tableAt(rootPa);
  if (l1 == 0) return 0;
  const d1 = load<u64>(l1 + <usize>((ipa >> 30) << 3));
  const l2 = (d1 & 3) == DESC_TABLE ? tableAt(d1 & ADDR_MASK) : 0;
  if (l2 == 0) return 0;
  const d2 = load<u64>(l2 + <usize>(((ipa >> 21) & <u64>(ENTRIES - 1)) << 3));
  const l3 = (d2 & 3) == DESC_TABLE ? tableAt(d2 & ADDR_MASK) : 0;
  if (l3 == 0) return 0;
  return l3 + <usize>(((ipa >> 12) & <u64>(ENTRIES - 1)) << 3);
}

/**
 * Maps the page at `ipa` (one stage2Build made a slot for) read-only onto the hypervisor's page at `pa`, as
 * Device-nGnRE, never executable; `pa` 0 unmaps it. Unmapping needs the caller's TLB invalidation; mapping
 * does not (no TLB holds an invalid entry). False when the tables have no slot for `ipa`.
 */
export function stage2SetReadOnlyPage(rootPa: u64, ipa: u64, pa: u64): bool {
  const slot = pageSlot(rootPa, ipa);
  if (slot == 0) return false;
  store<u64>(slot, pa == 0 ? 0 : (pa & ADDR_MASK) | DESC_PAGE | S2_MEMATTR_DEVICE_NGNRE | S2_AP_RO | S2_AF | S2_XN);
  return true;
}

/** The next-level table behind `slot`, made if absent; 0 when the pool is full or the slot maps a block. */
function nextTable(slot: usize): usize {
  const d = load<u64>(slot);
  if ((d & DESC_VALID) != 0) return (d & 3) == DESC_TABLE ? tableAt(d & ADDR_MASK) : 0;
  const t = allocTable();
  if (t != 0) store<u64>(slot, paOf(t) | DESC_TABLE);
  return t;
}

/**
 * Maps [ipa, ipa + size) to [pa, …) as 4 KiB pages of Device-nGnRE, read/write, never executable: a device
 * the guest drives directly. `ipa`, `pa` and `size` are page aligned, inside one 2 MiB block not used by RAM.
 */
function mapDevicePages(l1: usize, ipa: u64, pa: u64, size: u64): bool {
  if (pa == 0 || ((ipa | pa | size) & (PAGE_4K - 1)) != 0) return false;
  const l3 = pageTableFor(l1, ipa);
  if (l3 == 0) return false;
  for (let off: u64 = 0; off < size; off += PAGE_4K) {
    const index = ((ipa + off) >> 12) & <u64>(ENTRIES - 1);
    store<u64>(l3 + <usize>(index << 3), (pa + off) | DESC_PAGE | S2_MEMATTR_DEVICE_NGNRE | S2_AP_RW | S2_AF | S2_XN);
  }
  return true;
}

/** Walks the tables at `rootPa` like the hardware would: the PA of `ipa`, or -1 if unmapped. */
export function stage2Translate(rootPa: u64, ipa: u64): u64 {
  if (ipa >= (<u64>1 << 32)) return <u64>-1;
  const l1 = tableAt(rootPa);
  if (l1 == 0) return <u64>-1;
  const d1 = load<u64>(l1 + <usize>((ipa >> 30) << 3));
  if ((d1 & DESC_VALID) == 0) return <u64>-1;
  if ((d1 & 3) != DESC_TABLE) return (d1 & ADDR_MASK & ~((<u64>1 << 30) - 1)) | (ipa & ((<u64>1 << 30) - 1));
  const l2 = tableAt(d1 & ADDR_MASK);
  if (l2 == 0) return <u64>-1;
  const d2 = load<u64>(l2 + <usize>(((ipa >> 21) & 511) << 3));
  if ((d2 & DESC_VALID) == 0) return <u64>-1;
  if ((d2 & 3) == DESC_BLOCK) return (d2 & ADDR_MASK & ~(BLOCK_2M - 1)) | (ipa & (BLOCK_2M - 1));
  const l3 = tableAt(d2 & ADDR_MASK);
  if (l3 == 0) return <u64>-1;
  const d3 = load<u64>(l3 + <usize>(((ipa >> 12) & 511) << 3));
  if ((d3 & 3) != DESC_PAGE) return <u64>-1;
  return (d3 & ADDR_MASK) | (ipa & (PAGE_4K - 1));
}

/** Forgets every table (tests; a reboot of the whole partition table). */
export function stage2Reset(): void {
  poolUsed = 0;
}
