/*
 * Stand-in for libsonde-kernel in builds that lack it: every kernel
 * operation fails with a message saying so, and the session daemon keeps
 * working for everything else.  Linked only when src/kernel has no library
 * (see meson.build).
 */
#include "kernel/kernel.h"

#define ABSENT(err) sonde_error_set(err, SONDE_EUNSUPPORTED, \
	"kernel tracing is not built into this sonde (no libsonde-kernel)")

int sonde_kernel_session_create(const struct sonde_kernel_config *cfg,
				struct sonde_kernel_session **out,
				struct sonde_error *err)
{
	(void)cfg;
	*out = NULL;
	return ABSENT(err);
}

void sonde_kernel_session_destroy(struct sonde_kernel_session *s)
{
	(void)s;
}

int sonde_kernel_enable_event(struct sonde_kernel_session *s, const char *name,
			      struct sonde_error *err)
{
	(void)s;
	(void)name;
	return ABSENT(err);
}

int sonde_kernel_enable_syscall(struct sonde_kernel_session *s,
				const char *name, struct sonde_error *err)
{
	(void)s;
	(void)name;
	return ABSENT(err);
}

int sonde_kernel_disable_event(struct sonde_kernel_session *s,
			       const char *name, struct sonde_error *err)
{
	(void)s;
	(void)name;
	return ABSENT(err);
}

int sonde_kernel_start(struct sonde_kernel_session *s, struct sonde_error *err)
{
	(void)s;
	return ABSENT(err);
}

int sonde_kernel_stop(struct sonde_kernel_session *s, struct sonde_error *err)
{
	(void)s;
	return ABSENT(err);
}

int sonde_kernel_snapshot_record(struct sonde_kernel_session *s,
				 const char *dir, struct sonde_error *err)
{
	(void)s;
	(void)dir;
	return ABSENT(err);
}

void sonde_kernel_get_stats(const struct sonde_kernel_session *s,
			    struct sonde_kernel_stats *st)
{
	(void)s;
	(void)st;
}

int sonde_kernel_list_events(const char *tracefs,
			     int (*cb)(const char *name, void *arg), void *arg,
			     struct sonde_error *err)
{
	(void)tracefs;
	(void)cb;
	(void)arg;
	return ABSENT(err);
}
