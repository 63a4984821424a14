/* How the runtime reports a dead core (implemented in stop.c). */
#pragma once
#include <stdint.h>

/* A Wasm trap: `what` names the trap, `pc` is the generated code that raised it. Stops the CPU. */
__attribute__((noreturn)) void core_trapped(const char *what, uintptr_t pc);
/* The runtime itself cannot go on (a limit of this freestanding runtime). Stops the CPU. */
__attribute__((noreturn)) void runtime_fail(const char *why);
