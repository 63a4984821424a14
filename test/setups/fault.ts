/**
 * Fault containment on the real stack (issue 14, `make test`'s fault test): the test boots this setup with the
 * planted fault on (a boot-configuration flag, never in a shipped setup), so that the core traps while serving
 * tee2's 50th OP-TEE call, in the middle of its xtest selection. tee2 restarts (onCrash "restart") and runs the
 * selection again; tee1 runs its own meanwhile and must pass.
 */
import type { Setup } from "../../configs/setup.ts";
import { setup as base } from "./three-guests.ts";

const CMDLINE = "console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init";
const XTEST = "run=xtest xtest=-t,regression,1001,1004,4001,6001";

/** Which guest (index in `guests`) and which of its CALL_WITH_ARGs the planted fault hits. */
export const plantedFault = { guest: 1, call: 50 };

export const setup: Setup = {
  ...base,
  name: "fault",
  guests: [
    { ...base.guests[0], cmdline: `${CMDLINE} guest=tee1 ${XTEST}` },
    { ...base.guests[1], onCrash: "restart", cmdline: `${CMDLINE} guest=tee2 ${XTEST}` },
  ],
};
