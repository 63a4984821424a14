/* A small vsnprintf for the console: %s %c %d %u %x %p, 'l'/'ll', a zero-padded width, %%. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

size_t format_line(char *out, size_t size, const char *fmt, va_list args);
