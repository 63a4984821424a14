/* Freestanding stand-in: the generated code's asserts check wasm2c's own init order, which glue.c follows. */
#pragma once
#define assert(x) ((void)0)
