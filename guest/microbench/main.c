/*
 * The micro-benchmark: each call N times (bench_iterations, in the Image header), timed by the guest's own
 * counter around the call, then one line per path with median, minimum and maximum:
 *
 *   MICROBENCH-START where=hyp n=200
 *   MICROBENCH path=calls-uid n=200 median=812 min=805 max=1020
 *   MICROBENCH-END status=ok
 *
 * The paths: a null HVC answered by the hypervisor (not natively: there is none), forwarded fast calls
 * (CALLS_UID, GET_THREAD_COUNT), REGISTER_SHM and UNREGISTER_SHM of 1, 16 and 256 pages, and std calls to
 * OP-TEE's invoke-tests pseudo TA (no TA loading, no supplicant): OPEN_SESSION, INVOKE_COMMAND with four
 * value parameters and with a registered memref, CLOSE_SESSION. Then PSCI SYSTEM_OFF.
 */
#include "smc.h"
#include "optee.h"
#include "out.h"

#define PAGE_SIZE 4096u
#define MAX_ITERATIONS 2000u
#define MAX_SHM_PAGES 256u
#define PSCI_SYSTEM_OFF 0x84000008u
#define SMCCC_VERSION 0x80000000u

/* PTA_INVOKE_TESTS (optee_os lib/libutee/include/pta_invoke_tests.h) and its PARAMS command. */
#define PTA_INVOKE_TESTS_CMD_PARAMS 1u
static const uint8_t pta_invoke_tests_uuid[16] = {
	0xd9, 0x6a, 0x5b, 0x40, 0xc3, 0xe5, 0x21, 0xe3, 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b,
};

extern const uint64_t bench_iterations;

static struct optee_msg_arg arg __attribute__((aligned(PAGE_SIZE)));
static uint64_t page_list[PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));
static uint8_t shm[MAX_SHM_PAGES * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint32_t samples[MAX_ITERATIONS];
static uint32_t samples2[MAX_ITERATIONS];
static uint32_t iterations;
static int native, failed;

static void sort(uint32_t *v, uint32_t count)
{
	for (uint32_t i = 1; i < count; i++) {
		uint32_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/*
 * The marker of tools/bench/profile/cpuinsns.c and tbprof.c (HINT #0x7f, a NOP everywhere else), just before and just
 * after each path's calls: a plugin's counts between two marks are that path's alone.
 */
static inline void mark(void)
{
	__asm__ volatile("hint #0x7f" ::: "memory");
}

static void report(const char *path, uint32_t *v, uint32_t count)
{
	mark();
	sort(v, count);
	out_str("MICROBENCH path="); out_str(path);
	out_str(" n="); out_dec(count);
	out_str(" median="); out_dec(v[count / 2]);
	out_str(" min="); out_dec(v[0]);
	out_str(" max="); out_dec(v[count - 1]);
	out_str("\n");
}

static void fail(const char *path, uint64_t smc_ret, uint64_t ret)
{
	out_str("MICROBENCH-ERROR path="); out_str(path);
	out_str(" smc="); out_hex(smc_ret);
	out_str(" ret="); out_hex(ret);
	out_str("\n");
	failed = 1;
}

static void clear_arg(void)
{
	uint64_t *p = (uint64_t *)&arg;
	for (uint32_t i = 0; i < sizeof(arg) / 8; i++)
		p[i] = 0;
}

static int std_ok(const char *path, struct optee_result r)
{
	if (r.smc_ret == OPTEE_SMC_RETURN_OK && r.ret == 0)
		return 1;
	fail(path, r.smc_ret, r.ret);
	return 0;
}

static void bench_null_hvc(void)
{
	mark();
	struct smccc_regs r;
	for (uint32_t i = 0; i < iterations; i++) {
		r = (struct smccc_regs){ .a = { SMCCC_VERSION } };
		uint64_t t0 = counter_now();
		smccc_call(&r, 1);
		samples[i] = (uint32_t)(counter_now() - t0);
	}
	report("null-hvc", samples, iterations);
}

static void bench_fast(const char *path, uint32_t fid)
{
	mark();
	struct smccc_regs r;
	for (uint32_t i = 0; i < iterations; i++) {
		uint64_t t0 = counter_now();
		optee_fast(&r, fid, 0);
		samples[i] = (uint32_t)(counter_now() - t0);
		if (fid != OPTEE_SMC_CALLS_UID && r.a[0] != OPTEE_SMC_RETURN_OK) {
			fail(path, r.a[0], 0);
			return;
		}
	}
	report(path, samples, iterations);
}

/* REGISTER_SHM of `pages` pages of shm[] under `cookie`: a NONCONTIG temporary memref whose buf_ptr is the page list. */
static struct optee_result register_shm(uint32_t pages, uint64_t cookie)
{
	for (uint32_t i = 0; i < pages; i++)
		page_list[i] = (uintptr_t)&shm[i * PAGE_SIZE];
	page_list[OPTEE_MSG_PAGES_PER_LIST] = 0;
	clear_arg();
	arg.cmd = OPTEE_MSG_CMD_REGISTER_SHM;
	arg.num_params = 1;
	arg.params[0].attr = OPTEE_MSG_ATTR_TYPE_TMEM_OUTPUT | OPTEE_MSG_ATTR_NONCONTIG;
	arg.params[0].a = (uintptr_t)page_list;
	arg.params[0].b = (uint64_t)pages * PAGE_SIZE;
	arg.params[0].c = cookie;
	return optee_std(&arg);
}

static struct optee_result unregister_shm(uint64_t cookie)
{
	clear_arg();
	arg.cmd = OPTEE_MSG_CMD_UNREGISTER_SHM;
	arg.num_params = 1;
	arg.params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INPUT;
	arg.params[0].c = cookie;
	return optee_std(&arg);
}

static void bench_register(uint32_t pages, const char *reg_path, const char *unreg_path)
{
	mark();
	for (uint32_t i = 0; i < iterations; i++) {
		uint64_t cookie = 0x1000 + i;
		uint64_t t0 = counter_now();
		struct optee_result r = register_shm(pages, cookie);
		samples[i] = (uint32_t)(counter_now() - t0);
		if (!std_ok(reg_path, r))
			return;
		clear_arg();
		t0 = counter_now();
		r = unregister_shm(cookie);
		samples2[i] = (uint32_t)(counter_now() - t0);
		if (!std_ok(unreg_path, r))
			return;
	}
	report(reg_path, samples, iterations);
	report(unreg_path, samples2, iterations);
}

static void prepare_open(void)
{
	clear_arg();
	arg.cmd = OPTEE_MSG_CMD_OPEN_SESSION;
	arg.num_params = 2;
	arg.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	const uint8_t *u = pta_invoke_tests_uuid;
	for (int i = 7; i >= 0; i--) {
		arg.params[0].a = (arg.params[0].a << 8) | u[i];
		arg.params[0].b = (arg.params[0].b << 8) | u[8 + i];
	}
	arg.params[1].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT | OPTEE_MSG_ATTR_META;
	arg.params[1].c = TEE_LOGIN_PUBLIC;
}

static int open_session(uint32_t *session, uint32_t *spent)
{
	prepare_open();
	uint64_t t0 = counter_now();
	struct optee_result r = optee_std(&arg);
	*spent = (uint32_t)(counter_now() - t0);
	*session = arg.session;
	return std_ok("open-session", r);
}

static int close_session(uint32_t session, uint32_t *spent)
{
	clear_arg();
	arg.cmd = OPTEE_MSG_CMD_CLOSE_SESSION;
	arg.session = session;
	uint64_t t0 = counter_now();
	struct optee_result r = optee_std(&arg);
	*spent = (uint32_t)(counter_now() - t0);
	return std_ok("close-session", r);
}

static void bench_sessions(void)
{
	uint32_t session;
	mark();
	for (uint32_t i = 0; i < iterations; i++) {
		if (!open_session(&session, &samples[i]) || !close_session(session, &samples2[i]))
			return;
	}
	report("open-session", samples, iterations);
	report("close-session", samples2, iterations);
}

/* An INVOKE_COMMAND of the invoke-tests PTA's PARAMS command with four parameters, all NONE so far. */
static void prepare_invoke(uint32_t session)
{
	clear_arg();
	arg.cmd = OPTEE_MSG_CMD_INVOKE_COMMAND;
	arg.func = PTA_INVOKE_TESTS_CMD_PARAMS;
	arg.session = session;
	arg.num_params = 4;
}

/* INVOKE_COMMAND PARAMS with [value out, value in, value in, value in]: the PTA writes the sums into the first. */
static void bench_invoke_values(uint32_t session)
{
	mark();
	for (uint32_t i = 0; i < iterations; i++) {
		prepare_invoke(session);
		arg.params[0].attr = OPTEE_MSG_ATTR_TYPE_VALUE_OUTPUT;
		for (int p = 1; p < 4; p++) {
			arg.params[p].attr = OPTEE_MSG_ATTR_TYPE_VALUE_INPUT;
			arg.params[p].a = (uint64_t)(p + i);
			arg.params[p].b = 1;
		}
		uint64_t t0 = counter_now();
		struct optee_result r = optee_std(&arg);
		samples[i] = (uint32_t)(counter_now() - t0);
		if (!std_ok("invoke-values", r))
			return;
		if (arg.params[0].a != 6 + 3 * (uint64_t)i || arg.params[0].b != 3) {
			fail("invoke-values", 0, arg.params[0].a);
			return;
		}
	}
	report("invoke-values", samples, iterations);
}

/* INVOKE_COMMAND PARAMS with one in/out registered memref of 64 bytes: the PTA writes their byte sum into byte 0. */
static void bench_invoke_memref(uint32_t session)
{
	mark();
	const uint64_t cookie = 0xbe9c;
	if (!std_ok("invoke-memref", register_shm(1, cookie)))
		return;
	for (uint32_t i = 0; i < iterations; i++) {
		for (int b = 0; b < 64; b++)
			shm[b] = 1;
		prepare_invoke(session);
		arg.params[0].attr = OPTEE_MSG_ATTR_TYPE_RMEM_INOUT;
		arg.params[0].a = 0;
		arg.params[0].b = 64;
		arg.params[0].c = cookie;
		uint64_t t0 = counter_now();
		struct optee_result r = optee_std(&arg);
		samples[i] = (uint32_t)(counter_now() - t0);
		if (!std_ok("invoke-memref", r))
			break;
		if (shm[0] != 64) {
			fail("invoke-memref", 0, shm[0]);
			break;
		}
	}
	if (!failed)
		report("invoke-memref", samples, iterations);
	unregister_shm(cookie);
}

static void power_off(void)
{
	struct smccc_regs r = { .a = { PSCI_SYSTEM_OFF } };
	smccc_call(&r, !native); /* a guest's PSCI conduit is HVC; natively TF-A takes it by SMC */
}

void bench_main(uint64_t is_native)
{
	native = (int)is_native;
	iterations = bench_iterations == 0 ? 1 : bench_iterations > MAX_ITERATIONS ? MAX_ITERATIONS : (uint32_t)bench_iterations;
	out_str("MICROBENCH-START where="); out_str(native ? "native" : "hyp");
	out_str(" n="); out_dec(iterations); out_str(" unit=counter-ticks\n");

	struct smccc_regs r;
	optee_fast(&r, OPTEE_SMC_EXCHANGE_CAPABILITIES, OPTEE_SMC_NSEC_CAP_UNIPROCESSOR);
	if (r.a[0] != OPTEE_SMC_RETURN_OK || !(r.a[1] & OPTEE_SMC_SEC_CAP_DYNAMIC_SHM))
		fail("exchange-capabilities", r.a[0], r.a[1]);

	if (!native)
		bench_null_hvc();
	bench_fast("calls-uid", OPTEE_SMC_CALLS_UID);
	bench_fast("get-thread-count", OPTEE_SMC_GET_THREAD_COUNT);
	bench_register(1, "register-shm-1", "unregister-shm-1");
	bench_register(16, "register-shm-16", "unregister-shm-16");
	bench_register(256, "register-shm-256", "unregister-shm-256");
	bench_sessions();
	uint32_t session, spent;
	if (open_session(&session, &spent)) {
		bench_invoke_values(session);
		bench_invoke_memref(session);
		close_session(session, &spent);
	}
	out_str(failed ? "MICROBENCH-END status=failed\n" : "MICROBENCH-END status=ok\n");
	power_off();
}
