/**
 * Guest restarts on the real stack (issue 14, `make test`'s reboot test): tee2 runs a short xtest selection,
 * reboots itself (`reboot -f`, PSCI SYSTEM_RESET) and runs it again, twice; meanwhile tee1 runs its own,
 * longer selection to the end. The hypervisor restarts tee2 from pristine images each time. tee2 keeps kernel
 * warnings on its console (kmsg=4): a guest stuck on its way down says where (the hung-task detector).
 */
import type { Setup } from "../../configs/setup.ts";
import { setup as base } from "./three-guests.ts";

const CMDLINE = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init";

export const setup: Setup = {
  ...base,
  name: "reboot",
  guests: [
    { ...base.guests[0], cmdline: `${CMDLINE} guest=tee1 run=teecheck,xtest xtest=-t,regression,1001,1004,4001,6001,1006,4002,4003` },
    { ...base.guests[1], onReset: "restart", cmdline: `${CMDLINE} guest=tee2 run=xtest xtest=-t,regression,1001,4001 reboots=2 kmsg=4` },
  ],
};
