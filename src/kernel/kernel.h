/*
 * libsonde-kernel: kernel tracing through a private ftrace instance.
 *
 * One `sonde_kernel_session` owns one ftrace instance under tracefs
 * (instances/sonde-<name>-<pid>), never the top-level buffer nor another
 * tool's instance.  Events are enabled by their lttng-modules names
 * (sched_switch, syscall_entry_read...) or ftrace names (sched:sched_switch),
 * consumed per CPU from trace_pipe_raw without a text step, decoded with the
 * instance's format files and written as an LTTng-kernel-shaped CTF trace
 * (`<output>/kernel/`, one stream per CPU, index files) on CLOCK_MONOTONIC,
 * the clock the user-space tracer uses too.
 *
 * Used by sonde-sessiond (one thread of control per session); not thread-safe
 * per session, but the consumer runs on threads of its own between start and
 * stop.
 */
#ifndef SONDE_KERNEL_H
#define SONDE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

struct sonde_kernel_session;

/* Who records the events the eBPF fast path knows (syscalls,
 * sched_switch): eBPF when it loads (auto), or one forced; every other
 * event goes through the ftrace instance. */
enum sonde_kernel_backend {
	SONDE_KERNEL_BACKEND_AUTO = 0,
	SONDE_KERNEL_BACKEND_FTRACE,
	SONDE_KERNEL_BACKEND_EBPF,
};

struct sonde_kernel_channel_config {
	uint64_t subbuf_size;      /* bytes, power of two; 0 = default */
	uint64_t num_subbuf;       /* 0 = default */
	bool overwrite;            /* flight recorder; default discard */
	uint64_t switch_timer_us;  /* close partial packets; 0 = off */
	enum sonde_kernel_backend backend;
};

/*
 * Process-attribute trackers (LTTng's `track`/`untrack`): one inclusion set
 * per attribute, holding every value at creation.  An event is recorded
 * when the task it comes from is in every set; a sched_switch when its
 * previous or its next task is.
 */
enum sonde_kernel_tracker {
	SONDE_KERNEL_TRACK_PID,	     /* process (thread group) id, root pid
					namespace: all its threads */
	SONDE_KERNEL_TRACK_UID,	     /* real user id, root user namespace */
	SONDE_KERNEL_TRACK_GID,	     /* real group id */
	SONDE_KERNEL_TRACK_PROCNAME, /* comm, as in /proc/PID/comm */
	SONDE_KERNEL_TRACK_CGROUP,   /* cgroup v2 id: its directory's inode */
	SONDE_KERNEL_TRACK_COUNT,
};
#define SONDE_KERNEL_TRACK_MAX 1024 /* values in one set */
#define SONDE_KERNEL_COMM_MAX 15    /* bytes of a process name */

/* One finished packet, as its index entry describes it. */
struct sonde_kernel_packet {
	uint64_t packet_size, content_size;     /* bits */
	uint64_t timestamp_begin, timestamp_end;
	uint64_t events_discarded;
	uint64_t stream_class_id, stream_instance_id, packet_seq_num;
};

/*
 * Optional copies of what the session writes, for streaming it to a relay
 * (sonde-sessiond's live sessions): the metadata as it grows, each packet
 * once written, and, at each switch timer tick of a CPU that produced no
 * packet, the time up to which that CPU has recorded nothing more (a live
 * beacon).  Called from the consumer threads and from the caller's
 * thread: the callee serialises, and must not call back into the session.
 */
struct sonde_kernel_output_hook {
	void (*metadata)(void *arg, const uint8_t *bytes, size_t len);
	void (*packet)(void *arg, uint32_t cpu, const uint8_t *data,
		       const struct sonde_kernel_packet *pkt);
	void (*idle)(void *arg, uint32_t cpu, uint64_t timestamp);
	void *arg;
};

struct sonde_kernel_config {
	const char *session_name;  /* [A-Za-z0-9_.-]+ */
	const char *output_dir;    /* trace written to output_dir/kernel/;
	                              NULL for snapshot-only sessions */
	bool snapshot_mode;        /* keep data in memory until snapshot */
	struct sonde_kernel_channel_config channel;
	const char *tracefs;       /* NULL = find or mount it */
	const struct sonde_kernel_output_hook *hook; /* NULL: none; copied */
};

struct sonde_kernel_stats {
	uint64_t events_recorded;   /* written as CTF events */
	uint64_t events_discarded;  /* dropped or overwritten by the kernel */
	uint64_t packets_lost;      /* overwrite mode */
	uint64_t bytes_written;
	/* sched_switch events out of idle the kernel omitted, inserted by
	 * the consumer (see switch-repair.c) */
	uint64_t switches_repaired;
};

int sonde_kernel_session_create(const struct sonde_kernel_config *cfg,
				struct sonde_kernel_session **out,
				struct sonde_error *err);

/* Removes the ftrace instance and frees everything; safe on NULL.  Stops
 * first if started (flushing the trace). */
void sonde_kernel_session_destroy(struct sonde_kernel_session *s);

/* `name`: an lttng-modules event name, an ftrace "sys:event", or a glob of
 * either ("sched_*"); unknown names fail with SONDE_ENOENT naming them. */
int sonde_kernel_enable_event(struct sonde_kernel_session *s, const char *name,
			      struct sonde_error *err);

/* Syscalls: `name` NULL = all (like `--syscall -a`), else one syscall
 * ("read"); recorded as syscall_entry_<name>/syscall_exit_<name>. */
int sonde_kernel_enable_syscall(struct sonde_kernel_session *s,
				const char *name, struct sonde_error *err);

int sonde_kernel_disable_event(struct sonde_kernel_session *s,
			       const char *name, struct sonde_error *err);

/*
 * Replaces the inclusion set of `attr`: every value (`all`), else the `n`
 * values of `ids` (pid, uid, gid, cgroup id) or, for PROCNAME, of `names`;
 * n = 0 records nothing.  Takes effect at once, recording or not.  The
 * eBPF programs filter every set in the kernel.  The ftrace instance
 * filters pids (set_event_pid, new threads and children followed) and
 * names (event filters); its consumers filter uids, gids and cgroups,
 * from /proc when they read a task's first event (a task gone by then
 * loses its events).
 */
int sonde_kernel_track(struct sonde_kernel_session *s,
		       enum sonde_kernel_tracker attr, bool all,
		       const uint64_t *ids, const char *const *names, size_t n,
		       struct sonde_error *err);

/* Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on hybrid systems). */
int sonde_kernel_cgroup2_root(char *out, size_t size, struct sonde_error *err);

/* Start: statedump burst (lttng_statedump_*), then live capture.  Also
 * restarts a stopped session: the trace goes on in the same files. */
int sonde_kernel_start(struct sonde_kernel_session *s, struct sonde_error *err);

/* Stop: drain every CPU buffer, close packets, write index files. */
int sonde_kernel_stop(struct sonde_kernel_session *s, struct sonde_error *err);

/* Snapshot sessions: writes the newest in-memory data as a complete trace
 * in `dir`/kernel/ while tracing goes on. */
int sonde_kernel_snapshot_record(struct sonde_kernel_session *s,
				 const char *dir, struct sonde_error *err);

void sonde_kernel_get_stats(const struct sonde_kernel_session *s,
			    struct sonde_kernel_stats *st);

/* "ebpf" or "ftrace"; for ftrace, `why` (may be NULL) says why eBPF is not
 * used ("" when it was asked for). */
const char *sonde_kernel_backend_name(const struct sonde_kernel_session *s,
				      const char **why);

/* Lists the kernel events available (lttng-modules names where mapped),
 * one callback per event; stops early if the callback returns non-zero. */
int sonde_kernel_list_events(const char *tracefs,
			     int (*cb)(const char *name, void *arg), void *arg,
			     struct sonde_error *err);

#endif /* SONDE_KERNEL_H */
