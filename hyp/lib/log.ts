/**
 * Console lines built in a fixed buffer and written with one consoleWrite, so
 * a line is never split between CPUs (the core runs under one lock).
 *
 *   lineStart("optee"); put("revision "); putDec(4); lineEnd();
 *   → "[hyp] optee: revision 4\n"
 *
 * Over-long lines are cut, never overflow: the buffer keeps its last byte for
 * the newline.
 */
import { consoleWrite } from "../hw/imports";

const LINE_MAX: u32 = 512;
const line = memory.data(<i32>LINE_MAX, 8);
let length: u32 = 0;

function putByte(c: u32): void {
  if (length < LINE_MAX - 1) {
    store<u8>(line + <usize>length, <u8>c);
    length++;
  }
}

/** Starts a line tagged with the subsystem (and later, the guest) it is about. */
export function lineStart(tag: string): void {
  length = 0;
  put("[hyp] ");
  put(tag);
  put(": ");
}

/**
 * One item of a one-line list: the first starts the line (tagged `tag`, then `heading`), the others follow a
 * comma. `started` says whether the line has begun; returns true, for the caller to keep.
 */
export function listItem(tag: string, heading: string, started: bool): bool {
  if (!started) {
    lineStart(tag);
    put(heading);
  } else {
    put(",");
  }
  return true;
}

/** Appends ASCII text; anything outside printable ASCII becomes '?'. */
export function put(text: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = <u32>text.charCodeAt(i);
    putByte(c >= 0x20 && c < 0x7f ? c : 0x3f);
  }
}

export function putDec(value: u64): void {
  if (value >= 10) putDec(value / 10);
  putByte(0x30 + <u32>(value % 10));
}

/** Appends "0x" and the value in lowercase hex, without leading zeros. */
export function putHex(value: u64): void {
  put("0x");
  putHexDigits(value, 1);
}

/** Appends exactly `digits` hex digits (or more if the value needs them), no prefix. */
export function putHexDigits(value: u64, digits: u32): void {
  if (digits > 1 || value >= 16) putHexDigits(value >> 4, digits > 1 ? digits - 1 : 1);
  const d = <u32>(value & 15);
  putByte(d < 10 ? 0x30 + d : 0x57 + d);
}

export function lineEnd(): void {
  store<u8>(line + <usize>length, 0x0a); // putByte always leaves this byte free
  length++;
  consoleWrite(line, length);
  length = 0;
}

/** One whole line: "[hyp] tag: text". */
export function logLine(tag: string, text: string): void {
  lineStart(tag);
  put(text);
  lineEnd();
}

/** Appends up to `max` bytes of a NUL-padded ASCII name stored in linear memory. */
export function putName(ptr: usize, max: u32): void {
  for (let i: u32 = 0; i < max; i++) {
    const c = <u32>load<u8>(ptr + <usize>i);
    if (c == 0) break;
    putByte(c >= 0x20 && c < 0x7f ? c : 0x3f);
  }
}

/** Starts a line tagged with a guest's name: "[hyp] <tag> <guest>: ". */
export function lineStartGuest(tag: string, namePtr: usize): void {
  length = 0;
  put("[hyp] ");
  put(tag);
  put(" ");
  putName(namePtr, 16);
  put(": ");
}

/** Starts a line that is a guest's own console output: "[<guest>] ". */
export function lineStartGuestConsole(namePtr: usize): void {
  length = 0;
  put("[");
  putName(namePtr, 16);
  put("] ");
}

/** Appends one raw byte of guest output (non-printable → '?'). */
export function putChar(c: u32): void {
  putByte(c >= 0x20 && c < 0x7f ? c : 0x3f);
}
