/*
 * The traced application of the relay tests: emits sonde_relay_test:tick
 * COUNT times, PERIOD_US microseconds apart, each event numbered.
 * usage: relay-app COUNT PERIOD_US
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "relay_app_tp.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long count = argc > 1 ? atol(argv[1]) : 10;
	long period = argc > 2 ? atol(argv[2]) : 1000;
	char msg[32];

	for (long i = 0; i < count; i++) {
		snprintf(msg, sizeof(msg), "tick-%ld", i);
		lttng_ust_tracepoint(sonde_relay_test, tick, i, msg);
		if (period)
			usleep((useconds_t)period);
	}
	return 0;
}
