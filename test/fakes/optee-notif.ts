/**
 * OP-TEE 4.5's asynchronous notifications, for the OP-TEE model (optee.ts).
 * Each rule comes from OP-TEE's sources:
 *
 *   core/kernel/notif.c          notif_started per guest: ENABLE_ASYNC_NOTIF sets it (a repeat is ignored),
 *                                STOP_ASYNC_NOTIF clears it; DO_BOTTOM_HALF reaches the drivers only when
 *                                it is set
 *   core/kernel/notif_default.c  one bitmap of pending values per guest (0..NOTIF_ASYNC_VALUE_MAX);
 *                                notif_send_async sets a bit and raises the one interrupt for everyone
 *                                (GICD_ISPENDR of INTID 219: an edge latched until taken);
 *                                notif_get_value takes the lowest bit and says whether more remain
 *   core/tests/notif_test_wd.c   the watchdog: from a guest's first ENABLE, once a second, count a call,
 *                                count a timeout if the last DO_BOTTOM_HALF was not served, log "WD <id>
 *                                call_count N, timeout_count M" (calls 1-9, every 60th, every timeout),
 *                                and send DO_BOTTOM_HALF; it runs until the guest is destroyed
 *   core/arch/arm/tee/entry_fast.c  ENABLE takes the guest from x7: x7 = 0 (the hypervisor) in the
 *                                virtualized build dereferences a NULL guest, recorded in `fatal`
 *
 * Time does not pass by itself: a test calls `tick()` for each second.
 */

/** NOTIF_ASYNC_VALUE_MAX: the largest value notif_send_async accepts. */
export const NOTIF_ASYNC_VALUE_MAX = 63;
export const NOTIF_VALUE_DO_BOTTOM_HALF = 0;
export const ASYNC_NOTIF_VALUE_VALID = 1;
export const ASYNC_NOTIF_VALUE_PENDING = 2;
/** OP-TEE's notification interrupt on QEMU virt (CFG_CORE_ASYNC_NOTIF_GIC_INTID). */
export const NOTIF_INTID = 219;

interface Watchdog {
  pending: boolean;
  callCount: number;
  timeoutCount: number;
}

export class NotifModel {
  /** The interrupt line: raised by notif_send_async, latched until the test takes it (takeLine). */
  linePending = false;
  /** notif_send_async calls in all. */
  raises = 0;
  /** Things that would crash or corrupt the real OP-TEE. */
  readonly fatal: string[] = [];
  /** The watchdog's log lines, as the secure console shows them. */
  readonly log: string[] = [];
  private readonly started = new Map<number, boolean>();
  private readonly values = new Map<number, Set<number>>();
  private readonly watchdogs = new Map<number, Watchdog>();

  constructor(private readonly virtualized: boolean) {}

  /** A guest's partition exists (VM_CREATED; client 0 for the plain build). */
  created(id: number): void {
    if (!this.values.has(id)) this.values.set(id, new Set());
  }

  /** The guest's partition is gone (VM_DESTROYED): its values, its state and its watchdog's callout. */
  destroyed(id: number): void {
    this.values.delete(id);
    this.started.delete(id);
    this.watchdogs.delete(id);
  }

  /** OPTEE_SMC_ENABLE_ASYNC_NOTIF from client `id` (already checked to exist, or 0). */
  enable(id: number): number[] {
    if (this.virtualized && id === 0) {
      this.fatal.push("ENABLE_ASYNC_NOTIF with x7 = 0: notif_deliver_atomic_event dereferences a NULL guest");
      return [0];
    }
    if (!this.started.get(id)) {
      this.started.set(id, true);
      if (!this.watchdogs.has(id)) this.watchdogs.set(id, { pending: false, callCount: 0, timeoutCount: 0 });
    }
    return [0];
  }

  /** OPTEE_SMC_GET_ASYNC_NOTIF_VALUE from client `id`: a0 = OK, a1 = the value, a2 = VALID | PENDING. */
  get(id: number): number[] {
    const set = this.values.get(id);
    if (!set || set.size === 0) return [0, 0, 0];
    const value = Math.min(...set);
    set.delete(value);
    return [0, value, ASYNC_NOTIF_VALUE_VALID | (set.size ? ASYNC_NOTIF_VALUE_PENDING : 0)];
  }

  /** notif_send_async(value, guest): the value joins that guest's set, and the one line is raised. */
  send(id: number, value: number): void {
    if (value > NOTIF_ASYNC_VALUE_MAX) throw new Error(`notif_send_async: value ${value} (assert)`);
    const set = this.values.get(id);
    if (!set) return; // no such guest: nothing is raised
    set.add(value);
    this.raises++;
    this.linePending = true;
  }

  /** The normal world takes the interrupt: true if it was pending (it is no longer). */
  takeLine(): boolean {
    const was = this.linePending;
    this.linePending = false;
    return was;
  }

  /** std call OPTEE_MSG_CMD_DO_BOTTOM_HALF from client `id`. */
  bottomHalf(id: number): void {
    if (!this.started.get(id)) return; // "Not started"
    const wd = this.watchdogs.get(id);
    if (wd) wd.pending = false;
  }

  /** std call OPTEE_MSG_CMD_STOP_ASYNC_NOTIF from client `id`. */
  stop(id: number): void {
    this.started.set(id, false);
  }

  isStarted(id: number): boolean {
    return this.started.get(id) ?? false;
  }

  /** Values pending in OP-TEE for client `id`. */
  pendingOf(id: number): number[] {
    return [...(this.values.get(id) ?? [])].sort((a, b) => a - b);
  }

  /** One second passes: every guest's watchdog runs (test_wd_callback). */
  tick(): void {
    for (const [id, wd] of this.watchdogs) {
      if (wd.pending) wd.timeoutCount++;
      wd.callCount++;
      if (wd.callCount < 10 || wd.callCount % 60 === 0 || wd.pending) {
        this.log.push(this.virtualized ? `WD ${id} call_count ${wd.callCount}, timeout_count ${wd.timeoutCount}`
          : `WD call_count ${wd.callCount}, timeout_count ${wd.timeoutCount}`);
      }
      wd.pending = true;
      this.send(id, NOTIF_VALUE_DO_BOTTOM_HALF);
    }
  }

  /** What client `id`'s watchdog has counted, if it runs. */
  watchdog(id: number): { callCount: number; timeoutCount: number } | undefined {
    const wd = this.watchdogs.get(id);
    return wd && { callCount: wd.callCount, timeoutCount: wd.timeoutCount };
  }
}
