/*
 * The four memory functions GCC and the generated code expect. Built with
 * -fno-tree-loop-distribute-patterns so GCC does not turn these loops back
 * into calls to themselves.
 */
#include <stdint.h>
#include <string.h>

/*
 * Copies and clears move 16 bytes a step (a load/store pair) when both ends are 8-byte aligned — the mediator's
 * shadow pages, page lists and message arguments always are — and bytes otherwise. A byte loop costs 3
 * instructions a byte: a 4 KiB page clear was 12k instructions of every CALL_WITH_ARG (make bench, stint.json).
 */
typedef uint64_t __attribute__((may_alias)) word_t;

static inline int both_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & 7) == 0;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (both_aligned(d, s)) {
		for (; n >= 16; n -= 16, d += 16, s += 16) {
			word_t a = ((const word_t *)s)[0], b = ((const word_t *)s)[1];
			((word_t *)d)[0] = a;
			((word_t *)d)[1] = b;
		}
		/* A message's fields (8 or 24 bytes) end in one word more, not 8 bytes one by one. */
		if (n >= 8) {
			*(word_t *)d = *(const word_t *)s;
			n -= 8, d += 8, s += 8;
		}
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s)
		return memcpy(dst, src, n);
	/* Backwards (the generated code's memory.copy comes here whichever way the ends lie): words while aligned. */
	if (both_aligned(d, s))
		for (; n >= 8 && ((n & 7) == 0); n -= 8)
			*(word_t *)(d + n - 8) = *(const word_t *)(s + n - 8);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	if (both_aligned(d, d)) {
		word_t w = 0x0101010101010101ull * (unsigned char)c;
		for (; n >= 16; n -= 16, d += 16) {
			((word_t *)d)[0] = w;
			((word_t *)d)[1] = w;
		}
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}
