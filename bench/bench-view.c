/*
 * Text printer throughput: decodes and prints a trace set (default: the
 * many-threads kernel trace, ~150-byte lines) to /dev/null, several rounds
 * in-process, and reports events per second of the best round for the text
 * output, JSON and decoding alone (dummy).  SONDE_BENCH_TRACE,
 * SONDE_BENCH_ITERS (default 10), SONDE_BENCH_OUT (default /dev/null) and
 * SONDE_BENCH_FORMAT (text, json or dummy: only that one) set it up.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sonde/ctf.h"
#include "sonde/view.h"

/* CPU time, not wall time: the machine running the benchmarks is shared,
 * and "one core" is what the target is about. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int one_round(const char *path, enum sonde_view_format format,
		     int fd, uint64_t *events, uint64_t *ns)
{
	struct sonde_ctf_trace_set *set;
	struct sonde_ctf_iter *it;
	struct sonde_view_printer *p;
	struct sonde_view_opts opts;
	const struct sonde_ctf_msg *msg;
	struct sonde_error err;
	uint64_t n = 0, start;
	int ret;

	sonde_view_opts_init(&opts);
	opts.format = format;
	if (sonde_ctf_trace_set_open(&path, 1, &set, &err) ||
	    sonde_view_printer_create(&opts, set, fd, STDERR_FILENO, &p, &err) ||
	    sonde_ctf_iter_create(set, &it, &err)) {
		fprintf(stderr, "bench-view: %s\n", err.msg);
		return 1;
	}
	start = now_ns();
	while ((ret = sonde_ctf_iter_next(it, &msg, &err)) > 0) {
		n += msg->kind == SONDE_CTF_MSG_EVENT;
		sonde_view_print(p, msg, &err);
	}
	sonde_view_printer_flush(p, &err);
	*ns = now_ns() - start;
	sonde_ctf_iter_free(it);
	sonde_view_printer_free(p);
	sonde_ctf_trace_set_free(set);
	if (ret < 0) {
		fprintf(stderr, "bench-view: %s\n", err.msg);
		return 1;
	}
	*events = n;
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		enum sonde_view_format format;
	} modes[] = {
		{ "text", SONDE_VIEW_TEXT },
		{ "json", SONDE_VIEW_JSON },
		{ "dummy (decode only)", SONDE_VIEW_DUMMY },
	};
	const char *path = getenv("SONDE_BENCH_TRACE");
	const char *iters_env = getenv("SONDE_BENCH_ITERS");
	const char *out = getenv("SONDE_BENCH_OUT");
	const char *shared = getenv("SONDE_SHARED_DIR");
	const char *only = getenv("SONDE_BENCH_FORMAT");
	uint64_t rounds = iters_env ? strtoull(iters_env, NULL, 10) : 10;
	char buf[4096];
	int fd;

	if (!path) {
		snprintf(buf, sizeof(buf), "%s/data/traces/many-threads",
			 shared ? shared : "../shared");
		path = buf;
	}
	fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("bench-view: output");
		return 1;
	}
	printf("trace: %s\n", path);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		uint64_t best = UINT64_MAX, events = 0, ns;

		if (only && strncmp(modes[m].name, only, strlen(only)))
			continue;
		for (uint64_t i = 0; i < rounds; i++) {
			if (lseek(fd, 0, SEEK_SET) == 0 && ftruncate(fd, 0))
				(void)0;
			if (one_round(path, modes[m].format, fd, &events, &ns))
				return 1;
			if (ns < best)
				best = ns;
		}
		printf("%s (best of %" PRIu64 "): %.2f M events/s, %.1f ns/event\n",
		       modes[m].name, rounds,
		       best ? events * 1e3 / (double)best : 0.0,
		       events ? (double)best / (double)events : 0.0);
	}
	close(fd);
	return 0;
}
