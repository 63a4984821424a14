/**
 * What the mediator still holds for a guest, said right after its VM_DESTROYED: all zero, or something of the
 * guest's outlived it (a leak a person should hear of).
 */
import { guestNamePtr } from "../../../core/guest";
import { lineEnd, lineStartGuest, put, putDec } from "../../../lib/log";
import { callsOpen } from "./calls";
import { poolPagesOf } from "./pool";
import { rpcBufferCount } from "./rpcbuf";
import { shmCount } from "./shm";

export function heldReport(g: u32): void {
  lineStartGuest("optee", guestNamePtr(g));
  put("after VM_DESTROYED it holds "); putDec(shmCount(g)); put(" buffers, "); putDec(rpcBufferCount(g));
  put(" RPC buffers, "); putDec(callsOpen(g)); put(" calls, "); putDec(poolPagesOf(g)); put(" pool pages");
  lineEnd();
}
