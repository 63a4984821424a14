/**
 * The micro-benchmark setup (`make bench`, and once with a small N in `make test`): one guest, the bare-metal
 * program in guest/microbench, with OP-TEE access, alone on the machine so that the guest's clock counts only
 * its own calls. tools/bench/micro.ts builds the kernel file it names (N patched into the Image header).
 */
import type { Setup } from "./setup.ts";
import { qemuVirt } from "./boards/qemu-virt.ts";

const MiB = 1024 * 1024;

export const MICROBENCH_DIR = "build/microbench";

export const setup: Setup = {
  name: "microbench",
  board: qemuVirt,
  opteeVariant: "virt",
  guests: [
    {
      name: "bench",
      cpus: [0],
      ram: { base: 0x8000_0000, size: 128 * MiB },
      kernel: `${MICROBENCH_DIR}/microbench-run.bin`,
      initramfs: `${MICROBENCH_DIR}/empty.initramfs`,
      cmdline: "",
      tee: true,
    },
  ],
};
