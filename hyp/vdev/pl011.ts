/**
 * A virtual PL011 UART per guest (Arm PrimeCell UART r1p5, DDI 0183), enough
 * for Linux's amba-pl011 driver and earlycon. Output is gathered per line and
 * printed on the hypervisor console as "[<guest>] line", so lines of
 * different guests never mix. Input arrives from the console (whichever guest
 * has it) into a 32-byte receive FIFO.
 *
 * The transmitter is infinitely fast: TXFE is always set and the TX
 * interrupt is asserted whenever it is unmasked, which is how Linux's driver
 * learns it may send more. The interrupt line is level-sensitive (SPI 1).
 *
 * Reads need no trap while the receive FIFO is empty: the guest reads a
 * register image (vdev/pl011-page.ts) that `publish` fills from pl011Read
 * itself, so a read from the page and a trapped read always agree. Only a DR
 * read with input waiting has a side effect (it pops the FIFO): from the
 * first byte received to the last one read, the page is unmapped.
 */
import { MAX_GUESTS, guestNamePtr } from "../core/guest";
import { lineEnd, lineStartGuestConsole, putChar } from "../lib/log";
import { registerPage, registerPageMap, registerPagePublish } from "./pl011-page";

export const UART_DR: u32 = 0x000;
const UART_RSR: u32 = 0x004;
export const UART_FR: u32 = 0x018;
const UART_IBRD: u32 = 0x024;
const UART_FBRD: u32 = 0x028;
const UART_LCR_H: u32 = 0x02c;
const UART_CR: u32 = 0x030;
const UART_IFLS: u32 = 0x034;
export const UART_IMSC: u32 = 0x038;
const UART_RIS: u32 = 0x03c;
const UART_MIS: u32 = 0x040;
const UART_ICR: u32 = 0x044;
const UART_DMACR: u32 = 0x048;
/** PrimeCell identification registers: 0xfe0..0xffc. */
const UART_ID_FIRST: u32 = 0xfe0;

const FR_RXFE: u32 = 1 << 4;
const FR_TXFE: u32 = 1 << 7;
export const INT_RX: u32 = 1 << 4;
export const INT_TX: u32 = 1 << 5;
const INT_RT: u32 = 1 << 6; // receive timeout: "data waiting", which Linux also unmasks

/** PrimeCell identification at 0xfe0..0xffc: part 0x011 (PL011) r1p5 (the arm,pl011 driver reads these). */
const PERIPH_ID: u32 = 0x00341011;
const CELL_ID: u32 = 0xb105f00d;

/** The PL011's receive FIFO is 32 entries deep. */
const RX_FIFO: u32 = 32;
/** Longer lines are split (the console line buffer holds 240 bytes with the prefix). */
const LINE_MAX: u32 = 224;

/*
 * Per guest (STATE bytes each):
 *   +0 imsc u32  +4 cr u32  +8 lcrh u32  +12 ibrd u32  +16 fbrd u32  +20 ifls u32
 *   +24 rxHead u32  +28 rxCount u32  +32 lineLength u32  +36 (pad)
 *   +40 rx[RX_FIFO]  +72 line[LINE_MAX]
 * The register page is mapped exactly while rxCount is 0 (for a guest with stage-2 tables).
 */
const RX_AT: u32 = 40;
const LINE_AT: u32 = RX_AT + RX_FIFO;
const STATE: u32 = LINE_AT + LINE_MAX;
const states = memory.data(<i32>(MAX_GUESTS * STATE), 8);

@inline function stateOf(g: u32): usize {
  return states + <usize>(g * STATE);
}

export function pl011Reset(g: u32): void {
  memory.fill(stateOf(g), 0, STATE);
  store<u32>(stateOf(g) + 4, 0x300); // TXE | RXE, as after reset
  const page = registerPage(g);
  memory.fill(page, 0, 4096); // DR reads 0 with the FIFO empty, as do the reserved offsets
  for (let offset = UART_ID_FIRST; offset < 0x1000; offset += 4) store<u32>(page + <usize>offset, idByte(offset));
  publish(g);
  registerPagePublish(g, 0, 4096); // all of it: the guest must not see what the RAM held before
  registerPageMap(g, true);
}

/**
 * Copies what a trapped read of each register would answer into guest g's register page, after a write that
 * changed one. Skipped while input waits: the page is unmapped then, and refreshed when the FIFO empties.
 */
function publish(g: u32): void {
  if (load<u32>(stateOf(g), 28) != 0) return;
  const page = registerPage(g);
  // DR is left 0: with the FIFO empty, pl011Read answers 0 for it too, and it is the one read with a side effect.
  for (let offset = UART_RSR; offset <= UART_DMACR; offset += 4) store<u32>(page + <usize>offset, pl011Read(g, offset));
  registerPagePublish(g, 0, UART_DMACR + 4);
}

/** Raw interrupt status: TX always, RX while data waits. */
function ris(s: usize): u32 {
  return INT_TX | (load<u32>(s, 28) > 0 ? INT_RX | INT_RT : 0);
}

/** Is the interrupt line high? */
export function pl011Line(g: u32): bool {
  const s = stateOf(g);
  return (ris(s) & load<u32>(s, 0)) != 0;
}

export function pl011Read(g: u32, offset: u32): u32 {
  const s = stateOf(g);
  if (offset >= UART_ID_FIRST && offset < 0x1000) return idByte(offset);
  switch (offset) {
    case UART_DR: return popRx(g, s);
    case UART_RSR: return 0;
    case UART_FR: return FR_TXFE | (load<u32>(s, 28) == 0 ? FR_RXFE : 0);
    case UART_IBRD: return load<u32>(s, 12);
    case UART_FBRD: return load<u32>(s, 16);
    case UART_LCR_H: return load<u32>(s, 8);
    case UART_CR: return load<u32>(s, 4);
    case UART_IFLS: return load<u32>(s, 20);
    case UART_IMSC: return load<u32>(s, 0);
    case UART_RIS: return ris(s);
    case UART_MIS: return ris(s) & load<u32>(s, 0);
    default: return 0;
  }
}

export function pl011Write(g: u32, offset: u32, value: u32): void {
  const s = stateOf(g);
  switch (offset) {
    case UART_DR: transmit(g, s, value & 0xff); return; // changes nothing a read sees
    case UART_IBRD: store<u32>(s, value & 0xffff, 12); break;
    case UART_FBRD: store<u32>(s, value & 0x3f, 16); break;
    case UART_LCR_H: store<u32>(s, value & 0xff, 8); break;
    case UART_CR: store<u32>(s, value & 0xffff, 4); break;
    case UART_IFLS: store<u32>(s, value & 0x3f, 20); break;
    case UART_IMSC: store<u32>(s, value & 0x7ff, 0); break;
    default: return; // ICR (nothing latches here), DMACR, RSR/ECR: accepted and ignored
  }
  publish(g); // a register a read sees changed
}

/** How many more bytes guest g's receive FIFO takes. */
export function pl011RxRoom(g: u32): u32 {
  return RX_FIFO - load<u32>(stateOf(g), 28);
}

/** Queues a byte typed on the console for guest g; false when its FIFO is full (the byte is dropped). */
export function pl011Receive(g: u32, c: u32): bool {
  const s = stateOf(g);
  const count = load<u32>(s, 28);
  if (count >= RX_FIFO) return false;
  if (count == 0) registerPageMap(g, false); // before the guest can learn of the byte: its DR read must trap
  const tail = (load<u32>(s, 24) + count) % RX_FIFO;
  store<u8>(s + RX_AT + <usize>tail, <u8>c);
  store<u32>(s, count + 1, 28);
  return true;
}

function popRx(g: u32, s: usize): u32 {
  const count = load<u32>(s, 28);
  if (count == 0) return 0;
  const head = load<u32>(s, 24);
  const c = <u32>load<u8>(s + RX_AT + <usize>head);
  store<u32>(s, (head + 1) % RX_FIFO, 24);
  store<u32>(s, count - 1, 28);
  if (count == 1) {
    publish(g); // FR, RIS and MIS as with an empty FIFO, before the guest reads them from the page
    registerPageMap(g, true);
  }
  return c;
}

function transmit(g: u32, s: usize, c: u32): void {
  if (c == 0x0d) return; // "\r\n" → one line end
  let length = load<u32>(s, 32);
  if (c != 0x0a) {
    store<u8>(s + LINE_AT + <usize>length, <u8>c);
    length++;
    store<u32>(s, length, 32);
    if (length < LINE_MAX) return;
  }
  lineStartGuestConsole(guestNamePtr(g));
  for (let i: u32 = 0; i < length; i++) putChar(<u32>load<u8>(s + LINE_AT + <usize>i));
  lineEnd();
  store<u32>(s, 0, 32);
}

function idByte(offset: u32): u32 {
  const i = (offset - UART_ID_FIRST) >> 2; // 0..3: periph id bytes, 4..7: cell id bytes
  if ((offset & 3) != 0) return 0;
  return i < 4 ? (PERIPH_ID >> (i << 3)) & 0xff : (CELL_ID >> ((i - 4) << 3)) & 0xff;
}
