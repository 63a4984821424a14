/* Freestanding <stdlib.h>: only what wasm-rt.h names. Nothing allocates. */
#pragma once
#include <stddef.h>
__attribute__((noreturn)) void abort(void);
