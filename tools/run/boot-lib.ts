/** Booting the hypervisor alone (no guests yet) on a setup's board: shared by `make run` and the system tests. */
import { join } from "node:path";
import type { Setup } from "../../configs/setup.ts";
import { PROJECT_ROOT } from "../firmware/paths.ts";
import { parseProbe, type ProbeReport } from "./probe-report.ts";
import { firmwareFiles } from "./firmware.ts";
import { runQemu, type QemuResult } from "./qemu.ts";

export const BUILD = join(PROJECT_ROOT, "build");
export const RESULTS = join(BUILD, "results");

export interface BootOptions {
  /** The flash image (default: build/flash.bin from `make`, with the virtualized OP-TEE). */
  flash?: string;
  /** The boot configuration blob (default: build/bootconfig.bin from `make`). */
  bootConfig?: string;
  timeoutSeconds?: number;
  secureLog?: string;
  onLine?: (line: string) => void;
}

export async function bootHypervisor(setup: Setup, o: BootOptions = {}): Promise<{ result: QemuResult; report: ProbeReport }> {
  const h = setup.board.hypervisor;
  const firmware = firmwareFiles(setup.board, o.flash);
  const result = await runQemu({
    board: setup.board,
    flash: firmware.flash,
    loads: [...firmware.loads, { file: o.bootConfig ?? join(BUILD, "bootconfig.bin"), addr: h.bootConfig.base }],
    secureLog: o.secureLog ?? join(RESULTS, "secure.log"),
    timeoutSeconds: o.timeoutSeconds ?? 120,
    onLine: o.onLine,
    extraArgs: firmware.qemuArgs,
  });
  return { result, report: parseProbe(result.lines) };
}
