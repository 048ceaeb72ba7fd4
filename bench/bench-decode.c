/*
 * Decode-only throughput of the CTF reader: opens a trace set and runs the
 * merge iterator over all its events, several rounds in-process (the first
 * round warms the page cache and the decoder).  Reports events per second
 * of the best round, in thread CPU time.  SONDE_BENCH_TRACE (default: the many-threads kernel
 * trace of ../shared) and SONDE_BENCH_ITERS (rounds, default 20) set it up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sonde/ctf.h"

/* Thread CPU time: the machine is shared, and waiting for a CPU is not
 * decoding time. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int one_round(const char *path, uint64_t *events, uint64_t *ns)
{
	struct sonde_ctf_trace_set *set;
	struct sonde_ctf_iter *it;
	const struct sonde_ctf_msg *msg;
	struct sonde_error err;
	uint64_t n = 0, start;
	int ret;

	if (sonde_ctf_trace_set_open(&path, 1, &set, &err) ||
	    sonde_ctf_iter_create(set, &it, &err)) {
		fprintf(stderr, "bench-decode: %s\n", err.msg);
		return 1;
	}
	start = now_ns();
	while ((ret = sonde_ctf_iter_next(it, &msg, &err)) > 0)
		n += msg->kind == SONDE_CTF_MSG_EVENT;
	*ns = now_ns() - start;
	sonde_ctf_iter_free(it);
	sonde_ctf_trace_set_free(set);
	if (ret < 0) {
		fprintf(stderr, "bench-decode: %s\n", err.msg);
		return 1;
	}
	*events = n;
	return 0;
}

int main(void)
{
	const char *path = getenv("SONDE_BENCH_TRACE");
	const char *iters_env = getenv("SONDE_BENCH_ITERS");
	const char *shared = getenv("SONDE_SHARED_DIR");
	uint64_t rounds = iters_env ? strtoull(iters_env, NULL, 10) : 20;
	uint64_t best = UINT64_MAX, total = 0, events = 0, ns, i;
	char buf[4096];

	if (!path) {
		snprintf(buf, sizeof(buf), "%s/data/traces/many-threads",
			 shared ? shared : "../shared");
		path = buf;
	}
	for (i = 0; i < rounds; i++) {
		if (one_round(path, &events, &ns))
			return 1;
		if (ns < best)
			best = ns;
		total += ns;
	}
	printf("trace: %s\n", path);
	printf("events per round: %" PRIu64 "\n", events);
	printf("decode (best round): %.1f M events/s\n",
	       best ? events * 1e3 / (double)best : 0.0);
	printf("decode (mean): %.1f M events/s\n",
	       total ? events * rounds * 1e3 / (double)total : 0.0);
	return 0;
}
