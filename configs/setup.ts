/** The shape of a setup: one board, the firmware it runs, and the guests it partitions the board into. */
import type { Board, Range } from "./boards/board.ts";

export interface GuestConfig {
  /** Short name: the prefix of the guest's console lines ("tee1"). Letters, digits, '-', at most 15 characters. */
  name: string;
  /** Physical CPUs, one per vCPU: vCPU i runs on (and only on) cpus[i]. */
  cpus: number[];
  /** The guest's RAM in physical memory; the guest sees it at GUEST_LAYOUT.ramIpa. 2 MiB aligned. */
  ram: Range;
  /** A kernel Image: "debian" for Debian's 6.12 from the firmware cache, or a path. */
  kernel: "debian" | string;
  /** Its initramfs: "debian" for the one tools/images builds from the cache, or a path. */
  initramfs: "debian" | string;
  /** Kernel command line. Unknown key=value pairs reach the guest's /init as environment variables. */
  cmdline: string;
  /** May this guest use OP-TEE? Only such guests get an optee node and a client id. */
  tee: boolean;
  /**
   * What a reboot of the guest (PSCI SYSTEM_RESET, `reboot` in its shell) does: "restart" (the default) starts
   * it again from pristine copies of its images, its RAM cleared first; "stop" leaves it off.
   */
  onReset?: "restart" | "stop";
  /**
   * What a fault in the hypervisor's core while it serves this guest does (the guest is withdrawn from OP-TEE
   * either way, and every other guest carries on): "stop" (the default) leaves it off, "restart" starts it again.
   */
  onCrash?: "stop" | "restart";
}

export interface Setup {
  name: string;
  board: Board;
  /** Which OP-TEE build TF-A loads as BL32: Debian's virtualized one, or the plain one. */
  opteeVariant: "virt" | "native";
  guests: GuestConfig[];
}
