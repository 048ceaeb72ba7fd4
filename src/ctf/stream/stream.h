/*
 * Streams, traces and trace sets (internal to libsonde-ctf).
 */
#ifndef SONDE_CTF_STREAM_STREAM_H
#define SONDE_CTF_STREAM_STREAM_H

#include "ctf/stream/decode.h"

struct retired_class {
	struct sonde_ctf_trace_class *tc;
	void (*tc_free)(struct sonde_ctf_trace_class *);
	struct dec_codec *codec;
};

struct sonde_ctf_trace {
	char *path;
	size_t ordinal;                      /* position in the trace set */
	struct sonde_ctf_trace_class *tc;
	void (*tc_free)(struct sonde_ctf_trace_class *); /* NULL: borrowed */
	char *metadata_text;
	size_t metadata_len;
	struct dec_codec *codec;
	/* Live traces: the classes and codecs their metadata replaced, kept
	 * because events and printers still point into them. */
	struct retired_class *retired;
	size_t retired_count;
	size_t stream_count;
	struct sonde_ctf_stream **streams;
	/* Where the trace was found, for babeltrace 1.5's merge order:
	 * index of the path argument, then the readdir position of each
	 * directory under it (MAX 32 levels). */
	size_t arg_index;
	unsigned dir_depth;
	uint32_t dir_key[33];
};

/* One packet's entry of an LTTng index file (ctf.md §1.10). */
struct stream_index_entry {
	uint64_t offset;          /* bytes */
	uint64_t packet_size;     /* bits */
	uint64_t content_size;    /* bits */
	uint64_t timestamp_begin, timestamp_end;
	uint64_t events_discarded;
	uint64_t stream_id;
	uint64_t stream_instance_id;  /* v1.1 only */
	uint64_t packet_seq_num;      /* v1.1 only */
};

struct stream_index {
	uint32_t minor;
	size_t count;
	struct stream_index_entry *entries;
};

struct sonde_ctf_stream {
	struct sonde_ctf_trace *trace;
	const struct dec_codec *codec;
	char *path;
	size_t ordinal;                 /* file position within the trace */
	uint32_t dir_order;             /* readdir position of the file */

	/* Source: the whole stream file, mapped (or bytes lent by a caller). */
	const uint8_t *data;
	size_t size;
	bool mapped;
	bool live;                      /* fed packet by packet; adopts the
	                                   trace's newest codec between packets */
	uint64_t released_off;          /* mapped bytes before this are dropped */

	/* Packet walk */
	uint64_t next_off;              /* byte offset of the next packet */
	uint64_t pkt_off;               /* byte offset of the current packet */
	uint64_t pkt_index;             /* 0-based index of the current packet */
	uint64_t pkt_bits, content_bits;
	bool in_packet;
	bool done;
	const struct dec_stream_class *dsc;
	bool has_instance_id;
	uint64_t instance_id;

	/* Decoding state; the tape in `st` is the event tape, the packet's
	 * header and context live in their own tape, swapped in while the
	 * packet starts. */
	struct dec_state st;
	struct sonde_ctf_value *pkt_tape;
	uint32_t pkt_len, pkt_cap;
	int32_t pkt_header, pkt_context;

	/* Clock conversion: ns = clock_base + cycles when the clock runs at
	 * 1 GHz (the LTTng case), else the general formula. */
	const struct sonde_ctf_clock *clock;
	bool clock_fast;
	int64_t clock_base;

	/* Packet timestamps and lost-data bookkeeping */
	bool has_ts_begin, has_ts_end;
	uint64_t ts_begin, ts_end;
	bool have_prev;                 /* a previous packet was read */
	bool prev_has_ts_end;
	uint64_t prev_ts_end;
	bool have_prev_disc, have_prev_seq;
	uint64_t prev_disc, prev_seq;

	struct sonde_ctf_msg pending[2];
	unsigned pending_count, pending_next;

	struct sonde_ctf_event event;
	struct sonde_ctf_msg msg;

	struct stream_index index;      /* count 0 when absent or ignored */
};

/*
 * Creates a stream over `size` bytes at `data` (not copied, must outlive the
 * stream).  `path` names the stream in messages.
 */
int stream_create(struct sonde_ctf_trace *trace, const struct dec_codec *codec,
		  const char *path, size_t ordinal, const uint8_t *data,
		  size_t size, struct sonde_ctf_stream **out,
		  struct sonde_error *err);
/* Maps the file at `path` and creates a stream over it. */
int stream_open_file(struct sonde_ctf_trace *trace,
		     const struct dec_codec *codec, const char *path,
		     size_t ordinal, struct sonde_ctf_stream **out,
		     struct sonde_error *err);
void stream_free(struct sonde_ctf_stream *s);

/*
 * Decodes the stream's next message (discarded-data notices come before the
 * first event of the packet that revealed them).  Returns 1 with *msg
 * valid until the next call, 0 at the end, or a negative status.
 */
int stream_next(struct sonde_ctf_stream *s, const struct sonde_ctf_msg **msg,
		struct sonde_error *err);

/* Index files: parse `len` bytes of an index file; err says why not. */
int stream_index_parse(const uint8_t *bytes, size_t len, const char *origin,
		       struct stream_index *out, struct sonde_error *err);
void stream_index_fini(struct stream_index *idx);
/* Checks the index against the stream file size. */
int stream_index_check(const struct stream_index *idx, uint64_t file_size,
		       const char *origin, struct sonde_error *err);

struct sonde_ctf_trace_set {
	size_t trace_count, trace_cap;
	struct sonde_ctf_trace **traces;
};

/*
 * Building blocks of sonde_ctf_trace_set_open, usable without files (unit
 * tests, live sources).  The trace frees `tc` with `tc_free` (NULL:
 * borrowed), also when trace_create fails.
 */
int trace_create(const char *path, struct sonde_ctf_trace_class *tc,
		 void (*tc_free)(struct sonde_ctf_trace_class *),
		 struct sonde_ctf_trace **out, struct sonde_error *err);
void trace_free(struct sonde_ctf_trace *trace);
/* Adds a stream over `size` bytes at `data` (borrowed), or, when data is
 * NULL, over the file at `path` (mapped). */
int trace_add_stream(struct sonde_ctf_trace *trace, const char *path,
		     const uint8_t *data, size_t size, struct sonde_error *err);
int trace_set_create(struct sonde_ctf_trace_set **out, struct sonde_error *err);
/* The set takes ownership of the trace, even on failure. */
int trace_set_add(struct sonde_ctf_trace_set *set, struct sonde_ctf_trace *trace,
		  struct sonde_error *err);

#endif
