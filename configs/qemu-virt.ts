/**
 * The default setup: QEMU virt with the hypervisor alone, probing OP-TEE.
 * (Guests arrive with static partitioning; each setup is one file here.)
 */
import type { Setup } from "./setup.ts";
import { qemuVirt } from "./boards/qemu-virt.ts";

const MiB = 1024 * 1024;
/**
 * earlycon stays on: it prints from the kernel's first instructions (a guest that dies before its PL011 driver
 * probes still says why), and under the hypervisor it costs no more than the driver does: its FR polls read the
 * UART's register page without a trap (hyp/vdev/pl011-page.ts), and the characters it writes are not written
 * again when ttyAMA0 takes over. Measured (issue 13, -icount, tee1 to /init alone, median of 3): 1.423 G
 * instructions with it, 1.432 G without; 16.6k PL011 traps either way. Drop it here to boot without.
 */
const CMDLINE = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init";
/**
 * What each guest's /init does (tools/images/initramfs.ts): the TEE guests run a short xtest selection at the
 * same time (`make xtest` runs the whole suite instead); plain reads past its RAM and checks it has no TEE.
 */
const TEE_DEMO = "run=teecheck,xtest xtest=-t,regression,1001,1004,4001,6001";
const PLAIN_DEMO = "run=isolation,teecheck";

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
      cmdline: `${CMDLINE} guest=tee1 ${TEE_DEMO}`,
      tee: true,
    },
    {
      name: "tee2",
      cpus: [2],
      ram: { base: 0xa000_0000, size: 512 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=tee2 ${TEE_DEMO}`,
      tee: true,
    },
    {
      // No OP-TEE; its /init reads just past the end of its RAM to prove stage 2 stops it, and finds no /dev/tee0.
      name: "plain",
      cpus: [3],
      ram: { base: 0xc000_0000, size: 256 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=plain ${PLAIN_DEMO}`,
      tee: false,
    },
  ],
};
