/**
 * Limits the core, C and tools share. The one description: tools/build/abi-gen.ts writes them into boot's
 * abi.h and the core's hyp/gen/limits.ts; tools/ and the fakes import them.
 */

/** Physical CPUs: QEMU virt with Debian's OP-TEE supports 4 cores; 8 leaves room for other boards. */
export const MAX_CPUS = 8;
/** Guests of one boot: each has its own CPUs, so no more than the CPUs OP-TEE's QEMU build knows. */
export const MAX_GUESTS = 4;
/** vCPUs of one guest (one physical CPU each). */
export const MAX_VCPUS = 8;
/** "No guest" wherever a guest number is kept in a byte or u32 (the frame's serving, a CPU's guest). */
export const NO_GUEST = 0xff;
/** Images of a guest record, in the order the hypervisor copies them: DTB, kernel, initramfs. */
export const IMAGE_SLOT_NAMES = ["dtb", "kernel", "initramfs"] as const;
export const IMAGE_SLOTS = IMAGE_SLOT_NAMES.length;
