/*
 * Tracepoint provider of live-ust-app.c: one event with an integer, a
 * string and a double, so the live test compares every kind of field.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER sonde_live_test

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./live-ust-tp.h"

#if !defined(LIVE_UST_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LIVE_UST_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(sonde_live_test, tick,
	LTTNG_UST_TP_ARGS(int, seq, const char *, text, double, ratio),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(int, seq, seq)
		lttng_ust_field_string(text, text)
		lttng_ust_field_float(double, ratio, ratio)
	)
)

#endif

#include <lttng/tracepoint-event.h>
