/*
 * Test program for libsonde-ust: records its own tracepoints with an
 * in-process session and prints what it passed, one line per event, the
 * way `sonde view` / babeltrace print payloads, for the test to compare.
 *
 * usage: ust-app OUTPUT MODE [options]
 *   MODE fields     one event of every kind, with several values
 *        threads N E     N threads x E fields:seq events
 *        procs N E       N processes x E events (fork, per-UID buffers)
 *        kill E          a forked child writes events; killed (SIGKILL)
 *                        once it has written E, the parent stops
 *        disabled        the events are not enabled (pattern mismatch)
 *        daemon-fields   no in-process session: the events of `fields`,
 *                        recorded if sonde-sessiond records user space
 *        daemon-loop N MS  the same N times, MS milliseconds apart, each
 *                        followed by fields:seq (0, iteration)
 *   The daemon modes below write fields:seq events and print one line
 *   "pid=P events=N" per process, N the events it wrote:
 *        daemon-seq E ID     E events (id ID)
 *        daemon-fork D E     E events, fork a child that does the same
 *                            (D levels of children), wait, E more
 *        daemon-fork-exec E  E events, fork a child that execs
 *                            `ust-app OUTPUT daemon-seq E 1`, wait, E more
 *        daemon-fork-threads T E F  T threads write while the main
 *                            thread forks F children (E events each, id
 *                            1000 + child) one after the other
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>

#include "fields_tp.h"
#include "sonde/ust.h"

static void fields(void)
{
	int32_t a3[3] = { -1, 0, 2147483647 };
	uint8_t bytes[4] = { 1, 2, 254, 255 };
	int64_t s64[2] = { INT64_MIN, INT64_MAX };

	sonde_tracepoint(fields, ints, -128, 255, -32768, 65535, INT32_MIN,
			 UINT32_MAX, INT64_MIN, UINT64_MAX);
	sonde_tracepoint(fields, ints, 1, 2, 3, 4, 5, 6, 7, 8);
	sonde_tracepoint(fields, ints, -1, 0, -2, 0x1234, -3, 0xdeadbeef,
			 -4, 0x0123456789abcdefull);
	sonde_tracepoint(fields, floats, 1.5f, 3.25);
	sonde_tracepoint(fields, floats, -0.0f, 1e300);
	sonde_tracepoint(fields, texts, "hello", "abcdefgh", "sequence", 8);
	sonde_tracepoint(fields, texts, "x", "ab\0\0\0\0\0", "seq", 2);
	sonde_tracepoint(fields, texts, "with \"quotes\" and \\", "12345678",
			 "", 0);
	sonde_tracepoint(fields, texts, NULL, "nullstr\0", "z", 1);
	sonde_tracepoint(fields, arrays, a3, bytes, 4, s64, 2);
	sonde_tracepoint(fields, arrays, a3, bytes, 0, s64, 0);
	sonde_tracepoint(fields, enums, 0, 1);
	sonde_tracepoint(fields, enums, 15, 10);
	sonde_tracepoint(fields, enums, 1, 19);
	sonde_tracepoint(fields, empty);
}

struct worker {
	uint32_t id, n;
};

static void *worker_main(void *p)
{
	struct worker *w = p;
	uint32_t i;

	for (i = 0; i < w->n; i++)
		sonde_tracepoint(fields, seq, w->id, i);
	return NULL;
}

static void print_written(uint32_t n)
{
	printf("pid=%d events=%u\n", (int)getpid(), n);
	fflush(stdout);
}

static void write_seq(uint32_t id, uint32_t n)
{
	struct worker w = { id, n };

	worker_main(&w);
}

static int wait_child(pid_t pid)
{
	int status;

	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Level `level` of daemon-fork: its events around its child's. */
static int fork_chain(uint32_t level, uint32_t depth, uint32_t n)
{
	pid_t pid = 0;
	int ret = 0;

	write_seq(level, n);
	if (level < depth) {
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(fork_chain(level + 1, depth, n));
		ret = wait_child(pid);
	}
	write_seq(level, n);
	print_written(2 * n);
	return ret;
}

static int fork_exec(const char *self, const char *output, uint32_t n)
{
	char count[16];
	pid_t pid;
	int ret;

	snprintf(count, sizeof(count), "%u", n);
	write_seq(0, n);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execl(self, self, output, "daemon-seq", count, "1", (char *)NULL);
		_exit(127);
	}
	ret = wait_child(pid);
	write_seq(0, n);
	print_written(2 * n);
	return ret;
}

struct busy_writer {
	uint32_t id;
	uint32_t written; /* atomic */
	const int *stop;
};

static void *busy_writer_main(void *p)
{
	struct busy_writer *w = p;
	uint32_t i;

	struct timespec pause = { 0, 100000 };

	/* Bursts, so that forks often meet a thread inside a tracepoint
	 * while the trace stays small enough to count. */
	for (i = 0; !__atomic_load_n(w->stop, __ATOMIC_RELAXED); i++) {
		sonde_tracepoint(fields, seq, w->id, i);
		__atomic_store_n(&w->written, i + 1, __ATOMIC_RELAXED);
		if (i % 100 == 99)
			nanosleep(&pause, NULL);
	}
	return NULL;
}

/* Forks while other threads are inside tracepoints: they write until the
 * last child is done.  Each child waits for them to be writing (so that
 * no fork meets a thread still starting, which ASan's allocator cannot
 * take across fork()). */
static int fork_threads(uint32_t threads, uint32_t n, uint32_t forks)
{
	pthread_t th[64];
	struct busy_writer w[64];
	uint32_t i, total = 0;
	int ret = 0, stop = 0;

	if (threads > 64)
		threads = 64;
	for (i = 0; i < threads; i++) {
		w[i] = (struct busy_writer){ i, 0, &stop };
		pthread_create(&th[i], NULL, busy_writer_main, &w[i]);
	}
	for (i = 0; i < threads; i++)
		while (!__atomic_load_n(&w[i].written, __ATOMIC_RELAXED))
			sched_yield();
	for (i = 0; i < forks; i++) {
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			write_seq(1000 + i, n);
			print_written(n);
			_exit(0);
		}
		ret |= wait_child(pid);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].written;
	}
	print_written(total);
	return ret;
}

int main(int argc, char **argv)
{
	struct sonde_ust_enabler all = { .pattern = "fields:*" };
	struct sonde_ust_enabler none = { .pattern = "nothing:*" };
	enum sonde_ust_context ctx[] = { SONDE_UST_CTX_VPID, SONDE_UST_CTX_VTID,
					 SONDE_UST_CTX_PROCNAME,
					 SONDE_UST_CTX_PTHREAD_ID };
	struct sonde_ust_local_config cfg = {
		.trace_name = "ust-app",
		.enablers = &all,
		.enabler_count = 1,
		.subbuf_size = 16384,
	};
	struct sonde_ust_local *s = NULL;
	struct sonde_ust_stats st;
	struct sonde_error err = { 0 };
	const char *mode;

	if (argc < 3) {
		fprintf(stderr, "usage: ust-app OUTPUT MODE [N E]\n");
		return 2;
	}
	cfg.output = argv[1];
	mode = argv[2];
	if (getenv("UST_APP_SUBBUF"))
		cfg.subbuf_size = strtoull(getenv("UST_APP_SUBBUF"), NULL, 10);
	if (getenv("UST_APP_CONTEXTS")) {
		cfg.contexts = ctx;
		cfg.context_count = 4;
	}
	if (!strcmp(mode, "disabled"))
		cfg.enablers = &none;
	if (!strcmp(mode, "daemon-fields")) {
		fields();
		return 0;
	}
	if (!strcmp(mode, "daemon-seq") && argc > 4) {
		write_seq((uint32_t)atoi(argv[4]), (uint32_t)atoi(argv[3]));
		print_written((uint32_t)atoi(argv[3]));
		return 0;
	}
	if (!strcmp(mode, "daemon-fork") && argc > 4)
		return fork_chain(0, (uint32_t)atoi(argv[3]),
				  (uint32_t)atoi(argv[4]));
	if (!strcmp(mode, "daemon-fork-exec") && argc > 3)
		return fork_exec(argv[0], argv[1], (uint32_t)atoi(argv[3]));
	if (!strcmp(mode, "daemon-fork-threads") && argc > 5)
		return fork_threads((uint32_t)atoi(argv[3]),
				    (uint32_t)atoi(argv[4]),
				    (uint32_t)atoi(argv[5]));
	if (!strcmp(mode, "daemon-loop") && argc > 4) {
		struct timespec pause = { 0, atol(argv[4]) * 1000000L };
		int i;

		for (i = 0; i < atoi(argv[3]); i++) {
			fields();
			sonde_tracepoint(fields, seq, 0, (uint32_t)i);
			nanosleep(&pause, NULL);
		}
		return 0;
	}
	if (sonde_ust_local_start(&cfg, &s, &err)) {
		fprintf(stderr, "ust-app: %s\n", err.msg);
		return 1;
	}
	if (!strcmp(mode, "fields") || !strcmp(mode, "disabled")) {
		fields();
	} else if (!strcmp(mode, "threads") && argc > 4) {
		uint32_t n = (uint32_t)atoi(argv[3]), i;
		pthread_t th[64];
		struct worker w[64];

		for (i = 0; i < n && i < 64; i++) {
			w[i] = (struct worker){ i, (uint32_t)atoi(argv[4]) };
			pthread_create(&th[i], NULL, worker_main, &w[i]);
		}
		for (i = 0; i < n && i < 64; i++)
			pthread_join(th[i], NULL);
	} else if (!strcmp(mode, "procs") && argc > 4) {
		uint32_t n = (uint32_t)atoi(argv[3]), i;

		for (i = 0; i < n; i++) {
			if (fork() == 0) {
				struct worker w = { i, (uint32_t)atoi(argv[4]) };

				worker_main(&w);
				_exit(0);
			}
		}
		while (wait(NULL) > 0)
			;
	} else if (!strcmp(mode, "kill") && argc > 3) {
		uint32_t n = (uint32_t)atoi(argv[3]), got = 0;
		int fds[2];
		pid_t pid;

		if (pipe(fds))
			return 1;
		pid = fork();
		if (pid == 0) {
			uint32_t i;

			for (i = 0;; i++) {
				sonde_tracepoint(fields, seq, 0, i);
				if (i + 1 == n && write(fds[1], &i, 4) != 4)
					_exit(1);
			}
		}
		if (read(fds[0], &got, 4) != 4)
			return 1;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	} else {
		fprintf(stderr, "ust-app: unknown mode %s\n", mode);
		return 2;
	}
	if (sonde_ust_local_stop(s, &st, &err)) {
		fprintf(stderr, "ust-app: %s\n", err.msg);
		return 1;
	}
	printf("discarded=%llu packets=%llu lost=%llu bytes=%llu\n",
	       (unsigned long long)st.events_discarded,
	       (unsigned long long)st.packets,
	       (unsigned long long)st.packets_lost,
	       (unsigned long long)st.bytes);
	return 0;
}
