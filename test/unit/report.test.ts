/** tools/run/probe-report.ts reads the probe back from console lines, as `make run` does. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Machine } from "../fakes/machine.ts";
import { parseProbe } from "../../tools/run/probe-report.ts";

test("the report of a virtualized OP-TEE", () => {
  const m = new Machine("virtualized");
  m.boot(0);
  const r = parseProbe(m.hw.console);
  assert.is(r.uid, "384fb3e0-e7f8-11e3-af63-0002a5d5c51b");
  assert.is(r.opteePresent, true);
  assert.is(r.osRevision, "4.5");
  assert.is(r.apiRevision, "2.0");
  assert.is(r.virtualization, true);
  assert.equal(r.capabilities?.names, ["RESERVED_SHM", "DYNAMIC_SHM", "VIRTUALIZATION", "MEMREF_NULL", "ASYNC_NOTIF", "RPC_ARG", "RPMB_PROBE"]);
  assert.is(r.threadCount, 2);
  assert.is(r.maxNotifValue, 66);
  assert.is(r.poweredOff, true);
});

test("the report of a plain OP-TEE and of none", () => {
  const plain = new Machine("plain");
  plain.boot(0);
  const p = parseProbe(plain.hw.console);
  assert.is(p.virtualization, false);
  assert.is(p.threadCount, null);
  assert.match(p.verdict!, /not virtualization-aware/);
  const absent = new Machine("absent");
  absent.boot(0);
  const a = parseProbe(absent.hw.console);
  assert.is(a.opteePresent, false);
  assert.match(a.verdict!, /^no OP-TEE/);
});

test.run();
