/*
 * State shared by the producer side (store.c) and the viewer side
 * (viewer.c) of the relay core.
 */
#ifndef SONDE_RELAY_RELAY_INTERNAL_H
#define SONDE_RELAY_RELAY_INTERNAL_H

#include "relay/relay.h"

/* One CTF trace: a stream directory of a session, its metadata stream and
 * data streams; `id` is the viewers' ctf_trace_id. */
struct relay_trace {
	uint64_t id;
	char path[SONDE_RELAY_PATH_MAX];
	struct relay_stream *metadata;
	struct relay_trace *next;
};

/* A packet known by one half so far: its data (from the data connection)
 * or its index (from the control connection), paired by net_seq_num. */
struct relay_half {
	uint64_t seq;
	bool have_data, have_index;
	uint64_t offset, bytes;         /* data half */
	struct sonde_relay_index index; /* index half */
};

struct relay_stream {
	uint64_t handle;
	struct relay_session *session;
	struct relay_trace *trace;
	char name[SONDE_RELAY_CHANNEL_NAME_MAX];
	bool metadata;
	bool indexed;                   /* packets get index entries */
	bool published;                 /* by STREAMS_SENT */
	uint64_t publish_gen;
	int fd, idx_fd;
	uint64_t written;               /* bytes in the file, whole or not */
	uint64_t committed;             /* end of the last whole packet */
	uint64_t indexed_end;           /* end of the last indexed packet */
	uint64_t entries;               /* index entries in the .idx file */
	uint32_t entry_size;            /* 56 (index 1.0) or 72 (1.1) */
	bool has_beacon;
	uint64_t beacon_ts;
	bool class_known;
	uint64_t class_id;              /* CTF stream class id */
	uint64_t seq_done;              /* last whole packet; UINT64_MAX: none */
	bool close_requested;
	uint64_t close_seq;
	bool closed;                    /* no more packets will come */
	bool checked;                   /* in the current data-pending round */
	struct relay_half *halves;
	size_t nhalves, halves_cap;
	struct relay_stream *next;      /* in the session, creation order */
};

struct relay_session {
	uint64_t id;
	char hostname[SONDE_RELAY_HOSTNAME_MAX];
	char name[SONDE_RELAY_SESSION_NAME_MAX];
	char dir[SONDE_RELAY_PATH_MAX];       /* relative to the output dir */
	char chunk_dir[SONDE_RELAY_PATH_MAX]; /* where streams go */
	uint32_t live_timer;
	uint32_t minor;
	bool snapshot;
	bool closed;                    /* a producer connection is gone */
	unsigned int refs;              /* producers and viewer attachments */
	unsigned int viewers;
	uint32_t stream_count;
	uint64_t publish_gen;           /* of the last STREAMS_SENT */
	bool has_chunk, chunk_closed;
	uint64_t chunk_id;
	struct relay_stream *streams, **streams_tail;
	struct relay_trace *traces;
	struct relay_session *next;
};

struct relay_core {
	struct relay_config cfg;
	char *output_dir;
	struct relay_session *sessions;
	struct relay_stream **by_handle;
	size_t handles_cap;
	uint64_t next_handle, next_session_id, next_trace_id, next_viewer_id;
	uint64_t publish_gen;
};

struct relay_session *relay_session_find(struct relay_core *core, uint64_t id);
void relay_session_ref(struct relay_session *s);
void relay_session_unref(struct relay_core *core, struct relay_session *s);
/* Index entry `k` of a stream, read back from its .idx file. */
int relay_stream_entry(const struct relay_stream *s, uint64_t k,
		       struct sonde_relay_index *out, uint64_t *offset);

#endif /* SONDE_RELAY_RELAY_INTERNAL_H */
