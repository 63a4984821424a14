/*
 * teebench: what one TEEC call costs as a Linux user program sees it. Runs in every guest's initramfs and on the
 * native baseline (tools/images/initramfs.ts, `run=teebench`); tools/bench/teec.ts reads its lines.
 *
 * It talks to OP-TEE's built-in invoke-tests pseudo TA (PTA_INVOKE_TESTS, core/pta/tests/invoke.c in optee_os
 * 4.5.0), which is in Debian's builds and needs neither a TA file nor tee-supplicant. N rounds of timed calls
 * (after a few untimed rounds), each call timed alone with CLOCK_MONOTONIC around it. Under QEMU `-icount shift=0` the
 * guest's clock advances one nanosecond per instruction executed by the whole machine (every CPU, every
 * exception level, the secure world included): a call's time is its instruction count, host load aside.
 *
 * Paths, one round after the other (each round every path once, so that each sees the same share of whatever
 * else the machine does):
 *   open-session    TEEC_OpenSession to the PTA
 *   invoke-values   CMD_PARAMS with one output and three input values (invoke.c's "case 2a"): no memory shared
 *   invoke-memref   CMD_PARAMS with one in/out memref into a buffer registered once (TEEC_AllocateSharedMemory)
 *   invoke-tmpref   CMD_PARAMS with a temporary memref: libteec and the driver share the buffer per call
 *                   (a REGISTER_SHM and UNREGISTER_SHM into OP-TEE each time)
 *   close-session   TEEC_CloseSession
 *
 * Lines (one per fact, key=value, times in ns):
 *   TEEBENCH-START name=<guest> n=<N> clock=CLOCK_MONOTONIC resolution_ns=<r> since_power_on=<counter, s>
 *   TEEBENCH name=<guest> path=<path> n=<N> median=<ns> min=<ns> p10=<ns> p90=<ns> max=<ns> mean=<ns>
 *   TEEBENCH-SAMPLES name=<guest> path=<path> ns=<each call, in order>   (only with -v)
 *   TEEBENCH-ERROR name=<guest> <what failed>
 *   TEEBENCH-END name=<guest> status=ok|failed [since_power_on=<counter, s>]
 *
 * Usage: teebench [-n N] [-g guest] [-a seconds] [-u seconds] [-v]
 *        -a: start once the machine's counter reaches that many seconds since power-on, so that guests started at
 *            different times measure at the same time (and never before SETTLE_SECONDS after teebench started);
 *        -u: stop after the round during which the counter reaches that many seconds, even before N rounds (so
 *            that guests measuring side by side also stop together)
 *        teebench --since-power-on                  (prints the counter's seconds since power-on and exits;
 *                                                   first it executes the marker of tools/bench/profile/cpuinsns.c)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

/* core/pta/tests/invoke.c, lib/libutee/include/pta_invoke_tests.h (optee_os 4.5.0). */
#define PTA_INVOKE_TESTS_UUID \
	{ 0xd96a5b40, 0xc3e5, 0x21e3, { 0x87, 0x94, 0x10, 0x02, 0xa5, 0xd5, 0xc6, 0x1b } }
#define PTA_INVOKE_TESTS_CMD_PARAMS 1

/* Untimed rounds first: page faults, the driver's first allocations, OP-TEE's first session lookups. */
#define WARMUP_ROUNDS 10
#define DEFAULT_CALLS 200
#define MAX_CALLS 100000
/* The memref the PTA sums byte by byte: small, so OP-TEE's own work stays a few hundred instructions. */
#define MEMREF_BYTES 64
/*
 * Right after /init, the kernel is still busy on the other CPUs for a while (measured: under the hypervisor the
 * first ~60 calls, 0.1 s, took 4-50x longer, in a pattern repeating every 4 ms tick); sleeping first lets that
 * finish. Under -icount sleep=off an idle machine's clock skips ahead, so the wait costs little host time.
 */
#define SETTLE_SECONDS 0.3

static const char *guest = "unnamed";
static int verbose;

struct samples {
	const char *path;
	uint64_t *ns;
	int count;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The generic timer's virtual count: the same clock in every guest (the hypervisor sets CNTVOFF_EL2 = 0) and
 * natively, counting from power-on. Linux lets user space read it (the vDSO does). */
static double counter_seconds(void)
{
	uint64_t count, freq;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	return (double)count / (double)freq;
}

static void fail(const char *what, TEEC_Result res, uint32_t origin)
{
	printf("TEEBENCH-ERROR name=%s %s: TEEC result 0x%08" PRIx32 " origin %" PRIu32 "\n", guest, what, res, origin);
	printf("TEEBENCH-END name=%s status=failed\n", guest);
	exit(1);
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(struct samples *s)
{
	uint64_t sum = 0;
	int n = s->count;

	if (verbose) {
		printf("TEEBENCH-SAMPLES name=%s path=%s ns=", guest, s->path);
		for (int i = 0; i < n; i++)
			printf("%s%" PRIu64, i ? "," : "", s->ns[i]);
		printf("\n");
	}
	qsort(s->ns, n, sizeof(s->ns[0]), compare_u64);
	for (int i = 0; i < n; i++)
		sum += s->ns[i];
	printf("TEEBENCH name=%s path=%s n=%d median=%" PRIu64 " min=%" PRIu64 " p10=%" PRIu64 " p90=%" PRIu64
	       " max=%" PRIu64 " mean=%" PRIu64 "\n", guest, s->path, n, s->ns[n / 2], s->ns[0], s->ns[n / 10],
	       s->ns[n - 1 - n / 10], s->ns[n - 1], sum / n);
}

static void record(struct samples *s, uint64_t t0)
{
	s->ns[s->count++] = now_ns() - t0;
}

static struct samples new_samples(const char *path, int n)
{
	struct samples s = { path, calloc(n, sizeof(uint64_t)), 0 };

	if (!s.ns) {
		printf("TEEBENCH-ERROR name=%s out of memory for %d samples\n", guest, n);
		exit(1);
	}
	return s;
}

/* The three input values are summed into the output: invoke.c's case 2a. */
static void invoke_values(TEEC_Session *session)
{
	TEEC_Operation op = { 0 };
	uint32_t origin;
	TEEC_Result res;

	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT, TEEC_VALUE_INPUT);
	op.params[1].value.a = 1;
	op.params[2].value.a = 2;
	op.params[3].value.a = 3;
	res = TEEC_InvokeCommand(session, PTA_INVOKE_TESTS_CMD_PARAMS, &op, &origin);
	if (res != TEEC_SUCCESS)
		fail("invoke-values", res, origin);
	if (op.params[0].value.a != 6)
		fail("invoke-values answered a wrong sum", TEEC_ERROR_GENERIC, origin);
}

/* The PTA writes the byte sum of the buffer into its first byte: invoke.c's case 3a. */
static void invoke_memref(TEEC_Session *session, TEEC_SharedMemory *shm, const char *path)
{
	TEEC_Operation op = { 0 };
	uint32_t origin;
	TEEC_Result res;

	memset(shm->buffer, 1, MEMREF_BYTES);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = shm;
	op.params[0].memref.offset = 0;
	op.params[0].memref.size = MEMREF_BYTES;
	res = TEEC_InvokeCommand(session, PTA_INVOKE_TESTS_CMD_PARAMS, &op, &origin);
	if (res != TEEC_SUCCESS)
		fail(path, res, origin);
	if (((uint8_t *)shm->buffer)[0] != MEMREF_BYTES)
		fail("invoke-memref answered a wrong sum", TEEC_ERROR_GENERIC, origin);
}

static void invoke_tmpref(TEEC_Session *session, uint8_t *buffer)
{
	TEEC_Operation op = { 0 };
	uint32_t origin;
	TEEC_Result res;

	memset(buffer, 1, MEMREF_BYTES);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INOUT, TEEC_NONE, TEEC_NONE, TEEC_NONE);
	op.params[0].tmpref.buffer = buffer;
	op.params[0].tmpref.size = MEMREF_BYTES;
	res = TEEC_InvokeCommand(session, PTA_INVOKE_TESTS_CMD_PARAMS, &op, &origin);
	if (res != TEEC_SUCCESS)
		fail("invoke-tmpref", res, origin);
	if (buffer[0] != MEMREF_BYTES)
		fail("invoke-tmpref answered a wrong sum", TEEC_ERROR_GENERIC, origin);
}

static void open_pta(TEEC_Context *ctx, TEEC_Session *session)
{
	const TEEC_UUID uuid = PTA_INVOKE_TESTS_UUID;
	uint32_t origin;
	TEEC_Result res = TEEC_OpenSession(ctx, session, &uuid, TEEC_LOGIN_PUBLIC, NULL, NULL, &origin);

	if (res != TEEC_SUCCESS)
		fail("open-session", res, origin);
}

/*
 * Sleeps (so the CPU idles and -icount's virtual time skips ahead) until the counter reaches `at` seconds: in
 * one long sleep and a few short ones, since every wake-up is a trip through the hypervisor and costs host time.
 */
static void start_at(double at)
{
	double left;

	while ((left = at - counter_seconds()) > 0)
		usleep(left > 0.002 ? (useconds_t)((left - 0.001) * 1e6) : 100);
}

/* One round: every path once, each call timed alone (under -icount no cache is modelled: order does not matter). */
struct round {
	struct samples open, values, memref, tmpref, close;
};

static void one_round(TEEC_Context *ctx, TEEC_SharedMemory *shm, uint8_t *buffer, struct round *r)
{
	TEEC_Session session;
	uint64_t t0 = now_ns();

	open_pta(ctx, &session);
	if (r)
		record(&r->open, t0);
	t0 = now_ns();
	invoke_values(&session);
	if (r)
		record(&r->values, t0);
	t0 = now_ns();
	invoke_memref(&session, shm, "invoke-memref");
	if (r)
		record(&r->memref, t0);
	t0 = now_ns();
	invoke_tmpref(&session, buffer);
	if (r)
		record(&r->tmpref, t0);
	t0 = now_ns();
	TEEC_CloseSession(&session);
	if (r)
		record(&r->close, t0);
}

/*
 * Warms up, waits until the counter reaches `at` seconds (and SETTLE_SECONDS at least), then measures n rounds, or
 * fewer if the counter reaches `until` seconds first (0: no deadline).
 */
static void bench(TEEC_Context *ctx, int n, double at, double until)
{
	struct timespec resolution;
	struct round r = {
		new_samples("open-session", n), new_samples("invoke-values", n), new_samples("invoke-memref", n),
		new_samples("invoke-tmpref", n), new_samples("close-session", n),
	};
	TEEC_SharedMemory shm = { .size = 4096, .flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT };
	static uint8_t buffer[MEMREF_BYTES];
	TEEC_Result res = TEEC_AllocateSharedMemory(ctx, &shm);

	if (res != TEEC_SUCCESS)
		fail("TEEC_AllocateSharedMemory", res, 0);
	for (int i = 0; i < WARMUP_ROUNDS; i++)
		one_round(ctx, &shm, buffer, NULL);
	if (at < counter_seconds() + SETTLE_SECONDS)
		at = counter_seconds() + SETTLE_SECONDS;
	start_at(at);
	clock_getres(CLOCK_MONOTONIC, &resolution);
	printf("TEEBENCH-START name=%s n=%d clock=CLOCK_MONOTONIC resolution_ns=%ld since_power_on=%.6f\n", guest, n,
	       resolution.tv_nsec, counter_seconds());
	for (int i = 0; i < n && !(until > 0 && i > 0 && counter_seconds() >= until); i++)
		one_round(ctx, &shm, buffer, &r);
	TEEC_ReleaseSharedMemory(&shm);
	report(&r.values);
	report(&r.memref);
	report(&r.tmpref);
	report(&r.open);
	report(&r.close);
}

int main(int argc, char **argv)
{
	TEEC_Context ctx;
	TEEC_Result res;
	double at = 0, until = 0;
	int n = DEFAULT_CALLS, opt;

	if (argc == 2 && !strcmp(argv[1], "--since-power-on")) {
		/* The marker tools/bench/profile/cpuinsns.c counts each CPU's instructions at: a NOP everywhere else. */
		__asm__ volatile("hint #0x7f");
		printf("%.6f\n", counter_seconds());
		return 0;
	}
	while ((opt = getopt(argc, argv, "n:g:a:u:v")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'g')
			guest = optarg;
		else if (opt == 'a')
			at = atof(optarg);
		else if (opt == 'u')
			until = atof(optarg);
		else if (opt == 'v')
			verbose = 1;
		else
			return 2;
	}
	if (n < 1 || n > MAX_CALLS) {
		printf("TEEBENCH-ERROR name=%s -n %d: between 1 and %d calls\n", guest, n, MAX_CALLS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	res = TEEC_InitializeContext(NULL, &ctx);
	if (res != TEEC_SUCCESS)
		fail("TEEC_InitializeContext (is /dev/tee0 there?)", res, 0);
	bench(&ctx, n, at, until);
	TEEC_FinalizeContext(&ctx);
	printf("TEEBENCH-END name=%s status=ok since_power_on=%.6f\n", guest, counter_seconds());
	return 0;
}
