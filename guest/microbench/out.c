/* Console output on the PL011 at 0x09000000 (QEMU virt's UART0, and the guest's virtual PL011 at the same IPA). */
#include <stdint.h>
#include "out.h"

#define UART_BASE 0x09000000ul
#define UART_DR 0x00
#define UART_FR 0x18
#define UART_FR_TXFF (1u << 5)

static void out_char(char c)
{
	volatile uint32_t *fr = (volatile uint32_t *)(UART_BASE + UART_FR);
	while (*fr & UART_FR_TXFF)
		;
	*(volatile uint32_t *)(UART_BASE + UART_DR) = (uint32_t)c;
}

void out_str(const char *s)
{
	while (*s) {
		if (*s == '\n')
			out_char('\r');
		out_char(*s++);
	}
}

void out_dec(uint64_t v)
{
	char buf[21];
	int i = 20;
	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_str(&buf[i]);
}

void out_hex(uint64_t v)
{
	char buf[19];
	int i = 18;
	buf[i] = 0;
	do {
		unsigned d = v & 15;
		buf[--i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	out_str(&buf[i]);
}
