/*
 * Tracepoint cost of libsonde-ust in a tight loop: the payload of
 * lttng-ust's peer benchmark (bench:ev, 2 ints + a string), N events per
 * thread, recorded by an in-process session with the default channel
 * (discard mode, 4 x 512 KiB per CPU) or not recorded at all.  Run by
 * ust-vs-lttng-ust.sh next to the same program built with lttng-ust.
 *
 * usage: bench-ust MODE [events_per_thread] [threads] [string]
 *   MODE: enabled | disabled | empty (the same loop with no tracepoint:
 *         what disabled costs beyond it is the tracepoint's own cost)
 *         | filter-pass | filter-reject (recorded with the filter `a >= 0`,
 *         which keeps every event, or `a < 0`, which keeps none)
 * env: SONDE_BENCH_NUM_SUBBUF  sub-buffers per CPU (default 4 x 512 KiB)
 * Prints one line of key=value pairs.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SONDE_TRACEPOINT_DEFINE
#include "sonde/tracepoint.h"
#include "sonde/ust.h"

SONDE_TRACEPOINT_EVENT(bench, ev, SONDE_LOGLEVEL_DEBUG_LINE,
	SONDE_TP_ARGS(int a, int b, const char *s),
	SONDE_TP_FIELDS(
		sonde_field_integer(int, a, a)
		sonde_field_integer(int, b, b)
		sonde_field_string(s, s)))

static long n_events = 10000000;
static const char *str = "hello";
static pthread_barrier_t barrier;
static bool empty_loop;

struct worker {
	int id;
	uint64_t wall_ns, cpu_ns;
};

static uint64_t ts_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	uint64_t t0, c0;
	/* a local bound: the loop keeps it in a register, the same in both
	 * programs, so that only the tracepoint differs */
	const long n = n_events;
	long i;

	pthread_barrier_wait(&barrier);
	c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	t0 = ts_ns(CLOCK_MONOTONIC);
	if (empty_loop)
		for (i = 0; i < n; i++)
			__asm__ __volatile__("" : : "r"(i));
	else
		for (i = 0; i < n; i++)
			sonde_tracepoint(bench, ev, (int)i, w->id, str);
	w->wall_ns = ts_ns(CLOCK_MONOTONIC) - t0;
	w->cpu_ns = ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

int main(int argc, char **argv)
{
	struct sonde_ust_enabler en = { .pattern = "bench:*" };
	struct sonde_ust_local_config cfg = { .enablers = &en, .enabler_count = 1 };
	struct sonde_ust_local *s = NULL;
	struct sonde_ust_stats st = { 0 };
	struct sonde_error err = { 0 };
	char dir[] = "/tmp/sonde-bench-ust-XXXXXX";
	struct worker w[64];
	pthread_t th[64];
	uint64_t cpu_sum = 0, wall_sum = 0, proc0, proc1, recorded;
	int nthreads = 1, i;
	bool enabled;

	bool filter_reject;

	if (argc < 2 || (strcmp(argv[1], "enabled") && strcmp(argv[1], "disabled") &&
			 strcmp(argv[1], "empty") && strcmp(argv[1], "filter-pass") &&
			 strcmp(argv[1], "filter-reject"))) {
		fprintf(stderr, "usage: bench-ust enabled|disabled|empty|filter-pass|filter-reject [events] [threads] [string]\n");
		return 2;
	}
	/* The filters of the lttng-ust figures: `a >= 0` keeps every event,
	 * `a < 0` none (a is the loop counter). */
	filter_reject = !strcmp(argv[1], "filter-reject");
	if (!strcmp(argv[1], "filter-pass"))
		en.filter = "a >= 0";
	if (filter_reject)
		en.filter = "a < 0";
	enabled = strcmp(argv[1], "disabled") && strcmp(argv[1], "empty");
	empty_loop = !strcmp(argv[1], "empty");
	if (argc > 2)
		n_events = atol(argv[2]);
	if (argc > 3)
		nthreads = atoi(argv[3]);
	if (argc > 4)
		str = argv[4];
	if (nthreads < 1 || nthreads > 64 || n_events < 1)
		return 2;
	if (enabled) {
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			return 1;
		}
		cfg.output = dir;
		/* Sub-buffers per CPU (default 4), to weigh buffer room
		 * against the consumer's scheduling delays. */
		if (getenv("SONDE_BENCH_NUM_SUBBUF"))
			cfg.num_subbuf =
				(uint32_t)atoi(getenv("SONDE_BENCH_NUM_SUBBUF"));
		if (sonde_ust_local_start(&cfg, &s, &err)) {
			fprintf(stderr, "bench-ust: %s\n", err.msg);
			return 1;
		}
	}
	pthread_barrier_init(&barrier, NULL, (unsigned int)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i].id = i;
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	proc0 = ts_ns(CLOCK_PROCESS_CPUTIME_ID);
	pthread_barrier_wait(&barrier);
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		cpu_sum += w[i].cpu_ns;
		wall_sum += w[i].wall_ns;
	}
	if (enabled && sonde_ust_local_stop(s, &st, &err)) {
		fprintf(stderr, "bench-ust: %s\n", err.msg);
		return 1;
	}
	proc1 = ts_ns(CLOCK_PROCESS_CPUTIME_ID);
	recorded = filter_reject ? 0 :
				   (uint64_t)n_events * (uint64_t)nthreads -
					   st.events_discarded;
	printf("tracer=sonde mode=%s threads=%d events=%ld cpu_ns/ev=%.2f "
	       "wall_ns/ev=%.2f discarded=%llu bytes=%llu B/ev=%.2f "
	       "consumer_cpu_ns/ev=%.2f\n",
	       argv[1], nthreads, n_events * nthreads,
	       (double)cpu_sum / nthreads / n_events,
	       (double)wall_sum / nthreads / n_events,
	       (unsigned long long)st.events_discarded,
	       (unsigned long long)st.bytes,
	       enabled && recorded ? (double)st.bytes / recorded : 0.0,
	       (double)(proc1 - proc0 - cpu_sum) / n_events / nthreads);
	if (enabled) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return 0;
}
