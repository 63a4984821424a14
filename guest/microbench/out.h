#pragma once
#include <stdint.h>
void out_str(const char *s);
void out_dec(uint64_t v);
void out_hex(uint64_t v);
