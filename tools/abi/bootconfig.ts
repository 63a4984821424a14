/**
 * The boot configuration blob's layout: what tools/build/bootconfig.ts writes from a setup and the core
 * (hyp/core/bootconfig.ts) reads at boot, little endian. The one description: tools/build/abi-gen.ts writes the
 * core's hyp/gen/bootconfig.ts from it; tools/ and the fakes import it.
 *
 *   header (BOOT_CONFIG_HEADER bytes), then MAX_GUESTS guest records (GUEST_RECORD bytes each, guestCount used)
 */
import { MAX_GUESTS } from "./limits.ts";

export const BOOT_CONFIG_MAGIC = 0x43505948; // "HYPC"
export const BOOT_CONFIG_VERSION = 3;

/** Header fields: byte offsets, each a u32. */
export const BC_MAGIC_AT = 0;
export const BC_VERSION_AT = 4;
/** BOOT_FLAG_*. */
export const BC_FLAGS_AT = 8;
/** Guest records used, ≤ MAX_GUESTS. */
export const BC_GUEST_COUNT_AT = 12;
/** BOOT_FLAG_FAULT_TEST: the guest and which of its OP-TEE calls (from 1) the planted fault hits. */
export const BC_FAULT_GUEST_AT = 16;
export const BC_FAULT_CALL_AT = 20;
/**
 * BOOT_FLAG_GUARD_TEST: the guest whose first Trusted-OS call makes the core copy from another guest's RAM, and
 * the guest the core asks C to enter in EL2h after its first.
 */
export const BC_GUARD_FOREIGN_RAM_AT = 24;
export const BC_GUARD_BAD_SPSR_AT = 28;
export const BOOT_CONFIG_HEADER = 32;

/** Guest record fields: byte offsets. */
export const GR_NAME_AT = 0; // name[16], ASCII, NUL-padded
export const GR_NAME_SIZE = 16;
export const GR_RAM_PA_AT = 16; // u64
export const GR_RAM_SIZE_AT = 24; // u64
export const GR_RAM_IPA_AT = 32; // u64
export const GR_ENTRY_IPA_AT = 40; // u64
export const GR_DTB_IPA_AT = 48; // u64
export const GR_CPUS_AT = 56; // u8[8]: physical CPU of vCPU i
export const GR_VCPU_COUNT_AT = 64; // u32
export const GR_FLAGS_AT = 68; // u32 GUEST_FLAG_*
/** Images (DTB, kernel, initramfs): u64 storePa (in the image store), u32 size (0: none), u32 ramOffset. */
export const GR_IMAGES_AT = 72;
export const IMAGE_RECORD = 16;
export const IMAGE_STORE_PA_AT = 0;
export const IMAGE_SIZE_AT = 8;
export const IMAGE_RAM_OFFSET_AT = 12;
/** u32: the DTB's /chosen/hyp,boot-count cell (NO_BOOT_COUNT: none). */
export const GR_BOOT_COUNT_AT = 120;
export const GUEST_RECORD = 128;
export const NO_BOOT_COUNT = 0xffff_ffff;

export const BOOT_CONFIG_SIZE = BOOT_CONFIG_HEADER + MAX_GUESTS * GUEST_RECORD;

/** Test hook: read past the end of linear memory right after boot, to prove the sandbox traps. */
export const BOOT_FLAG_SELFTEST_OOB = 1 << 0;
/** Test only: the core traps while serving guest faultGuest's faultCall-th OP-TEE call (core/fault.ts). */
export const BOOT_FLAG_FAULT_TEST = 1 << 1;
/** Test only: the core hands C a foreign guest-RAM range and a bad SPSR, which C must refuse (core/guard-test.ts). */
export const BOOT_FLAG_GUARD_TEST = 1 << 2;

/** The guest may use OP-TEE (it gets a client id and its Trusted-OS calls are mediated). */
export const GUEST_FLAG_TEE = 1 << 0;
/** PSCI SYSTEM_RESET (a reboot) starts the guest again from its pristine images; without it the guest stays off. */
export const GUEST_FLAG_RESTART_ON_RESET = 1 << 1;
/** A fault in the core while serving the guest restarts it; without it the guest stays off. */
export const GUEST_FLAG_RESTART_ON_CRASH = 1 << 2;
