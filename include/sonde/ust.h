/*
 * libsonde-ust: recording a program's tracepoints (see sonde/tracepoint.h
 * for instrumenting it).
 *
 * Normally the session daemon records: `sonde enable-event -u 'prov:*'`.
 * A program can also record itself with no daemon, into a trace laid out
 * as lttng-ust's (<output>/ust/uid/<uid>/64-bit/), with an in-process
 * consumer thread: link libsonde-ust-consumer and call
 * sonde_ust_local_start() / sonde_ust_local_stop().  The tests and the
 * benchmark use it.
 */
#ifndef SONDE_UST_H
#define SONDE_UST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stream event contexts (`sonde add-context -u -t ...`). */
enum sonde_ust_context {
	SONDE_UST_CTX_VPID = 1,
	SONDE_UST_CTX_VTID = 2,
	SONDE_UST_CTX_PROCNAME = 3,
	SONDE_UST_CTX_PTHREAD_ID = 4,
};

/* "vpid", "vtid", "procname", "pthread_id" -> context; 0 if unknown. */
__attribute__((visibility("default"))) enum sonde_ust_context
sonde_ust_context_from_name(const char *name);

/* Event selection: glob patterns over "provider:event" and a log level. */
enum sonde_ust_loglevel_match {
	SONDE_UST_LOGLEVEL_ALL = 0,   /* any level */
	SONDE_UST_LOGLEVEL_RANGE = 1, /* as severe as `loglevel` or more */
	SONDE_UST_LOGLEVEL_SINGLE = 2 /* exactly `loglevel` */
};

struct sonde_ust_enabler {
	const char *pattern; /* "prov:ev", "prov:*", "*" */
	enum sonde_ust_loglevel_match match;
	int loglevel;
	const char *filter; /* an expression (docs/ust.md); NULL: none */
};

/* Does an event match an enabler (name glob and log level)? */
__attribute__((visibility("default"))) bool
sonde_ust_enabler_match(const struct sonde_ust_enabler *en,
			const char *event_name, int event_loglevel);

struct sonde_ust_local_config {
	const char *output;	/* trace directory (created, must be empty) */
	const char *trace_name; /* env trace_name; NULL: "" */
	const struct sonde_ust_enabler *enablers; /* NULL/0: every event */
	size_t enabler_count;
	const enum sonde_ust_context *contexts; /* in this order */
	size_t context_count;
	uint64_t subbuf_size; /* 0: 512 KiB */
	uint32_t num_subbuf;  /* 0: 4 */
	bool overwrite;	      /* flight recorder; default discard */
	uint64_t switch_timer_us; /* 0: none */
	uint64_t read_timer_us;	  /* consumer wake-up; 0: 200 ms */
	bool no_tsc;		  /* stamp with clock_gettime */
};

struct sonde_ust_stats {
	uint64_t events_discarded;
	uint64_t packets;
	uint64_t packets_lost; /* overwrite mode */
	uint64_t bytes;	       /* stream files */
};

struct sonde_ust_local;

int sonde_ust_local_start(const struct sonde_ust_local_config *cfg,
			  struct sonde_ust_local **out,
			  struct sonde_error *err);
/* Stops recording, writes the last packets and index files, frees. */
int sonde_ust_local_stop(struct sonde_ust_local *s,
			 struct sonde_ust_stats *stats,
			 struct sonde_error *err);

#ifdef __cplusplus
}
#endif

#endif
