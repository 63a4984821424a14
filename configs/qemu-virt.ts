/**
 * The default setup: QEMU virt with the hypervisor alone, probing OP-TEE.
 * (Guests arrive with static partitioning; each setup is one file here.)
 */
import type { Setup } from "./setup.ts";
import { qemuVirt } from "./boards/qemu-virt.ts";

export const setup: Setup = {
  name: "qemu-virt",
  board: qemuVirt,
  opteeVariant: "virt",
  // Guests arrive with static partitioning (issue 4); until then the hypervisor boots alone.
  guests: [],
};
