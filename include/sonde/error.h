/*
 * sonde error reporting.
 *
 * Library functions return 0 on success or a negative SONDE_E* code, and
 * describe the failure in a caller-owned `struct sonde_error`: one line,
 * naming the subject first ("metadata:12: unknown type 'foo'"), lowercase,
 * no trailing full stop.  Programs print it as "sonde: error: <msg>".
 * A NULL error pointer is accepted everywhere and means "don't describe".
 */
#ifndef SONDE_ERROR_H
#define SONDE_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum sonde_status {
	SONDE_OK = 0,
	SONDE_ENOMEM = -1,      /* allocation failed or a size limit was hit */
	SONDE_EIO = -2,         /* the operating system refused (errno in the message) */
	SONDE_EFORMAT = -3,     /* malformed input: metadata, packet, protocol */
	SONDE_EUNSUPPORTED = -4,/* well-formed but beyond what we implement */
	SONDE_EINVAL = -5,      /* caller passed something invalid */
	SONDE_ENOENT = -6,      /* a named thing does not exist */
};

#define SONDE_ERROR_MSG_MAX 512

struct sonde_error {
	int status;
	char msg[SONDE_ERROR_MSG_MAX];
};

/* Records status and a printf-style message; returns `status` so callers can
 * `return sonde_error_set(err, SONDE_EFORMAT, "...", ...);`. */
int sonde_error_set(struct sonde_error *err, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (adds context on the way up). */
int sonde_error_prefix(struct sonde_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

const char *sonde_strerror(int status);

#ifdef __cplusplus
}
#endif

#endif /* SONDE_ERROR_H */
