/**
 * The tests' own three-guest setup: two TEE guests (tee1 on CPUs 0-1, tee2 on CPU 2) and one without OP-TEE
 * (plain, CPU 3), each with its own RAM, running Debian's kernel and the project's initramfs. The unit tests
 * (on the fakes) and the system tests (on QEMU) use it rather than the shipped configs/qemu-virt.ts, so that
 * changing what `make run` boots changes no test. Partitioned as the shipped setup was when this was written.
 */
import type { GuestConfig, Setup } from "../../configs/setup.ts";
import { qemuVirt } from "../../configs/boards/qemu-virt.ts";

const MiB = 1024 * 1024;
/** What each guest's /init does (tools/images/initramfs.ts): TEE guests a short xtest selection, plain its probes. */
const TEE_DEMO = "run=teecheck,xtest xtest=-t,regression,1001,1004,4001,6001";
const PLAIN_DEMO = "run=isolation,teecheck";

function guest(name: string, cpus: number[], ramBase: number, ramMiB: number, tee: boolean): GuestConfig {
  const demo = tee ? TEE_DEMO : PLAIN_DEMO;
  return {
    name, cpus, tee, kernel: "debian", initramfs: "debian",
    ram: { base: ramBase, size: ramMiB * MiB },
    cmdline: `console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init guest=${name} ${demo}`,
  };
}

export const setup: Setup = {
  name: "three-guests",
  board: qemuVirt,
  opteeVariant: "virt",
  guests: [
    guest("tee1", [0, 1], 0x8000_0000, 512, true),
    guest("tee2", [2], 0xa000_0000, 512, true),
    guest("plain", [3], 0xc000_0000, 256, false),
  ],
};
