/*
 * The session model of sonde-sessiond: named recording sessions, their
 * kernel channel and enabled events, and the state machine
 *
 *   created --start--> started --stop--> stopped --start--> started ...
 *
 * with destroy allowed in every state (a started session is stopped and
 * flushed first).  One kernel channel per session: the ftrace backend has
 * one set of per-CPU buffers per instance.  The kernel session (the ftrace
 * instance) is created when the first event is enabled, once the channel
 * attributes can no longer change.
 *
 * Not thread-safe: the daemon drives it from its one event loop.
 */
#ifndef SONDE_SESSION_SESSION_H
#define SONDE_SESSION_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kernel/kernel.h"
#include "session/names.h"
#include "sonde/error.h"

#define SONDE_DEFAULT_CHANNEL "channel0"

enum sonde_session_state {
	SONDE_SESSION_CREATED,
	SONDE_SESSION_STARTED,
	SONDE_SESSION_STOPPED,
};

struct sonde_session_event {
	char *name;          /* event name or glob; for syscalls the syscall */
	bool syscall;        /* --syscall: name is a syscall, "*" = all */
	bool enabled;
};

struct sonde_channel {
	char *name;
	struct sonde_kernel_channel_config config;
	size_t event_count;
	struct sonde_session_event *events;
};

struct sonde_session;
struct sonde_sessions;

struct sonde_session_params {
	const char *name;       /* NULL or "" = auto-YYYYMMDD-HHMMSS */
	const char *output;     /* absolute; NULL = $HOME/sonde-traces/<name>-<date> */
	bool snapshot;
	/* Streaming to a relay daemon (NULL: none), besides the local trace. */
	const char *relay;      /* host */
	uint16_t control_port, data_port;  /* 0: 5342, 5343 */
	uint32_t live_timer_us; /* 0: not live */
};

/* `tracefs`: where tracefs is mounted, NULL = let the backend find it. */
int sonde_sessions_new(const char *tracefs, struct sonde_sessions **out,
		       struct sonde_error *err);
/* Relays are then connected in the background: a request that needs one
 * returns SONDE_SESSION_PENDING, and `fd` (an eventfd, kept open by the
 * caller) becomes readable when it is worth asking again. */
void sonde_sessions_set_notify(struct sonde_sessions *reg, int fd);
#define SONDE_SESSION_PENDING 1
/* Stops (flushing) and destroys every session, then frees the registry. */
void sonde_sessions_free(struct sonde_sessions *reg);
/* Stops every started session, flushing its trace; for shutdown.  Goes on
 * after a failure and reports the first one. */
int sonde_sessions_stop_all(struct sonde_sessions *reg, struct sonde_error *err);

size_t sonde_sessions_count(const struct sonde_sessions *reg);
struct sonde_session *sonde_sessions_at(const struct sonde_sessions *reg, size_t i);
struct sonde_session *sonde_sessions_find(const struct sonde_sessions *reg,
					  const char *name);
const char *sonde_sessions_tracefs(const struct sonde_sessions *reg);

int sonde_session_create(struct sonde_sessions *reg,
			 const struct sonde_session_params *params,
			 struct sonde_session **out, struct sonde_error *err);
int sonde_session_destroy(struct sonde_sessions *reg, struct sonde_session *s,
			  struct sonde_error *err);

int sonde_session_enable_channel(struct sonde_session *s, const char *name,
				 const struct sonde_kernel_channel_config *cfg,
				 struct sonde_error *err);
/* `channel` NULL = the session's channel (channel0, made on first use). */
int sonde_session_enable_event(struct sonde_session *s, const char *channel,
			       const char *name, bool syscall,
			       struct sonde_error *err);
int sonde_session_disable_event(struct sonde_session *s, const char *channel,
				const char *name, bool syscall,
				struct sonde_error *err);
/* sonde track (`track`) / untrack: `values` as the user gave them, or
 * `all` with none (see session/tracker.h).  Takes effect at once in a
 * session with kernel events, else with the first one. */
int sonde_session_track(struct sonde_session *s, enum sonde_kernel_tracker attr,
			bool track, bool all, const char *const *values,
			size_t n, struct sonde_error *err);
struct sonde_tracker;
const struct sonde_tracker *sonde_session_tracker(const struct sonde_session *s,
						  enum sonde_kernel_tracker attr);
struct relay_output;
/* A streamed session's user-space domain: its relay output, connected on
 * the first call (or SONDE_SESSION_PENDING); *out is NULL for a session
 * that is not streamed. */
int sonde_session_ust_relay(struct sonde_session *s, struct relay_output **out,
			    struct sonde_error *err);
/* 0: not a live session. */
uint32_t sonde_session_live_timer(const struct sonde_session *s);
/* The session has user-space events (recorded by sonde-sessiond's ust.c):
 * it may start without kernel events. */
void sonde_session_set_userspace(struct sonde_session *s);
int sonde_session_start(struct sonde_session *s, struct sonde_error *err);
int sonde_session_stop(struct sonde_session *s, struct sonde_error *err);
/* Where a snapshot goes: to a relay (`relay` set), else to a directory
 * (absolute); all unset (or no target): the session's relay if it has
 * one, else its output directory. */
struct sonde_snapshot_target {
	const char *dir;
	const char *relay;
	uint16_t control_port, data_port;  /* 0: 5342, 5343 */
};
/*
 * A snapshot in two steps around the user-space part (sonde-sessiond's):
 * record writes the kernel part to <dir or output>/<snap_name or
 * snapshot-N>-<date>-<N>/, the path chosen written to `path` (a relay's
 * snapshot is staged there, under the output); for a relay it may first
 * return SONDE_SESSION_PENDING, having written nothing.  finish (with
 * `status` the outcome so far) sends a staged snapshot to the relay,
 * removes the local copy and writes to `path` where the relay has it.
 */
int sonde_session_snapshot_record(struct sonde_session *s, const char *snap_name,
				  const struct sonde_snapshot_target *target,
				  char *path, size_t path_size,
				  struct sonde_error *err);
int sonde_session_snapshot_finish(struct sonde_session *s, int status,
				  char *path, size_t path_size,
				  struct sonde_error *err);

const char *sonde_session_name(const struct sonde_session *s);
const char *sonde_session_output(const struct sonde_session *s);
enum sonde_session_state sonde_session_state(const struct sonde_session *s);
const char *sonde_session_state_name(enum sonde_session_state state);
bool sonde_session_is_snapshot(const struct sonde_session *s);
time_t sonde_session_created(const struct sonde_session *s);
/* NULL before a channel exists. */
const struct sonde_channel *sonde_session_channel(const struct sonde_session *s);
/* The kernel backend in use ("ebpf" or "ftrace", and why not eBPF), NULL
 * before the first event is enabled. */
const char *sonde_session_backend(const struct sonde_session *s,
				  const char **why);
/* Zeros before the first event is enabled. */
void sonde_session_stats(const struct sonde_session *s,
			 struct sonde_kernel_stats *st);

#endif /* SONDE_SESSION_SESSION_H */
