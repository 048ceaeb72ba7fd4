/* A provider living in a shared library that is dlopen()ed (tests/ust). */
#ifndef DL_TP_H
#define DL_TP_H

#include "sonde/tracepoint.h"

SONDE_TRACEPOINT_EVENT(dlprov, hit, SONDE_LOGLEVEL_INFO,
	SONDE_TP_ARGS(int round, const char *where),
	SONDE_TP_FIELDS(
		sonde_field_integer(int, round, round)
		sonde_field_string(where, where)))

#endif
