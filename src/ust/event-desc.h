/*
 * Event descriptions between a traced program and sonde-sessiond (the
 * APP_EVENT request): name, log level and fields, as control-protocol
 * fields.  The daemon generates metadata from what a program sends, so
 * decoding checks everything, down to the characters of names and labels
 * (they end up in TSDL text).
 */
#ifndef SONDE_UST_EVENT_DESC_H
#define SONDE_UST_EVENT_DESC_H

#include "session/ctl-proto.h"
#include "sonde/tracepoint.h"

#define SONDE_UST_MAX_FIELDS 256
#define SONDE_UST_MAX_ENUM_ENTRIES 1024
#define SONDE_UST_MAX_ARRAY (1u << 20)

void sonde_ust_event_desc_put(struct sonde_ctl_writer *w,
			      const struct sonde_tp_event *ev);

/* A decoded description; strings and arrays live in the message's arena
 * (or are allocated in `arena`). */
struct sonde_ust_event_desc {
	const char *name;
	int loglevel;
	struct sonde_ctfw_field *fields;
	uint32_t field_count;
};

int sonde_ust_event_desc_get(const struct sonde_ctl_rec *req,
			     struct sonde_arena *arena,
			     struct sonde_ust_event_desc *out,
			     struct sonde_error *err);

#endif
