/*
 * Session names, dates and default output paths: shared by the daemon's
 * session model and the CLI, which computes the default output in the
 * caller's home (the daemon may run as root).
 */
#include "session/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sonde_session_check_name(const char *what, const char *name,
			     struct sonde_error *err)
{
	size_t len = strlen(name);

	if (!len)
		return sonde_error_set(err, SONDE_EINVAL, "%s name is empty", what);
	if (len > SONDE_SESSION_NAME_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s name '%.*s...' is longer than %d characters",
				       what, 16, name, SONDE_SESSION_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s name '%s' starts with '%c'", what, name,
				       name[0]);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
		      *p == '-'))
			return sonde_error_set(err, SONDE_EINVAL,
					       "%s name '%s' has a character other than letters, digits, '_', '.' and '-'",
					       what, name);
	return 0;
}

int sonde_session_format_date(time_t when, char *buf, size_t size)
{
	struct tm tm;

	if (!localtime_r(&when, &tm))
		return -1;
	return strftime(buf, size, "%Y%m%d-%H%M%S", &tm) ? 0 : -1;
}

int sonde_session_default_output(const char *name, time_t when, char *buf,
				 size_t size, struct sonde_error *err)
{
	const char *home = getenv("HOME");
	char date[32];

	if (!home || home[0] != '/')
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': HOME is not an absolute path; give an output directory (-o)",
				       name);
	if (sonde_session_format_date(when, date, sizeof(date)) ||
	    (size_t)snprintf(buf, size, "%s/sonde-traces/%s-%s", home, name, date) >= size)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': default output path too long", name);
	return 0;
}
