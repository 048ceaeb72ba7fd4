/*
 * Workloads for bench/kernel-overhead.sh: the cost a kernel tracer adds to
 * system calls and to context switches.
 *
 *   overhead-workload getppid N   N getppid() calls
 *   overhead-workload read N      N one-byte read()s of /dev/zero
 *   overhead-workload pipe N      N round trips of one byte between two
 *                                 processes over two pipes
 *
 * Prints one line, "OPS SECONDS OPS_PER_SECOND", on standard output.
 * getppid and read count the process's CPU time, where a tracer's probes
 * run, not wall time: on a machine shared with other tenants, wall time
 * mostly measures how long the loop waited for a CPU.  pipe counts wall
 * time (two processes that wait for each other).
 * Pinning is left to the caller (taskset): both pipe processes inherit it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int run_getppid(unsigned long n)
{
	unsigned long i;

	/* syscall() so that no libc caches the answer */
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	return 0;
}

static int run_read(unsigned long n)
{
	unsigned long i;
	char byte;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "overhead-workload: /dev/zero: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (read(fd, &byte, 1) != 1) {
			fprintf(stderr, "overhead-workload: read: %s\n", strerror(errno));
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int transfer(int fd_in, int fd_out, char *byte)
{
	if (fd_in >= 0 && read(fd_in, byte, 1) != 1)
		return -1;
	if (fd_out >= 0 && write(fd_out, byte, 1) != 1)
		return -1;
	return 0;
}

static int run_pipe(unsigned long n)
{
	int to_child[2], to_parent[2], status;
	unsigned long i;
	char byte = 'x';
	pid_t child;

	if (pipe(to_child) < 0 || pipe(to_parent) < 0) {
		fprintf(stderr, "overhead-workload: pipe: %s\n", strerror(errno));
		return -1;
	}
	child = fork();
	if (child < 0) {
		fprintf(stderr, "overhead-workload: fork: %s\n", strerror(errno));
		return -1;
	}
	if (child == 0) {
		for (i = 0; i < n; i++)
			if (transfer(to_child[0], to_parent[1], &byte) < 0)
				_exit(1);
		_exit(0);
	}
	for (i = 0; i < n; i++) {
		if (transfer(-1, to_child[1], &byte) < 0 ||
		    transfer(to_parent[0], -1, &byte) < 0) {
			fprintf(stderr, "overhead-workload: pipe round trip %lu failed\n", i);
			return -1;
		}
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "overhead-workload: the pipe child failed\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n;
	double start, seconds;
	clockid_t clock;
	char *end;
	int ret;

	if (argc != 3) {
		fprintf(stderr, "usage: overhead-workload getppid|read|pipe N\n");
		return 2;
	}
	errno = 0;
	n = strtoul(argv[2], &end, 10);
	if (errno || *end || n == 0) {
		fprintf(stderr, "overhead-workload: '%s' is not a positive count\n", argv[2]);
		return 2;
	}
	clock = strcmp(argv[1], "pipe") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
	start = now_seconds(clock);
	if (!strcmp(argv[1], "getppid")) {
		ret = run_getppid(n);
	} else if (!strcmp(argv[1], "read")) {
		ret = run_read(n);
	} else if (!strcmp(argv[1], "pipe")) {
		ret = run_pipe(n);
	} else {
		fprintf(stderr, "overhead-workload: unknown workload '%s'\n", argv[1]);
		return 2;
	}
	if (ret < 0)
		return 1;
	seconds = now_seconds(clock) - start;
	printf("%lu %.6f %.0f\n", n, seconds, n / seconds);
	return 0;
}
