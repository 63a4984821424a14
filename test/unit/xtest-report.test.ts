/**
 * tools/run/xtest-report.ts: reading xtest runs back from a console. The snippets are xtest 4.5's own
 * output as the native baseline printed it (build/results/xtest-native.log), cut short; the OOM lines are
 * placed where regression_1000.c's xtest_tee_test_1013_single prints them.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  OOM_ALLOWED, XtestTracker, caseRanges, checkNative, compareWithNative, guestLines, parseXtest, xtestRunsOverlap,
  type XtestReport,
} from "../../tools/run/xtest-report.ts";

const tag = (name: string, text: string) => text.trim().split("\n").map((l) => `[${name}] ${l}`);

/** The short selection, as a guest under the hypervisor prints it (its /init's markers around xtest). */
const SHORT = `
GUEST-READY name=tee1 kernel=6.12.107+deb13-arm64 nproc=2 mem_kb=476768 seconds_to_init=5.11
TEE-DEVICE present
XTEST-START name=tee1 args=-t,regression,1001,4001
Test ID: 1001
Test ID: 4001
Run test suite with level=0

TEE test application started over default TEE instance
######################################################
#
# regression
#
######################################################
 
* regression_1001 Core self tests
o regression_1001.1 Core self tests
  regression_1001.1 OK
o regression_1001.2 Core dt_driver self tests
  regression_1001.2 OK
  regression_1001 OK
 
* regression_4001 Test TEE Internal API hash operations
o regression_4001.1 Hash case 0 algo 0x50000001
  regression_4001.1 OK
o regression_4001.2 Hash case 1 algo 0x50000002
  regression_4001.2 OK
  regression_4001 OK
+-----------------------------------------------------
Result of testsuite regression filtered by "1001":
Result of testsuite regression filtered by "4001":
regression_1001 OK
regression_4001 OK
+-----------------------------------------------------
597 subtests of which 0 failed
2 test cases of which 0 failed
106 test cases were skipped
TEE test application done!
XTEST-END name=tee1 status=0 seconds=2.2
GUEST-DONE name=tee1
`;

/** The end of a full run: the pkcs11 cases fail (no PKCS#11 TA in Debian), subcases listed too. */
const FULL_END = `
XTEST-START name=native args=all
* pkcs11_1030 PKCS11: Test AES-GCM Encryption/Decryption
  pkcs11_1030 FAILED
+-----------------------------------------------------
Result of testsuite regression+pkcs11:
regression_1001 OK
regression_1006 OK
pkcs11_1000 FAILED first error at ./host/xtest/pkcs11_1000.c:204
pkcs11_1001 FAILED first error at ./host/xtest/pkcs11_1000.c:244
pkcs11_1004.1 FAILED first error at ./host/xtest/pkcs11_1000.c:1224
pkcs11_1004.2 FAILED first error at ./host/xtest/pkcs11_1000.c:1224
pkcs11_1004 FAILED
pkcs11_1030 FAILED first error at ./host/xtest/pkcs11_1000.c:9614
+-----------------------------------------------------
33707 subtests of which 35 failed
139 test cases of which 31 failed
0 test cases were skipped
TEE test application done!
XTEST-END name=native status=31 seconds=222.1
`;

/** regression_1013.2 (the large TA) where some of the three threads' TA instances did not fit. */
const OOM = `
* regression_1013 Test concurrency with concurrent TA
o regression_1013.1 Using small concurrency TA
o regression_1013.1.1 Busy loop repeat 10000
  regression_1013.1.1 OK
    Number of parallel threads: 3
    Mean concurrency: 1.625
  regression_1013.1 OK
o regression_1013.2 Using large concurrency TA
o regression_1013.2.1 Busy loop repeat 10000
TEEC_ERROR_OUT_OF_MEMORY - ignored
TEEC_ERROR_OUT_OF_MEMORY - ignored
  regression_1013.2.1 OK
o regression_1013.2.2 SHA-256 loop repeat 1000
TEEC_ERROR_OUT_OF_MEMORY - ignored
  regression_1013.2.2 OK
o regression_1013.2.3 Busy loop repeat 10000
TEEC_ERROR_OUT_OF_MEMORY - ignored
  regression_1013.2.3 OK
    Number of parallel threads: 3
    Mean concurrency: 1.58333
  regression_1013.2 OK
  regression_1013 OK
`;

test("a short run: markers, cases, summary", () => {
  const r = parseXtest("tee1", tag("tee1", SHORT));
  assert.is(r.started, true);
  assert.is(r.args, "-t,regression,1001,4001");
  assert.is(r.status, "0");
  assert.is(r.seconds, 2.2);
  assert.is(r.subtests, 597);
  assert.is(r.failed, 0);
  assert.is(r.cases, 2);
  assert.equal(r.failedCases, []);
  assert.is(r.skipped, 106);
  assert.equal(r.oomIgnored, []);
  assert.is(r.teeDevice, true);
  assert.is(r.aborted, false);
  assert.is(r.casesBegun, 2);
  assert.is(r.currentCase, "regression_4001");
});

test("only the named guest's lines count, however the guests' lines interleave", () => {
  const a = tag("tee1", SHORT), b = tag("tee2", SHORT.replace(/tee1/g, "tee2").replace("597 subtests", "596 subtests"));
  const mixed = a.flatMap((l, i) => [l, b[i]]);
  assert.is(parseXtest("tee1", mixed).subtests, 597);
  assert.is(parseXtest("tee2", mixed).subtests, 596);
  assert.is(parseXtest("plain", mixed).started, false);
  assert.equal(guestLines("tee2", ["[tee1] x", "[tee2] y", "tee2 z"]), ["y"]);
});

test("a full run: failed cases are the cases, not their subcases", () => {
  const r = parseXtest("native", tag("native", FULL_END));
  assert.equal(r.failedCases, ["pkcs11_1000", "pkcs11_1001", "pkcs11_1004", "pkcs11_1030"]);
  assert.is(r.subtests, 33707);
  assert.is(r.failed, 35);
  assert.is(r.cases, 139);
  assert.is(r.skipped, 0);
  assert.is(r.status, "31");
  assert.equal(checkNative(r), []);
});

test("an ignored OOM belongs to the innermost open subcase, and costs what xtest does not count", () => {
  const r = parseXtest("tee2", tag("tee2", OOM));
  assert.equal(r.oomIgnored, ["regression_1013.2.1", "regression_1013.2.1", "regression_1013.2.2", "regression_1013.2.3"]);
  // Busy loop with 2 OOMs: 2 + 2; SHA-256 loop with 1: 3; busy loop with 1: 1 + 2.
  assert.is(r.oomSubtestsLost, 4 + 3 + 3);
  assert.ok(r.oomIgnored.every((id) => OOM_ALLOWED.test(id)));
});

test("a guest without OP-TEE: the xtest step says so and ends", () => {
  const lines = tag("tee1", `
XTEST-START name=tee1 args=all
XTEST-ERROR name=tee1 /dev/teepriv0 never appeared within 30 s: the optee driver found no OP-TEE (is the OP-TEE mediator in the hypervisor? does this guest's device tree have /firmware/optee?)
XTEST-ERROR name=tee1 dmesg: [    6.1] optee: probe of firmware:optee failed with error -22
XTEST-END name=tee1 status=no-tee seconds=30.4
`);
  const r = parseXtest("tee1", lines);
  assert.is(r.status, "no-tee");
  assert.is(r.errors.length, 2);
  assert.is(r.subtests, null);
  const native = parseXtest("native", tag("native", FULL_END));
  const problems = compareWithNative(native, r);
  assert.is(problems.length, 1);
  assert.match(problems[0], /^tee1: \/dev\/teepriv0 never appeared.*OP-TEE mediator in the hypervisor/);
});

test("plain's TEE check", () => {
  assert.is(parseXtest("plain", ["[plain] TEE-DEVICE absent"]).teeDevice, false);
  assert.is(parseXtest("plain", ["[plain] GUEST-DONE name=plain"]).teeDevice, null);
});

test("singular summary lines and an aborted suite", () => {
  const t = new XtestTracker("g");
  for (const l of ["XTEST-START name=g args=1001", "* regression_1001 Core self tests", "Test suite aborted by regression_1001!",
    "+-----------------------------------------------------", "Test suite was ABORTED", "1 subtest of which 1 failed",
    "1 test case of which 1 failed", "1 test case was skipped"]) t.feed(l);
  const r = t.report();
  assert.is(r.subtests, 1);
  assert.is(r.cases, 1);
  assert.is(r.skipped, 1);
  assert.is(r.aborted, true);
  assert.is(r.status, null);
});

/** A guest report like native's with some fields changed. */
function like(native: XtestReport, change: Partial<XtestReport>): XtestReport {
  return { ...native, name: "tee1", ...change };
}

test("compareWithNative: the same results pass; OOMs in 1013 cost exactly their subtests", () => {
  const native = parseXtest("native", tag("native", FULL_END));
  assert.equal(compareWithNative(native, like(native, {})), []);
  const oom = ["regression_1013.2.1", "regression_1013.2.2"];
  assert.equal(compareWithNative(native, like(native, { oomIgnored: oom, oomSubtestsLost: 6, subtests: 33701 })), []);
  const [p] = compareWithNative(native, like(native, { oomIgnored: oom, oomSubtestsLost: 6, subtests: 33704 }));
  assert.match(p, /33704 subtests, expected native's 33707 − 6 for 2 ignored OOM\(s\) = 33701/);
});

test("compareWithNative: every difference is named", () => {
  const native = parseXtest("native", tag("native", FULL_END));
  const problems = compareWithNative(native, like(native, {
    failedCases: ["pkcs11_1000", "pkcs11_1001", "pkcs11_1004", "regression_1034"],
    skipped: 2, failed: 36, oomIgnored: ["regression_1034.1"], oomSubtestsLost: 3, subtests: 33704,
  }));
  assert.equal(problems, [
    "tee1: failed cases differ from native; also failed: regression_1034; passed here, failed natively: pkcs11_1030",
    "tee1: 2 skipped, native 0",
    "tee1: out of memory ignored outside regression_1013: regression_1034.1",
    "tee1: 36 failed subtests, native 35",
  ]);
  assert.match(compareWithNative(native, like(native, { status: null, subtests: null, currentCase: "regression_4006" }))[0],
    /did not finish .*last case regression_4006/);
  assert.match(compareWithNative(native, like(native, { started: false }))[0], /never started/);
});

test("caseRanges shortens runs of consecutive cases", () => {
  const pkcs = Array.from({ length: 31 }, (_, i) => `pkcs11_${1000 + i}`);
  assert.is(caseRanges(pkcs), "pkcs11_1000..pkcs11_1030");
  assert.is(caseRanges(["regression_1034", "pkcs11_1001", "pkcs11_1000"]), "pkcs11_1000 pkcs11_1001 regression_1034");
  assert.is(caseRanges([]), "none");
});

test("two guests' xtest runs overlap only when each started before the other ended (xtest.test.ts asserts it)", () => {
  const start = (g: string) => `[${g}] XTEST-START name=${g} args=-t,regression,1001`;
  const end = (g: string) => `[${g}] XTEST-END name=${g} status=0 seconds=3.10`;
  const noise = "[tee1] * regression_1001 Core self tests";
  assert.is(xtestRunsOverlap([start("tee1"), start("tee2"), noise, end("tee1"), end("tee2")], "tee1", "tee2").overlap, true);
  assert.is(xtestRunsOverlap([start("tee2"), start("tee1"), end("tee1"), end("tee2")], "tee1", "tee2").overlap, true, "one inside the other");
  assert.is(xtestRunsOverlap([start("tee1"), noise, end("tee1"), start("tee2"), end("tee2")], "tee1", "tee2").overlap, false, "one after the other");
  assert.is(xtestRunsOverlap([start("tee2"), end("tee2"), start("tee1"), end("tee1")], "tee1", "tee2").overlap, false, "the other way round");
  const missing = xtestRunsOverlap([start("tee1"), start("tee2"), end("tee1")], "tee1", "tee2");
  assert.equal(missing, { overlap: false, where: "tee1 lines 0-2, tee2 lines 1--1" }, "a run that never ended");
});

test.run();
