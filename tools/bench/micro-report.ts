/**
 * Reading the micro-benchmark's console (guest/microbench: MICROBENCH lines) and the hypervisor's per-exit
 * profile (hyp/core/profile.ts: "[hyp] profile: …" lines), and putting the two together per path.
 */

export interface Sample {
  n: number;
  median: number;
  min: number;
  max: number;
}

export interface MicroRun {
  where: string | null;
  paths: Record<string, Sample>;
  errors: string[];
  ended: boolean;
}

export interface ProfileKind {
  count: number;
  el2Instructions: number;
}

export interface Profile {
  unit: string | null;
  kinds: Record<string, ProfileKind>;
}

export interface PathFigures {
  el2Instructions: number | null;
  guestNative: number | null;
  guestHyp: number | null;
  ratio: number | null;
  n: number;
  spread: { guestNative: [number, number] | null; guestHyp: [number, number] | null };
  /** The profile kind the EL2 figure comes from. */
  el2Kind: string | null;
}

export function parseMicro(lines: string[]): MicroRun {
  const run: MicroRun = { where: null, paths: {}, errors: [], ended: false };
  for (const line of lines) {
    const start = /MICROBENCH-START where=(\w+)/.exec(line);
    if (start) run.where = start[1];
    const m = /MICROBENCH path=(\S+) n=(\d+) median=(\d+) min=(\d+) max=(\d+)/.exec(line);
    if (m) run.paths[m[1]] = { n: Number(m[2]), median: Number(m[3]), min: Number(m[4]), max: Number(m[5]) };
    const e = /MICROBENCH-ERROR (.*)$/.exec(line);
    if (e) run.errors.push(e[1].trim());
    const end = /MICROBENCH-END status=(\w+)/.exec(line);
    if (end) run.ended = true;
  }
  return run;
}

/** One guest's profile lines: "[hyp] profile: <guest> <kind> count=N el2=T avg=A" and its header. */
export function parseProfile(lines: string[], guest: string): Profile {
  const profile: Profile = { unit: null, kinds: {} };
  for (const line of lines) {
    const header = new RegExp(`\\[hyp\\] profile: ${guest}: \\d+ exits, \\d+ EL2 (\\w+)`).exec(line);
    if (header) profile.unit = header[1];
    const k = new RegExp(`\\[hyp\\] profile: ${guest} (\\S+) count=(\\d+) el2=(\\d+)`).exec(line);
    if (k) profile.kinds[k[1]] = { count: Number(k[2]), el2Instructions: Number(k[3]) };
  }
  return profile;
}

/** Which profile kind each path's calls fall into (hyp/core/account.ts names them). */
export const PATH_KINDS: Record<string, string> = {
  "null-hvc": "hvc:arch:SMCCC_VERSION",
  "calls-uid": "smc:optee:CALLS_UID",
  "get-thread-count": "smc:optee:GET_THREAD_COUNT",
  "register-shm-1": "smc:optee:CALL_WITH_ARG:REGISTER_SHM+memref:pages<=1",
  "register-shm-16": "smc:optee:CALL_WITH_ARG:REGISTER_SHM+memref:pages<=16",
  "register-shm-256": "smc:optee:CALL_WITH_ARG:REGISTER_SHM+memref:pages<=256",
  // UNREGISTER_SHM names a cookie, not pages: one kind for every size.
  "unregister-shm-1": "smc:optee:CALL_WITH_ARG:UNREGISTER_SHM+memref",
  "unregister-shm-16": "smc:optee:CALL_WITH_ARG:UNREGISTER_SHM+memref",
  "unregister-shm-256": "smc:optee:CALL_WITH_ARG:UNREGISTER_SHM+memref",
  "open-session": "smc:optee:CALL_WITH_ARG:OPEN_SESSION",
  "close-session": "smc:optee:CALL_WITH_ARG:CLOSE_SESSION",
  "invoke-values": "smc:optee:CALL_WITH_ARG:INVOKE_COMMAND",
  "invoke-memref": "smc:optee:CALL_WITH_ARG:INVOKE_COMMAND+memref",
};

/** The project's targets (issue 12), printed next to the figures; not pass/fail. */
export const MICRO_GOALS: Record<string, { text: string; met: (p: PathFigures) => boolean }> = {
  "calls-uid": { text: "forwarded fast call <= 150 EL2 instructions", met: (p) => p.el2Instructions !== null && p.el2Instructions <= 150 },
  "invoke-values": { text: "INVOKE, 4 values: <= 600 EL2 instructions", met: (p) => p.el2Instructions !== null && p.el2Instructions <= 600 },
  "register-shm-256": { text: "REGISTER_SHM <= 30 EL2 instructions per page", met: (p) => p.el2Instructions !== null && p.el2Instructions / 256 <= 30 },
};

export function perCall(native: MicroRun, hyp: MicroRun, profile: Profile): Record<string, PathFigures> {
  const out: Record<string, PathFigures> = {};
  const paths = [...new Set([...Object.keys(PATH_KINDS), ...Object.keys(hyp.paths), ...Object.keys(native.paths)])];
  for (const path of paths) {
    const nat = native.paths[path] ?? null;
    const h = hyp.paths[path] ?? null;
    const kindName = PATH_KINDS[path] ?? null;
    const kind = kindName ? profile.kinds[kindName] : undefined;
    out[path] = {
      el2Instructions: kind && kind.count ? Math.round(kind.el2Instructions / kind.count) : null,
      guestNative: nat ? nat.median : null,
      guestHyp: h ? h.median : null,
      ratio: nat && h && nat.median ? Math.round((h.median / nat.median) * 100) / 100 : null,
      n: (h ?? nat)?.n ?? 0,
      spread: { guestNative: nat ? [nat.min, nat.max] : null, guestHyp: h ? [h.min, h.max] : null },
      el2Kind: kind ? kindName : null,
    };
  }
  return out;
}
