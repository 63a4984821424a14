/**
 * The platform record C hands the core at boot (the platformInfoCopy import): the GIC it drives and what the
 * firmware's device tree said, little endian. The one description: C's struct platform_info
 * (boot/include/platform.h) is checked against these offsets at compile time, the core's reader
 * (hyp/core/platform.ts) uses hyp/gen/platform.ts, written from it by tools/build/abi-gen.ts, and the fakes
 * import it.
 */
export const PLATFORM_INFO_VERSION = 1;
export const PLATFORM_INFO_SIZE = 104;
/** RAM ranges the record carries (the first ones of the device tree's /memory). */
export const PLATFORM_MAX_RAM = 4;
/** A well-formed device tree was found. */
export const PLATFORM_FLAG_DEVICE_TREE = 1 << 0;
/** The firmware answers SMCs (a /psci node). */
export const PLATFORM_FLAG_PSCI = 1 << 1;

/** Field offsets (u32 unless said). */
export const PI_VERSION_AT = 0;
/** 2 or 3. */
export const PI_GIC_VERSION_AT = 4;
/** How many list registers the vGIC may fill. */
export const PI_LIST_REGISTERS_AT = 8;
/** The console UART's interrupt. */
export const PI_CONSOLE_INTID_AT = 12;
/** u64: GICv2's virtual CPU interface, mapped at the guest's GICC; 0 on GICv3. */
export const PI_GICV_PA_AT = 16;
/** PLATFORM_FLAG_*. */
export const PI_FLAGS_AT = 24;
export const PI_RAM_COUNT_AT = 28;
/** PLATFORM_MAX_RAM × { u64 base, u64 size }. */
export const PI_RAM_AT = 32;
export const PI_RAM_RECORD = 16;
export const PI_RESERVED_COUNT_AT = 96;
/**
 * How many CPUs the board has (0: not said): the boot CPU starts every one of them, so that those no guest uses
 * wait in the hypervisor (parked, WFI) rather than spin in the firmware's holding pen.
 */
export const PI_CPU_COUNT_AT = 100;
