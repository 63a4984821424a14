/**
 * Page lists (OPTEE_MSG_ATTR_NONCONTIG): how the normal world hands OP-TEE a
 * buffer that is not physically contiguous. buf_ptr is the address of the
 * first list page, plus the buffer's offset in its first data page in the
 * low 12 bits. Each list page holds 511 page addresses and, in its last
 * 8 bytes, the address of the next list page.
 *
 * The mediator copies each of the guest's list pages into a pool page,
 * checks every data page against the guest's RAM and rewrites it as a
 * physical address, and links the copies with the copies' own addresses.
 * Exactly as many entries as the buffer's size needs are read, so a list
 * that loops or never ends costs no more than a well-formed one.
 */
import { guestAt } from "../../../core/guest";
import { MAX_PAGES_PER_BUFFER } from "./limits";
import { readGuest } from "./guestmem";
import { PAGE_MASK, PAGE_SIZE, poolAlloc, poolFree, poolPa, poolPageAt } from "./pool";
import { TEE_ERROR_BAD_PARAMETERS, TEE_ERROR_OUT_OF_MEMORY, TEE_SUCCESS } from "../msg";
import { LIMIT_PAGES_PER_BUFFER, LIMIT_POOL, logLimit } from "./log";

const ENTRIES_PER_LIST_PAGE: u32 = PAGE_SIZE / 8 - 1;
const NEXT_LIST_PAGE: usize = <usize>(PAGE_SIZE - 8);
/** Enough list pages for MAX_PAGES_PER_BUFFER pages, to stop any walk of our own lists. */
const MAX_LIST_PAGES: u32 = (MAX_PAGES_PER_BUFFER + ENTRIES_PER_LIST_PAGE - 1) / ENTRIES_PER_LIST_PAGE;
/** Where the guest's link to its next list page is read. */
const scratchLink = memory.data(8, 8);

/** The outcome of the last translate: TEE_SUCCESS or the TEE error the caller reports. */
export let listError: u32 = TEE_SUCCESS;
/** Data pages of the last translated buffer. */
export let listPages: u32 = 0;

/**
 * Data pages of a buffer of `size` bytes starting `offset` bytes into its
 * first page, or 0 when it is empty or larger than MAX_PAGES_PER_BUFFER.
 */
export function pagesOfBuffer(offset: u64, size: u64): u32 {
  if (size == 0 || size > <u64>MAX_PAGES_PER_BUFFER * PAGE_SIZE) return 0;
  const pages = (offset + size + PAGE_MASK) / PAGE_SIZE;
  return pages > MAX_PAGES_PER_BUFFER ? 0 : <u32>pages;
}

/**
 * Translates guest g's page list for a buffer (buf_ptr, size). Returns the
 * physical address OP-TEE gets as buf_ptr (first translated list page, same
 * offset bits), or 0 with listError set: BAD_PARAMETERS for an address that
 * is not g's RAM, OUT_OF_MEMORY for a buffer past MAX_PAGES_PER_BUFFER or
 * no pool page left. The list lives until listFree(returned address).
 */
export function listTranslate(g: u32, bufPtr: u64, size: u64): u64 {
  const offset = bufPtr & PAGE_MASK;
  listPages = 0;
  if (size == 0) return fail(TEE_ERROR_BAD_PARAMETERS, 0);
  const total = pagesOfBuffer(offset, size);
  if (total == 0) {
    logLimit(g, LIMIT_PAGES_PER_BUFFER);
    return fail(TEE_ERROR_OUT_OF_MEMORY, 0);
  }
  let listIpa = bufPtr & ~PAGE_MASK;
  let head: usize = 0, prev: usize = 0;
  let left = total;
  while (left > 0) {
    // Not cleared: the guest's page is copied over all of it and every entry is rewritten. Only the link must be
    // ours at once, so that listFree never follows what an earlier user left there if the copy fails.
    const page = poolAlloc(g, false);
    if (page == 0) {
      logLimit(g, LIMIT_POOL);
      return fail(TEE_ERROR_OUT_OF_MEMORY, head);
    }
    store<u64>(page + NEXT_LIST_PAGE, 0);
    if (prev == 0) head = page; else store<u64>(prev + NEXT_LIST_PAGE, poolPa(page));
    // Only the entries the buffer needs are read (OP-TEE reads no more), and the guest's link only when another
    // list page follows: a one-page buffer costs 8 bytes of copying, not 4 KiB.
    const here = left < ENTRIES_PER_LIST_PAGE ? left : ENTRIES_PER_LIST_PAGE;
    let nextIpa: u64 = 0;
    if (!readGuest(g, listIpa, page, here << 3) ||
        (left > here && !readGuest(g, listIpa + NEXT_LIST_PAGE, scratchLink, 8))) {
      // This page was linked already: listFree finds it through head.
      return fail(TEE_ERROR_BAD_PARAMETERS, head);
    }
    // The guest's link is read into a scratch word, never into the page: only our own links are followed (listFree).
    if (left > here) nextIpa = load<u64>(scratchLink);
    if (!translateEntries(g, page, here)) return fail(TEE_ERROR_BAD_PARAMETERS, head);
    left -= here;
    listIpa = nextIpa;
    prev = page;
  }
  listError = TEE_SUCCESS;
  listPages = total;
  return poolPa(head) | offset;
}

/**
 * Rewrites the first n entries of a copied list page as physical addresses. The rest of the page is not
 * cleared: OP-TEE reads exactly as many entries as the buffer's size needs, and the pool page is never shown
 * to a guest.
 */
function translateEntries(g: u32, page: usize, n: u32): bool {
  // The guest's RAM read once, not per entry: this loop is REGISTER_SHM's per-page cost (up to 511 a list page).
  // An entry is a page of g's RAM when its offset in the RAM, ipa - ramIpa (huge when ipa is below: unsigned),
  // is at most ramSize - PAGE_SIZE, as ipaInRam(g, ipa, PAGE_SIZE) says.
  const guest = guestAt(g);
  const ramIpa = guest.ramIpa, ramPa = guest.ramPa, ramSize = guest.ramSize;
  if (ramSize < <u64>PAGE_SIZE) return n == 0;
  const lastPage = ramSize - PAGE_SIZE;
  const end = page + (<usize>n << 3);
  for (let at = page; at < end; at += 8) {
    const ipa = load<u64>(at);
    const inRam = ipa - ramIpa;
    if ((ipa & PAGE_MASK) != 0 || inRam > lastPage) return false;
    store<u64>(at, ramPa + inRam);
  }
  return true;
}

function fail(error: u32, head: usize): u64 {
  if (head != 0) listFree(poolPa(head));
  listError = error;
  listPages = 0;
  return 0;
}

/** Gives back the pool pages of a list listTranslate returned (offset bits ignored). */
export function listFree(bufPa: u64): void {
  let page = poolPageAt(bufPa & ~PAGE_MASK);
  for (let n: u32 = 0; page != 0 && n < MAX_LIST_PAGES; n++) {
    const next = load<u64>(page + NEXT_LIST_PAGE);
    poolFree(page);
    page = poolPageAt(next);
  }
}
