/**
 * The default setup: QEMU virt with the hypervisor alone, probing OP-TEE.
 * (Guests arrive with static partitioning; each setup is one file here.)
 */
import type { Setup } from "./setup.ts";
import { qemuVirt } from "./boards/qemu-virt.ts";

const MiB = 1024 * 1024;
const CMDLINE = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init";

export const setup: Setup = {
  name: "qemu-virt",
  board: qemuVirt,
  opteeVariant: "virt",
  // Static partitioning: each guest owns its CPUs and its RAM; nothing is shared but OP-TEE.
  guests: [
    {
      name: "tee1",
      cpus: [0, 1],
      ram: { base: 0x8000_0000, size: 512 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=tee1`,
      tee: true,
    },
    {
      name: "tee2",
      cpus: [2],
      ram: { base: 0xa000_0000, size: 512 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=tee2`,
      tee: true,
    },
    {
      // No OP-TEE; its /init reads just past the end of its RAM to prove stage 2 stops it.
      name: "plain",
      cpus: [3],
      ram: { base: 0xc000_0000, size: 256 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=plain run=isolation`,
      tee: false,
    },
  ],
};
