/*
 * The daemon's run directory (see rundir.h).
 */
#include "session/rundir.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int sonde_rundir(char *buf, size_t size, struct sonde_error *err)
{
	const char *env = getenv("SONDE_RUNDIR");
	const char *home = getenv("HOME");
	int n;

	if (env && env[0])
		n = snprintf(buf, size, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/sonde");
	else if (home && home[0] == '/')
		n = snprintf(buf, size, "%s/.sonde/run", home);
	else
		return sonde_error_set(err, SONDE_EINVAL,
				       "no run directory: HOME is not set (set SONDE_RUNDIR)");
	if (n < 0 || (size_t)n >= size)
		return sonde_error_set(err, SONDE_EINVAL, "run directory path too long");
	return 0;
}

int sonde_rundir_path(const char *file, char *buf, size_t size,
		      struct sonde_error *err)
{
	char dir[4096];
	int ret = sonde_rundir(dir, sizeof(dir), err);
	int n;

	if (ret)
		return ret;
	n = snprintf(buf, size, "%s/%s", dir, file);
	/* sockaddr_un holds 108 bytes; callers pass that size for sockets. */
	if (n < 0 || (size_t)n >= size)
		return sonde_error_set(err, SONDE_EINVAL,
				       "'%s/%s': path too long (a socket path has at most %zu bytes)",
				       dir, file, size - 1);
	return 0;
}
