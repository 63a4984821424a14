/**
 * The buffers each guest has lent OP-TEE for longer than one call: by
 * REGISTER_SHM, or by answering OP-TEE's RPC SHM_ALLOC. A buffer is held
 * from the moment the mediator forwards its page list until OP-TEE has let
 * it go (UNREGISTER_SHM succeeded, RPC SHM_FREE, or the guest is destroyed),
 * and counts against the guest's limits all that time. Cookies are the
 * guest's own (Linux uses the tee_shm's address); they are only compared.
 *
 * A cookie names at most one live buffer of each kind of a guest: OP-TEE keeps
 * both kinds in one list per guest (mobj_dyn_shm.c reg_shm_list, banked per
 * partition with CFG_NS_VIRTUALIZATION) and accepts a duplicate, after which a
 * cookie no longer says which buffer UNREGISTER_SHM or SHM_FREE means — to
 * OP-TEE or to these records. One of each kind is Linux's own way: a
 * tee-supplicant buffer is registered (REGISTER_SHM) and then lent by an
 * SHM_ALLOC reply under the same cookie, its tee_shm's address.
 */
import { MAX_GUESTS } from "../../../core/guest";
import { MAX_SHM_BUFFERS_PER_GUEST, MAX_SHM_PAGES_PER_GUEST } from "./limits";

const FREE: u32 = 0;
/** Its page list is on its way to OP-TEE; it becomes HELD if OP-TEE accepts it. */
const PENDING: u32 = 1;
const HELD: u32 = 2;

/** How the buffer was lent: each is let go only the same way (a cookie names one of each kind at most). */
export const SHM_REGISTERED: u32 = 1; // REGISTER_SHM, until UNREGISTER_SHM
export const SHM_RPC: u32 = 2; // an answer to RPC SHM_ALLOC, until RPC SHM_FREE

@unmanaged class Shm {
  cookie: u64;
  pages: u32;
  state: u32;
  kind: u32;
}

const RECORD: u32 = offsetof<Shm>();
const records = memory.data(<i32>(MAX_GUESTS * MAX_SHM_BUFFERS_PER_GUEST * RECORD), 8);
const pagesHeld = memory.data(<i32>(MAX_GUESTS * 4), 4);
/** Records not FREE per guest, kept as they change: the call path asks for it on every registration. */
const recordsUsed = memory.data(<i32>(MAX_GUESTS * 4), 4);

export const SHM_NONE: i32 = -1;
/** Why the last shmReserve failed: true = too many buffers, false = too many pages. */
export let shmLimitWasCount = false;

@inline function at(g: u32, i: u32): Shm {
  return changetype<Shm>(records + <usize>((g * MAX_SHM_BUFFERS_PER_GUEST + i) * RECORD));
}

/*
 * Each guest's live records by cookie: open addressing with linear probing, twice as many slots as records (so a
 * probe stays short), each slot the record's number + 1 (0: empty). Without it REGISTER_SHM's check that its cookie
 * is not live, a temporary memref's, and UNREGISTER_SHM's lookup each read all 256 records (~1,800 instructions).
 * A record is in the index from shmReserve to shmRelease, under the cookie it was reserved with.
 */
const INDEX_SLOTS: u32 = MAX_SHM_BUFFERS_PER_GUEST * 2;
const INDEX_MASK: u32 = INDEX_SLOTS - 1;
const index = memory.data(<i32>(MAX_GUESTS * INDEX_SLOTS * 2), 2);

@inline function slotAt(g: u32, s: u32): usize {
  return index + (<usize>(g * INDEX_SLOTS + s) << 1);
}

/** Where a cookie's probe starts. Linux's cookies are kernel addresses (aligned, alike in their top bits): mixed. */
function home(cookie: u64): u32 {
  return <u32>((cookie * 0x9e3779b97f4a7c15) >> 54) & INDEX_MASK;
}

function indexAdd(g: u32, i: u32, cookie: u64): void {
  let s = home(cookie);
  while (load<u16>(slotAt(g, s)) != 0) s = (s + 1) & INDEX_MASK; // never full: twice the records
  store<u16>(slotAt(g, s), <u16>(i + 1));
}

/** Takes record i out (by backward shift: every other record stays reachable from its home without tombstones). */
function indexRemove(g: u32, i: u32, cookie: u64): void {
  let hole = home(cookie);
  for (let n: u32 = 0; ; n++) {
    if (n >= INDEX_SLOTS) return;
    const v = <u32>load<u16>(slotAt(g, hole));
    if (v == 0) return;
    if (v == i + 1) break;
    hole = (hole + 1) & INDEX_MASK;
  }
  let j = hole;
  for (;;) {
    j = (j + 1) & INDEX_MASK;
    const v = <u32>load<u16>(slotAt(g, j));
    if (v == 0) break;
    // The entry at j may fill the hole only if its probe passes the hole on its way from home to j.
    const h = home(at(g, v - 1).cookie);
    if (((j - h) & INDEX_MASK) >= ((j - hole) & INDEX_MASK)) {
      store<u16>(slotAt(g, hole), <u16>v);
      hole = j;
    }
  }
  store<u16>(slotAt(g, hole), 0);
}

/** The first live record (state != FREE, and HELD when `heldOnly`) of this kind and cookie, or SHM_NONE. */
function indexFind(g: u32, kind: u32, cookie: u64, heldOnly: bool): i32 {
  let s = home(cookie);
  for (let n: u32 = 0; n < INDEX_SLOTS; n++) {
    const v = <u32>load<u16>(slotAt(g, s));
    if (v == 0) break;
    const r = at(g, v - 1);
    if (r.cookie == cookie && r.kind == kind && (heldOnly ? r.state == HELD : r.state != FREE)) return <i32>(v - 1);
    s = (s + 1) & INDEX_MASK;
  }
  return SHM_NONE;
}

export function shmPagesHeld(g: u32): u32 {
  return load<u32>(pagesHeld + (<usize>g << 2));
}

function addPages(g: u32, delta: i32): void {
  store<u32>(pagesHeld + (<usize>g << 2), <u32>(<i32>shmPagesHeld(g) + delta));
}

function addRecords(g: u32, delta: i32): void {
  store<u32>(recordsUsed + (<usize>g << 2), <u32>(<i32>shmCount(g) + delta));
}

/** Reserves a record for a buffer of `pages` pages; SHM_NONE past a limit (see shmLimitWasCount). */
export function shmReserve(g: u32, kind: u32, cookie: u64, pages: u32): i32 {
  if (shmPagesHeld(g) + pages > MAX_SHM_PAGES_PER_GUEST) {
    shmLimitWasCount = false;
    return SHM_NONE;
  }
  for (let i: u32 = 0; i < MAX_SHM_BUFFERS_PER_GUEST; i++) {
    const r = at(g, i);
    if (r.state != FREE) continue;
    r.state = PENDING;
    r.kind = kind;
    r.cookie = cookie;
    r.pages = pages;
    addPages(g, <i32>pages);
    addRecords(g, 1);
    indexAdd(g, i, cookie);
    return <i32>i;
  }
  shmLimitWasCount = true;
  return SHM_NONE;
}

/** OP-TEE accepted the buffer. */
export function shmConfirm(g: u32, i: i32): void {
  if (i >= 0 && <u32>i < MAX_SHM_BUFFERS_PER_GUEST && at(g, <u32>i).state == PENDING) at(g, <u32>i).state = HELD;
}

/** OP-TEE let the buffer go (or never took it). */
export function shmRelease(g: u32, i: i32): void {
  if (i < 0 || <u32>i >= MAX_SHM_BUFFERS_PER_GUEST) return;
  const r = at(g, <u32>i);
  if (r.state == FREE) return;
  indexRemove(g, <u32>i, r.cookie);
  addPages(g, -<i32>r.pages);
  addRecords(g, -1);
  r.state = FREE;
  r.kind = 0;
  r.pages = 0;
  r.cookie = 0;
}

/** The held buffer of this kind with this cookie, or SHM_NONE. */
export function shmFind(g: u32, kind: u32, cookie: u64): i32 {
  return indexFind(g, kind, cookie, true);
}

/** Whether guest g has a buffer of this kind named `cookie` held or on its way. */
export function shmCookieLive(g: u32, kind: u32, cookie: u64): bool {
  return indexFind(g, kind, cookie, false) != SHM_NONE;
}

/** Buffers guest g holds (held or on their way). */
export function shmCount(g: u32): u32 {
  return load<u32>(recordsUsed + (<usize>g << 2));
}

/** Guest g is gone: OP-TEE dropped everything it held for it (VM_DESTROYED). */
export function shmReleaseAll(g: u32): void {
  for (let i: u32 = 0; i < MAX_SHM_BUFFERS_PER_GUEST; i++) shmRelease(g, <i32>i);
}

/** Forgets guest g's buffers without reading them (after a fault; OP-TEE dropped them at VM_DESTROYED). */
export function shmDiscardAll(g: u32): void {
  if (g >= MAX_GUESTS) return;
  memory.fill(changetype<usize>(at(g, 0)), 0, MAX_SHM_BUFFERS_PER_GUEST * RECORD);
  memory.fill(slotAt(g, 0), 0, INDEX_SLOTS * 2);
  store<u32>(pagesHeld + (<usize>g << 2), 0);
  store<u32>(recordsUsed + (<usize>g << 2), 0);
}
