/**
 * OP-TEE 4.5's message layer (core/include/optee_msg.h, optee_rpc_cmd.h,
 * lib/libutee/include/tee_api_defines.h) for the OP-TEE model and for tests
 * that play a guest's driver: struct optee_msg_arg encoded and decoded, and
 * the names of its constants.
 *
 *   struct optee_msg_arg (32 bytes, then num_params × 32-byte params):
 *     +0 u32 cmd  +4 u32 func  +8 u32 session  +12 u32 cancel_id
 *     +16 u32 pad +20 u32 ret  +24 u32 ret_origin  +28 u32 num_params
 *   struct optee_msg_param: +0 u64 attr, then a union of three u64:
 *     tmem {buf_ptr, size, shm_ref}, rmem {offs, size, shm_ref}, value {a, b, c}
 */

export const OPTEE_MSG_ATTR_TYPE_NONE = 0x0;
export const OPTEE_MSG_ATTR_TYPE_VALUE_INPUT = 0x1;
export const OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT = 0x2;
export const OPTEE_MSG_ATTR_TYPE_VALUE_INOUT = 0x3;
export const OPTEE_MSG_ATTR_TYPE_RMEM_INPUT = 0x5;
export const OPTEE_MSG_ATTR_TYPE_RMEM_OUTPUT = 0x6;
export const OPTEE_MSG_ATTR_TYPE_RMEM_INOUT = 0x7;
export const OPTEE_MSG_ATTR_TYPE_TMEM_INPUT = 0x9;
export const OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT = 0xa;
export const OPTEE_MSG_ATTR_TYPE_TMEM_INOUT = 0xb;
export const OPTEE_MSG_ATTR_TYPE_MASK = 0xff;
export const OPTEE_MSG_ATTR_META = 1 << 8;
export const OPTEE_MSG_ATTR_NONCONTIG = 1 << 9;

export const OPTEE_MSG_CMD_OPEN_SESSION = 0;
export const OPTEE_MSG_CMD_INVOKE_COMMAND = 1;
export const OPTEE_MSG_CMD_CLOSE_SESSION = 2;
export const OPTEE_MSG_CMD_CANCEL = 3;
export const OPTEE_MSG_CMD_REGISTER_SHM = 4;
export const OPTEE_MSG_CMD_UNREGISTER_SHM = 5;
export const OPTEE_MSG_CMD_DO_BOTTOM_HALF = 6;
export const OPTEE_MSG_CMD_STOP_ASYNC_NOTIF = 7;

export const OPTEE_MSG_NONCONTIG_PAGE_SIZE = 4096;
export const ARG_HEADER = 32;
export const PARAM_SIZE = 32;
/** OPTEE_MSG_MAX_NUM_PARAMS: (4096 - 32) / 32, the most that fit in one page. */
export const OPTEE_MSG_MAX_NUM_PARAMS = 127;
/** Entries in one page of a non-contiguous page list: 511 data-page PAs, then the next list page's PA. */
export const PAGE_LIST_ENTRIES = 511;
export const OPTEE_MSG_LOGIN_PUBLIC = 0;

/** OPTEE_MSG_GET_ARG_SIZE. */
export const argSize = (numParams: number) => ARG_HEADER + PARAM_SIZE * numParams;

// optee_rpc_cmd.h
export const OPTEE_RPC_CMD_LOAD_TA = 0;
export const OPTEE_RPC_CMD_RPMB = 1;
export const OPTEE_RPC_CMD_FS = 2;
export const OPTEE_RPC_CMD_GET_TIME = 3;
export const OPTEE_RPC_CMD_NOTIFICATION = 4;
export const OPTEE_RPC_CMD_SHM_ALLOC = 6;
export const OPTEE_RPC_CMD_SHM_FREE = 7;
export const OPTEE_RPC_SHM_TYPE_APPL = 0;
export const OPTEE_RPC_SHM_TYPE_KERNEL = 1;
export const OPTEE_RPC_SHM_TYPE_GLOBAL = 2;
/** thread.h: THREAD_RPC_MAX_NUM_PARAMS; an RPC argument buffer is OPTEE_MSG_GET_ARG_SIZE(4) = 160 bytes. */
export const THREAD_RPC_MAX_NUM_PARAMS = 4;

// tee_api_defines.h
export const TEE_SUCCESS = 0;
export const TEE_ERROR_GENERIC = 0xffff0000;
export const TEE_ERROR_ACCESS_DENIED = 0xffff0001;
export const TEE_ERROR_BAD_PARAMETERS = 0xffff0006;
export const TEE_ERROR_ITEM_NOT_FOUND = 0xffff0008;
export const TEE_ERROR_NOT_IMPLEMENTED = 0xffff0009;
export const TEE_ERROR_NOT_SUPPORTED = 0xffff000a;
export const TEE_ERROR_OUT_OF_MEMORY = 0xffff000c;
export const TEE_ERROR_BUSY = 0xffff000d;
export const TEE_ERROR_COMMUNICATION = 0xffff000e;
export const TEE_ERROR_SECURITY = 0xffff000f;
export const TEE_ORIGIN_API = 1;
export const TEE_ORIGIN_COMMS = 2;
export const TEE_ORIGIN_TEE = 3;
export const TEE_ORIGIN_TRUSTED_APP = 4;

export interface MsgParam {
  attr: bigint;
  /** tmem.buf_ptr, rmem.offs or value.a */
  a: bigint;
  /** tmem.size, rmem.size or value.b */
  b: bigint;
  /** tmem.shm_ref, rmem.shm_ref or value.c */
  c: bigint;
}

export interface MsgArg {
  cmd: number;
  func: number;
  session: number;
  cancelId: number;
  pad: number;
  ret: number;
  retOrigin: number;
  numParams: number;
  params: MsgParam[];
}

export function msgArg(fields: Partial<MsgArg> = {}): MsgArg {
  const params = fields.params ?? [];
  return {
    cmd: 0, func: 0, session: 0, cancelId: 0, pad: 0, ret: 0, retOrigin: 0,
    numParams: fields.numParams ?? params.length, ...fields, params,
  };
}

export const param = (attr: number | bigint, a: bigint | number = 0n, b: bigint | number = 0n, c: bigint | number = 0n): MsgParam =>
  ({ attr: BigInt(attr), a: BigInt(a), b: BigInt(b), c: BigInt(c) });

/** The header and `arg.params` (not `numParams`: a test may make them disagree). */
export function encodeArg(arg: MsgArg): Uint8Array {
  const out = new Uint8Array(argSize(arg.params.length));
  const v = new DataView(out.buffer);
  [arg.cmd, arg.func, arg.session, arg.cancelId, arg.pad, arg.ret, arg.retOrigin, arg.numParams]
    .forEach((x, i) => v.setUint32(4 * i, x >>> 0, true));
  arg.params.forEach((p, i) => {
    const at = ARG_HEADER + PARAM_SIZE * i;
    [p.attr, p.a, p.b, p.c].forEach((x, j) => v.setBigUint64(at + 8 * j, BigInt.asUintN(64, x), true));
  });
  return out;
}

/** Decodes the header and min(num_params, what `bytes` holds) params. */
export function decodeArg(bytes: Uint8Array): MsgArg {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = Array.from({ length: 8 }, (_, i) => v.getUint32(4 * i, true));
  const n = Math.min(h[7], Math.floor((bytes.length - ARG_HEADER) / PARAM_SIZE));
  const params = Array.from({ length: Math.max(0, n) }, (_, i) => {
    const at = ARG_HEADER + PARAM_SIZE * i;
    const [attr, a, b, c] = [0, 1, 2, 3].map((j) => v.getBigUint64(at + 8 * j, true));
    return { attr, a, b, c };
  });
  return { cmd: h[0], func: h[1], session: h[2], cancelId: h[3], pad: h[4], ret: h[5], retOrigin: h[6], numParams: h[7], params };
}

/** Splits a 64-bit value into the (hi, lo) register pair OP-TEE uses (reg_pair_from_64). */
export const hi32 = (v: bigint) => BigInt.asUintN(32, v >> 32n);
export const lo32 = (v: bigint) => BigInt.asUintN(32, v);
/** reg_pair_to_64. */
export const pair = (hi: bigint | number, lo: bigint | number) =>
  (BigInt.asUintN(32, BigInt(hi)) << 32n) | BigInt.asUintN(32, BigInt(lo));

/**
 * The pages of a non-contiguous buffer's page list (msg_param.c): `dataPages`
 * PAs, 511 to a list page, each list page ending with the next one's PA
 * (`listPas[i + 1]`). Returns one 4 KiB image per list page.
 */
export function pageListImages(dataPages: bigint[], listPas: bigint[]): Uint8Array[] {
  const count = Math.max(1, Math.ceil(dataPages.length / PAGE_LIST_ENTRIES));
  return Array.from({ length: count }, (_, i) => {
    const img = new Uint8Array(OPTEE_MSG_NONCONTIG_PAGE_SIZE);
    const v = new DataView(img.buffer);
    dataPages.slice(i * PAGE_LIST_ENTRIES, (i + 1) * PAGE_LIST_ENTRIES).forEach((pa, j) => v.setBigUint64(8 * j, pa, true));
    v.setBigUint64(8 * PAGE_LIST_ENTRIES, listPas[i + 1] ?? 0n, true);
    return img;
  });
}
