import { join } from "node:path";
import { setup } from "../../configs/microbench.ts";
import { bootGuests } from "../run/guests-lib.ts";
import { prepareImage } from "./micro.ts";
import { BENCH_DIR } from "./bench-lib.ts";
const n = 200;
prepareImage(n);
const r = await bootGuests(setup, { timeoutSeconds: 900, qemuArgs: ["-icount", "shift=0", "-plugin", `${join(BENCH_DIR, "tbprof.so")},out=/tmp/tr/mp.txt,marks=1`] });
for (const l of r.result.lines) if (l.includes("MICROBENCH path=")) console.log(l);
