/**
 * The hardware boundary: every function the core imports from its host.
 *
 * This is the only file in hyp/ that declares an @external. On the board the
 * imports are implemented in boot/glue.c (each a few lines that range-check
 * every pointer against linear memory); in Node, test/fakes/hw.ts implements
 * the same names. Pointers are offsets into the core's linear memory.
 *
 * What is deliberately *not* here: the SMC itself. A call into OP-TEE can run
 * for seconds, and the core never blocks, so the core asks the C run loop for
 * an SMC by returning ACTION_SMC (see core/action.ts) and gets the result back
 * through the smcReturned export.
 */

/** Prints `len` bytes of ASCII at `ptr` on the hypervisor console (UART0). */
@external("hw", "consoleWrite")
export declare function consoleWrite(ptr: usize, len: u32): void;

/**
 * Copies the boot configuration blob (written by tools/ from configs/, placed
 * in RAM by the loader) into linear memory at `dst`, at most `max` bytes.
 * Returns the number of bytes copied: 0 when no blob is present.
 */
@external("hw", "bootConfigCopy")
export declare function bootConfigCopy(dst: usize, max: u32): u32;

/**
 * Reports a broken invariant inside the core (an AssemblyScript abort) and
 * stops the calling CPU. `msg` and `file` are AssemblyScript strings (UTF-16,
 * byte length at ptr - 4) or 0. Guest input never leads here.
 */
@external("hw", "panic")
export declare function panic(msg: usize, file: usize, line: u32, col: u32): void;

/** Physical address of linear-memory offset 0: tables the hardware walks (stage 2) live in linear memory. */
@external("hw", "linearMemoryPa")
export declare function linearMemoryPa(): u64;

/** Physical address where a CPU started with PSCI CPU_ON enters the hypervisor. */
@external("hw", "cpuEntryPa")
export declare function cpuEntryPa(): u64;

/** Interrupts physical CPU `cpu` (a physical SGI), so it notices new work for its vCPU. */
@external("hw", "kickCpu")
export declare function kickCpu(cpu: u32): void;

/**
 * Makes the vCPU running on the calling CPU (`cpu`, checked by C) take a
 * synchronous exception at EL1: ESR_EL1 = esr, FAR_EL1 = far, and it resumes
 * at its vector table. The frame's pc and pstate are updated.
 */
@external("hw", "injectException")
export declare function injectException(cpu: u32, esr: u64, far: u64): void;

/** Ends a physical interrupt the core took and did not hand to a guest as a hardware interrupt. */
@external("hw", "gicDeactivate")
export declare function gicDeactivate(intid: u32): void;

/** Invalidates stage-2 TLB entries of a VMID (before a guest's tables are reused). */
@external("hw", "stage2Invalidate")
export declare function stage2Invalidate(vmid: u32): void;

/**
 * Cleans linear memory [ptr, ptr + len) to the point of coherency. A guest reads its UART's register page
 * (vdev/pl011-page.ts) through a Device mapping, which does not look in the caches the core wrote through.
 */
@external("hw", "cacheClean")
export declare function cacheClean(ptr: usize, len: u32): void;

/** The next byte typed on the hypervisor console (UART0), or -1 when none is waiting. */
@external("hw", "consoleRead")
export declare function consoleRead(): i32;

/**
 * Masks (0) or unmasks (1) the console UART's receive interrupt: input is
 * paused while the guest that has the console has no room for it, and waits
 * in the UART (and behind it) instead of being dropped.
 */
@external("hw", "consoleInputEnable")
export declare function consoleInputEnable(on: u32): void;

/**
 * Copies `len` bytes of guest RAM at physical address `pa` into linear memory
 * at `dst`. The core has already checked that the range is the calling
 * guest's own RAM; C checks again that it lies in the RAM of the guest the
 * calling CPU runs (as declared by guestDeclare). Returns 1 when copied. A
 * refusal is a fault of the core: while it serves a guest, that guest is
 * stopped (guestFault) and the call does not return; otherwise it returns 0.
 */
@external("hw", "guestRamRead")
export declare function guestRamRead(pa: u64, dst: usize, len: u32): u32;

/** Copies `len` bytes from linear memory at `src` to guest RAM at `pa`; checked like guestRamRead. */
@external("hw", "guestRamWrite")
export declare function guestRamWrite(pa: u64, src: usize, len: u32): u32;

/**
 * Nanoseconds on the generic timer (CNTPCT_EL0 scaled by CNTFRQ_EL0): the same clock on every CPU. Only for
 * figures the hypervisor reports (notification latency); nothing it decides depends on time.
 */
@external("hw", "timeNs")
export declare function timeNs(): u64;

/**
 * Declares guest g's RAM and physical CPUs (`cpus`, one bit per CPU) to C (boot/guests.c), which keeps its own
 * table: C refuses RAM outside the board's or overlapping the hypervisor's regions or another guest's, and a CPU
 * another guest has. From then on guestRamRead/guestRamWrite on a CPU reach only the RAM of the guest it runs.
 * Returns 1 when accepted. Only before the first ACTION_LOAD_GUEST; declaring g again forgets its images.
 */
@external("hw", "guestDeclare")
export declare function guestDeclare(g: u32, ramPa: u64, ramSize: u64, cpus: u32): u32;

/**
 * Declares guest g's stage-2 translation (VTTBR_EL2: VMID and root table) to C, the only one C will load for
 * it: before every entry C checks that the frame names this one and loads its own copy. C refuses tables
 * outside linear memory, VMID 0 or another guest's VMID, and an undeclared guest. Returns 1 when accepted.
 * Only before the first ACTION_LOAD_GUEST.
 */
@external("hw", "guestStage2Declare")
export declare function guestStage2Declare(g: u32, vttbr: u64): u32;

/**
 * Declares image `slot` of guest g: `size` bytes at `storePa` in the image store, copied to its RAM at
 * `ramOffset` on every start (ACTION_LOAD_GUEST). C refuses a source outside the store or a destination
 * outside the guest's declared RAM. Returns 1 when accepted.
 */
@external("hw", "guestImageDeclare")
export declare function guestImageDeclare(g: u32, slot: u32, storePa: u64, size: u32, ramOffset: u32): u32;

/**
 * Copies the platform record (layout in core/platform.ts; boot/include/platform.h) into linear memory at
 * `dst`, at most `max` bytes: which GIC the board has, how many list registers, the GICv2 virtual CPU
 * interface, the console's interrupt, and the RAM the firmware's device tree describes. Returns the bytes
 * copied (0 when `dst` is outside linear memory).
 */
@external("hw", "platformInfoCopy")
export declare function platformInfoCopy(dst: usize, max: u32): u32;
