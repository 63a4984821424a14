/** Booting a setup with its guests: images, boot configuration, QEMU. Shared by `make run` and the system tests. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Setup } from "../../configs/setup.ts";
import { setupBootConfig, type BootOptions } from "../build/bootconfig.ts";
import { buildGuestImages, IMAGES_DIR } from "../images/qemu-loads.ts";
import { BUILD, RESULTS } from "./boot-lib.ts";
import { parseGuests, type GuestReport } from "./guests-report.ts";
import { parseProbe, type ProbeReport } from "./probe-report.ts";
import { firmwareFiles } from "./firmware.ts";
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
  /** Test-only switches in the boot configuration (the planted fault). */
  bootOptions?: BootOptions;
  /** Raspberry Pi 4: boot as the VideoCore firmware's own armstub would (tools/run/firmware.ts), not behind TF-A. */
  armstub?: boolean;
}

export async function bootGuests(setup: Setup, o: BootGuestsOptions = {}): Promise<GuestsRun> {
  requireQemu(); // before minutes of image building, not after
  // Each setup's DTBs (which carry its guests' command lines) in a directory of their own; the initramfs is shared.
  const { loads, images } = await buildGuestImages(setup, IMAGES_DIR, join(IMAGES_DIR, setup.name));
  mkdirSync(RESULTS, { recursive: true });
  const config = join(BUILD, `bootconfig-${setup.name}.bin`);
  writeFileSync(config, setupBootConfig(setup, o.bootOptions ?? {}, images));
  const firmware = firmwareFiles(setup.board, undefined, o.armstub);
  const result = await runQemu({
    board: setup.board,
    flash: firmware.flash,
    loads: [...firmware.loads, { file: config, addr: setup.board.hypervisor.bootConfig.base }, ...loads],
    secureLog: join(RESULTS, `${setup.name}-secure.log`),
    timeoutSeconds: o.timeoutSeconds ?? 600,
    onLine: o.onLine,
    input: o.input,
    interactive: o.interactive,
    extraArgs: [...firmware.qemuArgs, ...(o.qemuArgs ?? [])],
  });
  return { result, probe: parseProbe(result.lines), guests: parseGuests(setup.guests.map((g) => g.name), result.lines) };
}

/**
 * The most wake-ups with no interrupt to take that any waiting CPU had (the core's power-off line, hyp/core/
 * idle-wakes.ts), 0 without the line. A handful is normal; thousands mean a CPU spun in its WFI.
 */
export function mostEmptyWakes(lines: string[]): number {
  const line = lines.find((l) => l.startsWith("[hyp] irq: wake-ups with no interrupt to take:"));
  return Math.max(0, ...[...(line ?? "").matchAll(/CPU \d+: (\d+)/g)].map((m) => Number(m[1])));
}

/** What the system tests allow a waiting CPU: the odd withdrawn interrupt, not a spin. */
export const EMPTY_WAKES_ALLOWED = 100;
