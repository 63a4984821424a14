/**
 * The pages of hypervisor memory the mediator lends OP-TEE: shadow copies of
 * message arguments and RPC buffers, translated page lists. They live in
 * linear memory, page aligned, so OP-TEE reaches them at linearMemoryPa() +
 * offset; nothing of a guest's is ever in them except what the mediator
 * copied there after checking it.
 */
import { linearMemoryPa } from "../../../hw/imports";
import { MAX_GUESTS } from "../../../core/guest";
import { POOL_PAGES, POOL_PAGES_PER_GUEST } from "./limits";

export const PAGE_SIZE: u32 = 4096;
export const PAGE_MASK: u64 = 0xfff;

const pages = memory.data(<i32>(POOL_PAGES * PAGE_SIZE), <i32>PAGE_SIZE);
/** The guest holding each page, plus one; 0 = free. */
const holder = memory.data(<i32>POOL_PAGES);
const usedBy = memory.data(<i32>(MAX_GUESTS * 4), 4);

/**
 * A page for guest g: its linear-memory offset, or 0 when g's share or the pool is spent. Zeroed unless the
 * caller writes every byte anyone reads before anyone reads it (`clear` false): a page may hold what another
 * guest's call left in it, and clearing 4 KiB on every call was a quarter of a CALL_WITH_ARG's EL2 time.
 */
export function poolAlloc(g: u32, clear: bool = true): usize {
  const used = load<u32>(usedBy + (<usize>g << 2));
  if (used >= POOL_PAGES_PER_GUEST) return 0;
  for (let i: u32 = 0; i < POOL_PAGES; i++) {
    if (load<u8>(holder + <usize>i) != 0) continue;
    store<u8>(holder + <usize>i, <u8>(g + 1));
    store<u32>(usedBy + (<usize>g << 2), used + 1);
    const page = pages + <usize>(i * PAGE_SIZE);
    if (clear) memory.fill(page, 0, PAGE_SIZE);
    return page;
  }
  return 0;
}

/** Gives a page back (0 and pages that are not the pool's are ignored). */
export function poolFree(page: usize): void {
  if (!poolOwns(page)) return;
  const i = <u32>((page - pages) / PAGE_SIZE);
  const h = <u32>load<u8>(holder + <usize>i);
  if (h == 0) return;
  store<u8>(holder + <usize>i, 0);
  const slot = usedBy + (<usize>(h - 1) << 2);
  store<u32>(slot, load<u32>(slot) - 1);
}

/** Is `page` the start of a page of the pool? */
function poolOwns(page: usize): bool {
  return page >= pages && page < pages + <usize>(POOL_PAGES * PAGE_SIZE) && ((page - pages) & <usize>PAGE_MASK) == 0;
}

/** Where OP-TEE finds a pool page (or any linear-memory offset). */
@inline export function poolPa(offset: usize): u64 {
  return linearMemoryPa() + <u64>offset;
}

/** The pool page at physical address pa, or 0 if pa is not one (used to walk our own page lists). */
export function poolPageAt(pa: u64): usize {
  const base = linearMemoryPa();
  if (pa < base || pa - base >= 0x1_0000_0000) return 0;
  const page = <usize>(pa - base);
  return poolOwns(page) ? page : 0;
}

/** Who holds the pool page at physical address pa: guest + 1, 0 if free, -1 if pa is not a pool page. */
export function poolHolderAt(pa: u64): i32 {
  const page = poolPageAt(pa);
  if (page == 0) return -1;
  return <i32>load<u8>(holder + <usize>((page - pages) / PAGE_SIZE));
}

/** Takes back every page guest g holds, by the pool's own holder bytes (its call records may be wrong). */
export function poolDiscard(g: u32): void {
  if (g >= MAX_GUESTS) return;
  for (let i: u32 = 0; i < POOL_PAGES; i++) {
    if (<u32>load<u8>(holder + <usize>i) == g + 1) store<u8>(holder + <usize>i, 0);
  }
  store<u32>(usedBy + (<usize>g << 2), 0);
}

/** Pages guest g holds now. */
export function poolPagesOf(g: u32): u32 {
  return g < MAX_GUESTS ? load<u32>(usedBy + (<usize>g << 2)) : 0;
}
