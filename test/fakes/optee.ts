/**
 * A scripted model of OP-TEE 4.5's SMC ABI as the hypervisor sees it
 * (optee_smc.h; behaviour measured against Debian's builds, design.md §5).
 * Three kinds of secure world: Debian's virtualized build, the plain build,
 * and none at all (TF-A without an SPD answers every Trusted-OS call with
 * SMC_UNK). Every call is recorded so tests can check what OP-TEE was asked.
 *
 * Std calls follow OP-TEE's sources, named where each rule comes from:
 * core/arch/arm/kernel/thread_optee_smc.c (entry, message argument, RPC
 * argument buffers, SHM_ALLOC replies), core/arch/arm/kernel/thread.c
 * (threads), core/tee/entry_std.c (commands, parameters), core/kernel/msg_param.c
 * (page lists), core/mm/mobj_dyn_shm.c (registered shared memory),
 * core/arch/arm/tee/entry_fast.c (fast calls). With CFG_NS_VIRTUALIZATION each
 * client (x7) has its own threads, registered buffers, sessions and RPC cache,
 * as OP-TEE banks them per guest.
 *
 * A call runs as a generator (an OP-TEE thread): each `yield` is an RPC to the
 * normal world and RETURN_FROM_RPC resumes it. What a trusted application does
 * is scriptable (`ta`, with the RPCs of optee-ta.ts), so a test can make OP-TEE
 * issue any RPC sequence.
 *
 * The model is also a witness: every physical address it is handed is
 * recorded in `seen`, and one that is neither in the hypervisor's linear
 * memory (shadow copies) nor — for a data page — in the calling client's
 * own RAM is a violation (`violations`).
 *
 * Asynchronous notifications (per-guest value sets, the one interrupt line,
 * the test watchdog) are in optee-notif.ts, reached as `notif`.
 *
 * Not modelled: the reserved (static) SHM as a working path (using it is
 * recorded as a violation), CALL_WITH_RPC_ARG / CALL_WITH_REGD_ARG, the RPC
 * shm cache of payloads (thread_rpc_shm_cache_*), FF-A.
 */
import type { FakeHardware, RamRegion } from "./hw.ts";
import * as M from "./optee-msg.ts";
import { NotifModel } from "./optee-notif.ts";
import { ThreadApi, type Mobj, type RpcIn, type RpcOut, type RpcParam, type RpcReply, type TaParam, type TaScript, type ThreadGen } from "./optee-ta.ts";

export * from "./optee-ta.ts";

export const OPTEE_SMC_CALLS_UID = 0xbf00ff01;
export const OPTEE_SMC_CALLS_REVISION = 0xbf00ff03;
export const OPTEE_SMC_CALL_GET_OS_UUID = 0xb2000000;
export const OPTEE_SMC_CALL_GET_OS_REVISION = 0xb2000001;
export const OPTEE_SMC_GET_SHM_CONFIG = 0xb2000007;
export const OPTEE_SMC_L2CC_MUTEX = 0xb2000008;
export const OPTEE_SMC_EXCHANGE_CAPABILITIES = 0xb2000009;
export const OPTEE_SMC_DISABLE_SHM_CACHE = 0xb200000a;
export const OPTEE_SMC_ENABLE_SHM_CACHE = 0xb200000b;
export const OPTEE_SMC_BOOT_SECONDARY = 0xb200000c;
export const OPTEE_SMC_VM_CREATED = 0xb200000d;
export const OPTEE_SMC_VM_DESTROYED = 0xb200000e;
export const OPTEE_SMC_GET_THREAD_COUNT = 0xb200000f;
export const OPTEE_SMC_ENABLE_ASYNC_NOTIF = 0xb2000010;
export const OPTEE_SMC_GET_ASYNC_NOTIF_VALUE = 0xb2000011;
export const OPTEE_SMC_RETURN_FROM_RPC = 0x32000003;
export const OPTEE_SMC_CALL_WITH_ARG = 0x32000004;
export const OPTEE_SMC_CALL_WITH_RPC_ARG = 0x32000012;
export const OPTEE_SMC_CALL_WITH_REGD_ARG = 0x32000013;

export const OK = 0;
export const ETHREAD_LIMIT = 1;
export const EBUSY = 2;
export const ERESUME = 3;
export const EBADADDR = 4;
export const EBADCMD = 5;
export const ENOMEM = 6;
export const ENOTAVAIL = 7;
export const UNKNOWN = 0xffffffff;

export const RPC_ALLOC = 0xffff0000;
export const RPC_FREE = 0xffff0002;
export const RPC_FOREIGN_INTR = 0xffff0004;
export const RPC_CMD = 0xffff0005;
export const isRpc = (a0: number | bigint) => (Number(BigInt(a0) & 0xffffffffn) >>> 16) === 0xffff && Number(BigInt(a0) & 0xffffn) !== 0xffff;

/** What Debian's virtualized build reports: everything but UNREGISTERED_SHM (measured: 0xfd). */
export const CAPS_VIRTUALIZED = 0xfd;
/** The plain build: the same minus VIRTUALIZATION. */
export const CAPS_PLAIN = 0xf5;
const UID = [0x384fb3e0, 0xe7f811e3, 0xaf630002, 0xa5d5c51b];
/** optee_msg.h: OPTEE_MSG_OS_OPTEE_UUID_0..3. */
export const OS_UUID = [0x486178e0, 0xe7f811e3, 0xbc5e0002, 0xa5d5c51b];
/** HYP_CLNT_ID: the hypervisor's own client id. */
const HYP_CLNT_ID = 0;

const PAGE = 4096n;
const PAGE_MASK = PAGE - 1n;
/** QEMU virt's non-secure DDR as OP-TEE knows it from the DTB (core_pbuf_is(CORE_MEM_NON_SEC)): 3 GiB at 1 GiB. */
const NS_DDR = { base: 0x4000_0000n, end: 0x1_0000_0000n };
/** OP-TEE's reserved SHM (CORE_MEM_NSEC_SHM, design.md §2): global, no guest may be given it. */
const STATIC_SHM = { base: 0x4200_0000n, end: 0x4220_0000n };
/** A page list longer than this fails OP-TEE's malloc of the pages array (its heap is a few hundred KiB). */
const MAX_MALLOC_PAGES = 1 << 16;

export type SecureWorldKind = "virtualized" | "plain" | "absent";

export interface SmcRecord {
  fid: number;
  /** x1 and x7 as 32-bit values: OP-TEE reads a0..a7 as 32-bit registers. */
  a1: number;
  a7: number;
}

/** One SMC in full: the 32-bit a0..a7 in and out. */
export interface SmcTrace {
  in: number[];
  out: number[];
}

/** What the model did with an address it was given. */
export type AddressUse = "arg" | "page-list" | "data-page" | "rpc-arg" | "tmem";

export interface SeenAddress {
  client: number;
  use: AddressUse;
  pa: bigint;
  /** hypervisor: in linear memory; own-ram: in the client's RAM (data pages only); violation: anything else. */
  verdict: "hypervisor" | "own-ram" | "violation";
  why?: string;
}

export interface Thread {
  id: number;
  state: "free" | "active" | "suspended";
  run?: ThreadGen<number>;
  /** The preallocated RPC argument buffer (thr->rpc_arg / rpc_mobj). */
  rpcArg?: { pa: bigint; cookie: bigint };
}

export interface Client {
  id: number;
  threads: Thread[];
  /** thread_prealloc_rpc_cache: set by ENABLE_SHM_CACHE. */
  rpcCache: boolean;
  /** reg_shm_list (mobj_dyn_shm.c): registered and mapped buffers, newest first. */
  shm: Mobj[];
  sessions: Set<number>;
  nextSession: number;
}

const DIRS = ["in", "out", "inout"] as const;
const u32 = (v: bigint | number) => Number(BigInt.asUintN(32, BigInt(v)));

export class OpteeModel {
  readonly calls: SmcRecord[] = [];
  /** Every SMC with its registers in and out. */
  readonly trace: SmcTrace[] = [];
  /** Guest ids currently created (a multiset: OP-TEE accepts duplicates). */
  readonly guests: number[] = [];
  /** Debian's virtualized build has room for 2 guests. */
  maxGuests = 2;
  /** CFG_NUM_THREADS, per guest. */
  threadCount = 2;
  /** Every address OP-TEE was given, in order. */
  readonly seen: SeenAddress[] = [];
  /** Std calls whose message argument changed under OP-TEE while the call ran. */
  readonly argChanged: { client: number; pa: bigint }[] = [];
  /** Every std-call command OP-TEE ran: client, thread and the decoded argument as it arrived. */
  readonly commands: { client: number; thread: number; argPa: bigint; arg: M.MsgArg }[] = [];
  /** Every RPC OP-TEE issued and the answer it got back. */
  readonly rpcs: { client: number; thread: number; out: RpcOut; in?: RpcIn }[] = [];
  /** Open session and invoke command; the default succeeds and touches nothing. */
  ta: TaScript = function* () {};
  /**
   * Where a normal-world interrupt preempts a thread (RPC_FOREIGN_INTR): OP-TEE
   * runs std calls with foreign interrupts unmasked, from __tee_entry_std's
   * thread_set_foreign_intr(true) on, so one can come before OP-TEE has read
   * the parameters ("entry"), or right after an RPC returns, before OP-TEE
   * reads the answer ("rpc-return"). Default: never.
   */
  preempt: (where: "entry" | "rpc-return", client: number, thread: number) => boolean = () => false;
  /** The machine's physical memory, for reading arguments and page lists. */
  hw: FakeHardware | undefined;
  /** Which RAM is a client's own (default: client id = guest index + 1). */
  clientRam: (client: number) => RamRegion | undefined = (client) => this.hw?.ramRegions.find((r) => r.index === client - 1);

  private readonly clients = new Map<number, Client>();
  /** Asynchronous notifications (optee-notif.ts). */
  readonly notif: NotifModel;

  constructor(readonly kind: SecureWorldKind) {
    this.notif = new NotifModel(kind === "virtualized");
    if (kind === "plain") this.notif.created(0);
  }

  get violations(): SeenAddress[] {
    return this.seen.filter((s) => s.verdict === "violation");
  }

  /** The std-call commands one client ran. */
  commandsOf(client: number): M.MsgArg[] {
    return this.commands.filter((c) => c.client === client).map((c) => c.arg);
  }

  /** Registered buffers (REGISTER_SHM and SHM_ALLOC replies) OP-TEE holds for a client. */
  shmOf(client: number): Mobj[] {
    return this.clients.get(client)?.shm.slice() ?? [];
  }

  /** Thread states of a client, by thread id. */
  threadsOf(client: number): string[] {
    return this.clients.get(client)?.threads.map((t) => t.state) ?? [];
  }

  /** Where the RPC argument buffers a client's threads hold are (physical addresses). */
  rpcArgPasOf(client: number): bigint[] {
    return (this.clients.get(client)?.threads ?? []).filter((t) => t.rpcArg).map((t) => t.rpcArg!.pa);
  }

  /** Preallocated RPC argument buffers a client's threads hold (cookies). */
  rpcArgsOf(client: number): bigint[] {
    return (this.clients.get(client)?.threads ?? []).filter((t) => t.rpcArg).map((t) => t.rpcArg!.cookie);
  }

  /** Answers one SMC: x0..x7 in, x0..x7 out. */
  call(x: bigint[]): bigint[] {
    const a = x.slice(0, 8).map(u32);
    while (a.length < 8) a.push(0);
    this.calls.push({ fid: a[0], a1: a[1], a7: a[7] });
    const out = this.answer(a).map((v) => u32(v));
    while (out.length < 8) out.push(0);
    this.trace.push({ in: a, out: out.slice(0, 8) });
    return out.slice(0, 8).map(BigInt);
  }

  private answer(a: number[]): number[] {
    const [fid, a1, , , , , , a7] = a;
    if (this.kind === "absent") return [UNKNOWN];
    const virt = this.kind === "virtualized";
    if ((fid & 0x80000000) === 0) return this.stdSmc(a);
    switch (fid) {
      case OPTEE_SMC_CALLS_UID: return UID;
      case OPTEE_SMC_CALLS_REVISION: return [2, 0];
      case OPTEE_SMC_CALL_GET_OS_REVISION: return [4, 5, 0];
      case OPTEE_SMC_VM_CREATED:
      case OPTEE_SMC_VM_DESTROYED:
        if (!virt) return [UNKNOWN];
        if (a7 !== HYP_CLNT_ID) return [ENOTAVAIL]; // entry_fast.c: "Only hypervisor can issue this request"
        return fid === OPTEE_SMC_VM_CREATED ? this.create(a1 & 0xffff) : this.destroy(a1 & 0xffff);
    }
    // thread_optee_smc.c thread_handle_fast_smc: virt_set_guest(a7) (a uint16_t: virtualization.c) fails
    // for an unknown client.
    if (virt && a7 !== HYP_CLNT_ID && !this.guests.includes(a7 & 0xffff)) return [ENOTAVAIL];
    const client = this.clients.get(virt ? a7 & 0xffff : 0);
    switch (fid) {
      case OPTEE_SMC_CALL_GET_OS_UUID: return OS_UUID;
      // Measured on Debian's virtualized build (design.md §5): 0/0.
      case OPTEE_SMC_GET_SHM_CONFIG: return [OK, 0, 0, 0];
      case OPTEE_SMC_EXCHANGE_CAPABILITIES:
        if (a1 & ~1) return [ENOTAVAIL]; // entry_fast.c: unknown normal-world capability
        return [OK, virt ? CAPS_VIRTUALIZED : CAPS_PLAIN, 66, M.THREAD_RPC_MAX_NUM_PARAMS];
      case OPTEE_SMC_GET_THREAD_COUNT: return [OK, this.threadCount];
      case OPTEE_SMC_ENABLE_SHM_CACHE: return client ? this.enableShmCache(client) : [OK];
      case OPTEE_SMC_DISABLE_SHM_CACHE: return client ? this.disableShmCache(client) : [ENOTAVAIL];
      // ARM64 has no L2CC mutex: entry_fast.c answers UNKNOWN_FUNCTION; no CFG_BOOT_SECONDARY_REQUEST either.
      case OPTEE_SMC_L2CC_MUTEX: return [UNKNOWN];
      case OPTEE_SMC_BOOT_SECONDARY: return [UNKNOWN];
      case OPTEE_SMC_ENABLE_ASYNC_NOTIF: return this.notif.enable(virt ? a7 & 0xffff : 0);
      // notif_get_value: the hypervisor's own id (0) has no partition, so nothing is valid.
      case OPTEE_SMC_GET_ASYNC_NOTIF_VALUE: return this.notif.get(virt ? a7 & 0xffff : 0);
      default: return [UNKNOWN];
    }
  }

  private create(id: number): number[] {
    if (this.guests.length >= this.maxGuests) return [ENOTAVAIL];
    this.guests.push(id);
    if (!this.clients.has(id)) this.clients.set(id, this.newClient(id));
    this.notif.created(id);
    return [OK];
  }

  private destroy(id: number): number[] {
    const i = this.guests.indexOf(id);
    if (i >= 0) this.guests.splice(i, 1);
    // virt_guest_destroyed frees everything the guest held: threads, buffers, sessions.
    if (!this.guests.includes(id)) {
      this.clients.delete(id);
      this.notif.destroyed(id);
    }
    return [OK];
  }

  private newClient(id: number): Client {
    return {
      id, rpcCache: false, shm: [], sessions: new Set(), nextSession: 1,
      threads: Array.from({ length: this.threadCount }, (_, n) => ({ id: n, state: "free" as const })),
    };
  }

  /** The plain build has one implicit client (0); the virtualized one only those created. */
  private clientFor(a7: number): Client | undefined {
    if (this.kind === "plain") {
      if (!this.clients.has(0)) this.clients.set(0, this.newClient(0));
      return this.clients.get(0);
    }
    return this.clients.get(a7 & 0xffff); // virt_set_guest(uint16_t guest_id)
  }

  // ---- Fast calls on the RPC argument cache (entry_fast.c, thread_optee_smc.c) ----

  private enableShmCache(c: Client): number[] {
    if (c.threads.some((t) => t.state !== "free")) return [EBUSY];
    c.rpcCache = true;
    return [OK];
  }

  private disableShmCache(c: Client): number[] {
    if (c.threads.some((t) => t.state !== "free")) return [EBUSY];
    const t = c.threads.find((th) => th.rpcArg);
    if (t) {
      const cookie = t.rpcArg!.cookie;
      t.rpcArg = undefined;
      return [OK, u32(cookie >> 32n), u32(cookie)];
    }
    c.rpcCache = false;
    return [ENOTAVAIL];
  }

  // ---- Std calls (thread_optee_smc.c thread_handle_std_smc, thread.c) ----

  private stdSmc(a: number[]): number[] {
    const [fid, a1, a2, a3, a4, a5, , a7] = a;
    const c = this.clientFor(a7);
    if (!c) return [ENOTAVAIL]; // virt_set_guest(a7) failed
    if (fid === OPTEE_SMC_RETURN_FROM_RPC) {
      // thread_resume_from_rpc: only a suspended thread of this guest resumes.
      const t = c.threads[a3];
      if (!t || t.state !== "suspended") return [ERESUME];
      t.state = "active";
      const last = this.rpcs.filter((r) => r.client === c.id && r.thread === t.id).at(-1);
      const input: RpcIn = [a1, a2, a4, a5];
      if (last) last.in = input;
      return this.step(c, t, input);
    }
    const t = c.threads.find((th) => th.state === "free");
    if (!t) return [ETHREAD_LIMIT]; // thread_alloc_and_run found no free thread
    t.state = "active";
    t.run = this.stdEntry(c, t, fid, a1, a2);
    return this.step(c, t, undefined);
  }

  /** Runs a thread until its next RPC (thread_rpc: a0..a2, a3 = thread id) or its end (a0 = result, a1..a3 = 0). */
  private step(c: Client, t: Thread, input: RpcIn | undefined): number[] {
    const r = input === undefined ? t.run!.next() : t.run!.next(input);
    if (r.done) {
      t.state = "free";
      t.run = undefined;
      return [r.value, 0, 0, 0];
    }
    t.state = "suspended";
    this.rpcs.push({ client: c.id, thread: t.id, out: r.value });
    return [r.value.a0, r.value.a1, r.value.a2, t.id];
  }

  /** std_smc_entry and std_entry_with_parg, then call_entry_std. */
  private *stdEntry(c: Client, t: Thread, fid: number, a1: number, a2: number): ThreadGen<number> {
    if (fid === OPTEE_SMC_CALL_WITH_RPC_ARG || fid === OPTEE_SMC_CALL_WITH_REGD_ARG) return EBADCMD; // not modelled
    if (fid !== OPTEE_SMC_CALL_WITH_ARG) return EBADCMD; // "Unknown SMC"
    const parg = M.pair(a1, a2);
    // Not in the static SHM: the argument must be page aligned and is mapped as one page
    // (mobj_mapped_shm_alloc(&parg, 1, 0, 0), which checks it is non-secure DDR).
    if (parg & PAGE_MASK) return EBADADDR;
    if (!this.witness(c, "arg", parg, 4096)) return EBADADDR;
    const page = this.read(parg, 4096);
    const arg = M.decodeArg(page);
    // get_msg_arg: num_params beyond one page's worth, or an argument past the mapped page.
    if (arg.numParams > M.OPTEE_MSG_MAX_NUM_PARAMS) return EBADADDR;
    if (M.argSize(arg.numParams) > 4096) return EBADADDR;
    this.commands.push({ client: c.id, thread: t.id, argPa: parg, arg: structuredClone(arg) });
    const before = page.slice(0, M.argSize(arg.numParams));

    const res = yield* this.entryStd(c, t, arg);
    // OP-TEE works on the argument in place: nothing but OP-TEE itself may have changed it meanwhile.
    if (!equalBytes(this.read(parg, before.length), before)) this.argChanged.push({ client: c.id, pa: parg });
    this.write(parg, M.encodeArg(arg)); // ret, ret_origin, session, value outputs, memref sizes

    const rv = res === M.TEE_SUCCESS ? OK : EBADCMD;
    // call_entry_std: without the prealloc cache the thread's RPC argument is freed now (RPC_FREE).
    if (rv === OK && !c.rpcCache && t.rpcArg) {
      const cookie = t.rpcArg.cookie;
      t.rpcArg = undefined;
      yield* this.rpcFreeArg(cookie);
    }
    return rv;
  }

  /** __tee_entry_std (entry_std.c): returns TEE_SUCCESS or NOT_IMPLEMENTED (→ EBADCMD). */
  private *entryStd(c: Client, t: Thread, arg: M.MsgArg): ThreadGen<number> {
    const n = arg.numParams;
    if (this.preempt("entry", c.id, t.id)) yield { a0: RPC_FOREIGN_INTR, a1: 0, a2: 0 };
    switch (arg.cmd) {
      case M.OPTEE_MSG_CMD_OPEN_SESSION: yield* this.openSession(c, t, arg); break;
      case M.OPTEE_MSG_CMD_INVOKE_COMMAND: yield* this.invokeCommand(c, t, arg); break;
      case M.OPTEE_MSG_CMD_CLOSE_SESSION:
        if (n) arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
        else arg.ret = c.sessions.delete(arg.session) ? M.TEE_SUCCESS : M.TEE_ERROR_ITEM_NOT_FOUND;
        arg.retOrigin = M.TEE_ORIGIN_TEE;
        break;
      case M.OPTEE_MSG_CMD_CANCEL:
        arg.ret = n || !c.sessions.has(arg.session) ? M.TEE_ERROR_BAD_PARAMETERS : M.TEE_SUCCESS;
        arg.retOrigin = M.TEE_ORIGIN_TEE;
        break;
      case M.OPTEE_MSG_CMD_REGISTER_SHM: this.registerShm(c, arg); break;
      case M.OPTEE_MSG_CMD_UNREGISTER_SHM: this.unregisterShm(c, arg); break;
      // CFG_CORE_ASYNC_NOTIF=y: notif_deliver_event for the calling guest (optee-notif.ts).
      case M.OPTEE_MSG_CMD_DO_BOTTOM_HALF: this.notif.bottomHalf(c.id); break;
      case M.OPTEE_MSG_CMD_STOP_ASYNC_NOTIF: this.notif.stop(c.id); break;
      default:
        return M.TEE_ERROR_NOT_IMPLEMENTED; // "Unknown cmd"
    }
    return M.TEE_SUCCESS;
  }

  /** entry_std.c register_shm: exactly one TMEM_OUTPUT|NONCONTIG param. */
  private registerShm(c: Client, arg: M.MsgArg): void {
    arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
    const p = arg.params[0];
    if (arg.numParams !== 1 || p.attr !== BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG)) return;
    const mobj = this.mobjFromNoncontig(c, p.a, p.b, p.c);
    if (!mobj) return;
    mobj.guarded = false; // mobj_reg_shm_unguard
    arg.ret = M.TEE_SUCCESS;
  }

  /**
   * entry_std.c unregister_shm → mobj_reg_shm_release_by_cookie (mobj_dyn_shm.c):
   * an unknown, guarded (RPC-allocated) or already released cookie is
   * TEE_ERROR_BAD_PARAMETERS in 4.5; ret_origin is only written when
   * num_params != 1.
   */
  private unregisterShm(c: Client, arg: M.MsgArg): void {
    if (arg.numParams !== 1) {
      arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
      arg.retOrigin = M.TEE_ORIGIN_TEE;
      return;
    }
    const i = c.shm.findIndex((m) => m.cookie === arg.params[0].c);
    if (i < 0 || c.shm[i].guarded) {
      arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
      return;
    }
    c.shm.splice(i, 1);
    arg.ret = M.TEE_SUCCESS;
  }

  /** entry_std.c entry_open_session: two META value params (UUID, login), then the TA's. */
  private *openSession(c: Client, t: Thread, arg: M.MsgArg): ThreadGen<void> {
    const meta = BigInt(M.OPTEE_MSG_ATTR_META | M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT);
    let session = 0;
    let origin = M.TEE_ORIGIN_TEE;
    let ret: number = M.TEE_ERROR_BAD_PARAMETERS;
    if (arg.numParams >= 2 && arg.params[0].attr === meta && arg.params[1].attr === meta && validLogin(arg.params[1].c)) {
      const rest = arg.params.slice(2, arg.numParams);
      const inParams = this.copyInParams(c, rest);
      if (typeof inParams === "number") {
        ret = inParams;
      } else {
        const uuid = new Uint8Array(16);
        new DataView(uuid.buffer).setBigUint64(0, arg.params[0].a, true);
        new DataView(uuid.buffer).setBigUint64(8, arg.params[0].b, true);
        const id = c.nextSession;
        const r = (yield* this.ta({ op: "open", client: c.id, thread: t.id, session: id, func: 0, uuid, params: inParams, api: this.api(c, t) })) ?? { ret: M.TEE_SUCCESS };
        ret = r.ret;
        origin = r.origin ?? (ret === M.TEE_SUCCESS ? M.TEE_ORIGIN_TEE : M.TEE_ORIGIN_TRUSTED_APP);
        if (ret === M.TEE_SUCCESS) {
          c.nextSession++;
          c.sessions.add(id);
          session = id;
        }
        copyOutParams(inParams, rest);
      }
    }
    arg.session = session;
    arg.ret = ret;
    arg.retOrigin = origin;
  }

  /** entry_std.c entry_invoke_command. */
  private *invokeCommand(c: Client, t: Thread, arg: M.MsgArg): ThreadGen<void> {
    const params = arg.params.slice(0, arg.numParams);
    const inParams = this.copyInParams(c, params);
    arg.retOrigin = M.TEE_ORIGIN_TEE;
    if (typeof inParams === "number") {
      arg.ret = inParams;
      return;
    }
    if (!c.sessions.has(arg.session)) {
      arg.ret = M.TEE_ERROR_BAD_PARAMETERS;
      return;
    }
    const r = (yield* this.ta({ op: "invoke", client: c.id, thread: t.id, session: arg.session, func: arg.func, params: inParams, api: this.api(c, t) })) ?? { ret: M.TEE_SUCCESS };
    arg.ret = r.ret;
    arg.retOrigin = r.origin ?? (r.ret === M.TEE_SUCCESS ? M.TEE_ORIGIN_TEE : M.TEE_ORIGIN_TRUSTED_APP);
    copyOutParams(inParams, params);
  }

  /** entry_std.c copy_in_params with set_tmem_param / set_rmem_param: the TA's view, or a TEE_ERROR_*. */
  private copyInParams(c: Client, params: M.MsgParam[]): TaParam[] | number {
    if (params.length > 4) return M.TEE_ERROR_BAD_PARAMETERS; // TEE_NUM_PARAMS
    const out: TaParam[] = [];
    for (const p of params) {
      if (p.attr & BigInt(M.OPTEE_MSG_ATTR_META)) return M.TEE_ERROR_BAD_PARAMETERS;
      const type = Number(p.attr & 0xffn);
      if (type === M.OPTEE_MSG_ATTR_TYPE_NONE) {
        out.push({ type: "none" });
      } else if (type >= M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_VALUE_INOUT) {
        out.push({ type: "value", dir: DIRS[type - 1], a: p.a, b: p.b }); // value.c is not passed to the TA
      } else if (type >= M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_TMEM_INOUT) {
        const dir = DIRS[type - M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT];
        if (p.a === 0n) {
          out.push({ type: "memref", dir, mem: { mobj: undefined, offs: 0, size: 0 } }); // a NULL memref
        } else if (p.attr & BigInt(M.OPTEE_MSG_ATTR_NONCONTIG)) {
          const mobj = this.mobjFromNoncontig(c, p.a, p.b, p.c, true);
          if (!mobj) return M.TEE_ERROR_BAD_PARAMETERS;
          out.push({ type: "memref", dir, mem: { mobj, offs: 0, size: Number(p.b) } });
        } else {
          // A contiguous buffer is accepted only inside the reserved SHM (param_mem_from_mobj),
          // which is global: no guest's buffer may ever point there.
          this.witness(c, "tmem", p.a, Number(p.b));
          if (p.a < STATIC_SHM.base || p.a + p.b > STATIC_SHM.end) return M.TEE_ERROR_BAD_PARAMETERS;
          out.push({ type: "memref", dir, mem: { mobj: { cookie: 0n, pages: [], pageOffset: 0, size: 0, guarded: true }, offs: 0, size: Number(p.b) } });
        }
      } else if (type >= M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT && type <= M.OPTEE_MSG_ATTR_TYPE_RMEM_INOUT) {
        const mobj = c.shm.find((m) => m.cookie === p.c); // mobj_reg_shm_get_by_cookie
        if (!mobj) return M.TEE_ERROR_BAD_PARAMETERS;
        if (p.a + p.b > BigInt(mobj.size)) return M.TEE_ERROR_SECURITY;
        out.push({ type: "memref", dir: DIRS[type - M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT], mem: { mobj, offs: Number(p.a), size: Number(p.b) } });
      } else {
        return M.TEE_ERROR_BAD_PARAMETERS;
      }
    }
    return out;
  }

  /**
   * msg_param.c msg_param_mobj_from_noncontig + msg_param_extract_pages, then
   * mobj_reg_shm_alloc (mobj_dyn_shm.c). `temporary`: a TMEM parameter's
   * mobj, put again when the call ends, so it is not kept in reg_shm_list.
   */
  private mobjFromNoncontig(c: Client, bufPtr: bigint, size: bigint, cookie: bigint, temporary = false): Mobj | undefined {
    const offset = bufPtr & PAGE_MASK;
    const sizePlusOffs = size + offset;
    if (sizePlusOffs >= 1n << 64n) return undefined; // ADD_OVERFLOW
    // num_pages = (size_plus_offs - 1) / SMALL_PAGE_SIZE + 1, in size_t: 0 wraps to a huge count malloc refuses.
    const numPages = sizePlusOffs === 0n ? 1n << 52n : (sizePlusOffs - 1n) / PAGE + 1n;
    if (numPages > BigInt(MAX_MALLOC_PAGES)) return undefined;
    const pages = this.extractPages(c, bufPtr & ~PAGE_MASK, Number(numPages));
    if (!pages) return undefined;
    // mobj_reg_shm_alloc: every page aligned and non-secure.
    for (const pa of pages) {
      if (pa & PAGE_MASK) return undefined;
      if (!this.witness(c, "data-page", pa, 4096)) return undefined;
    }
    const mobj: Mobj = { cookie, pages, pageOffset: Number(offset), size: Number(numPages) * 4096 - Number(offset), guarded: true };
    if (!temporary) c.shm.unshift(mobj);
    return mobj;
  }

  /** msg_param.c msg_param_extract_pages: list pages of 511 entries, the 512th the next list page. */
  private extractPages(c: Client, listPa: bigint, numPages: number): bigint[] | undefined {
    if (listPa & PAGE_MASK) return undefined;
    if (!this.witness(c, "page-list", listPa, 4096)) return undefined;
    let list = new DataView(this.read(listPa, 4096).buffer);
    const pages: bigint[] = [];
    for (let cnt = 0, slot = 0; cnt < numPages; cnt++, slot++) {
      if (slot === M.PAGE_LIST_ENTRIES) {
        const next = list.getBigUint64(8 * M.PAGE_LIST_ENTRIES, true);
        if (next & PAGE_MASK) return undefined;
        if (!this.witness(c, "page-list", next, 4096)) return undefined;
        list = new DataView(this.read(next, 4096).buffer);
        slot = 0;
      }
      const pa = list.getBigUint64(8 * slot, true);
      if (pa & PAGE_MASK) return undefined;
      pages.push(pa);
    }
    return pages;
  }

  // ---- RPCs (thread_optee_smc.c) ----

  private api(c: Client, t: Thread): ThreadApi {
    return new ThreadApi(this, c, t);
  }

  /** thread_rpc_free_arg: RPC_FREE with the cookie, if any. */
  *rpcFreeArg(cookie: bigint): ThreadGen<void> {
    if (cookie) yield { a0: RPC_FREE, a1: u32(cookie >> 32n), a2: u32(cookie) };
  }

  /** thread_rpc_alloc_arg + rpc_shm_mobj_alloc: an RPC argument buffer from the normal world. */
  *rpcAllocArg(c: Client, size: number): ThreadGen<{ pa: bigint; cookie: bigint } | undefined> {
    const [p1, p2, p4, p5] = yield { a0: RPC_ALLOC, a1: size, a2: 0 };
    const pa = M.pair(p1, p2);
    const cookie = M.pair(p4, p5);
    let ok = (pa & 7n) === 0n; // IS_ALIGNED_WITH_TYPE(pa, struct optee_msg_arg)
    // rpc_shm_mobj_alloc: static SHM, or (dynamic SHM) one page-aligned page at most.
    // Address 0 is how the normal world says it has no memory (Linux's optee_handle_rpc): no address at all.
    if (ok) ok = pa !== 0n && (pa & PAGE_MASK) === 0n && size <= 4096 && this.witness(c, "rpc-arg", pa, 4096);
    if (!ok) {
      yield* this.rpcFreeArg(cookie);
      return undefined;
    }
    return { pa, cookie };
  }

  /** get_rpc_arg + thread_rpc_cmd + get_rpc_arg_res. */
  *rpcCmd(c: Client, t: Thread, cmd: number, params: RpcParam[]): ThreadGen<RpcReply> {
    if (params.length > M.THREAD_RPC_MAX_NUM_PARAMS) return { ret: M.TEE_ERROR_BAD_PARAMETERS, numParams: 0, params: [] };
    if (!t.rpcArg) {
      const got = yield* this.rpcAllocArg(c, M.argSize(M.THREAD_RPC_MAX_NUM_PARAMS));
      if (!got) return { ret: M.TEE_ERROR_OUT_OF_MEMORY, numParams: 0, params: [] };
      t.rpcArg = got;
    }
    const msgParams: M.MsgParam[] = [];
    for (const p of params) {
      if (p.type === "none") msgParams.push(M.param(M.OPTEE_MSG_ATTR_TYPE_NONE));
      else if (p.type === "value") msgParams.push(M.param(M.OPTEE_MSG_ATTR_TYPE_VALUE_INPUT + DIRS.indexOf(p.dir), p.a, p.b, p.c));
      else if (!p.mobj) msgParams.push(M.param(M.OPTEE_MSG_ATTR_TYPE_TMEM_INPUT + DIRS.indexOf(p.dir), 0n, p.size, 0n)); // set_tmem
      else msgParams.push(M.param(M.OPTEE_MSG_ATTR_TYPE_RMEM_INPUT + DIRS.indexOf(p.dir), p.offs, p.size, p.mobj.cookie)); // set_rmem
    }
    const arg = M.msgArg({ cmd, ret: M.TEE_ERROR_GENERIC, params: msgParams });
    const { pa, cookie } = t.rpcArg;
    this.write(pa, M.encodeArg(arg));
    yield { a0: RPC_CMD, a1: u32(cookie >> 32n), a2: u32(cookie) };
    if (this.preempt("rpc-return", c.id, t.id)) yield { a0: RPC_FOREIGN_INTR, a1: 0, a2: 0 };
    // get_rpc_arg_res reads the answer in place: ret, and the parameters OP-TEE put there.
    const back = this.read(pa, M.argSize(M.THREAD_RPC_MAX_NUM_PARAMS));
    const header = M.decodeArg(back.subarray(0, M.ARG_HEADER));
    const replyParams = Array.from({ length: M.THREAD_RPC_MAX_NUM_PARAMS }, (_, i) => paramAt(back, i));
    return { ret: header.ret, numParams: header.numParams, params: replyParams };
  }

  /** thread_rpc_alloc + get_rpc_alloc_res: a payload buffer via RPC SHM_ALLOC; undefined on failure. */
  *rpcShmAlloc(c: Client, t: Thread, type: number, size: number): ThreadGen<Mobj | undefined> {
    const r = yield* this.rpcCmd(c, t, M.OPTEE_RPC_CMD_SHM_ALLOC, [{ type: "value", dir: "in", a: BigInt(type), b: BigInt(size), c: 8n }]);
    if (r.params.length === 0) return undefined; // get_rpc_arg failed: no RPC was made
    const p = r.params[0];
    const tmemOut = BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT);
    const noncontig = BigInt(M.OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | M.OPTEE_MSG_ATTR_NONCONTIG);
    if (r.ret || r.numParams !== 1 || (p.attr !== tmemOut && p.attr !== noncontig) || p.b < BigInt(size)) return undefined;
    let mobj: Mobj | undefined;
    if (p.attr === tmemOut) {
      // rpc_shm_mobj_alloc: one page-aligned page at most (no guest may use the static SHM).
      if ((p.a & PAGE_MASK) === 0n && p.b <= PAGE && this.witness(c, "data-page", p.a, 4096)) {
        mobj = { cookie: p.c, pages: [p.a], pageOffset: 0, size: 4096, guarded: true };
        c.shm.unshift(mobj);
      }
    } else {
      mobj = this.mobjFromNoncontig(c, p.a, p.b, p.c); // mapped, stays guarded
    }
    if (!mobj) {
      yield* this.rpcShmFree(c, t, type, p.c);
      return undefined;
    }
    return mobj;
  }

  /** thread_rpc_free: RPC SHM_FREE (value a = type, b = cookie); the mobj is put first. */
  *rpcShmFree(c: Client, t: Thread, type: number, cookie: bigint): ThreadGen<number> {
    const i = c.shm.findIndex((m) => m.cookie === cookie && m.guarded);
    if (i >= 0) c.shm.splice(i, 1);
    const r = yield* this.rpcCmd(c, t, M.OPTEE_RPC_CMD_SHM_FREE, [{ type: "value", dir: "in", a: BigInt(type), b: cookie, c: 0n }]);
    return r.ret;
  }

  // ---- Addresses and memory ----

  /**
   * Records an address OP-TEE was given and judges it; returns whether OP-TEE
   * would accept it as non-secure memory (core_pbuf_is(CORE_MEM_NON_SEC)),
   * which is a separate question from whether it should ever have seen it.
   */
  witness(c: Client, use: AddressUse, pa: bigint, len: number): boolean {
    const k = this.hw?.classify(pa, len) ?? { kind: "other" as const };
    const own = this.clientRam(c.id);
    let verdict: SeenAddress["verdict"] = "violation";
    let why: string | undefined;
    if (k.kind === "linear") verdict = "hypervisor";
    else if (k.kind === "guest" && use === "data-page" && own && k.region.index === own.index) verdict = "own-ram";
    else if (k.kind === "guest") why = use === "data-page" ? `RAM of guest ${k.region.name}, not the caller's` : `guest RAM (${k.region.name}) where only hypervisor copies belong`;
    else why = pa >= NS_DDR.base && pa < NS_DDR.end ? "not guest RAM nor linear memory (an IPA? the hypervisor?)" : "not non-secure DDR";
    this.seen.push({ client: c.id, use, pa, verdict, ...(why ? { why } : {}) });
    return pa >= NS_DDR.base && pa + BigInt(len) <= NS_DDR.end;
  }

  /** Reads physical memory; what the fake does not back reads as zeros. */
  read(pa: bigint, len: number): Uint8Array {
    return this.hw?.physRead(pa, len) ?? new Uint8Array(len);
  }

  /** Writes physical memory; writes to memory the fake does not back are lost. */
  write(pa: bigint, data: Uint8Array): void {
    this.hw?.physWrite(pa, data);
  }
}

/** entry_std.c copy_out_param: value outputs (a, b) and memref output sizes go back into the argument. */
function copyOutParams(ta: TaParam[], params: M.MsgParam[]): void {
  ta.forEach((p, n) => {
    if (p.type === "value" && p.dir !== "in") {
      params[n].a = p.a;
      params[n].b = p.b;
    } else if (p.type === "memref" && p.dir !== "in") {
      params[n].b = BigInt(p.mem.size);
    }
  });
}

function validLogin(login: bigint): boolean {
  return [0n, 1n, 2n, 4n, 5n, 6n, 0x80000000n].includes(login); // PUBLIC, USER, GROUP, APPLICATION*, REE_KERNEL
}

function paramAt(bytes: Uint8Array, i: number): M.MsgParam {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = M.ARG_HEADER + M.PARAM_SIZE * i;
  const [attr, a, b, c] = [0, 1, 2, 3].map((j) => v.getBigUint64(at + 8 * j, true));
  return { attr, a, b, c };
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  return x.length === y.length && x.every((b, i) => b === y[i]);
}
