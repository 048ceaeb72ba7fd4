/*
 * Packet and event decoding (internal to libsonde-ctf).
 *
 * The type trees of a trace class are compiled once into flat programs of
 * `struct dec_op` (a "codec"), and a small interpreter runs them over packet
 * bytes, writing the value tape.  Structs, variants, arrays and sequences
 * are inlined into the program (variants as jump tables, arrays as loops),
 * so decoding an event is one loop over ops with no recursion and no
 * per-field indirect calls.
 *
 * `struct dec_packet` decodes one packet held in memory; it knows nothing
 * about files, so a live source can hand packets over one at a time.
 */
#ifndef SONDE_CTF_STREAM_DECODE_H
#define SONDE_CTF_STREAM_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/ctf.h"

/* Upper bound on tape nodes of one scope group (an event or a packet's
 * header + context): an event claiming more fails instead of eating memory. */
#define DEC_MAX_NODES (1u << 21)

enum dec_op_code {
	DEC_OP_END,
	DEC_OP_INT_FAST,     /* 8/16/32/64-bit, byte-aligned, host byte order */
	DEC_OP_INT,          /* any other integer or enum */
	DEC_OP_FLOAT,
	DEC_OP_STRING,
	DEC_OP_TEXT,         /* text array or sequence: one node */
	DEC_OP_STRUCT,       /* opens a struct node; members follow inline */
	DEC_OP_STRUCT_END,
	DEC_OP_VARIANT,      /* jumps to the selected option's body */
	DEC_OP_VARIANT_END,  /* option bodies jump here */
	DEC_OP_JUMP,
	DEC_OP_LIST,         /* array/sequence: element body follows inline */
	DEC_OP_LIST_NEXT,    /* loops back to the element body */
	DEC_OP_STRUCT_FIXED, /* struct of byte-aligned scalars at fixed offsets */
	DEC_OP_LTTNG_HEADER, /* LTTng compact/large event header, x86 layout */
};

/* Members of a DEC_OP_STRUCT_FIXED struct. */
enum dec_fixed_kind {
	DEC_FX_U8, DEC_FX_U16, DEC_FX_U32, DEC_FX_U64,
	DEC_FX_S8, DEC_FX_S16, DEC_FX_S32, DEC_FX_S64,
	DEC_FX_F32, DEC_FX_F64, DEC_FX_TEXT,
};

enum dec_op_flags {
	DEC_F_SIGNED = 1 << 0,
	DEC_F_SLOT = 1 << 1,     /* store the integer into slots[slot] */
	DEC_F_ROLE = 1 << 2,     /* field with a decoder role */
	DEC_F_CLOCK = 1 << 3,    /* clock-mapped integer updating the clock */
	DEC_F_BE = 1 << 4,       /* big-endian */
	DEC_F_SEQ = 1 << 5,      /* LIST/TEXT: length from slots[slot] */
};

struct dec_op {
	uint8_t code;
	uint8_t flags;
	uint8_t role;
	uint8_t pad;
	uint32_t align_mask;     /* alignment - 1, in bits */
	uint32_t size;           /* INT/FLOAT: bits; LIST: element min bits */
	int32_t slot;            /* INT: slot written; LIST/TEXT seq, VARIANT:
	                            slot read */
	uint32_t target;         /* JUMP/LIST_NEXT: op index; LIST: index past
	                            LIST_NEXT; VARIANT: first entry in targets */
	uint32_t count;          /* STRUCT: members; VARIANT: options */
	uint64_t length;         /* fixed array length */
	const struct sonde_ctf_type *type;
	const char *name;        /* field name for messages, or NULL */
	const struct sonde_ctf_clock *clock;
};

struct dec_fixed {
	uint32_t off;            /* bytes from the struct start */
	uint32_t len;            /* DEC_FX_TEXT: bytes */
	uint8_t kind;            /* enum dec_fixed_kind */
	uint8_t shift;           /* 64 - integer size */
	bool is_signed, is_text;
	const struct sonde_ctf_type *type;
};

/*
 * The LTTng event headers (ctf.md §1.6) in the byte-packed layout, decoded
 * in one step into the same tape nodes the generic ops would produce:
 * struct { enum id; variant v { struct { ts } compact;
 *                               struct { id; ts } extended; } }.
 */
#define DEC_NO_OPTION 0xFF

struct dec_lttng_header {
	const struct sonde_ctf_type *header;
	bool large;              /* 16-bit id + 32-bit ts, else 5 + 27 bits */
	const struct sonde_ctf_type *variant;
	const struct sonde_ctf_type *compact, *extended;  /* option structs */
	uint32_t compact_option, extended_option;
	uint8_t *option_of;      /* id -> option (DEC_NO_OPTION), 2^5 or 2^16 */
	struct dec_op id, compact_ts, ext_id, ext_ts;     /* the int fields */
	/* LTTng's exact roles: id -> slot + event id, ts -> one clock; the
	 * side effects are then done inline instead of generically. */
	bool plain;
};

/* A compiled program: index of its first op in codec->ops. */
typedef int32_t dec_prog;
#define DEC_NO_PROG (-1)

struct dec_event_entry {
	uint64_t id;
	const struct sonde_ctf_event_class *ec;
	dec_prog context, fields;
	/* The payload is one fixed struct and there is no context: the
	 * stream decodes it directly, without the interpreter. */
	const struct dec_op *fixed_payload;
	const struct dec_fixed *fixed_members;
};

struct dec_stream_class {
	const struct sonde_ctf_stream_class *sc;
	dec_prog packet_context, event_header, event_context;
	const struct dec_op *lttng_header;  /* the header is exactly that op */
	const struct dec_lttng_header *lttng;
	/* event classes by id: dense table when ids are small, else sorted */
	bool dense;
	size_t entry_count;
	struct dec_event_entry *entries;
};

struct dec_codec {
	const struct sonde_ctf_trace_class *tc;
	struct dec_op *ops;
	size_t op_count, op_cap;
	uint32_t *targets;
	size_t target_count, target_cap;
	struct dec_fixed *fixed;
	size_t fixed_count, fixed_cap;
	struct dec_lttng_header *headers;
	size_t header_count, header_cap;
	uint32_t max_depth;       /* frames needed by the deepest program */
	dec_prog packet_header;
	size_t sc_count;
	struct dec_stream_class *scs;
};

int dec_codec_create(const struct sonde_ctf_trace_class *tc,
		     struct dec_codec **out, struct sonde_error *err);
/* generic_only: no specialised ops, to test them against the generic ones. */
int dec_codec_create_ex(const struct sonde_ctf_trace_class *tc,
			bool generic_only, struct dec_codec **out,
			struct sonde_error *err);
void dec_codec_free(struct dec_codec *codec);

const struct dec_stream_class *dec_codec_stream_class(const struct dec_codec *c,
						      uint64_t id);
const struct dec_event_entry *dec_find_event_sorted(const struct dec_stream_class *dsc,
						    uint64_t id);

static inline const struct dec_event_entry *
dec_find_event(const struct dec_stream_class *dsc, uint64_t id)
{
	if (dsc->dense) {
		if (id >= dsc->entry_count || !dsc->entries[id].ec)
			return NULL;
		return &dsc->entries[id];
	}
	return dec_find_event_sorted(dsc, id);
}

struct dec_frame {
	uint32_t node;           /* tape index of the open node */
	uint32_t body;           /* LIST: op index of the element body */
	uint64_t left;           /* LIST: elements still to decode */
};

/* Per-stream decoding state: tape, slots, clock, role values. */
struct dec_state {
	const struct dec_codec *codec;
	const uint8_t *buf;      /* packet start */
	uint64_t pos;            /* bit offset from packet start */
	uint64_t limit;          /* reads must end at or before this bit */
	uint64_t readable;       /* bits of buf that exist (>= limit): fast
	                            paths may load whole words up to here */

	struct sonde_ctf_value *tape;
	uint32_t len, cap;
	struct dec_frame *frames;
	uint64_t *slots;

	uint64_t clock;          /* reconstructed clock value, cycles */
	const struct sonde_ctf_clock *clock_class;
	bool clock_valid;
	bool clock_updated;      /* a clock-mapped field was seen since reset */

	uint32_t roles_seen;     /* bit per enum sonde_ctf_role */
	uint64_t roles[16];
	uint32_t role_size[16];  /* bits of the field that set the role */
	uint64_t uuid_byte_off;  /* byte offset of the trace UUID array */

	char what[160];          /* error detail, set when decoding fails */
};

int dec_state_init(struct dec_state *st, const struct dec_codec *codec);
void dec_state_fini(struct dec_state *st);

/*
 * Runs `prog` at st->pos, appending to the tape.  Returns 0, or
 * SONDE_EFORMAT / SONDE_ENOMEM with st->what describing the failure.
 * A DEC_NO_PROG program does nothing and returns 0.
 */
int dec_run(struct dec_state *st, dec_prog prog);

#endif
