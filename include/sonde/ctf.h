/*
 * libsonde-ctf: the CTF 1.8 reader.
 *
 * Three layers, each usable alone:
 *
 *   1. Metadata: TSDL text (plain or packetized) -> a `sonde_ctf_trace_class`,
 *      an immutable tree of types, clocks, stream and event classes.  The
 *      structs of this layer are public and read-only so that printers and
 *      analyses can walk types without accessor calls on the hot path.
 *
 *   2. Streams: a `sonde_ctf_stream` decodes the packets of one data stream
 *      (a file mapped in memory, or packets handed over by a live source)
 *      into events.  An event's fields are decoded into a flat pre-order
 *      array of `sonde_ctf_value` (the "value tape"), owned by the stream and
 *      valid until the stream advances.  Strings point into the packet bytes
 *      (zero copy).
 *
 *   3. Trace sets and the merge iterator: paths -> traces -> streams, merged
 *      in timestamp order with babeltrace2's tie-break order, interleaved
 *      with discarded-events / discarded-packets notices.
 *
 * All sizes and alignments in the type model are in bits.
 */
#ifndef SONDE_CTF_H
#define SONDE_CTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Type model                                                               */

enum sonde_ctf_byte_order {
	SONDE_CTF_LE = 0,
	SONDE_CTF_BE = 1,
};

enum sonde_ctf_encoding {
	SONDE_CTF_ENC_NONE = 0,
	SONDE_CTF_ENC_UTF8 = 1,
	SONDE_CTF_ENC_ASCII = 2,
};

enum sonde_ctf_kind {
	SONDE_CTF_INT,
	SONDE_CTF_FLOAT,
	SONDE_CTF_STRING,
	SONDE_CTF_ENUM,
	SONDE_CTF_STRUCT,
	SONDE_CTF_VARIANT,
	SONDE_CTF_ARRAY,
	SONDE_CTF_SEQUENCE,
};

/*
 * Fields with a meaning for the decoder, recognised by name and scope when
 * the metadata is loaded (as babeltrace does).  Stored per field declaration,
 * because types are shared between declarations.
 */
enum sonde_ctf_role {
	SONDE_CTF_ROLE_NONE = 0,
	SONDE_CTF_ROLE_MAGIC,              /* trace.packet.header.magic */
	SONDE_CTF_ROLE_TRACE_UUID,         /* trace.packet.header.uuid */
	SONDE_CTF_ROLE_STREAM_ID,          /* trace.packet.header.stream_id */
	SONDE_CTF_ROLE_STREAM_INSTANCE_ID, /* trace.packet.header.stream_instance_id */
	SONDE_CTF_ROLE_PACKET_SIZE,        /* stream.packet.context.packet_size */
	SONDE_CTF_ROLE_CONTENT_SIZE,       /* stream.packet.context.content_size */
	SONDE_CTF_ROLE_TIMESTAMP_BEGIN,    /* stream.packet.context.timestamp_begin */
	SONDE_CTF_ROLE_TIMESTAMP_END,      /* stream.packet.context.timestamp_end */
	SONDE_CTF_ROLE_EVENTS_DISCARDED,   /* stream.packet.context.events_discarded */
	SONDE_CTF_ROLE_PACKET_SEQ_NUM,     /* stream.packet.context.packet_seq_num */
	SONDE_CTF_ROLE_EVENT_ID,           /* any `id` in stream.event.header */
};

struct sonde_ctf_clock;
struct sonde_ctf_type;

struct sonde_ctf_field_decl {
	const char *name;        /* as written in the metadata (leading '_' kept) */
	const struct sonde_ctf_type *type;
	int32_t slot;            /* >= 0: the decoder stores this integer's value in
	                            the stream's slot table because a sequence
	                            length or a variant tag refers to it */
	uint8_t role;            /* enum sonde_ctf_role */
};

struct sonde_ctf_enum_mapping {
	const char *label;
	union { int64_t s; uint64_t u; } lo, hi;  /* inclusive; signedness = container's */
};

/* A range of tag values selecting one variant option (precomputed from the
 * tag enum's mappings and the option names). */
struct sonde_ctf_variant_range {
	union { int64_t s; uint64_t u; } lo, hi;
	uint32_t option;
};

struct sonde_ctf_type {
	enum sonde_ctf_kind kind;
	uint32_t align;          /* bits, power of two, >= 1 */
	union {
		struct {
			uint32_t size;   /* 1..64 */
			bool is_signed;
			uint8_t byte_order;  /* enum sonde_ctf_byte_order, resolved */
			uint8_t base;        /* 2, 8, 10, 16 */
			uint8_t encoding;    /* enum sonde_ctf_encoding */
			const struct sonde_ctf_clock *mapped_clock; /* map = clock.X.value */
		} integer;
		struct {
			uint32_t exp_dig, mant_dig; /* 8+24 or 11+53 */
			uint8_t byte_order;
		} floating;
		struct {
			uint8_t encoding;
		} string;
		struct {
			const struct sonde_ctf_type *container; /* kind INT */
			size_t count;
			const struct sonde_ctf_enum_mapping *mappings;
		} enumeration;
		struct {
			size_t count;
			const struct sonde_ctf_field_decl *fields;
		} structure;
		struct {
			size_t count;
			const struct sonde_ctf_field_decl *options;
			const char *tag_name;     /* as written, for messages */
			int32_t tag_slot;
			const struct sonde_ctf_type *tag_type; /* kind ENUM */
			size_t range_count;
			const struct sonde_ctf_variant_range *ranges;
		} variant;
		struct {
			const struct sonde_ctf_type *element;
			uint64_t length;
			bool is_text;    /* 8-bit, byte-aligned, UTF8/ASCII int elements */
		} array;
		struct {
			const struct sonde_ctf_type *element;
			const char *length_name;  /* as written, for messages */
			int32_t length_slot;
			bool is_text;
		} sequence;
	} u;
};

/* ------------------------------------------------------------------------ */
/* Trace class: what the metadata says                                      */

struct sonde_ctf_clock {
	const char *name;
	const char *description;     /* NULL if absent */
	bool has_uuid;
	uint8_t uuid[16];
	uint64_t freq;               /* Hz, default 1e9 */
	int64_t offset_s;            /* seconds from the Unix epoch */
	int64_t offset;              /* cycles, added after offset_s */
	uint64_t precision;
	bool absolute;
};

struct sonde_ctf_env_entry {
	const char *key;
	bool is_int;
	int64_t int_value;
	const char *str_value;       /* NULL if is_int */
};

struct sonde_ctf_event_class {
	uint64_t id;
	const char *name;
	uint64_t stream_class_id;
	bool has_loglevel;
	int64_t loglevel;
	const char *emf_uri;                 /* NULL if absent */
	const struct sonde_ctf_type *context; /* event.context struct, or NULL */
	const struct sonde_ctf_type *fields;  /* event.fields struct, or NULL */
};

struct sonde_ctf_stream_class {
	uint64_t id;
	const struct sonde_ctf_type *packet_context; /* struct or NULL */
	const struct sonde_ctf_type *event_header;   /* struct or NULL */
	const struct sonde_ctf_type *event_context;  /* struct or NULL */
	const struct sonde_ctf_clock *clock;         /* clock of the event header's
	                                               timestamp, or NULL */
	size_t event_class_count;
	const struct sonde_ctf_event_class *const *event_classes; /* declaration order */
};

struct sonde_ctf_trace_class {
	uint32_t major, minor;
	bool has_uuid;
	uint8_t uuid[16];
	uint8_t byte_order;                          /* enum sonde_ctf_byte_order */
	const struct sonde_ctf_type *packet_header;  /* struct or NULL */
	size_t env_count;
	const struct sonde_ctf_env_entry *env;
	size_t clock_count;
	const struct sonde_ctf_clock *const *clocks;
	size_t stream_class_count;
	const struct sonde_ctf_stream_class *const *stream_classes;
	uint32_t slot_count;                         /* size of a stream's slot table */
};

/*
 * Parses TSDL text (already depacketized) into a trace class.  `origin`
 * names the input in error messages ("path/metadata").  On failure *out is
 * untouched and err says "origin:LINE: problem".
 */
int sonde_ctf_metadata_parse(const char *text, size_t len, const char *origin,
			     struct sonde_ctf_trace_class **out,
			     struct sonde_error *err);

/*
 * Turns the bytes of a metadata file (plain or packetized, either byte
 * order) into TSDL text.  *text is malloc'd and NUL-terminated; the caller
 * frees it.  Plain text must start with "/ * CTF 1.8" (babeltrace2 requires
 * it); packetized metadata must have consistent UUIDs and no compression,
 * encryption or checksum.
 */
int sonde_ctf_metadata_depacketize(const uint8_t *bytes, size_t len,
				   const char *origin, char **text,
				   size_t *text_len, struct sonde_error *err);

/*
 * Depacketizes and parses the bytes of a metadata file, then checks that
 * packetized metadata agrees with the trace block: same byte order as the
 * packet headers, same UUID.  `text` may be NULL; otherwise it receives the
 * TSDL text (malloc'd, NUL-terminated) as sonde_ctf_metadata_depacketize()
 * would.  Use this rather than the two calls above when opening a trace.
 */
int sonde_ctf_metadata_load(const uint8_t *bytes, size_t len, const char *origin,
			    struct sonde_ctf_trace_class **out, char **text,
			    size_t *text_len, struct sonde_error *err);

void sonde_ctf_trace_class_free(struct sonde_ctf_trace_class *tc);

const struct sonde_ctf_stream_class *
sonde_ctf_trace_class_find_stream_class(const struct sonde_ctf_trace_class *tc,
					uint64_t id);

/* Constant time for the usual dense ids. NULL if the id is not declared. */
const struct sonde_ctf_event_class *
sonde_ctf_stream_class_find_event_class(const struct sonde_ctf_stream_class *sc,
					uint64_t id);

/* NULL if absent. */
const struct sonde_ctf_env_entry *
sonde_ctf_trace_class_env(const struct sonde_ctf_trace_class *tc,
			  const char *key);

/* Clock value (cycles) -> ns from the Unix epoch, with offset_s/offset/freq.
 * Returns SONDE_EFORMAT if the result does not fit in int64. */
int sonde_ctf_clock_to_ns(const struct sonde_ctf_clock *clock, uint64_t cycles,
			  int64_t *ns);

/* ------------------------------------------------------------------------ */
/* Decoded values                                                           */

/*
 * One node of the value tape.  An event's tape holds its scopes in pre-order:
 * a STRUCT node is followed by its `count` members' subtrees; an ARRAY or
 * SEQUENCE node by its `count` elements' subtrees (except text arrays and
 * sequences, which are a single node with `str`); a VARIANT node (with
 * `option` = selected option index) by the selected option's subtree.
 * `end` is the index just past this node's subtree, to skip it.
 */
struct sonde_ctf_value {
	const struct sonde_ctf_type *type;
	uint32_t end;
	union {
		uint64_t u;      /* INT unsigned, ENUM with unsigned container */
		int64_t s;       /* INT signed, ENUM with signed container */
		double d;        /* FLOAT */
		struct {
			const char *ptr;  /* into packet bytes; not NUL-terminated */
			size_t len;       /* STRING: bytes before the NUL; text
			                     array/sequence: full length (the
			                     printer stops at the first NUL) */
		} str;
		uint64_t count;  /* STRUCT members, ARRAY/SEQUENCE elements */
		uint32_t option; /* VARIANT */
	} v;
};

/* ------------------------------------------------------------------------ */
/* Traces, streams, events                                                  */

struct sonde_ctf_trace;      /* one trace directory: metadata + stream files */
struct sonde_ctf_stream;     /* one data stream (file or live source) */
struct sonde_ctf_trace_set;  /* traces opened together and merged */
struct sonde_ctf_iter;       /* merge iterator over a trace set */

/* Scope indexes into an event's or packet's tape; -1 when absent. */
struct sonde_ctf_event {
	const struct sonde_ctf_event_class *event_class;
	struct sonde_ctf_stream *stream;
	uint64_t cycles;          /* reconstructed 64-bit clock value */
	int64_t ns;               /* ns from the Unix epoch (0 if no clock) */
	bool has_timestamp;
	const struct sonde_ctf_value *values;
	int32_t header, stream_context, event_context, payload;
};

enum sonde_ctf_msg_kind {
	SONDE_CTF_MSG_EVENT,
	SONDE_CTF_MSG_DISCARDED_EVENTS,
	SONDE_CTF_MSG_DISCARDED_PACKETS,
};

struct sonde_ctf_msg {
	enum sonde_ctf_msg_kind kind;
	const struct sonde_ctf_event *event;      /* MSG_EVENT */
	struct sonde_ctf_stream *stream;          /* all kinds */
	uint64_t count;                           /* discarded: how many */
	bool count_known;
	bool has_range;                           /* discarded: begin/end known */
	uint64_t begin_cycles, end_cycles;
	int64_t begin_ns, end_ns;
};

/* Trace sets --------------------------------------------------------------- */

/*
 * Opens every trace found under the given paths: a directory holding a
 * `metadata` file is a trace; other directories are searched recursively
 * (an LTTng session with kernel/ and ust/ trees opens as one set).  Stream
 * files are the regular, non-empty files of a trace directory other than
 * `metadata` and dot-files.  Stream files are mapped, not read.
 */
int sonde_ctf_trace_set_open(const char *const *paths, size_t path_count,
			     struct sonde_ctf_trace_set **out,
			     struct sonde_error *err);
void sonde_ctf_trace_set_free(struct sonde_ctf_trace_set *set);

size_t sonde_ctf_trace_set_trace_count(const struct sonde_ctf_trace_set *set);
struct sonde_ctf_trace *sonde_ctf_trace_set_trace(struct sonde_ctf_trace_set *set,
						   size_t i);

const struct sonde_ctf_trace_class *
sonde_ctf_trace_get_class(const struct sonde_ctf_trace *trace);
const char *sonde_ctf_trace_path(const struct sonde_ctf_trace *trace);
size_t sonde_ctf_trace_stream_count(const struct sonde_ctf_trace *trace);
struct sonde_ctf_stream *sonde_ctf_trace_stream(struct sonde_ctf_trace *trace,
						size_t i);
/* The metadata text (depacketized), for `-o ctf-metadata`. */
const char *sonde_ctf_trace_metadata_text(const struct sonde_ctf_trace *trace,
					  size_t *len);

/* Streams ------------------------------------------------------------------ */

struct sonde_ctf_trace *sonde_ctf_stream_trace(const struct sonde_ctf_stream *s);
const char *sonde_ctf_stream_path(const struct sonde_ctf_stream *s); /* file path */
const struct sonde_ctf_stream_class *
sonde_ctf_stream_class(const struct sonde_ctf_stream *s); /* NULL before 1st packet */
/* stream_instance_id if the header has one, else the file's ordinal. */
uint64_t sonde_ctf_stream_instance_id(const struct sonde_ctf_stream *s);

/* The current packet's decoded header and context (tape + scope indexes). */
const struct sonde_ctf_value *
sonde_ctf_stream_packet_values(const struct sonde_ctf_stream *s,
			       int32_t *header, int32_t *context);

/* The merge iterator ------------------------------------------------------- */

int sonde_ctf_iter_create(struct sonde_ctf_trace_set *set,
			  struct sonde_ctf_iter **out, struct sonde_error *err);
void sonde_ctf_iter_free(struct sonde_ctf_iter *it);

/*
 * How events with the same timestamp are ordered.  BABELTRACE1 (the
 * default, for output identical to babeltrace 1.5) reproduces its heap,
 * whose ties depend on the order files are listed by readdir, hence on the
 * file system; discarded-data notices come out as soon as a stream reveals
 * them.  BABELTRACE2 is deterministic: ties go by trace UUID, trace path,
 * stream class id, stream instance id, and notices are merged by their
 * begin time.  Set before the first sonde_ctf_iter_next().
 */
enum sonde_ctf_merge_order {
	SONDE_CTF_ORDER_BABELTRACE1 = 0,
	SONDE_CTF_ORDER_BABELTRACE2 = 1,
};
int sonde_ctf_iter_set_order(struct sonde_ctf_iter *it,
			     enum sonde_ctf_merge_order order);

/*
 * Returns 1 and sets *msg (valid until the next call), 0 at the end of all
 * streams, or a negative status with err set ("path: packet 3 at offset
 * 8192: ...").  After an error the iterator is finished.
 */
int sonde_ctf_iter_next(struct sonde_ctf_iter *it,
			const struct sonde_ctf_msg **msg,
			struct sonde_error *err);

/* Live sources ------------------------------------------------------------- */

/*
 * A live source (a relay, libsonde-live) fills a trace set over time:
 * traces are added when their metadata arrives and their metadata may
 * grow (streams adopt the new classes at their next packet; the old ones
 * stay valid until the trace is freed), and each stream is fed one packet
 * at a time.  The source merges the streams itself, because only it knows
 * up to when a stream without data has nothing to say.
 */
int sonde_ctf_trace_set_create(struct sonde_ctf_trace_set **out,
			       struct sonde_error *err);

/* Adds a trace whose metadata so far (plain or packetized) is `metadata`;
 * `path` names it in messages and in `-f trace`. */
int sonde_ctf_live_trace_add(struct sonde_ctf_trace_set *set, const char *path,
			     const uint8_t *metadata, size_t len,
			     struct sonde_ctf_trace **out,
			     struct sonde_error *err);

/* Replaces the trace's metadata by `metadata` (all of it so far).  On
 * failure the trace keeps its current classes. */
int sonde_ctf_live_trace_update(struct sonde_ctf_trace *trace,
				const uint8_t *metadata, size_t len,
				struct sonde_error *err);

/* Adds a stream without data to a live trace. */
int sonde_ctf_live_stream_add(struct sonde_ctf_trace *trace, const char *path,
			      struct sonde_ctf_stream **out,
			      struct sonde_error *err);

/*
 * Hands the stream its next packet (`len` bytes: the whole packet,
 * padding included), borrowed until the next feed or the stream's end.
 * Only once sonde_ctf_stream_next() returned 0 (or before the first
 * packet): messages of the previous packet point into its bytes.
 */
int sonde_ctf_live_stream_feed(struct sonde_ctf_stream *s,
			       const uint8_t *packet, size_t len,
			       struct sonde_error *err);

/* The stream's next message: 1 and *msg (valid until the next call on
 * this stream), 0 when its data is used up, or a negative status. */
int sonde_ctf_stream_next(struct sonde_ctf_stream *s,
			  const struct sonde_ctf_msg **msg,
			  struct sonde_error *err);

/* ------------------------------------------------------------------------ */
/* Helpers for printers and analyses                                        */

/* Name as presented to users: one leading '_' removed. */
static inline const char *sonde_ctf_display_name(const char *name)
{
	return name[0] == '_' ? name + 1 : name;
}

/* Index of the member named `name` (as written, or as displayed) in the
 * struct node at `at`, or -1. */
int32_t sonde_ctf_value_struct_member(const struct sonde_ctf_value *values,
				      int32_t at, const char *name);

/* Labels of the enum node's value: fills up to `max` labels and returns how
 * many matched in total. */
size_t sonde_ctf_enum_labels(const struct sonde_ctf_type *enum_type,
			     const struct sonde_ctf_value *v,
			     const char **labels, size_t max);

#ifdef __cplusplus
}
#endif

#endif /* SONDE_CTF_H */
