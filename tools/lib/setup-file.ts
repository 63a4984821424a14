/**
 * Loads a setup file (configs/<name>.ts, exporting `setup`) and checks it before anything is built or booted.
 * Every way a setup file can be wrong ends in one UserError line that names the file and the field.
 */
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Setup } from "../../configs/setup.ts";
import { checkSetup, ConfigError } from "../config/check.ts";
import { PROJECT_ROOT, shown } from "../firmware/paths.ts";
import { UserError } from "./cli.ts";

/** The setup `make run` boots unless SETUP= names another. */
export const DEFAULT_SETUP_FILE = "configs/qemu-virt.ts";

/** The value of `--setup <file>` in argv, or the default. A bare name ("rpi4") means configs/<name>.ts. */
export function setupFileArg(argv: string[] = process.argv): string {
  const i = argv.indexOf("--setup");
  const given = i >= 0 && argv[i + 1] ? argv[i + 1] : DEFAULT_SETUP_FILE;
  return /^[\w-]+$/.test(given) ? `configs/${given}.ts` : given;
}

export async function loadSetup(file: string = setupFileArg()): Promise<Setup> {
  const path = isAbsolute(file) ? file : join(PROJECT_ROOT, file);
  const name = shown(path);
  if (!existsSync(path)) throw new UserError(`${name}: no such setup file (setups are configs/*.ts; make run SETUP=<name> or SETUP=configs/<name>.ts)`);
  let mod: { setup?: Setup };
  try {
    mod = (await import(pathToFileURL(path).href)) as { setup?: Setup };
  } catch (e) {
    // esbuild (through tsx) says "Transform failed with 1 error:" and then file:line:col: ERROR: what.
    const lines = (e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim());
    const why = lines.filter((l) => l && !/^Transform failed/.test(l)).slice(0, 2).join("; ") || lines[0];
    throw new UserError(`${name}: cannot be loaded (${why}): fix the file`);
  }
  if (!mod.setup || typeof mod.setup !== "object") throw new UserError(`${name}: exports no \`setup\` (export const setup: Setup = { … })`);
  try {
    checkSetup(mod.setup);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`${name}: ${e.message}: fix the setup file`);
    throw e;
  }
  return mod.setup;
}
