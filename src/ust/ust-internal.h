/*
 * Between libsonde-ust's runtime (in every traced program) and whoever
 * records: a sink is a mapped ring buffer set plus the policy that
 * decides which events are enabled and with which ids.  The in-process
 * session (local.c) and the session daemon's registration client attach
 * one; a program records into at most one sink at a time.
 */
#ifndef SONDE_UST_INTERNAL_H
#define SONDE_UST_INTERNAL_H

#include <stdint.h>

#include "ringbuf/ringbuf.h"
#include "sonde/tracepoint.h"
#include "sonde/ust.h"

#define SONDE_UST_MAX_CONTEXTS 8

struct sonde_ust_filter;
struct sonde_ust_bound_filter;

/* What an event's `filter` points to: it is recorded if one of these
 * passes (one per matching `--filter` pattern). */
struct sonde_ust_event_filter {
	struct sonde_ust_event_filter *next; /* the sink's list */
	uint32_t count;
	struct sonde_ust_bound_filter *bound[];
};

struct sonde_ust_sink {
	struct sonde_rb *rb;
	enum sonde_ust_context contexts[SONDE_UST_MAX_CONTEXTS];
	uint32_t context_count;
	uint32_t context_size; /* set by sonde_ust_attach() */
	/*
	 * Called with the registry locked for every registered event when
	 * the sink attaches and for every event registered later: returns
	 * 1 and sets *id to record the event, 0 to leave it disabled.
	 */
	int (*enable)(void *arg, const struct sonde_tp_event *ev, uint32_t *id);
	/* Optional, called after enable() said 1: sets *filter to the
	 * event's filter, NULL to record every event; -1 (no memory) leaves
	 * the event disabled. */
	int (*filter)(void *arg, const struct sonde_tp_event *ev,
		      struct sonde_ust_event_filter **filter);
	void *arg;
	struct sonde_ust_filter **filter_programs; /* owned, may be NULL */
	size_t filter_program_count;
	struct sonde_ust_event_filter *event_filters; /* owned */
	struct sonde_ust_sink *retired_next; /* registry's list after detach */
};

/*
 * The filter of an event for a sink whose patterns are `en` with their
 * loaded `programs` (NULL: no filter): NULL if a matching pattern has
 * none, else the programs of the matching patterns bound to the event
 * (none that applies: the event never passes), put on the sink's list
 * (filters live as long as their sink: probes may be using them).
 */
int sonde_ust_event_filter_make(struct sonde_ust_sink *sink,
				const struct sonde_ust_enabler *en,
				struct sonde_ust_filter *const *programs,
				size_t count, const struct sonde_tp_event *ev,
				struct sonde_ust_event_filter **out);

/* Bytes of the stream event context for these contexts. */
uint32_t sonde_ust_context_size(const enum sonde_ust_context *ctx,
				uint32_t count);

/* SONDE_EINVAL if a sink is attached already. */
SONDE_TP_EXPORT int sonde_ust_attach(struct sonde_ust_sink *sink,
				     struct sonde_error *err);
/*
 * Calls update(arg) with the registry locked (the sink's callbacks do not
 * run meanwhile), then asks the sink again about every registered event:
 * events it records now are enabled, the others disabled, with no gap
 * for the events that stay enabled.
 */
SONDE_TP_EXPORT void sonde_ust_refresh(void (*update)(void *arg), void *arg);

/*
 * Disables every event and detaches the sink.  Writers already inside a
 * probe may still be writing for a moment: the caller waits a grace
 * period before its final flush and then retires the buffers with
 * sonde_rb_retire(), never unmapping them under a writer.  The sink
 * (malloc'd) and its buffer handle then belong to the registry, which
 * keeps them for late probes.
 */
SONDE_TP_EXPORT void sonde_ust_detach(void);

/* Registration with sonde-sessiond (client.c): starts the client thread
 * once and waits for the daemon's first answer; no-op afterwards. */
void sonde_ust_client_start(void);

/* fork(): prepare and parent run with the registry locked; child with it
 * locked, then after_fork_child once it is released. */
/* In a fork child: drops the parent's sink but leaves the events as they
 * are; the first probe waits for the child's registration (below), and
 * the next sink attached sets the events' ids anew. */
void sonde_ust_fork_detach(void);
/* Waits up to SONDE_UST_REGISTER_TIMEOUT for the client's first answer. */
void sonde_ust_client_wait_registered(void);
void sonde_ust_client_fork_prepare(void);
void sonde_ust_client_fork_parent(void);
void sonde_ust_client_fork_child(void);
void sonde_ust_client_after_fork_child(void);

#endif
