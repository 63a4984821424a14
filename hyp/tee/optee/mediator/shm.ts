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
  addPages(g, -<i32>r.pages);
  addRecords(g, -1);
  r.state = FREE;
  r.kind = 0;
  r.pages = 0;
  r.cookie = 0;
}

/** The held buffer of this kind with this cookie, or SHM_NONE. */
export function shmFind(g: u32, kind: u32, cookie: u64): i32 {
  for (let i: u32 = 0; i < MAX_SHM_BUFFERS_PER_GUEST; i++) {
    const r = at(g, i);
    if (r.state == HELD && r.kind == kind && r.cookie == cookie) return <i32>i;
  }
  return SHM_NONE;
}

/** Whether guest g has a buffer of this kind named `cookie` held or on its way. */
export function shmCookieLive(g: u32, kind: u32, cookie: u64): bool {
  for (let i: u32 = 0; i < MAX_SHM_BUFFERS_PER_GUEST; i++) {
    const r = at(g, i);
    if (r.state != FREE && r.kind == kind && r.cookie == cookie) return true;
  }
  return false;
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
  store<u32>(pagesHeld + (<usize>g << 2), 0);
  store<u32>(recordsUsed + (<usize>g << 2), 0);
}
