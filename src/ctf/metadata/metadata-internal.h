/*
 * Internal view of the metadata model.  Every public object of the model is
 * the first member of a private wrapper allocated in the trace class's
 * arena, so the library can recover its bookkeeping from a public pointer.
 */
#ifndef SONDE_CTF_METADATA_INTERNAL_H
#define SONDE_CTF_METADATA_INTERNAL_H

#include "common/arena.h"
#include "sonde/ctf.h"

/* Caps that keep hostile metadata from exhausting memory or the stack. */
#define MD_MAX_DEPTH 96          /* nesting of blocks and of type trees */
#define MD_ARENA_BASE_LIMIT (64u << 20)
#define MD_ARENA_PER_BYTE 64u    /* extra arena budget per metadata byte */

/* Byte order while parsing: `native` is resolved once the trace's is known. */
#define MD_BYTE_ORDER_NATIVE 2

struct md_type {
	struct sonde_ctf_type pub;
	uint16_t depth;          /* 1 for leaves */
	bool has_dynamic;        /* contains a sequence or a tagged variant */
	bool tag_relative;       /* variant tag / sequence length is relative */
	const char *path;        /* variant tag or sequence length, as written */
	uint32_t line;           /* where it was declared, for messages */
};

static inline struct md_type *md_type(const struct sonde_ctf_type *t)
{
	return (struct md_type *)t;
}

struct md_stream_class {
	struct sonde_ctf_stream_class pub;
	/* id -> event class when ids are dense enough, else NULL */
	const struct sonde_ctf_event_class **by_id;
	uint64_t by_id_len;
	/* event classes sorted by id, for binary search */
	const struct sonde_ctf_event_class **sorted;
};

struct md_trace_class {
	struct sonde_ctf_trace_class pub;
	struct sonde_arena arena;
};

static inline struct md_trace_class *md_tc(const struct sonde_ctf_trace_class *tc)
{
	return (struct md_trace_class *)tc;
}

/* Error messages quote names and strings from the input: keep them on one
 * printable line. */
static inline int md_error_sanitize(struct sonde_error *err, int status)
{
	if (err) {
		for (char *c = err->msg; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
	}
	return status;
}

/* Path resolution, roles, slots, variant ranges, per-declaration copies. */
int md_resolve(struct md_trace_class *tc, const char *origin,
	       struct sonde_error *err);

/* Deep copy of the compound nodes of a type tree (leaves stay shared). */
struct md_type *md_type_copy(struct sonde_arena *a, const struct sonde_ctf_type *t);

/* Builds the id lookup tables of a stream class; SONDE_EFORMAT with *dup_id
 * set when two event classes share an id. */
int md_stream_class_index(struct sonde_arena *a, struct md_stream_class *sc,
			  uint64_t *dup_id);

/* Whether a type may be a sequence length / a variant tag. */
int md_check_length_type(const struct sonde_ctf_type *t);
int md_check_tag_type(const struct sonde_ctf_type *t);

#endif
