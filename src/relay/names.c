/*
 * What a producer may name.  Hostnames, session names, channel (file)
 * names and stream directories all end up in paths under the output
 * directory: each must stay one plain component, or a run of them, so
 * that no name can climb out ("..", absolute paths) or hide ('.' files).
 */
#include <string.h>

#include "relay/relay.h"

static bool component_ok(const char *s, size_t n)
{
	return n > 0 && s[0] != '.' && !memchr(s, '/', n);
}

bool relay_name_ok(const char *name)
{
	size_t n = strnlen(name, SONDE_RELAY_PATH_MAX);

	return n < SONDE_RELAY_CHANNEL_NAME_MAX && component_ok(name, n);
}

bool relay_path_ok(const char *path)
{
	size_t n = strnlen(path, SONDE_RELAY_PATH_MAX);

	if (n == 0 || n >= SONDE_RELAY_PATH_MAX / 2 || path[0] == '/')
		return false;
	for (const char *p = path; *p;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (!component_ok(p, len))
			return false;
		p += len;
		if (*p == '/' && !*++p)
			return false;   /* a trailing '/' */
	}
	return true;
}
