/* Tracepoint provider of relay-app (lttng-ust 2.13 API). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER sonde_relay_test

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./relay_app_tp.h"

#if !defined(RELAY_APP_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define RELAY_APP_TP_H

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(
	sonde_relay_test,
	tick,
	LTTNG_UST_TP_ARGS(long, seq, const char *, msg),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(long, seq, seq)
		lttng_ust_field_string(msg, msg)
	)
)

#endif /* RELAY_APP_TP_H */

#include <lttng/tracepoint-event.h>
