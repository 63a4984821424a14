/**
 * `make debug`: boots the default setup (or SETUP=…) like `make run`, but with QEMU's gdbstub listening and every
 * CPU paused before the first instruction, and prints the one command that attaches gdb-multiarch with the
 * hypervisor's symbols and tools/debug/hyp.gdb's breakpoints (the trap entry and the core's exports).
 *
 * Usage: tsx tools/run/debug.ts [--setup <name> | configs/<name>.ts]   (GDB_PORT=… picks the port, default 1234)
 */
import { join } from "node:path";
import { runMain, UserError } from "../lib/cli.ts";
import { loadSetup } from "../lib/setup-file.ts";
import { shown } from "../firmware/paths.ts";
import { BUILD } from "./boot-lib.ts";
import { boardBuildDir } from "./firmware.ts";
import { bootGuests } from "./guests-lib.ts";

const DEFAULT_PORT = 1234;

/** The command a person pastes into a second terminal. */
export function gdbCommand(port: number, buildDir: string = BUILD): string {
  return `gdb-multiarch -q -ex 'target remote localhost:${port}' -x tools/debug/hyp.gdb ${shown(join(buildDir, "hyp.elf"))}`;
}

async function main(): Promise<number> {
  const setup = await loadSetup();
  const port = Number(process.env.GDB_PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UserError(`GDB_PORT=${process.env.GDB_PORT}: not a TCP port`);
  const say = (l: string) => console.log(`[debug] ${l}`);
  say(`${setup.name}: QEMU starts paused, its gdbstub on localhost:${port}. In another terminal, from ${process.cwd()}:`);
  say(`  ${gdbCommand(port, boardBuildDir(setup.board))}`);
  say("then `continue`. Breakpoints: core_enter_guest_exit (trap entry), Z_hypcoreZ_* (the core's exports), core_trapped.");
  say("Ctrl-C here stops QEMU.");
  const interactive = Boolean(process.stdin.isTTY) && !process.env.CI;
  const run = await bootGuests(setup, {
    interactive,
    timeoutSeconds: 24 * 3600,
    onLine: (l) => process.stdout.write(`  | ${l}\n`),
    qemuArgs: ["-S", "-gdb", `tcp:localhost:${port}`],
  });
  say(`QEMU exited after ${run.result.seconds.toFixed(0)} s`);
  return 0;
}

runMain("debug", main);
