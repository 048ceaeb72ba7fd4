#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

void sonde_vlog(const char *program, const char *fmt, va_list ap)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s[%d]: ", stamp, ts.tv_nsec / 1000000,
		program, (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}
