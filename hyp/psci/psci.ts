/**
 * PSCI 1.1 for guests (Arm DEN 0022), entirely inside the hypervisor: a
 * guest's vCPUs are started and stopped within its own partition, and
 * SYSTEM_OFF / SYSTEM_RESET end (or restart) that guest only, never the machine.
 *
 * vCPU n of a guest has MPIDR Aff0 = n (VMPIDR_EL2); the higher affinity
 * levels are 0.
 */
import * as S from "../arch/smccc";
import { kickCpu } from "../hw/imports";
import { cpuOfVcpu, guestAt, GUEST_FLAG_RESTART_ON_RESET, ipaInRam } from "../core/guest";
import { ACTION_WAIT } from "../core/action";
import * as V from "../core/vcpu";
import { continueCpu, vcpuStop } from "../core/run";
import { guestEnd } from "../core/lifecycle";

/** Handles PSCI call `fid` from the vCPU on `cpu`; writes the result into x0 and returns the next action. */
export function psciCall(cpu: u32, fid: u32, x1: u64, x2: u64, x3: u64, result: usize): u32 {
  const g = V.guestOfCpu(cpu);
  switch (fid) {
    case S.PSCI_0_2_FN_PSCI_VERSION: return answer(result, S.PSCI_VERSION_1_1, cpu);
    case S.PSCI_0_2_FN_CPU_ON:
    case S.PSCI_0_2_FN64_CPU_ON: return answer(result, cpuOn(g, fid == S.PSCI_0_2_FN_CPU_ON ? x1 & 0xffffffff : x1, x2, x3), cpu);
    case S.PSCI_0_2_FN_AFFINITY_INFO:
    case S.PSCI_0_2_FN64_AFFINITY_INFO: return answer(result, affinityInfo(g, x1 & 0xffffffff, x2), cpu);
    case S.PSCI_0_2_FN_MIGRATE_INFO_TYPE: return answer(result, S.PSCI_TOS_NOT_PRESENT_MP, cpu);
    case S.PSCI_1_0_FN_PSCI_FEATURES: return answer(result, features(<u32>x1), cpu);
    case S.PSCI_0_2_FN_CPU_OFF: {
      vcpuStop(cpu);
      return ACTION_WAIT; // until a CPU_ON for it: CPU_OFF does not return on success
    }
    case S.PSCI_0_2_FN_SYSTEM_OFF: return guestEnd(g, cpu, "powered off (PSCI SYSTEM_OFF)", false, false);
    case S.PSCI_0_2_FN_SYSTEM_RESET: {
      const restart = (guestAt(g).flags & GUEST_FLAG_RESTART_ON_RESET) != 0;
      return guestEnd(g, cpu, restart ? "rebooting (PSCI SYSTEM_RESET)" : "asked for a reset (PSCI SYSTEM_RESET): its setup says onReset \"stop\", so it stays off", restart, false);
    }
    default: return answer(result, S.PSCI_RET_NOT_SUPPORTED, cpu);
  }
}

function answer(result: usize, value: i32, cpu: u32): u32 {
  store<u64>(result, <u64><i64>value);
  return continueCpu(cpu);
}

function features(fid: u32): i32 {
  switch (fid) {
    case S.PSCI_0_2_FN_PSCI_VERSION:
    case S.PSCI_0_2_FN_CPU_OFF:
    case S.PSCI_0_2_FN_CPU_ON:
    case S.PSCI_0_2_FN64_CPU_ON:
    case S.PSCI_0_2_FN_AFFINITY_INFO:
    case S.PSCI_0_2_FN64_AFFINITY_INFO:
    case S.PSCI_0_2_FN_MIGRATE_INFO_TYPE:
    case S.PSCI_0_2_FN_SYSTEM_OFF:
    case S.PSCI_0_2_FN_SYSTEM_RESET:
    case S.PSCI_1_0_FN_PSCI_FEATURES:
      return S.PSCI_RET_SUCCESS;
    default:
      return S.PSCI_RET_NOT_SUPPORTED;
  }
}

/** The vCPU index an MPIDR names in guest g, or -1. */
function vcpuOfMpidr(g: u32, mpidr: u64): i32 {
  const aff0 = mpidr & 0xff;
  if ((mpidr & 0xff_00ff_ff00) != 0 || aff0 >= <u64>guestAt(g).vcpuCount) return -1;
  return <i32>aff0;
}

function cpuOn(g: u32, mpidr: u64, entry: u64, context: u64): i32 {
  const v = vcpuOfMpidr(g, mpidr);
  if (v < 0) return S.PSCI_RET_INVALID_PARAMS;
  const target = cpuOfVcpu(g, <u32>v);
  const s = V.vcpuState(target);
  if (s == V.VCPU_RUNNING) return S.PSCI_RET_ALREADY_ON;
  if (s == V.VCPU_STARTING) return S.PSCI_RET_ON_PENDING;
  if (s != V.VCPU_OFF) return S.PSCI_RET_INVALID_PARAMS;
  if (!ipaInRam(g, entry, 4) || (entry & 3) != 0) return S.PSCI_RET_INVALID_ADDRESS;
  // The target CPU waits (ACTION_WAIT) and does not touch its frame until its kick is handled.
  V.vcpuReset(target, entry, context);
  V.setVcpuState(target, V.VCPU_STARTING);
  kickCpu(target);
  return S.PSCI_RET_SUCCESS;
}

function affinityInfo(g: u32, mpidr: u64, level: u64): i32 {
  if (level != 0) return S.PSCI_RET_INVALID_PARAMS;
  const v = vcpuOfMpidr(g, mpidr);
  if (v < 0) return S.PSCI_RET_INVALID_PARAMS;
  const s = V.vcpuState(cpuOfVcpu(g, <u32>v));
  if (s == V.VCPU_RUNNING) return S.PSCI_AFFINITY_ON;
  if (s == V.VCPU_STARTING) return S.PSCI_AFFINITY_ON_PENDING;
  return S.PSCI_AFFINITY_OFF;
}
