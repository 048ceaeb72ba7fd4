/*
 * The UST consumer: one recording of one buffer set (a channel) as an
 * lttng-ust-shaped trace directory: metadata (packetized, grown as events
 * are enabled), one stream file `channel0_<cpu>` per CPU holding the ring
 * buffer's packets byte for byte, and index files.  Used by the in-process
 * session (local.c) and by sonde-sessiond.
 */
#ifndef SONDE_UST_TRACE_H
#define SONDE_UST_TRACE_H

#include "ringbuf/ringbuf.h"
#include "sonde/tracepoint.h"
#include "sonde/ust.h"

struct sonde_ust_trace;

#define SONDE_UST_MAX_EVENT_CLASSES 65534 /* what a compact large header holds */

/*
 * Optional copies of what the trace writes, for streaming it to a relay
 * (sonde-sessiond's streamed sessions): the metadata as it grows, each
 * packet once written (`info` as in its index entry, sizes in bytes), and,
 * at each switch timer tick, for a CPU that produced no packet since the
 * previous tick and has nothing pending, a time before which it will
 * record nothing more (a live beacon).  Called from the consumer thread
 * and from the threads adding event classes: the callee serialises and
 * must not call back into the trace.
 */
struct sonde_ust_output_hook {
	/* Once, first: the trace's CPU count (its streams can be announced
	 * together); may be NULL. */
	void (*streams)(void *arg, uint32_t ncpu);
	void (*metadata)(void *arg, const uint8_t *bytes, size_t len);
	void (*packet)(void *arg, uint32_t cpu, const uint8_t *data,
		       const struct sonde_ctfw_packet_info *info);
	void (*idle)(void *arg, uint32_t cpu, uint64_t timestamp);
	void *arg;
};

struct sonde_ust_trace_config {
	const char *dir; /* the 64-bit/ directory itself */
	const char *channel_name; /* stream files <name>_<cpu>; NULL: channel0 */
	const char *trace_name;
	struct sonde_rb_config rb; /* uuid is the trace's (filled in) */
	const enum sonde_ust_context *contexts;
	size_t context_count;
	int64_t pid; /* > 0: per-PID buffers (env vpid, procname) */
	const char *procname;
	const char *shm_path; /* the buffers' file (created); NULL: a memfd */
	const struct sonde_ust_output_hook *hook; /* NULL: none; copied */
	/* Snapshot session: overwrite buffers, nothing consumed nor written
	 * to `dir`; sonde_ust_trace_snapshot() writes copies elsewhere. */
	bool snapshot;
	/* The writers are other processes (the daemon's traces): free
	 * unmaps the buffers instead of retiring them. */
	bool remote_writers;
};

int sonde_ust_trace_create(const struct sonde_ust_trace_config *cfg,
			   struct sonde_ust_trace **out,
			   struct sonde_error *err);

struct sonde_rb *sonde_ust_trace_rb(struct sonde_ust_trace *t);

/* The id of an event class in the trace, adding its metadata if new
 * (events that come back after a dlclose keep their id).  Thread-safe. */
int sonde_ust_trace_event_id(struct sonde_ust_trace *t,
			     const struct sonde_tp_event *ev, uint32_t *id,
			     struct sonde_error *err);

/* Writes every complete packet out.  Returns the number of packets. */
int sonde_ust_trace_consume(struct sonde_ust_trace *t,
			    struct sonde_error *err);

/* Closes the open packets (switch timer; live timer). */
void sonde_ust_trace_flush(struct sonde_ust_trace *t);

/*
 * Final: flushes and writes everything, reports discards the packets did
 * not carry yet (in an empty packet, as LTTng's stop does), closes the
 * files.  The writers must be gone (detached, grace period over).
 * `writers_dead` salvages packets of killed writers.
 */
int sonde_ust_trace_finish(struct sonde_ust_trace *t, bool writers_dead,
			   struct sonde_ust_stats *stats,
			   struct sonde_error *err);

/*
 * Snapshot traces: writes the metadata and the packets the buffers hold
 * now (the open ones closed first) as a complete trace in `dir` (created,
 * must be empty), while the writers go on; the buffers keep their
 * packets.
 */
int sonde_ust_trace_snapshot(struct sonde_ust_trace *t, const char *dir,
			     struct sonde_error *err);

/*
 * A consumer thread: sleeps on the buffers' wake-up with `read_timer_ns`
 * as timeout, writes complete packets, closes open packets every
 * `switch_timer_ns` (0: never) and re-calibrates the clock every second.
 */
struct sonde_ust_consumer;

int sonde_ust_consumer_start(struct sonde_ust_trace *t, uint64_t read_timer_ns,
			     uint64_t switch_timer_ns,
			     struct sonde_ust_consumer **out,
			     struct sonde_error *err);
/* Stops and frees the thread; returns the first write error it met. */
int sonde_ust_consumer_stop(struct sonde_ust_consumer *c,
			    struct sonde_error *err);

/* Frees; the ring buffer is retired (see sonde_rb_retire), not unmapped,
 * unless its writers are remote. */
void sonde_ust_trace_free(struct sonde_ust_trace *t);

#endif
