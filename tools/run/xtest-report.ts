/**
 * Reads xtest runs back from a console: the guest's /init markers (tools/images/initramfs.ts) around
 * xtest's own output, which OP-TEE's optee_test 4.5 prints like this (host/xtest/adbg/src/adbg_case.c and
 * adbg_run.c):
 *
 *   * regression_1013 Test concurrency with concurrent TA      a case begins
 *   o regression_1013.2 Using large concurrency TA             a subcase begins (numbered in its parent)
 *   o regression_1013.2.1 Busy loop repeat 10000
 *   TEEC_ERROR_OUT_OF_MEMORY - ignored                          logged inside the innermost open subcase
 *     regression_1013.2.1 OK                                    a (sub)case ends: two spaces, OK or FAILED
 *   +-----------------------------------------------------
 *   Result of testsuite regression+pkcs11:
 *   pkcs11_1000 FAILED first error at pkcs11_1000.c:123         the summary: failed (sub)cases, cases that passed
 *   regression_1001 OK
 *   +-----------------------------------------------------
 *   33707 subtests of which 35 failed
 *   139 test cases of which 31 failed
 *   0 test cases were skipped                                   ("1 test case was skipped")
 *
 * Guests' lines carry the hypervisor's "[<name>] " prefix; the native baseline's get "[native] " from
 * tools/run/native.ts. `verdict` compares each TEE guest with the native run of the same command.
 */

export interface XtestReport {
  name: string;
  /** XTEST-START seen: the xtest step ran. */
  started: boolean;
  /** The selection as given (`xtest=`, commas for spaces). */
  args: string | null;
  /** XTEST-END's status: xtest's exit status (its failed case count) or no-tee / no-supplicant. */
  status: string | null;
  /** xtest's wall time as the guest measured it. */
  seconds: number | null;
  subtests: number | null;
  /** Failed subtests. */
  failed: number | null;
  cases: number | null;
  failedCases: string[];
  skipped: number | null;
  /** One entry per "TEEC_ERROR_OUT_OF_MEMORY - ignored": the innermost (sub)case open when it was printed. */
  oomIgnored: string[];
  /** The subtests xtest did not count because of those (see oomSubtestsLost). */
  oomSubtestsLost: number;
  aborted: boolean;
  /** XTEST-ERROR lines, without the marker. */
  errors: string[];
  /** TEE-DEVICE present/absent, null if the guest did not check. */
  teeDevice: boolean | null;
  /** The case running now (the last "* <case>" seen) and how many cases have begun. */
  currentCase: string | null;
  casesBegun: number;
}

const OOM_LINE = "TEEC_ERROR_OUT_OF_MEMORY - ignored";

/** The console lines of one guest, without their "[name] " prefix. */
export function guestLines(name: string, lines: string[]): string[] {
  const prefix = `[${name}] `;
  return lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}

/**
 * Whether guests a's and b's xtest runs overlapped on the machine's console (lines in the order they arrived):
 * each printed XTEST-START before the other printed XTEST-END. `where` gives the four line numbers (-1: missing).
 */
export function xtestRunsOverlap(lines: string[], a: string, b: string): { overlap: boolean; where: string } {
  const at = (name: string, marker: string) => lines.findIndex((l) => l.startsWith(`[${name}] ${marker} `));
  const [aStart, aEnd, bStart, bEnd] = [at(a, "XTEST-START"), at(a, "XTEST-END"), at(b, "XTEST-START"), at(b, "XTEST-END")];
  const overlap = [aStart, aEnd, bStart, bEnd].every((i) => i >= 0) && aStart < bEnd && bStart < aEnd;
  return { overlap, where: `${a} lines ${aStart}-${aEnd}, ${b} lines ${bStart}-${bEnd}` };
}

/** Follows one guest's console line by line (for progress while it runs); `report` is the state so far. */
export class XtestTracker {
  private r: XtestReport;
  /** The open (sub)cases, outermost first. */
  private open: { id: string; title: string }[] = [];
  /** Titles of the subcases an OOM was ignored in, to know what each cost. */
  private oomTitles = new Map<string, string>();
  private inSummary = false;

  constructor(name: string) {
    this.r = {
      name, started: false, args: null, status: null, seconds: null, subtests: null, failed: null, cases: null,
      failedCases: [], skipped: null, oomIgnored: [], oomSubtestsLost: 0, aborted: false, errors: [], teeDevice: null,
      currentCase: null, casesBegun: 0,
    };
  }

  /** One line of this guest's console, prefix already removed. */
  feed(text: string): void {
    const r = this.r;
    let m: RegExpExecArray | null;
    if ((m = /^XTEST-START name=\S+ args=(\S*)/.exec(text))) {
      r.started = true;
      r.args = m[1];
    } else if ((m = /^XTEST-END name=\S+ status=(\S+) seconds=([\d.]+)/.exec(text))) {
      r.status = m[1];
      r.seconds = Number(m[2]);
    } else if ((m = /^XTEST-ERROR name=\S+ (.*)$/.exec(text))) {
      r.errors.push(m[1]);
    } else if ((m = /^TEE-DEVICE (present|absent)\b/.exec(text))) {
      r.teeDevice = m[1] === "present";
    } else if ((m = /^\* (\S+) ?(.*)$/.exec(text))) {
      this.open = [{ id: m[1], title: m[2] }];
      r.currentCase = m[1];
      r.casesBegun++;
      this.inSummary = false;
    } else if ((m = /^o (\S+) ?(.*)$/.exec(text))) {
      this.open.push({ id: m[1], title: m[2] });
    } else if ((m = /^ {2}(\S+) (OK|FAILED)$/.exec(text))) {
      const at = this.open.findIndex((s) => s.id === m![1]);
      if (at >= 0) this.open.length = at;
    } else if (text.trim() === OOM_LINE) {
      const inner = this.open.at(-1);
      const id = inner?.id ?? "(outside any case)";
      r.oomIgnored.push(id);
      if (inner) this.oomTitles.set(id, inner.title);
    } else if (/^Result of testsuite /.test(text)) {
      this.inSummary = true;
      this.open = [];
    } else if ((m = /^(\d+) subtests? of which (\d+) failed$/.exec(text))) {
      r.subtests = Number(m[1]);
      r.failed = Number(m[2]);
      this.inSummary = false;
    } else if ((m = /^(\d+) test cases? of which (\d+) failed$/.exec(text))) {
      r.cases = Number(m[1]);
    } else if ((m = /^(\d+) test cases? (?:were|was) skipped$/.exec(text))) {
      r.skipped = Number(m[1]);
    } else if (text === "Test suite was ABORTED" || /^Test suite aborted by /.test(text)) {
      r.aborted = true;
    } else if (this.inSummary && (m = /^([A-Za-z0-9_]+) FAILED\b/.exec(text))) {
      // Subcases ("regression_1006.1 FAILED …") are listed too; a case's own line has no dot.
      if (!r.failedCases.includes(m[1])) r.failedCases.push(m[1]);
    }
  }

  report(): XtestReport {
    return { ...this.r, oomSubtestsLost: oomSubtestsLost(this.r.oomIgnored, this.oomTitles) };
  }
}

/** Parses one guest's xtest run out of a whole console (lines with every guest's prefix). */
export function parseXtest(name: string, lines: string[]): XtestReport {
  const t = new XtestTracker(name);
  for (const l of guestLines(name, lines)) t.feed(l);
  return t.report();
}

/**
 * How many subtests xtest leaves out of its total for the OOMs it ignored, from regression_1000.c
 * (xtest_tee_test_1013_single) and adbg_expect.c. An ignored thread skips its ADBG_EXPECT_TEEC_SUCCESS
 * (1 subtest); in "SHA-256 loop" also its ADBG_EXPECT_BUFFER (2 more: length and contents); in "Busy loop" any
 * ignored thread skips the subcase's two ADBG_EXPECT_COMPARE_UNSIGNED, once. So one OOM costs 3 either way,
 * but k OOMs in one busy-loop subcase cost k + 2, not 3k.
 */
export function oomSubtestsLost(oomIgnored: string[], titles: Map<string, string>): number {
  const count = new Map<string, number>();
  for (const id of oomIgnored) count.set(id, (count.get(id) ?? 0) + 1);
  let lost = 0;
  for (const [id, k] of count) lost += /^Busy loop/.test(titles.get(id) ?? "") ? k + 2 : 3 * k;
  return lost;
}

/** A TEE guest's oomIgnored may hold only these: 1013.2's 24 large TAs at once outgrow one guest's share of TA memory. */
export const OOM_ALLOWED = /^regression_1013\./;

/** Why a TEE guest's run does not match the native one; empty when it does. */
export function compareWithNative(native: XtestReport, g: XtestReport): string[] {
  const problems: string[] = [];
  const n = g.name;
  if (!g.started) return [`${n}: xtest never started (no XTEST-START line)`];
  if (g.status === "no-tee") {
    return [`${n}: /dev/teepriv0 never appeared: the optee driver found no OP-TEE — is the OP-TEE mediator in the hypervisor?`];
  }
  if (g.status === null) return [`${n}: xtest did not finish (no XTEST-END line; timed out or the guest died)${g.currentCase ? `, last case ${g.currentCase}` : ""}`];
  if (g.subtests === null || g.cases === null) return [`${n}: no xtest summary (status ${g.status})`];
  if (g.aborted) problems.push(`${n}: xtest aborted the suite`);
  const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
  if (!same(g.failedCases, native.failedCases)) {
    const extra = g.failedCases.filter((c) => !native.failedCases.includes(c));
    const missing = native.failedCases.filter((c) => !g.failedCases.includes(c));
    problems.push(`${n}: failed cases differ from native${extra.length ? `; also failed: ${extra.join(" ")}` : ""}${missing.length ? `; passed here, failed natively: ${missing.join(" ")}` : ""}`);
  }
  if (g.cases !== native.cases) problems.push(`${n}: ${g.cases} cases, native ${native.cases}`);
  if (g.skipped !== native.skipped) problems.push(`${n}: ${g.skipped} skipped, native ${native.skipped}`);
  const foreign = g.oomIgnored.filter((id) => !OOM_ALLOWED.test(id));
  if (foreign.length) problems.push(`${n}: out of memory ignored outside regression_1013: ${[...new Set(foreign)].join(" ")}`);
  if (native.subtests !== null && g.subtests !== native.subtests - g.oomSubtestsLost) {
    problems.push(`${n}: ${g.subtests} subtests, expected native's ${native.subtests} − ${g.oomSubtestsLost} for ${g.oomIgnored.length} ignored OOM(s) = ${native.subtests - g.oomSubtestsLost}`);
  }
  if (g.failed !== native.failed) problems.push(`${n}: ${g.failed} failed subtests, native ${native.failed}`);
  return problems;
}

/** Why the native run cannot serve as the bar; empty when it can. */
export function checkNative(native: XtestReport): string[] {
  if (!native.started) return ["native: xtest never started"];
  if (native.status === "no-tee") return ["native: /dev/teepriv0 never appeared: OP-TEE did not come up"];
  if (native.subtests === null || native.cases === null) return [`native: no xtest summary (status ${native.status ?? "none: timed out?"})`];
  if (native.aborted) return ["native: xtest aborted the suite"];
  return [];
}

/** "pkcs11_1000..pkcs11_1030" for a run of consecutive numbers with one prefix. */
export function caseRanges(names: string[]): string {
  const out: string[] = [];
  const sorted = [...names].sort();
  for (let i = 0; i < sorted.length;) {
    const m = /^(.*_)(\d+)$/.exec(sorted[i]);
    let j = i;
    while (m && j + 1 < sorted.length && sorted[j + 1] === `${m[1]}${Number(/\d+$/.exec(sorted[j])![0]) + 1}`) j++;
    out.push(j > i + 1 ? `${sorted[i]}..${sorted[j]}` : sorted.slice(i, j + 1).join(" "));
    i = j + 1;
  }
  return out.join(" ") || "none";
}
