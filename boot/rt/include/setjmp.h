/* Freestanding <setjmp.h>: wasm-rt.h names jmp_buf for exception unwinding, which the core does not use. */
#pragma once
typedef unsigned long jmp_buf[22];
