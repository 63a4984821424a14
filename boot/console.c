/*
 * The hypervisor console on the board's UART (a PL011; QEMU's needs no
 * set-up). Every write is one whole line or more under the console lock, so
 * lines from different CPUs never mix. "\n" becomes "\r\n".
 *
 * What the core writes (guests' lines, its own) is queued per CPU and written
 * by that CPU once it has left the core (console_drain, from core.c): the
 * UART is slow (~6 ms for 100 characters at 115200 baud) and nothing slow may
 * happen under the core's lock, not even when a queue is full (what does not
 * fit is dropped and counted). Each CPU writes its own queue, so a guest that
 * prints without pause stalls its own vCPU, at the UART's pace, as it would
 * natively, and loses nothing. The console lock is a ticket lock taken once
 * per line: a CPU with a line to write waits for at most one line of each
 * other CPU, however much they have queued, and lines never mix.
 */
#include <stdarg.h>
#include <string.h>

#include "arch.h"
#include "hyp.h"
#include "rt/format.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_IBRD 0x24
#define PL011_FBRD 0x28
#define PL011_LCRH 0x2c
#define PL011_LCRH_WLEN_8 (3u << 5)
#define PL011_LCRH_FEN (1u << 4)
#define PL011_CR 0x30
#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_TXE (1u << 8)
#define PL011_CR_RXE (1u << 9)
#define PL011_FR_BUSY (1u << 3)
#define PL011_IMSC 0x38
#define PL011_INT_RX (1u << 4)
#define PL011_INT_RT (1u << 6)

#define CONSOLE_BAUD 115200u
#define GPFSEL(n) (0x00 + 4 * (n)) /* BCM2711 GPIO function select: 10 pins per register, 3 bits each */

static spinlock_t console_lock;

#if BOARD_UART0_PINS
static void pin_function(unsigned pin, unsigned function)
{
	uintptr_t reg = BOARD_GPIO_BASE + GPFSEL(pin / 10);
	unsigned shift = 3 * (pin % 10);
	mmio_write32(reg, (mmio_read32(reg) & ~(7u << shift)) | (function << shift));
}
#endif

/*
 * Boot CPU, before the first line: on boards whose firmware gives the PL011's pins to another UART (the Pi 4's
 * mini UART), take them back and set the PL011 to 115200 8N1 from its own clock. QEMU's UARTs need nothing,
 * and on QEMU virt nothing is done.
 */
void console_init(void)
{
#if BOARD_UART0_PINS
	while (mmio_read32(BOARD_UART0_BASE + PL011_FR) & PL011_FR_BUSY)
		;
	mmio_write32(BOARD_UART0_BASE + PL011_CR, 0);
	pin_function(BOARD_UART0_PIN_TX, BOARD_UART0_ALT);
	pin_function(BOARD_UART0_PIN_RX, BOARD_UART0_ALT);
	/* Divisor = clock / (16 × baud), its fraction in 64ths, rounded. */
	uint32_t div64 = (uint32_t)((4ull * BOARD_UART0_CLOCK_HZ + CONSOLE_BAUD / 2) / CONSOLE_BAUD);
	mmio_write32(BOARD_UART0_BASE + PL011_IBRD, div64 >> 6);
	mmio_write32(BOARD_UART0_BASE + PL011_FBRD, div64 & 63);
	mmio_write32(BOARD_UART0_BASE + PL011_LCRH, PL011_LCRH_WLEN_8 | PL011_LCRH_FEN);
	mmio_write32(BOARD_UART0_BASE + PL011_CR, PL011_CR_UARTEN | PL011_CR_TXE | PL011_CR_RXE);
#endif
}

/*
 * Enough for the lines one core entry makes: a line is at most 512 bytes (hyp/lib/log.ts; a guest's, one per
 * exit), the longest report the core prints at once (the per-exit profile, at power-off or Ctrl-A p) ~7 KiB for 3
 * guests.
 */
#define CONSOLE_QUEUE_SIZE 16384u

static char queued_text[MAX_CPUS][CONSOLE_QUEUE_SIZE];
/* Bytes queued per CPU: apart from the text, so that hyp.h's console_drain_queued() checks it in two loads. */
uint32_t console_queued[MAX_CPUS];
/* Bytes that did not fit in a CPU's queue since its last drain, said at the next one. */
static uint32_t console_dropped[MAX_CPUS];

static void uart_putc(char c)
{
	while (mmio_read32(BOARD_UART0_BASE + PL011_FR) & PL011_FR_TXFF)
		;
	mmio_write32(BOARD_UART0_BASE + PL011_DR, (uint32_t)(unsigned char)c);
}

void console_write(const char *text, size_t len)
{
	spin_lock(&console_lock);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			uart_putc('\r');
		uart_putc(text[i]);
	}
	spin_unlock(&console_lock);
}

/* Queues text (whole lines) for `cpu` to write after it leaves the core; what does not fit is dropped and counted. */
void console_queue(unsigned cpu, const char *text, size_t len)
{
	if (cpu >= MAX_CPUS)
		return;
	if (len > CONSOLE_QUEUE_SIZE - console_queued[cpu]) {
		console_dropped[cpu] += (uint32_t)len;
		return;
	}
	memcpy(queued_text[cpu] + console_queued[cpu], text, len);
	console_queued[cpu] += (uint32_t)len;
}

/* The end of the line that starts at `at` (past its '\n'), or `len` for an unfinished one. */
static size_t line_end(const char *text, size_t at, size_t len)
{
	while (at < len && text[at++] != '\n')
		;
	return at;
}

/* Writes what `cpu` queued (called by that CPU only, outside the core's lock), one line per turn of the console lock. */
void console_drain(unsigned cpu)
{
	if (cpu >= MAX_CPUS)
		return;
	const char *text = queued_text[cpu];
	size_t len = console_queued[cpu];
	for (size_t at = 0, end; at < len; at = end) {
		end = line_end(text, at, len);
		console_write(text + at, end - at);
	}
	console_queued[cpu] = 0;
	if (console_dropped[cpu]) {
		console_printf("[hyp] cpu %u: %u bytes of console output dropped (more than one core entry can queue)\n",
			       cpu, console_dropped[cpu]);
		console_dropped[cpu] = 0;
	}
}

/* Typed input raises the UART's interrupt (data received, or waiting after a pause). */
void console_input_enable(void)
{
	console_input_mask(false);
}

/* Masked, input waits in the UART's FIFO (and QEMU stops reading its stdin). */
void console_input_mask(bool masked)
{
	uint32_t imsc = mmio_read32(BOARD_UART0_BASE + PL011_IMSC);
	imsc = masked ? imsc & ~(PL011_INT_RX | PL011_INT_RT) : imsc | PL011_INT_RX | PL011_INT_RT;
	mmio_write32(BOARD_UART0_BASE + PL011_IMSC, imsc);
}

/* The next byte typed, or -1: reading DR clears the receive interrupt once the FIFO is empty. */
int console_read(void)
{
	if (mmio_read32(BOARD_UART0_BASE + PL011_FR) & PL011_FR_RXFE)
		return -1;
	return (int)(mmio_read32(BOARD_UART0_BASE + PL011_DR) & 0xff);
}

void console_printf(const char *fmt, ...)
{
	char line[256];
	va_list args;
	va_start(args, fmt);
	size_t len = format_line(line, sizeof line, fmt, args);
	va_end(args);
	console_write(line, len);
}
