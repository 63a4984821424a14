/**
 * Reads guest/teebench's lines back from a console (each line prefixed "[<guest>] " by the hypervisor, or
 * "[native] " by tools/run/native.ts). Pure: the unit tests feed it lines.
 */

/** One path's calls as teebench summarised them, in guest nanoseconds (instructions under -icount shift=0). */
export interface TeebenchPath {
  n: number;
  median: number;
  min: number;
  p10: number;
  p90: number;
  max: number;
  mean: number;
}

export interface TeebenchRun {
  name: string;
  /** Calls per path it was asked for. */
  n: number | null;
  /** The machine's counter (seconds since power-on) when it started and ended measuring. */
  startedAt: number | null;
  endedAt: number | null;
  /** "ok", "failed", "no-tee"; null if it never ended. */
  status: string | null;
  paths: Record<string, TeebenchPath>;
  errors: string[];
}

const FIELDS = ["n", "median", "min", "p10", "p90", "max", "mean"] as const;

/** key=value words of a line. */
function fields(text: string): Record<string, string> {
  return Object.fromEntries(text.split(/\s+/).filter((w) => w.includes("=")).map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
}

const num = (s: string | undefined): number | null => (s !== undefined && /^[\d.]+$/.test(s) ? Number(s) : null);

/**
 * The teebench run called `name` (default: the console's name) on the console of `consoleName` (its lines
 * prefixed "[consoleName] "): several runs can share one console (teebench_procs).
 */
export function parseTeebench(consoleName: string, lines: string[], name = consoleName): TeebenchRun {
  const r: TeebenchRun = { name, n: null, startedAt: null, endedAt: null, status: null, paths: {}, errors: [] };
  const prefix = `[${consoleName}] `;
  for (const line of lines) {
    if (!line.startsWith(prefix)) continue;
    const text = line.slice(prefix.length);
    const f = fields(text);
    if (!text.startsWith("TEEBENCH") || (f.name !== undefined && f.name !== name)) continue;
    if (text.startsWith("TEEBENCH-START ")) {
      r.n = num(f.n);
      r.startedAt = num(f.since_power_on);
    } else if (text.startsWith("TEEBENCH ") && f.path) {
      const values = FIELDS.map((k) => num(f[k]));
      if (values.every((v) => v !== null)) r.paths[f.path] = Object.fromEntries(FIELDS.map((k, i) => [k, values[i]])) as unknown as TeebenchPath;
      else r.errors.push(`unreadable line: ${text}`);
    } else if (text.startsWith("TEEBENCH-ERROR ")) {
      r.errors.push(text.replace(/^TEEBENCH-ERROR name=\S+ /, ""));
    } else if (text.startsWith("TEEBENCH-END ")) {
      r.status = f.status ?? null;
      r.endedAt = num(f.since_power_on);
    }
  }
  return r;
}

/** The share of `a`'s measuring time during which `b` was measuring too (0..1), or null if either is unknown. */
export function overlap(a: TeebenchRun, b: TeebenchRun): number | null {
  if (a.startedAt === null || a.endedAt === null || b.startedAt === null || b.endedAt === null) return null;
  const both = Math.min(a.endedAt, b.endedAt) - Math.max(a.startedAt, b.startedAt);
  const span = a.endedAt - a.startedAt;
  return span > 0 ? Number(Math.max(0, Math.min(1, both / span)).toFixed(3)) : null;
}
