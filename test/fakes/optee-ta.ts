/**
 * What runs on an OP-TEE thread in the model (test/fakes/optee.ts): the
 * trusted application a test scripts, the view it has of its parameters
 * (entry_std.c copy_in_params), and the RPCs it can make through its thread
 * (thread_optee_smc.c thread_rpc_cmd, thread_rpc_alloc_payload, …), each a
 * generator to `yield*`: every `yield` is one RPC to the normal world.
 */
import * as M from "./optee-msg.ts";
import type { Client, OpteeModel, Thread } from "./optee.ts";

/** optee_smc.h OPTEE_SMC_RETURN_RPC_FOREIGN_INTR (also exported by optee.ts). */
const RPC_FOREIGN_INTR = 0xffff0004;

/** A registered or mapped non-contiguous buffer (struct mobj_reg_shm, mobj_dyn_shm.c). */
export interface Mobj {
  cookie: bigint;
  pages: bigint[];
  pageOffset: number;
  /** num_pages * 4096 - page_offset, as mobj_reg_shm_alloc sets it. */
  size: number;
  /** Registered with REGISTER_SHM stays unguarded; RPC-allocated and temporary ones are guarded. */
  guarded: boolean;
}

/** A memory reference a TA sees: a window of a mobj (or NULL). */
export interface MemRef {
  mobj: Mobj | undefined;
  offs: number;
  size: number;
}

export type TaParam =
  | { type: "none" }
  | { type: "value"; dir: "in" | "out" | "inout"; a: bigint; b: bigint }
  | { type: "memref"; dir: "in" | "out" | "inout"; mem: MemRef };

export interface TaCall {
  op: "open" | "invoke";
  client: number;
  thread: number;
  session: number;
  func: number;
  /** Open session: the TA's UUID as the 16 octets of params[0].value (a, b). */
  uuid?: Uint8Array;
  params: TaParam[];
  api: ThreadApi;
}

export interface TaResult {
  ret: number;
  origin?: number;
}

/** What an RPC hands the normal world: a0..a2 (thread_rpc's rv[0..2]; a3 = thread id is added on the way out). */
export interface RpcOut {
  a0: number;
  a1: number;
  a2: number;
}

/** What RETURN_FROM_RPC brings back into the thread: a1, a2, a4, a5 (thread_resume_from_rpc). */
export type RpcIn = [number, number, number, number];

export type ThreadGen<T> = Generator<RpcOut, T, RpcIn>;

/** A trusted application's behaviour, run on the calling thread: it may issue RPCs. */
export type TaScript = (call: TaCall) => ThreadGen<TaResult | void>;

/** An RPC parameter as thread_rpc_cmd takes it (struct thread_param). */
export type RpcParam =
  | { type: "none" }
  | { type: "value"; dir: "in" | "out" | "inout"; a: bigint; b: bigint; c: bigint }
  | { type: "memref"; dir: "in" | "out" | "inout"; mobj: Mobj | undefined; offs: number; size: number };

/** The normal world's answer to an RPC_CMD, read back from the RPC argument buffer. */
export interface RpcReply {
  ret: number;
  numParams: number;
  /** All THREAD_RPC_MAX_NUM_PARAMS slots as they are in the buffer (none when no RPC was made). */
  params: M.MsgParam[];
}

/**
 * What a TA script can make its OP-TEE thread do: RPCs (each a generator to
 * `yield*`) and access to its memory references.
 */
export class ThreadApi {
  constructor(private readonly model: OpteeModel, private readonly c: Client, private readonly t: Thread) {}

  /** Any RPC, as thread_rpc issues it: returns the a1, a2, a4, a5 of RETURN_FROM_RPC. */
  *rpc(a0: number, a1 = 0, a2 = 0): ThreadGen<RpcIn> {
    return yield { a0, a1, a2 };
  }

  /** RPC_FOREIGN_INTR: a normal-world interrupt arrived while OP-TEE ran. */
  *foreignIntr(): ThreadGen<void> {
    yield { a0: RPC_FOREIGN_INTR, a1: 0, a2: 0 };
  }

  /** thread_rpc_cmd: an OPTEE_RPC_CMD_* request in the thread's RPC argument buffer. */
  *cmd(cmd: number, params: RpcParam[]): ThreadGen<RpcReply> {
    return yield* this.model.rpcCmd(this.c, this.t, cmd, params);
  }

  /** thread_rpc_alloc_payload and friends: a buffer from the normal world (SHM_ALLOC). */
  *shmAlloc(size: number, type = M.OPTEE_RPC_SHM_TYPE_APPL): ThreadGen<Mobj | undefined> {
    return yield* this.model.rpcShmAlloc(this.c, this.t, type, size);
  }

  /** thread_rpc_free_payload: SHM_FREE of a buffer from shmAlloc. */
  *shmFree(mobj: Mobj, type = M.OPTEE_RPC_SHM_TYPE_APPL): ThreadGen<number> {
    return yield* this.model.rpcShmFree(this.c, this.t, type, mobj.cookie);
  }

  /**
   * The RPC OP-TEE makes to load a TA (ree_fs_ta.c): LOAD_TA to learn its size,
   * SHM_ALLOC of that size, LOAD_TA into it, SHM_FREE. Returns the bytes
   * loaded, or a TEE_ERROR_* code.
   */
  *loadTa(uuid: Uint8Array): ThreadGen<Uint8Array | number> {
    const v = new DataView(uuid.buffer, uuid.byteOffset, 16);
    const uuidParam: RpcParam = { type: "value", dir: "in", a: v.getBigUint64(0, true), b: v.getBigUint64(8, true), c: 0n };
    const probe = yield* this.cmd(M.OPTEE_RPC_CMD_LOAD_TA, [uuidParam, { type: "memref", dir: "out", mobj: undefined, offs: 0, size: 0 }]);
    if (probe.ret !== M.TEE_SUCCESS) return probe.ret;
    const size = Number(probe.params[1].b);
    const mobj = yield* this.shmAlloc(size);
    if (!mobj) return M.TEE_ERROR_OUT_OF_MEMORY;
    const load = yield* this.cmd(M.OPTEE_RPC_CMD_LOAD_TA, [uuidParam, { type: "memref", dir: "out", mobj, offs: 0, size }]);
    const bytes = load.ret === M.TEE_SUCCESS ? this.read({ mobj, offs: 0, size }, 0, size) : undefined;
    yield* this.shmFree(mobj);
    return bytes ?? load.ret;
  }

  /** Bytes of a memory reference (through its pages, as OP-TEE maps them). */
  read(mem: MemRef, offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.each(mem, offset, len, (pa, at, n) => out.set(this.model.read(pa, n), at));
    return out;
  }

  write(mem: MemRef, offset: number, data: Uint8Array): void {
    this.each(mem, offset, data.length, (pa, at, n) => this.model.write(pa, data.subarray(at, at + n)));
  }

  private each(mem: MemRef, offset: number, len: number, f: (pa: bigint, at: number, n: number) => void): void {
    const m = mem.mobj;
    if (!m) throw new Error("a NULL memory reference has no bytes");
    if (offset + len > mem.size || mem.offs + offset + len > m.size) throw new Error("access past the memory reference");
    for (let done = 0; done < len;) {
      const pos = m.pageOffset + mem.offs + offset + done;
      const page = Math.floor(pos / 4096), within = pos % 4096;
      const n = Math.min(len - done, 4096 - within);
      f(m.pages[page] + BigInt(within), done, n);
      done += n;
    }
  }
}

