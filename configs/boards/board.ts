/** The shape of a board description: the facts the hypervisor and the tools need about one machine. */

export interface Range {
  base: number;
  size: number;
}

export interface NamedRange extends Range {
  name: string;
}

export interface Board {
  /** Short name used in file names and logs. */
  name: string;
  /** Physical CPUs the firmware supports. */
  cpuCount: number;
  /** Non-secure RAM as the firmware's device tree describes it. */
  ram: Range;
  /** The PL011 the hypervisor prints on. */
  uart0: number;
  gic: { version: 2 | 3; distributor: number; redistributors: number; redistributorStride: number };
  /** Where the firmware leaves the device tree. */
  dtb: number;
  /** RAM that belongs to nobody we may hand out: the DTB, OP-TEE's static shared memory, … */
  reserved: NamedRange[];
  hypervisor: {
    image: Range;
    bootConfig: Range;
    wasmMemory: Range;
    /**
     * Pristine copies of the guests' images (kernel, initramfs, DTB), put there once by the loader and
     * never mapped into any guest: the hypervisor copies them into a guest's RAM at every (re)start.
     */
    imageStore: Range;
  };
  qemu: { machine: string; cpu: string; memoryMiB: number };
}
