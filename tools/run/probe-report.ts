/**
 * Reads the hypervisor's OP-TEE probe (hyp/tee/optee/probe.ts) back from its
 * console lines into the fields of build/results/boot.json.
 */

export interface ProbeReport {
  hypervisorStarted: boolean;
  opteePresent: boolean;
  uid: string | null;
  apiRevision: string | null;
  osRevision: string | null;
  osMajor: number | null;
  osMinor: number | null;
  buildId: string | null;
  vmCreated: string | null;
  capabilities: { value: string; names: string[]; clientId: string } | null;
  virtualization: boolean;
  maxNotifValue: number | null;
  rpcParams: number | null;
  threadCount: number | null;
  vmDestroyed: string | null;
  verdict: string | null;
  poweredOff: boolean;
  trap: string | null;
}

const OPTEE = /^\[hyp\] optee: (.*)$/;

export function parseProbe(lines: string[]): ProbeReport {
  const r: ProbeReport = {
    hypervisorStarted: false, opteePresent: false, uid: null, apiRevision: null, osRevision: null,
    osMajor: null, osMinor: null, buildId: null, vmCreated: null, capabilities: null, virtualization: false,
    maxNotifValue: null, rpcParams: null, threadCount: null, vmDestroyed: null, verdict: null,
    poweredOff: false, trap: null,
  };
  for (const line of lines) {
    if (line.startsWith("[hyp] boot: hypervisor core running")) r.hypervisorStarted = true;
    if (line.startsWith("[hyp] boot: no guests to run: powering off")) r.poweredOff = true;
    const trap = /core (trapped|aborted): (.*)$/.exec(line);
    if (trap) r.trap = trap[2];
    const m = OPTEE.exec(line);
    if (!m) continue;
    const text = m[1];
    let f: RegExpExecArray | null;
    if ((f = /^CALLS_UID -> (\w{8}) (\w{8}) (\w{8}) (\w{8}) \((.*)\)$/.exec(text))) {
      r.uid = uuid(f.slice(1, 5));
      r.opteePresent = f[5] === "OP-TEE";
    } else if ((f = /^CALLS_REVISION -> (\d+\.\d+)$/.exec(text))) {
      r.apiRevision = f[1];
    } else if ((f = /^GET_OS_REVISION -> (\d+)\.(\d+) build (\S+)$/.exec(text))) {
      r.osMajor = Number(f[1]);
      r.osMinor = Number(f[2]);
      r.osRevision = `${f[1]}.${f[2]}`;
      r.buildId = f[3];
    } else if ((f = /^VM_CREATED client \S+ -> (\S+)$/.exec(text))) {
      r.vmCreated = f[1];
    } else if ((f = /^EXCHANGE_CAPABILITIES client (\S+) -> OK caps (\S+) \(([^)]*)\) max_notif_value (\d+) rpc_params (\d+)$/.exec(text))) {
      const names = f[3].split(" ").filter(Boolean);
      r.capabilities = { value: f[2], names, clientId: f[1] };
      r.virtualization = names.includes("VIRTUALIZATION");
      r.maxNotifValue = Number(f[4]);
      r.rpcParams = Number(f[5]);
    } else if ((f = /^GET_THREAD_COUNT client \S+ -> OK threads (\d+)$/.exec(text))) {
      r.threadCount = Number(f[1]);
    } else if ((f = /^VM_DESTROYED client \S+ -> (\S+)$/.exec(text))) {
      r.vmDestroyed = f[1];
    } else if (/^(ready|OP-TEE .* not virtualization-aware|no OP-TEE)/.test(text)) {
      r.verdict = text;
    }
  }
  return r;
}

/** "384fb3e0 e7f811e3 af630002 a5d5c51b" → "384fb3e0-e7f8-11e3-af63-0002a5d5c51b". */
function uuid(words: string[]): string {
  const h = words.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
