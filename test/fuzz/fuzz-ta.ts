/**
 * The trusted application the fuzzer's OP-TEE runs: the invoked function picks which RPCs its thread makes, so
 * the guests' calls see every kind of RPC the mediator handles, in varied order; then it answers as echoTa does
 * (values and memrefs), so the honest-session check still holds.
 *
 *   func % 6 = 0  nothing but echo          3  a foreign interrupt
 *              1  GET_TIME (RPC_ALLOC, CMD)  4  SHM_ALLOC of 2 pages, kept (OP-TEE holds it until the guest goes)
 *              2  SHM_ALLOC, LOAD_TA into it, SHM_FREE                  5  GET_TIME twice
 */
import * as M from "../fakes/optee-msg.ts";
import type { TaScript, ThreadApi, ThreadGen } from "../fakes/optee-ta.ts";
import { echoTa } from "../fakes/tee-guest.ts";

function* getTime(api: ThreadApi): ThreadGen<number> {
  return (yield* api.cmd(M.OPTEE_RPC_CMD_GET_TIME, [{ type: "value", dir: "out", a: 0n, b: 0n, c: 0n }])).ret;
}

function* allocLoadFree(api: ThreadApi): ThreadGen<number> {
  const mobj = yield* api.shmAlloc(8192);
  if (!mobj) return M.TEE_ERROR_OUT_OF_MEMORY;
  const uuid = { type: "value" as const, dir: "in" as const, a: 0x1111n, b: 0x2222n, c: 0n };
  const r = yield* api.cmd(M.OPTEE_RPC_CMD_LOAD_TA, [uuid, { type: "memref", dir: "out", mobj, offs: 0, size: 8192 }]);
  yield* api.shmFree(mobj);
  return r.ret;
}

function* rpcsFor(func: number, api: ThreadApi): ThreadGen<number> {
  switch (func % 6) {
    case 1: return yield* getTime(api);
    case 2: return yield* allocLoadFree(api);
    case 3: yield* api.foreignIntr(); return M.TEE_SUCCESS;
    case 4: return (yield* api.shmAlloc(8192)) ? M.TEE_SUCCESS : M.TEE_ERROR_OUT_OF_MEMORY;
    case 5: return (yield* getTime(api)) || (yield* getTime(api));
    default: return M.TEE_SUCCESS;
  }
}

export const fuzzTa: TaScript = function* (call) {
  if (call.op === "invoke") {
    const ret = yield* rpcsFor(call.func, call.api);
    if (ret !== M.TEE_SUCCESS) return { ret };
  }
  return yield* echoTa(call);
};
