/* See format.h. Output is cut to size - 1 characters and always terminated. */
#include "rt/format.h"

#include <stdint.h>

struct sink {
	char *out;
	size_t size, len;
};

static void emit(struct sink *s, char c)
{
	if (s->len + 1 < s->size)
		s->out[s->len++] = c;
}

static void emit_number(struct sink *s, uint64_t value, unsigned base, unsigned width, char pad)
{
	char digits[24];
	unsigned n = 0;
	do {
		unsigned d = (unsigned)(value % base);
		digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		value /= base;
	} while (value && n < sizeof digits);
	while (width > n) {
		emit(s, pad);
		width--;
	}
	while (n)
		emit(s, digits[--n]);
}

size_t format_line(char *out, size_t size, const char *fmt, va_list args)
{
	struct sink s = { out, size, 0 };
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(&s, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		unsigned width = 0, longs = 0;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(args, const char *);
			for (str = str ? str : "(null)"; *str; str++)
				emit(&s, *str);
			break;
		}
		case 'c':
			emit(&s, (char)va_arg(args, int));
			break;
		case 'd': {
			int64_t v = longs ? va_arg(args, int64_t) : va_arg(args, int);
			if (v < 0) {
				emit(&s, '-');
				v = -v;
			}
			emit_number(&s, (uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs ? va_arg(args, uint64_t) : va_arg(args, unsigned);
			emit_number(&s, v, *fmt == 'u' ? 10 : 16, width, pad);
			break;
		}
		case 'p':
			emit(&s, '0');
			emit(&s, 'x');
			emit_number(&s, (uintptr_t)va_arg(args, void *), 16, 0, ' ');
			break;
		case '%':
			emit(&s, '%');
			break;
		default:
			return s.len; /* an unknown conversion: stop rather than misread the arguments */
		}
	}
	if (size)
		out[s.len] = 0;
	return s.len;
}
