/**
 * Everything a guest can make the mediator hold, and how much of it. Past a
 * limit the guest gets the answer OP-TEE itself gives when it runs out of the
 * same thing, and the hypervisor says so once (see log.ts).
 *
 * The state these limits bound is small (records of a few words) except the
 * pages of hypervisor memory the mediator lends OP-TEE: shadow copies of
 * message arguments and RPC buffers, and translated page lists. Those come
 * from one pool (pool.ts), and each guest may use at most its share of it, so
 * that no guest can starve another.
 */

/**
 * Std calls one guest may have open at once (in OP-TEE, or suspended in an
 * RPC). Each occupies one of OP-TEE's threads for that guest, and Debian's
 * build has 2 per guest; the rest is headroom for calls that arrive while all
 * threads are busy and that OP-TEE will turn away itself. Past it the guest
 * gets OPTEE_SMC_RETURN_ETHREAD_LIMIT, as from OP-TEE with every thread busy:
 * Linux waits for a call to finish and retries.
 */
export const MAX_CALLS_PER_GUEST: u32 = 8;

/**
 * Buffers one guest may have registered with OP-TEE at once, both by
 * REGISTER_SHM and by answering an RPC SHM_ALLOC. Linux registers every
 * tee_shm a client allocates or registers; xtest's busiest case (1013: two
 * dozen TA instances at once, each with a few buffers) stays well below.
 * Past it: TEE_ERROR_OUT_OF_MEMORY, as when OP-TEE cannot allocate the mobj.
 */
export const MAX_SHM_BUFFERS_PER_GUEST: u32 = 256;

/**
 * Pages in one buffer. The largest xtest hands over is a TA of about 1.2 MB
 * (regression_1034: 284 pages, through RPC SHM_ALLOC); 4096 pages (16 MiB)
 * leave room for real TAs and big crypto buffers, and bound the translated
 * page list to 9 pages of the pool. Past it: TEE_ERROR_OUT_OF_MEMORY.
 */
export const MAX_PAGES_PER_BUFFER: u32 = 4096;

/**
 * Pages one guest may have registered in all. Holding a page costs the
 * hypervisor nothing but this count; the bound keeps a guest from pinning
 * more of itself in OP-TEE than OP-TEE could map (its per-guest share of
 * mapping space is far smaller than 128 MiB). Past it: TEE_ERROR_OUT_OF_MEMORY.
 */
export const MAX_SHM_PAGES_PER_GUEST: u32 = 32768;

/**
 * RPC argument buffers one guest may have lent OP-TEE (RPC_ALLOC). OP-TEE
 * keeps one per thread while the SHM cache is on (2 threads per guest), and
 * one per call while it is off; 8 covers MAX_CALLS_PER_GUEST's live calls.
 * Past it the mediator answers the RPC_ALLOC as a normal world out of memory
 * does (address 0), and OP-TEE fails the call with TEE_ERROR_OUT_OF_MEMORY.
 */
export const MAX_RPC_BUFFERS_PER_GUEST: u32 = 8;

/**
 * Translated page lists one call may need at once: a client call has at most
 * 4 TEE parameters plus 2 meta parameters (OPEN_SESSION's UUID and login).
 */
export const MAX_LISTS_PER_CALL: u32 = 6;

/** Pages of hypervisor memory the mediator lends OP-TEE, for all guests (2 MiB). */
export const POOL_PAGES: u32 = 512;

/**
 * One guest's share of the pool, the bound that holds when the limits above
 * would allow more (8 calls × (1 argument + 6 lists of 9 pages) + 8 RPC
 * buffers = 448 pages). xtest needs a few dozen at most; 200 each leaves two
 * TEE guests room that neither can take from the other. Past it: the error of
 * whatever needed the page (ETHREAD_LIMIT for a call, OUT_OF_MEMORY for a list,
 * "no memory" for an RPC buffer).
 */
export const POOL_PAGES_PER_GUEST: u32 = 200;

/**
 * Asynchronous notification values the hypervisor keeps per guest (0..127,
 * one bit each, notif.ts). OP-TEE 4.5 sends values 0..63
 * (NOTIF_ASYNC_VALUE_MAX) and announces 64 + threads (66 in Debian's build)
 * as its largest; 128 leaves room for a build with more threads. A value
 * past it is dropped (said once): no guest could have asked to wait for it.
 */
export const NOTIF_VALUE_COUNT: u32 = 128;

/**
 * GET_ASYNC_NOTIF_VALUE calls the hypervisor makes for one guest on one
 * notification interrupt, when OP-TEE did not announce its largest value.
 * Each call consumes one value and OP-TEE holds at most one of each, so
 * max value + 1 calls empty a guest's set (drain.ts uses the announced
 * value when there is one); a secure world that keeps saying PENDING past
 * that is not allowed to keep a CPU in the drain.
 */
export const NOTIF_READS_DEFAULT: u32 = 64;
