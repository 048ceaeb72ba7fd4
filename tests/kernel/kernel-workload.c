/*
 * Known workloads for the kernel tests.
 *
 *   kernel-workload files PATH N   open, read and close PATH N times
 *   kernel-workload spin MS        busy loop for MS milliseconds
 *   kernel-workload getppid N      N getppid() calls (the cheapest syscall)
 *   kernel-workload gated N        N getppid() calls after each line read
 *                                  on stdin, until end of input
 *
 * Prints "pid=P size=S" first (size of PATH) so the test knows what to
 * look for in the trace.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "files") == 0) {
		int n = atoi(argv[3]), i;
		struct stat st;
		char buf[65536];

		if (stat(argv[2], &st) < 0)
			return 1;
		printf("pid=%d size=%lld\n", (int)getpid(),
		       (long long)st.st_size);
		fflush(stdout);
		for (i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY);

			if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
				return 1;
			close(fd);
		}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "spin") == 0) {
		long long end = now_ms() + atoll(argv[2]);
		volatile unsigned long x = 0;

		printf("pid=%d size=0\n", (int)getpid());
		fflush(stdout);
		while (now_ms() < end)
			x++;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "getppid") == 0) {
		long n = atol(argv[2]), i;

		printf("pid=%d size=0\n", (int)getpid());
		fflush(stdout);
		for (i = 0; i < n; i++)
			getppid();
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "gated") == 0) {
		long n = atol(argv[2]), i;
		char line[64];

		printf("pid=%d size=0\n", (int)getpid());
		fflush(stdout);
		/* read(), not stdio: a test counts the getppid calls between
		 * two of its lines */
		while (read(0, line, sizeof(line)) > 0) {
			for (i = 0; i < n; i++)
				getppid();
			printf("done\n");
			fflush(stdout);
		}
		return 0;
	}
	fprintf(stderr, "usage: kernel-workload files PATH N | spin MS | "
			"getppid N | gated N\n");
	return 2;
}
