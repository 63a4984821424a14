/**
 * What each physical CPU does from power-on, as events: cpuStart when the
 * CPU enters the core for the first time, smcReturned whenever an SMC the
 * core asked for has completed. Each answers with an ACTION_* for the C run
 * loop.
 *
 * Today the boot CPU loads the configuration, probes OP-TEE and powers the
 * machine off; other CPUs park. Every SMC a CPU has in flight has an owner,
 * so its completion goes back to whoever asked.
 */
import { ACTION_PARK, ACTION_SMC } from "./action";
import { bootConfig, bootConfigLoad, BOOT_FLAG_SELFTEST_OOB } from "./bootconfig";
import { MAX_CPUS, setSmc, smcReg } from "./percpu";
import { lineEnd, lineStart, logLine, put, putDec, putHex } from "../lib/log";
import { PSCI_0_2_FN_SYSTEM_OFF } from "../arch/smccc";
import { probeBegin, probeContinue } from "../tee/optee/probe";

/** The CPU TF-A enters first (BL33 runs on it alone until it starts the others). */
export const BOOT_CPU: u32 = 0;

// Who is waiting for the SMC a CPU has in flight.
const SMC_OWNER_NONE: u8 = 0;
const SMC_OWNER_PROBE: u8 = 1;
const SMC_OWNER_POWER: u8 = 2;
const smcOwner = memory.data(<i32>MAX_CPUS, 8);

export function bootCpuStart(cpu: u32): u32 {
  if (cpu != BOOT_CPU) return ACTION_PARK;
  logLine("boot", "hypervisor core running at EL2");
  bootConfigLoad();
  if ((bootConfig.flags & BOOT_FLAG_SELFTEST_OOB) != 0) selfTestOutOfBounds();
  probeBegin(cpu);
  return requestSmc(cpu, SMC_OWNER_PROBE);
}

export function bootSmcReturned(cpu: u32): u32 {
  const owner = load<u8>(smcOwner + <usize>cpu);
  store<u8>(smcOwner + <usize>cpu, SMC_OWNER_NONE);
  if (owner == SMC_OWNER_PROBE) {
    if (probeContinue(cpu)) return requestSmc(cpu, SMC_OWNER_PROBE);
    return powerOff(cpu);
  }
  if (owner == SMC_OWNER_POWER) {
    // SYSTEM_OFF only comes back if the firmware refused it.
    lineStart("boot");
    put("PSCI SYSTEM_OFF failed ("); putHex(<u32>smcReg(cpu, 0)); put("): parking CPU "); putDec(cpu);
    lineEnd();
    return ACTION_PARK;
  }
  lineStart("boot");
  put("CPU "); putDec(cpu); put(" returned from an SMC nobody asked for: parking it");
  lineEnd();
  return ACTION_PARK;
}

function powerOff(cpu: u32): u32 {
  logLine("boot", "probe finished: powering off (PSCI SYSTEM_OFF)");
  setSmc(cpu, PSCI_0_2_FN_SYSTEM_OFF, 0, 0, 0);
  return requestSmc(cpu, SMC_OWNER_POWER);
}

function requestSmc(cpu: u32, owner: u8): u32 {
  store<u8>(smcOwner + <usize>cpu, owner);
  return ACTION_SMC;
}

/**
 * Reads one word past the end of linear memory. In the sandbox this must
 * trap (wasm2c's bounds checks, WASM_RT_TRAP_OOB); reaching the line after
 * it would mean the checks are off.
 */
export function selfTestOutOfBounds(): u32 {
  logLine("selftest", "reading past the end of linear memory: this must trap");
  const end = <usize>memory.size() << 16;
  const value = load<u32>(end);
  logLine("selftest", "FAILED: the out-of-bounds read returned instead of trapping");
  return value;
}
