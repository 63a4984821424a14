/**
 * The boot-time probe of the secure world: is OP-TEE there, which version,
 * and can it serve several guests (CFG_NS_VIRTUALIZATION)?
 *
 * A state machine driven by SMC completions, because the core never blocks:
 * probeBegin() loads the first SMC into the CPU's frame, and each
 * probeContinue() reads that SMC's answer and loads the next one, until it
 * returns false. Every answer is reported on the console under OP-TEE's name
 * for the call. The sequence (x7 = the client id the call is made for):
 *
 *   CALLS_UID, CALLS_REVISION, GET_OS_REVISION                 x7 = 0
 *   VM_CREATED(PROBE_CLIENT_ID)                                x7 = 0
 *   EXCHANGE_CAPABILITIES, GET_THREAD_COUNT                    x7 = PROBE_CLIENT_ID
 *   VM_DESTROYED(PROBE_CLIENT_ID)                              x7 = 0
 *
 * An absent OP-TEE stops the probe after CALLS_UID; one built without
 * virtualization refuses VM_CREATED, and the probe then asks for its
 * capabilities as the hypervisor (x7 = 0) to say so.
 */
import { setSmc, smcReg } from "../../core/percpu";
import { lineEnd, lineStart, put, putDec, putHex, putHexDigits } from "../../lib/log";
import * as smc from "./smc";
import { opteeInfo } from "./info";

/**
 * The client id the probe borrows for VM_CREATED and gives back at once.
 * Far above the ids guests get (1, 2, …), and below 0x10000: OP-TEE keeps
 * client ids in 16 bits.
 */
export const PROBE_CLIENT_ID: u32 = 0x7fff;

const enum Step {
  CallsUid,
  CallsRevision,
  OsRevision,
  VmCreated,
  Capabilities,
  ThreadCount,
  VmDestroyed,
  Done,
}

let step = Step.CallsUid;
/** x7 of the capabilities query: PROBE_CLIENT_ID, or 0 when VM_CREATED was refused. */
let capsClient: u32 = PROBE_CLIENT_ID;

/** Loads the probe's first SMC into `cpu`'s frame. */
export function probeBegin(cpu: u32): void {
  step = Step.CallsUid;
  opteeInfo.reset();
  load(cpu, step);
}

/**
 * Consumes the answer to the probe's last SMC on `cpu`. Returns true when it
 * loaded another SMC into the frame, false when the probe is finished.
 */
export function probeContinue(cpu: u32): bool {
  const a0 = <u32>smcReg(cpu, 0);
  switch (step) {
    case Step.CallsUid: {
      if (!isOpteeUid(cpu)) {
        reportAbsent(cpu);
        return finish();
      }
      opteeInfo.present = true;
      step = Step.CallsRevision;
      break;
    }
    case Step.CallsRevision: {
      reportPair("CALLS_REVISION", a0, <u32>smcReg(cpu, 1));
      step = Step.OsRevision;
      break;
    }
    case Step.OsRevision: {
      opteeInfo.osMajor = a0;
      opteeInfo.osMinor = <u32>smcReg(cpu, 1);
      reportOsRevision(<u32>smcReg(cpu, 2));
      step = Step.VmCreated;
      break;
    }
    case Step.VmCreated: {
      reportClientCall("VM_CREATED", PROBE_CLIENT_ID, a0);
      opteeInfo.vmCreatedOk = a0 == smc.OPTEE_SMC_RETURN_OK;
      capsClient = opteeInfo.vmCreatedOk ? PROBE_CLIENT_ID : 0;
      step = Step.Capabilities;
      break;
    }
    case Step.Capabilities: {
      if (a0 == smc.OPTEE_SMC_RETURN_OK) {
        opteeInfo.capabilities = <u32>smcReg(cpu, 1);
        opteeInfo.maxNotifValue = <u32>smcReg(cpu, 2);
        opteeInfo.rpcParamCount = <u32>smcReg(cpu, 3);
      }
      reportCapabilities(a0);
      if (!opteeInfo.vmCreatedOk) return finish();
      step = Step.ThreadCount;
      break;
    }
    case Step.ThreadCount: {
      if (a0 == smc.OPTEE_SMC_RETURN_OK) opteeInfo.threadCount = <u32>smcReg(cpu, 1);
      reportThreadCount(a0);
      step = Step.VmDestroyed;
      break;
    }
    case Step.VmDestroyed: {
      reportClientCall("VM_DESTROYED", PROBE_CLIENT_ID, a0);
      opteeInfo.vmDestroyedOk = a0 == smc.OPTEE_SMC_RETURN_OK;
      return finish();
    }
    default:
      return false;
  }
  load(cpu, step);
  return true;
}

function finish(): bool {
  step = Step.Done;
  reportVerdict();
  return false;
}

/** Loads the SMC of `s` into the frame. */
function load(cpu: u32, s: Step): void {
  switch (s) {
    case Step.CallsUid: setSmc(cpu, smc.OPTEE_SMC_CALLS_UID, 0, 0, 0); break;
    case Step.CallsRevision: setSmc(cpu, smc.OPTEE_SMC_CALLS_REVISION, 0, 0, 0); break;
    case Step.OsRevision: setSmc(cpu, smc.OPTEE_SMC_CALL_GET_OS_REVISION, 0, 0, 0); break;
    case Step.VmCreated: setSmc(cpu, smc.OPTEE_SMC_VM_CREATED, PROBE_CLIENT_ID, 0, 0); break;
    // x1 = the normal world's capabilities: none (Linux offers only UNIPROCESSOR, on UP systems).
    case Step.Capabilities: setSmc(cpu, smc.OPTEE_SMC_EXCHANGE_CAPABILITIES, 0, 0, capsClient); break;
    case Step.ThreadCount: setSmc(cpu, smc.OPTEE_SMC_GET_THREAD_COUNT, 0, 0, PROBE_CLIENT_ID); break;
    case Step.VmDestroyed: setSmc(cpu, smc.OPTEE_SMC_VM_DESTROYED, PROBE_CLIENT_ID, 0, 0); break;
    default: break;
  }
}

function isOpteeUid(cpu: u32): bool {
  const uid0 = <u32>smcReg(cpu, 0), uid1 = <u32>smcReg(cpu, 1);
  const uid2 = <u32>smcReg(cpu, 2), uid3 = <u32>smcReg(cpu, 3);
  lineStart("optee");
  put("CALLS_UID -> ");
  putHexDigits(uid0, 8); put(" "); putHexDigits(uid1, 8); put(" ");
  putHexDigits(uid2, 8); put(" "); putHexDigits(uid3, 8);
  const match = uid0 == smc.OPTEE_MSG_UID_0 && uid1 == smc.OPTEE_MSG_UID_1 &&
    uid2 == smc.OPTEE_MSG_UID_2 && uid3 == smc.OPTEE_MSG_UID_3;
  put(match ? " (OP-TEE)" : " (not OP-TEE)");
  lineEnd();
  return match;
}

function reportAbsent(cpu: u32): void {
  lineStart("optee");
  put("no OP-TEE in the secure world (CALLS_UID answered ");
  putHex(<u32>smcReg(cpu, 0));
  put("): guests will have no TEE");
  lineEnd();
}

function reportPair(name: string, major: u32, minor: u32): void {
  lineStart("optee");
  put(name); put(" -> "); putDec(major); put("."); putDec(minor);
  lineEnd();
}

function reportOsRevision(buildId: u32): void {
  lineStart("optee");
  put("GET_OS_REVISION -> "); putDec(opteeInfo.osMajor); put("."); putDec(opteeInfo.osMinor);
  put(" build "); putHex(buildId);
  lineEnd();
}

function reportClientCall(name: string, client: u32, a0: u32): void {
  lineStart("optee");
  put(name); put(" client "); putHex(client); put(" -> "); put(smc.opteeReturnName(a0));
  lineEnd();
}

function reportCapabilities(a0: u32): void {
  lineStart("optee");
  put("EXCHANGE_CAPABILITIES client "); putHex(capsClient); put(" -> "); put(smc.opteeReturnName(a0));
  if (a0 == smc.OPTEE_SMC_RETURN_OK) {
    const caps = opteeInfo.capabilities;
    put(" caps "); putHex(caps); put(" (");
    let first = true;
    for (let bit = 0; bit < 32; bit++) {
      if ((caps & (1 << bit)) == 0) continue;
      if (!first) put(" ");
      const name = smc.opteeCapName(bit);
      if (name.length > 0) put(name); else { put("BIT"); putDec(bit); }
      first = false;
    }
    put(") max_notif_value "); putDec(opteeInfo.maxNotifValue);
    put(" rpc_params "); putDec(opteeInfo.rpcParamCount);
  }
  lineEnd();
}

function reportThreadCount(a0: u32): void {
  lineStart("optee");
  put("GET_THREAD_COUNT client "); putHex(PROBE_CLIENT_ID); put(" -> "); put(smc.opteeReturnName(a0));
  if (a0 == smc.OPTEE_SMC_RETURN_OK) { put(" threads "); putDec(opteeInfo.threadCount); }
  lineEnd();
}

/** The one line a person reads to know whether guests will get a TEE. */
function reportVerdict(): void {
  if (!opteeInfo.present) return;
  lineStart("optee");
  if (opteeInfo.usableForGuests()) {
    put("ready: OP-TEE "); putDec(opteeInfo.osMajor); put("."); putDec(opteeInfo.osMinor);
    put(" is virtualization-aware, "); putDec(opteeInfo.threadCount); put(" threads per guest");
  } else {
    put("OP-TEE "); putDec(opteeInfo.osMajor); put("."); putDec(opteeInfo.osMinor);
    put(" is not virtualization-aware (no VIRTUALIZATION capability, VM_CREATED refused): guests will have no TEE");
  }
  lineEnd();
}
