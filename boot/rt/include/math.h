/*
 * Freestanding stand-in for the generated code's <math.h>. The core uses no
 * floating point (the hypervisor is built with -mgeneral-regs-only), so these
 * only have to declare what wasm2c's unused float helpers name.
 */
#pragma once
#define isnan(x) __builtin_isnan(x)
#define signbit(x) __builtin_signbit(x)
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
double floor(double); float floorf(float);
double ceil(double); float ceilf(float);
double trunc(double); float truncf(float);
double nearbyint(double); float nearbyintf(float);
double sqrt(double); float sqrtf(float);
double fabs(double); float fabsf(float);
double copysign(double, double); float copysignf(float, float);
