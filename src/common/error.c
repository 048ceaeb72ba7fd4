#include "sonde/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sonde_error_set(struct sonde_error *err, int status, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->status = status;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return status;
}

int sonde_error_prefix(struct sonde_error *err, const char *fmt, ...)
{
	char prefix[SONDE_ERROR_MSG_MAX];
	char joined[2 * SONDE_ERROR_MSG_MAX + 2];
	va_list ap;

	if (!err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", prefix, err->msg);
	/* Deliberately truncated to the message size. */
	memcpy(err->msg, joined, sizeof(err->msg) - 1);
	err->msg[sizeof(err->msg) - 1] = '\0';
	return err->status;
}

const char *sonde_strerror(int status)
{
	switch (status) {
	case SONDE_OK: return "success";
	case SONDE_ENOMEM: return "out of memory";
	case SONDE_EIO: return "input/output error";
	case SONDE_EFORMAT: return "malformed input";
	case SONDE_EUNSUPPORTED: return "unsupported";
	case SONDE_EINVAL: return "invalid argument";
	case SONDE_ENOENT: return "not found";
	default: return "unknown error";
	}
}
