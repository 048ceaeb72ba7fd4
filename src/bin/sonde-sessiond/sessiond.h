/*
 * sonde-sessiond internals shared by the event loop (main.c) and the
 * request handlers (handlers.c).
 */
#ifndef SONDE_SESSIOND_H
#define SONDE_SESSIOND_H

#include "session/ctl-proto.h"
#include "session/session.h"

/* Appends the reply to `req`, received on connection `conn`, to `w`
 * (already initialised as a reply):
 * status 0 and the requested data, or a negative status and a message.
 * Returns true, with nothing appended, when the request waits for a relay
 * connection: the caller handles it again once the registry's notify fd
 * (sonde_sessions_set_notify) was readable. */
bool sessiond_handle(struct sonde_sessions *reg, const struct sonde_ctl_msg *req,
		     uint64_t conn, struct sonde_ctl_writer *w);

/* One line to the daemon's log (stderr, or rundir/sessiond.log once
 * daemonized), prefixed with the time. */
void sessiond_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* User space (ust.c): the user-space side of sessions, keyed by name. */
#include "sonde/ust.h"
/* `filter`: an expression (src/ust/filter.h), NULL for none. */
int sessiond_ust_enable(const char *session, const char *pattern,
			enum sonde_ust_loglevel_match match, int level,
			const char *filter,
			struct sonde_error *err);
/* Removes the patterns enabled as `pattern` (NULL: all of them). */
int sessiond_ust_disable(const char *session, const char *pattern,
			 struct sonde_error *err);
int sessiond_ust_add_context(const char *session, const char *name,
			     struct sonde_error *err);
/* enable-channel -u: the buffers' geometry, mode, switch timer and
 * per-PID or per-UID buffers; before the session records. */
int sessiond_ust_channel(const char *session, const char *name,
			 const struct sonde_kernel_channel_config *cfg,
			 bool buffers_pid, struct sonde_error *err);
bool sessiond_ust_has_events(const char *session);
/* A streamed session: each buffer set made from now on also goes to
 * `relay` (which outlives the user-space side). */
struct relay_output;
int sessiond_ust_set_relay(const char *session, struct relay_output *relay,
			   uint32_t live_timer_us, struct sonde_error *err);
/* `snapshot`: overwrite buffers, written only by sessiond_ust_snapshot(). */
int sessiond_ust_start(const char *session, const char *output, bool snapshot,
		       struct sonde_error *err);
/* Writes the user-space buffers' newest data under `path` (ust/...). */
int sessiond_ust_snapshot(const char *session, const char *path,
			  struct sonde_error *err);
int sessiond_ust_stop(const char *session, struct sonde_error *err);
void sessiond_ust_destroy(const char *session);
void sessiond_ust_shutdown(void);
/* APP_HELLO, APP_POLL and APP_EVENT from traced programs; `conn` names
 * the program's connection (per-PID buffers belong to it). */
int sessiond_ust_app(const struct sonde_ctl_msg *req, uint64_t conn,
		     struct sonde_ctl_writer *w, struct sonde_error *err);
/* Connection `conn` closed: if it was a program with per-PID buffers,
 * they are finished (flushed, indexed, their relay streams closed) and
 * freed. */
void sessiond_ust_app_gone(uint64_t conn);

#endif
