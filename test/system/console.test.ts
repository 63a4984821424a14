/**
 * Console input on the real stack: keys typed on the hypervisor's UART reach
 * the guest that has the console, and Ctrl-A 3 moves it to the third guest.
 * `plain` stays in a shell (shell=1); a scripted "person" picks it and types
 * a command whose answer only its shell can compute.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { setup } from "../setups/three-guests.ts";
import { bootGuests } from "../../tools/run/guests-lib.ts";

test("typed input reaches the guest chosen with Ctrl-A", async () => {
  const guests = setup.guests.map((g) => (g.name === "plain" ? { ...g, cmdline: `${g.cmdline} shell=1` } : g));
  const run = await bootGuests({ ...setup, name: "console-test", guests }, {
    timeoutSeconds: 600,
    input: [
      { after: /^\[plain\] GUEST-SHELL name=plain/, text: "\x013" },
      { after: /^\[hyp\] console: input goes to plain/, text: "echo typed-$((6 * 7))\nexit\n" },
    ],
  });
  const lines = run.result.lines;
  assert.ok(lines.some((l) => l.startsWith("[hyp] console: input goes to plain")), "Ctrl-A 3 gave plain the console");
  assert.ok(lines.includes("[plain] typed-42"), "plain's shell ran the typed command");
  assert.not.ok(lines.some((l) => /^\[(tee1|tee2)\] .*typed-/.test(l)), "nobody else saw the input");
  assert.is(run.result.timedOut, false, "exiting the shell powered plain off, and with it the machine");
});

test.run();
