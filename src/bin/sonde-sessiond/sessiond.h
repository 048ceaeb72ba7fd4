/*
 * sonde-sessiond internals shared by the event loop (main.c) and the
 * request handlers (handlers.c).
 */
#ifndef SONDE_SESSIOND_H
#define SONDE_SESSIOND_H

#include "session/ctl-proto.h"
#include "session/session.h"

/* Appends the reply to `req` to `w` (already initialised as a reply):
 * status 0 and the requested data, or a negative status and a message. */
void sessiond_handle(struct sonde_sessions *reg, const struct sonde_ctl_msg *req,
		     struct sonde_ctl_writer *w);

/* One line to the daemon's log (stderr, or rundir/sessiond.log once
 * daemonized), prefixed with the time. */
void sessiond_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
