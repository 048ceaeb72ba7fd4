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

struct sonde_ust_trace_config {
	const char *dir; /* the 64-bit/ directory itself */
	const char *trace_name;
	struct sonde_rb_config rb; /* uuid is the trace's (filled in) */
	const enum sonde_ust_context *contexts;
	size_t context_count;
	int64_t pid; /* > 0: per-PID buffers (env vpid, procname) */
	const char *procname;
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

/* Frees; the ring buffer is retired (see sonde_rb_retire), not unmapped. */
void sonde_ust_trace_free(struct sonde_ust_trace *t);

#endif
