/** Booting a setup with its guests: images, boot configuration, QEMU. Shared by `make run` and the system tests. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Setup } from "../../configs/setup.ts";
import { setupBootConfig } from "../build/bootconfig.ts";
import { buildGuestImages, IMAGES_DIR } from "../images/qemu-loads.ts";
import { BUILD, RESULTS } from "./boot-lib.ts";
import { parseGuests, type GuestReport } from "./guests-report.ts";
import { parseProbe, type ProbeReport } from "./probe-report.ts";
import { buildBundle } from "../sdcard/bundle.ts";
import { firmwareFiles } from "./firmware.ts";
import type { Load } from "./qemu.ts";
import { requireQemu, runQemu, type QemuResult } from "./qemu.ts";

export interface GuestsRun {
  result: QemuResult;
  probe: ProbeReport;
  guests: GuestReport[];
}

export interface BootGuestsOptions {
  timeoutSeconds?: number;
  onLine?: (l: string) => void;
  input?: { after: RegExp; text: string }[];
  interactive?: boolean;
  /** More QEMU arguments (the TEE-call bench's `-icount`). */
  qemuArgs?: string[];
  /** Raspberry Pi 4: boot as the VideoCore firmware's own armstub would (tools/run/firmware.ts), not behind TF-A. */
  armstub?: boolean;
}

/**
 * What QEMU's loader device puts in RAM: each file at its address, or, on a board whose firmware loads whole
 * files only (the Pi 4's), one boot bundle at the board's bundle address, as the SD card has it: the
 * hypervisor places the files itself (boot/bundle.c), so QEMU runs the real board's path.
 */
function placed(setup: Setup, loads: Load[]): Load[] {
  const bundle = setup.board.bundle;
  if (!bundle) return loads;
  const file = join(BUILD, `bundle-${setup.name}.bin`);
  writeFileSync(file, buildBundle(loads, bundle.size));
  return [{ file, addr: bundle.base }];
}

export async function bootGuests(setup: Setup, o: BootGuestsOptions = {}): Promise<GuestsRun> {
  requireQemu(); // before minutes of image building, not after
  // Each setup's DTBs (which carry its guests' command lines) in a directory of their own; the initramfs is shared.
  const { loads } = await buildGuestImages(setup, IMAGES_DIR, join(IMAGES_DIR, setup.name));
  mkdirSync(RESULTS, { recursive: true });
  const config = join(BUILD, `bootconfig-${setup.name}.bin`);
  writeFileSync(config, setupBootConfig(setup));
  const firmware = firmwareFiles(setup.board, undefined, o.armstub);
  const result = await runQemu({
    board: setup.board,
    flash: firmware.flash,
    loads: [...firmware.loads, ...placed(setup, [{ file: config, addr: setup.board.hypervisor.bootConfig.base }, ...loads])],
    secureLog: join(RESULTS, `${setup.name}-secure.log`),
    timeoutSeconds: o.timeoutSeconds ?? 600,
    onLine: o.onLine,
    input: o.input,
    interactive: o.interactive,
    extraArgs: [...firmware.qemuArgs, ...(o.qemuArgs ?? [])],
  });
  return { result, probe: parseProbe(result.lines), guests: parseGuests(setup.guests.map((g) => g.name), result.lines) };
}
