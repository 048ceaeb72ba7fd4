/*
 * The traced program of tests/integration/live_view.py: emits COUNT
 * sonde_live_test:tick events, one every PERIOD_MS milliseconds, then
 * exits.  Waits for START_FILE to exist first (when given), so that the
 * test can attach its viewers before the first event.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "live-ust-tp.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 10;
	long period_ms = argc > 2 ? atol(argv[2]) : 10;
	const char *start_file = argc > 3 ? argv[3] : NULL;
	char text[32];

	while (start_file && access(start_file, F_OK))
		usleep(10000);
	for (long i = 0; i < count; i++) {
		snprintf(text, sizeof(text), "tick \"%ld\"", i);
		lttng_ust_tracepoint(sonde_live_test, tick, (int)i, text,
				     (double)i / 4);
		if (period_ms)
			usleep((useconds_t)period_ms * 1000);
	}
	return 0;
}
