/**
 * The Raspberry Pi 4 setup: three Debian 6.12 guests side by side behind Debian's TF-A, no TEE (Debian ships
 * no OP-TEE for the board: the hypervisor's probe says so and carries on). The same guests as on QEMU virt —
 * RAM at the same IPA, the same virtual PL011, PSCI, the virtual timer — with a GICv2, as the board's GIC-400
 * dictates. `make run SETUP=rpi4` boots it on QEMU raspi4b; `make sdcard SETUP=rpi4` puts it on an SD card.
 */
import type { Setup } from "./setup.ts";
import { rpi4 } from "./boards/rpi4.ts";

const MiB = 1024 * 1024;
/** earlycon stays on: its polls cost no trap (configs/qemu-virt.ts says why and what it was measured at). */
const CMDLINE = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init";

export const setup: Setup = {
  name: "rpi4",
  board: rpi4,
  opteeVariant: "native", // unused: no guest has TEE access and the board has no OP-TEE
  // Static partitioning of the 960 MiB QEMU's raspi4b describes: each guest owns its CPUs and its RAM. Below
  // 0x0a000000: TF-A, the hypervisor, the board's DTB, the image store, and where QEMU's -kernel path (the
  // firmware's own armstub) puts its DTB, at 128 MiB.
  guests: [
    {
      name: "linux1",
      cpus: [0, 1],
      ram: { base: 0x0a00_0000, size: 256 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=linux1 run=teecheck`,
      tee: false,
    },
    {
      name: "linux2",
      cpus: [2],
      ram: { base: 0x1a00_0000, size: 256 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=linux2 run=teecheck`,
      tee: false,
    },
    {
      // Reads just past the end of its RAM to prove stage 2 stops it.
      name: "plain",
      cpus: [3],
      ram: { base: 0x2a00_0000, size: 256 * MiB },
      kernel: "debian",
      initramfs: "debian",
      cmdline: `${CMDLINE} guest=plain run=isolation,teecheck`,
      tee: false,
    },
  ],
};
