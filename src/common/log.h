/*
 * The daemons' log lines on stderr: local time to the millisecond, the
 * program and its pid, then the message, flushed at once so that a log
 * file shows what happened before a crash.
 */
#ifndef SONDE_COMMON_LOG_H
#define SONDE_COMMON_LOG_H

#include <stdarg.h>

void sonde_vlog(const char *program, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif /* SONDE_COMMON_LOG_H */
