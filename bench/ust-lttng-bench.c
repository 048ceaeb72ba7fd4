/*
 * The lttng-ust twin of bench-ust.c (same loop, same payload), built by
 * ust-vs-lttng-ust.sh at run time against liblttng-ust.  Recording is
 * controlled from outside (lttng create / enable-event / start).
 * usage: ust-lttng-bench [events_per_thread] [threads] [string]
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ust_lttng_tp.h"

static long n_events = 10000000;
static const char *str = "hello";
static pthread_barrier_t barrier;

struct worker {
	int id;
	unsigned long long wall_ns, cpu_ns;
};

static unsigned long long ts_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (unsigned long long)t.tv_sec * 1000000000u + (unsigned long long)t.tv_nsec;
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	unsigned long long t0, c0;
	const long n = n_events; /* as in bench-ust.c */
	long i;

	pthread_barrier_wait(&barrier);
	c0 = ts_ns(CLOCK_THREAD_CPUTIME_ID);
	t0 = ts_ns(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++)
		lttng_ust_tracepoint(bench, ev, (int)i, w->id, str);
	w->wall_ns = ts_ns(CLOCK_MONOTONIC) - t0;
	w->cpu_ns = ts_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w[64];
	pthread_t th[64];
	unsigned long long cpu_sum = 0, wall_sum = 0;
	int nthreads = 1, i;

	if (argc > 1)
		n_events = atol(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (argc > 3)
		str = argv[3];
	if (nthreads < 1 || nthreads > 64 || n_events < 1)
		return 2;
	pthread_barrier_init(&barrier, NULL, (unsigned int)nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		w[i].id = i;
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	pthread_barrier_wait(&barrier);
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		cpu_sum += w[i].cpu_ns;
		wall_sum += w[i].wall_ns;
	}
	printf("cpu_ns/ev=%.2f wall_ns/ev=%.2f\n",
	       (double)cpu_sum / nthreads / n_events,
	       (double)wall_sum / nthreads / n_events);
	return 0;
}
