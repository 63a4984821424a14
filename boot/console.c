/*
 * The hypervisor console on the board's UART (a PL011; QEMU's needs no
 * set-up). Every write is one whole line or more under the console lock, so
 * lines from different CPUs never mix. "\n" becomes "\r\n".
 */
#include <stdarg.h>

#include "arch.h"
#include "hyp.h"
#include "rt/format.h"

#define PL011_DR 0x00
#define PL011_FR 0x18
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_IMSC 0x38
#define PL011_INT_RX (1u << 4)
#define PL011_INT_RT (1u << 6)

static spinlock_t console_lock;

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
