/*
 * A freestanding wasm2c runtime (wabt 1.0.32's wasm-rt.h API) for the
 * hypervisor: no malloc, no mmap, no signals.
 *
 * - Linear memory is one static region at HYP_WASM_MEM_PA (see board.h),
 *   seen by the core at WASM_MEMORY_VA; its size is fixed by the module's
 *   declared pages and never moves or grows.
 * - No bounds check is compiled into an access (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1,
 *   checked below): the 8 GiB after the memory are unmapped (mmu.c), so an
 *   out-of-bounds access faults at EL2 and stop.c reports it as the Wasm trap
 *   it is. Bulk operations (memory.fill/copy/init) keep their explicit checks.
 * - A trap reports which trap and where, then stops the CPU (stop.c), or only
 *   the guest it served (core.c).
 */
#include <stdarg.h>

#include "wasm-rt.h"

#include "hyp.h"
#include "rt/trap.h"

#if !WASM_RT_MEMCHECK_SIGNAL_HANDLER
#error "the hypervisor bounds the core's accesses with the MMU: build with WASM_RT_MEMCHECK_SIGNAL_HANDLER=1"
#endif
#if WASM_RT_USE_STACK_DEPTH_COUNT
#error "build with WASM_RT_USE_STACK_DEPTH_COUNT=0: the counter is a global shared by all CPUs"
#endif

#define WASM_PAGE_SIZE 65536u

/* Function signatures, deduplicated so that equal signatures get equal ids (call_indirect compares them). */
#define MAX_FUNC_TYPES 64
#define MAX_FUNC_TYPE_ARITY 16
struct func_type {
	uint32_t params, results;
	wasm_rt_type_t types[MAX_FUNC_TYPE_ARITY];
};
static struct func_type func_types[MAX_FUNC_TYPES];
static uint32_t func_type_count;
static bool initialized;

void wasm_rt_init(void)
{
	initialized = true;
}

bool wasm_rt_is_initialized(void)
{
	return initialized;
}

void wasm_rt_free(void)
{
}

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...)
{
	struct func_type t = { params, results, { 0 } };
	if (params + results > MAX_FUNC_TYPE_ARITY)
		runtime_fail("function signature with too many values");
	va_list args;
	va_start(args, results);
	for (uint32_t i = 0; i < params + results; i++)
		t.types[i] = va_arg(args, wasm_rt_type_t);
	va_end(args);
	for (uint32_t id = 0; id < func_type_count; id++)
		if (memcmp(&func_types[id], &t, sizeof t) == 0)
			return id;
	if (func_type_count == MAX_FUNC_TYPES)
		runtime_fail("too many function signatures");
	func_types[func_type_count] = t;
	return func_type_count++;
}

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages)
{
	(void)max_pages;
	uint64_t bytes = (uint64_t)initial_pages * WASM_PAGE_SIZE;
	if (bytes > HYP_WASM_MEM_SIZE)
		runtime_fail("linear memory larger than its region (HYP_WASM_MEM_SIZE)");
	/* Mapped in 2 MiB blocks: any tail of a block past the memory's end would be readable without a fault. */
	if (bytes % (2u << 20))
		runtime_fail("linear memory not a multiple of 2 MiB (asconfig.json initialMemory)");
	mmu_map_wasm_memory(bytes);
	memory->data = (uint8_t *)(uintptr_t)WASM_MEMORY_VA;
	memory->pages = initial_pages;
	/* Never grows: what the MMU maps is exactly the memory, and the guard starts where it ends. */
	memory->max_pages = initial_pages;
	memory->size = (uint32_t)bytes;
	memset(memory->data, 0, bytes);
}

/* memory.grow within the static region; -1 (as Wasm defines) when it does not fit. */
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta)
{
	uint32_t old_pages = memory->pages;
	uint64_t new_pages = (uint64_t)old_pages + delta;
	if (new_pages > memory->max_pages)
		return (uint32_t)-1;
	uint64_t new_size = new_pages * WASM_PAGE_SIZE;
	memset(memory->data + memory->size, 0, new_size - memory->size);
	memory->pages = (uint32_t)new_pages;
	memory->size = (uint32_t)new_size;
	return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory)
{
	(void)memory;
}

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max_elements)
{
	static wasm_rt_funcref_t storage[256];
	(void)max_elements;
	if (elements > 256)
		runtime_fail("function table larger than its static storage");
	table->data = storage;
	table->size = elements;
	table->max_size = 256;
}

void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table)
{
	(void)table;
}

const char *wasm_rt_strerror(wasm_rt_trap_t trap)
{
	switch (trap) {
	case WASM_RT_TRAP_NONE: return "no error";
	case WASM_RT_TRAP_OOB: return "out-of-bounds memory access (WASM_RT_TRAP_OOB)";
	case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow (WASM_RT_TRAP_INT_OVERFLOW)";
	case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero (WASM_RT_TRAP_DIV_BY_ZERO)";
	case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion (WASM_RT_TRAP_INVALID_CONVERSION)";
	case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed (WASM_RT_TRAP_UNREACHABLE)";
	case WASM_RT_TRAP_CALL_INDIRECT: return "bad call_indirect (WASM_RT_TRAP_CALL_INDIRECT)";
	case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception (WASM_RT_TRAP_UNCAUGHT_EXCEPTION)";
	case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted (WASM_RT_TRAP_EXHAUSTION)";
	}
	return "unknown trap";
}

/* The generated code calls this from inside the faulting function: its return address says where. */
void wasm_rt_trap(wasm_rt_trap_t trap)
{
	core_trapped(wasm_rt_strerror(trap), (uintptr_t)__builtin_return_address(0));
}

void abort(void)
{
	runtime_fail("abort() called");
}
