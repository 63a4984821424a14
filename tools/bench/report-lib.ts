/**
 * The benchmark report, assembled from the parts the benchmarks leave in build/bench/ — pure functions, so the
 * unit tests run them on fixtures:
 *   micro.json       the bare-metal micro-benchmark guest: per-call paths, guest-observed and EL2 instructions
 *   el2-exits.json   the hypervisor's own accounting: EL2 instructions per exit kind (and per guest)
 *   end-to-end.json  tools/bench/boot-time.ts (bootToInit) and tools/bench/tee-calls.ts (teeSelection)
 *   teec.json        tools/bench/teec.ts: TEEC calls from Linux user space, native / alone / alongside
 * A part that is missing or unreadable is "not measured": its figures are null, never an error.
 * Everything is in instructions (QEMU -icount shift=0: one guest nanosecond is one instruction).
 */

export type Num = number | null;

export interface PerCall {
  el2Instructions: Num;
  guestNative: Num;
  guestHyp: Num;
  ratio: Num;
  n: number | null;
  /** "micro" (bare-metal guest, one SMC/HVC) or "teec" (a Linux program through libteec and the driver). */
  source: "micro" | "teec";
  spread?: unknown;
}

export interface ExitKind {
  count: number;
  el2Instructions: number;
}

/** The parts as read from disk (undefined: the file was not there or not JSON). */
export interface Parts {
  micro?: any;
  el2Exits?: any;
  endToEnd?: any;
  teec?: any;
}

export interface Meta {
  commit: string;
  qemu: string;
  generated: string;
}

export interface Goal {
  figure: string;
  goal: string;
  value: Num;
  unit: string;
  /** Whether the figure is within the goal; null when not measured. A target, not a test. */
  within: boolean | null;
}

const num = (x: unknown): Num => (typeof x === "number" && Number.isFinite(x) ? x : null);
const ratioOf = (native: Num, hyp: Num): Num => (native !== null && hyp !== null && native > 0 ? Number((hyp / native).toFixed(3)) : null);

/** micro.json's paths, as the report carries them. */
function microPerCall(micro: any): Record<string, PerCall> {
  const out: Record<string, PerCall> = {};
  for (const [path, p] of Object.entries<any>(micro?.perCall ?? {})) {
    const guestNative = num(p?.guestNative), guestHyp = num(p?.guestHyp);
    out[path] = {
      el2Instructions: num(p?.el2Instructions), guestNative, guestHyp, ratio: num(p?.ratio) ?? ratioOf(guestNative, guestHyp),
      n: num(p?.n), source: "micro", spread: p?.spread ?? null,
    };
  }
  return out;
}

/** teec.json's paths as `teec-<path>`: the guest-observed medians natively and in tee1 alone. */
function teecPerCall(teec: any): Record<string, PerCall> {
  const out: Record<string, PerCall> = {};
  for (const [path, p] of Object.entries<any>(teec?.paths ?? {})) {
    const guestNative = num(p?.native?.median), guestHyp = num(p?.alone?.median);
    out[`teec-${path}`] = {
      el2Instructions: null, guestNative, guestHyp, ratio: ratioOf(guestNative, guestHyp), n: num(teec?.n), source: "teec",
      spread: { runs: { native: p?.native ?? null, alone: p?.alone ?? null }, calls: p?.callSpread ?? null },
    };
  }
  return out;
}

function exitsOf(el2: any): Record<string, ExitKind> {
  const out: Record<string, ExitKind> = {};
  for (const [kind, e] of Object.entries<any>(el2?.exits ?? {})) {
    const count = num(e?.count), insns = num(e?.el2Instructions);
    if (count !== null && insns !== null) out[kind] = { count, el2Instructions: insns };
  }
  return out;
}

function endToEndOf(e2e: any) {
  const tee = e2e?.teeSelection, boot = e2e?.bootToInit;
  return {
    teeSelection: {
      native: num(tee?.native), hyp: num(tee?.hyp), ratio: num(tee?.ratio) ?? ratioOf(num(tee?.native), num(tee?.hyp)),
      selection: tee?.selection ?? null, runs: num(tee?.runs), spread: tee?.spread ?? null,
    },
    bootToInit: {
      native: num(boot?.native), alone: num(boot?.alone), alongside: num(boot?.alongside),
      ratioAlone: num(boot?.ratioAlone) ?? ratioOf(num(boot?.native), num(boot?.alone)),
      ratioAlongside: num(boot?.ratioAlongside) ?? ratioOf(num(boot?.native), num(boot?.alongside)),
      runs: num(boot?.runs), spread: boot?.spread ?? null, kernelOnly: boot?.kernelOnly ?? null,
      // What tee1's own CPUs executed to /init (tools/bench/cpu-insns.ts): the fair figure for one of three.
      ownCpus: {
        native: num(boot?.onOwnCpus?.native?.median), alone: num(boot?.onOwnCpus?.alone?.median),
        alongside: num(boot?.onOwnCpus?.alongside?.median),
        ratioAlone: num(boot?.onOwnCpus?.ratioAlone), ratioAlongside: num(boot?.onOwnCpus?.ratioAlongside),
      },
    },
  };
}

/** REGISTER_SHM's EL2 instructions per page: the slope between the smallest and the largest registration. */
export function shmPerPage(perCall: Record<string, PerCall>): Num {
  const sizes = Object.keys(perCall).map((p) => /^register-shm-(\d+)$/.exec(p)).filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pages: Number(m[1]), el2: perCall[m[0]].el2Instructions })).filter((s) => s.el2 !== null).sort((a, b) => a.pages - b.pages);
  if (sizes.length < 2) return sizes.length === 1 ? Number((sizes[0].el2! / sizes[0].pages).toFixed(1)) : null;
  const [lo, hi] = [sizes[0], sizes[sizes.length - 1]];
  return Number(((hi.el2! - lo.el2!) / (hi.pages - lo.pages)).toFixed(1));
}

/** The goals, each next to the figure it is about. */
export function goals(perCall: Record<string, PerCall>, endToEnd: ReturnType<typeof endToEndOf>): Goal[] {
  const atMost = (figure: string, value: Num, limit: number, unit: string, goal = `≤ ${limit} ${unit}`): Goal =>
    ({ figure, goal, value, unit, within: value === null ? null : value <= limit });
  const el2 = (p: string) => perCall[p]?.el2Instructions ?? null;
  return [
    atMost("forwarded fast call (CALLS_UID), EL2", el2("calls-uid"), 150, "EL2 instructions"),
    atMost("INVOKE with 4 value parameters, EL2", el2("invoke-values"), 600, "EL2 instructions", "≤ 600 EL2 instructions beyond OP-TEE's"),
    atMost("REGISTER_SHM, EL2 per page", shmPerPage(perCall), 30, "EL2 instructions per page"),
    atMost("TEEC_InvokeCommand (values), guest-observed", perCall["teec-invoke-values"]?.ratio ?? null, 1.05, "× native"),
    atMost("TEEC_InvokeCommand (memref), guest-observed", perCall["teec-invoke-memref"]?.ratio ?? null, 1.05, "× native"),
    atMost("call-heavy xtest selection, tee1 alone", endToEnd.teeSelection.ratio, 1.1, "× native"),
    atMost("boot to /init, alone", endToEnd.bootToInit.ratioAlone, 1.2, "× native"),
    atMost("boot to /init, one of three (tee1's CPUs)", endToEnd.bootToInit.ownCpus.ratioAlongside, 1.3, "× native"),
  ];
}

/** What each part contributed, or that it was not measured. */
function measured(parts: Parts): Record<string, boolean> {
  return {
    micro: !!parts.micro?.perCall, el2Exits: !!parts.el2Exits?.exits,
    teeSelection: num(parts.endToEnd?.teeSelection?.native) !== null, bootToInit: num(parts.endToEnd?.bootToInit?.native) !== null,
    teec: !!parts.teec?.paths,
  };
}

export function buildReport(parts: Parts, meta: Meta) {
  const perCall = { ...microPerCall(parts.micro), ...teecPerCall(parts.teec) };
  const endToEnd = endToEndOf(parts.endToEnd);
  const icounts = [parts.micro?.icount, parts.el2Exits?.icount, parts.endToEnd?.icount, parts.teec?.icount].filter((x) => typeof x === "string");
  return {
    commit: meta.commit,
    qemu: meta.qemu,
    icount: icounts[0] ?? null,
    unit: "instructions",
    generated: meta.generated,
    measured: measured(parts),
    goals: goals(perCall, endToEnd),
    endToEnd,
    perCall,
    exits: exitsOf(parts.el2Exits),
    perGuestExits: parts.el2Exits?.perGuest ?? null,
    exitsSource: parts.el2Exits?.source ?? null,
    teec: parts.teec ? {
      n: num(parts.teec.n), runs: num(parts.teec.runs), overlap: parts.teec.overlap ?? null,
      alongside: Object.fromEntries(Object.entries<any>(parts.teec.paths ?? {}).map(([p, f]) => [p, {
        tee1: num(f?.alongside?.median), tee2: num(f?.alongsideTee2?.median), ratio: num(f?.ratioAlongside),
        nativeTwo: num(f?.nativeTwo?.median), ratioToNativeTwo: num(f?.ratioAlongsideToNativeTwo),
      }])),
    } : null,
  };
}

export type Report = ReturnType<typeof buildReport>;
