/*
 * libsonde-ctf writer: CTF 1.8 traces shaped like LTTng's output.
 *
 * Three layers, each usable alone:
 *
 *   1. Encoders (inline, below): a cursor over packet memory owned by the
 *      caller (a shared-memory sub-buffer, an mmap'd file region, a malloc'd
 *      buffer) and helpers that serialize integers of either byte order,
 *      floats, strings, arrays and sequences, LTTng event headers, packet
 *      headers/contexts and index entries in place.  No allocation, no
 *      system call, no hidden state: a tracer's hot path calls only these.
 *
 *   2. Trace class: the metadata model.  Event and stream-context fields are
 *      described with LTTng-like field macros (SONDE_CTFW_INTEGER, ...); each
 *      class added appends its TSDL to the metadata text, so the text only
 *      grows (live readers re-read it, as with LTTng).  The text can be
 *      written plain ("/ * CTF 1.8 * /" first) or packetized (37-byte headers,
 *      4096-byte packets).
 *
 *   3. File writer: a trace directory with a metadata file, one stream file
 *      per (channel, CPU) with automatic packet switching, and index files.
 *      Used by sonde-gen and the tests.
 *
 * The layout is LTTng's x86 one: every field is byte aligned (align = 8
 * bits), so serialized fields never need padding and the packet context is
 * the lttng-modules >= 2.8 one (84 bytes of header + context).
 */
#ifndef SONDE_CTF_WRITER_H
#define SONDE_CTF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sonde/ctf.h"
#include "sonde/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Layer 1: encoders                                                        */

#define SONDE_CTFW_PACKET_MAGIC 0xC1FC1FC1u
#define SONDE_CTFW_METADATA_MAGIC 0x75D11D57u
#define SONDE_CTFW_INDEX_MAGIC 0xC1F1DCC1u

/* Byte offsets of the LTTng packet header and context. */
enum {
	SONDE_CTFW_PKT_MAGIC = 0,
	SONDE_CTFW_PKT_UUID = 4,
	SONDE_CTFW_PKT_STREAM_ID = 20,
	SONDE_CTFW_PKT_STREAM_INSTANCE_ID = 24,
	SONDE_CTFW_PKT_TIMESTAMP_BEGIN = 32,
	SONDE_CTFW_PKT_TIMESTAMP_END = 40,
	SONDE_CTFW_PKT_CONTENT_SIZE = 48,
	SONDE_CTFW_PKT_PACKET_SIZE = 56,
	SONDE_CTFW_PKT_SEQ_NUM = 64,
	SONDE_CTFW_PKT_EVENTS_DISCARDED = 72,
	SONDE_CTFW_PKT_CPU_ID = 80,
	SONDE_CTFW_PKT_HEADER_SIZE = 84, /* first event starts here */
};

#define SONDE_CTFW_PAGE_SIZE 4096u
#define SONDE_CTFW_METADATA_PACKET_SIZE 4096u
#define SONDE_CTFW_METADATA_HEADER_SIZE 37u
#define SONDE_CTFW_INDEX_HEADER_SIZE 16u
#define SONDE_CTFW_INDEX_ENTRY_SIZE 72u /* index format 1.1 */

/* Largest event header (large/extended). */
#define SONDE_CTFW_EVENT_HEADER_MAX 14u

/*
 * Write position in one packet.  Offsets are relative to `packet` because
 * CTF alignment is relative to the packet start.  A write that does not fit
 * sets `overflow`, writes nothing and leaves pos = limit, so a whole event
 * can be serialized without checks and validated once at the end.
 */
struct sonde_ctfw_cursor {
	uint8_t *packet;
	size_t pos;
	size_t limit;
	uint8_t byte_order; /* enum sonde_ctf_byte_order of the trace */
	bool overflow;
};

static inline void sonde_ctfw_cursor_init(struct sonde_ctfw_cursor *c,
					  void *packet, size_t limit,
					  enum sonde_ctf_byte_order bo)
{
	c->packet = (uint8_t *)packet;
	c->pos = 0;
	c->limit = limit;
	c->byte_order = (uint8_t)bo;
	c->overflow = false;
}

/* `n` bytes at the current position, or NULL (and overflow) if they don't fit. */
static inline uint8_t *sonde_ctfw_reserve(struct sonde_ctfw_cursor *c, size_t n)
{
	uint8_t *p;

	if (__builtin_expect(n > c->limit - c->pos, 0)) {
		c->overflow = true;
		c->pos = c->limit;
		return NULL;
	}
	p = c->packet + c->pos;
	c->pos += n;
	return p;
}

/* Zero padding up to a multiple of `bytes` (a power of two) from the packet
 * start: the memory may hold stale data (reused sub-buffers). */
static inline void sonde_ctfw_align(struct sonde_ctfw_cursor *c, size_t bytes)
{
	size_t pad = (bytes - (c->pos & (bytes - 1))) & (bytes - 1);
	uint8_t *p;

	if (pad && (p = sonde_ctfw_reserve(c, pad)))
		memset(p, 0, pad);
}

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SONDE_CTFW_HOST_ORDER SONDE_CTF_LE
#else
#define SONDE_CTFW_HOST_ORDER SONDE_CTF_BE
#endif

/*
 * Stores at a raw address, for callers that reserved a whole event at once
 * (a ring buffer's reserve/commit) and write it without per-field checks.
 */
static inline void sonde_ctfw_store_u16(uint8_t *p, uint16_t v, unsigned int bo)
{
	if (bo != SONDE_CTFW_HOST_ORDER)
		v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}

static inline void sonde_ctfw_store_u32(uint8_t *p, uint32_t v, unsigned int bo)
{
	if (bo != SONDE_CTFW_HOST_ORDER)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static inline void sonde_ctfw_store_u64(uint8_t *p, uint64_t v, unsigned int bo)
{
	if (bo != SONDE_CTFW_HOST_ORDER)
		v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

/*
 * A text array (ctf_array_text) of `n` bytes from a C string: `s` truncated
 * or NUL-padded.  When the source is itself an n-byte array (a task's comm),
 * sonde_ctfw_put_bytes() copies it faster, as LTTng does.
 */
static inline void sonde_ctfw_store_text(uint8_t *p, const char *s, size_t n)
{
	/* memchr, not strnlen: this header must not need POSIX. */
	const char *nul = (const char *)memchr(s, 0, n);
	size_t len = nul ? (size_t)(nul - s) : n;

	memcpy(p, s, len);
	memset(p + len, 0, n - len);
}

static inline void sonde_ctfw_put_u8(struct sonde_ctfw_cursor *c, uint8_t v)
{
	uint8_t *p = sonde_ctfw_reserve(c, 1);

	if (p)
		*p = v;
}

static inline void sonde_ctfw_put_u16_bo(struct sonde_ctfw_cursor *c,
					 uint16_t v, unsigned int bo)
{
	uint8_t *p = sonde_ctfw_reserve(c, 2);

	if (p)
		sonde_ctfw_store_u16(p, v, bo);
}

static inline void sonde_ctfw_put_u32_bo(struct sonde_ctfw_cursor *c,
					 uint32_t v, unsigned int bo)
{
	uint8_t *p = sonde_ctfw_reserve(c, 4);

	if (p)
		sonde_ctfw_store_u32(p, v, bo);
}

static inline void sonde_ctfw_put_u64_bo(struct sonde_ctfw_cursor *c,
					 uint64_t v, unsigned int bo)
{
	uint8_t *p = sonde_ctfw_reserve(c, 8);

	if (p)
		sonde_ctfw_store_u64(p, v, bo);
}

/* Integers in the trace byte order (signed values: pass them cast; the
 * two's complement bits are what CTF stores). */
static inline void sonde_ctfw_put_u16(struct sonde_ctfw_cursor *c, uint16_t v)
{
	sonde_ctfw_put_u16_bo(c, v, c->byte_order);
}

static inline void sonde_ctfw_put_u32(struct sonde_ctfw_cursor *c, uint32_t v)
{
	sonde_ctfw_put_u32_bo(c, v, c->byte_order);
}

static inline void sonde_ctfw_put_u64(struct sonde_ctfw_cursor *c, uint64_t v)
{
	sonde_ctfw_put_u64_bo(c, v, c->byte_order);
}

/*
 * Network-order fields (`byte_order = be`, ctf_integer_network): the value is
 * given in host order and stored big-endian whatever the trace byte order.
 * (LTTng copies the caller's bytes and expects an htonl()'d value; taking the
 * host value is less error-prone and stores the same bytes.)
 */
static inline void sonde_ctfw_put_be16(struct sonde_ctfw_cursor *c, uint16_t v)
{
	sonde_ctfw_put_u16_bo(c, v, SONDE_CTF_BE);
}

static inline void sonde_ctfw_put_be32(struct sonde_ctfw_cursor *c, uint32_t v)
{
	sonde_ctfw_put_u32_bo(c, v, SONDE_CTF_BE);
}

static inline void sonde_ctfw_put_be64(struct sonde_ctfw_cursor *c, uint64_t v)
{
	sonde_ctfw_put_u64_bo(c, v, SONDE_CTF_BE);
}

/* An integer of `bytes` (1, 2, 4, 8) bytes in byte order `bo`. */
static inline void sonde_ctfw_put_int(struct sonde_ctfw_cursor *c, uint64_t v,
				      unsigned int bytes, unsigned int bo)
{
	switch (bytes) {
	case 1:
		sonde_ctfw_put_u8(c, (uint8_t)v);
		break;
	case 2:
		sonde_ctfw_put_u16_bo(c, (uint16_t)v, bo);
		break;
	case 4:
		sonde_ctfw_put_u32_bo(c, (uint32_t)v, bo);
		break;
	default:
		sonde_ctfw_put_u64_bo(c, v, bo);
		break;
	}
}

static inline void sonde_ctfw_put_float(struct sonde_ctfw_cursor *c, float v)
{
	uint32_t bits;

	memcpy(&bits, &v, sizeof(bits));
	sonde_ctfw_put_u32(c, bits);
}

static inline void sonde_ctfw_put_double(struct sonde_ctfw_cursor *c, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	sonde_ctfw_put_u64(c, bits);
}

static inline void sonde_ctfw_put_bytes(struct sonde_ctfw_cursor *c,
					const void *src, size_t n)
{
	uint8_t *p = sonde_ctfw_reserve(c, n);

	if (p && n)
		memcpy(p, src, n);
}

/* A `string` field: the bytes and the terminating NUL. */
static inline void sonde_ctfw_put_string(struct sonde_ctfw_cursor *c,
					 const char *s)
{
	sonde_ctfw_put_bytes(c, s, strlen(s) + 1);
}

/* A text array (ctf_array_text) of `n` bytes: `s` truncated or NUL-padded. */
static inline void sonde_ctfw_put_text_array(struct sonde_ctfw_cursor *c,
					     const char *s, size_t n)
{
	uint8_t *p = sonde_ctfw_reserve(c, n);

	if (p)
		sonde_ctfw_store_text(p, s, n);
}

/* Arrays and sequences of integers in the trace byte order: elements of
 * `elem_bytes` bytes taken from a host array of the matching C type. */
static inline void sonde_ctfw_put_int_array(struct sonde_ctfw_cursor *c,
					    const void *elems, size_t count,
					    unsigned int elem_bytes,
					    unsigned int bo)
{
	const uint8_t *src = (const uint8_t *)elems;
	size_t i;

	if (elem_bytes == 1 || bo == SONDE_CTFW_HOST_ORDER) {
		sonde_ctfw_put_bytes(c, elems, count * elem_bytes);
		return;
	}
	for (i = 0; i < count; i++) {
		uint64_t v = 0;

		switch (elem_bytes) {
		case 2: {
			uint16_t x;
			memcpy(&x, src + 2 * i, 2);
			v = x;
			break;
		}
		case 4: {
			uint32_t x;
			memcpy(&x, src + 4 * i, 4);
			v = x;
			break;
		}
		default:
			memcpy(&v, src + 8 * i, 8);
			break;
		}
		sonde_ctfw_put_int(c, v, elem_bytes, bo);
	}
}

/* LTTng event headers ----------------------------------------------------- */

enum sonde_ctfw_header_type {
	SONDE_CTFW_HEADER_COMPACT = 0, /* 5-bit id, 27-bit timestamp */
	SONDE_CTFW_HEADER_LARGE = 1,   /* 16-bit id, 32-bit timestamp */
};

/*
 * LTTng's rule (ring buffer clients, 64-bit builds): the extended form is
 * used when the id does not fit, or when more than 27 bits of clock passed
 * since `last_ts` -- the timestamp of the previous event in this buffer, or
 * of the last packet switch.  27 bits for both header types.  A timestamp
 * going backwards wraps to a huge difference and also forces extended.
 */
static inline bool
sonde_ctfw_header_needs_extended(enum sonde_ctfw_header_type t, uint32_t id,
				 uint64_t ts, uint64_t last_ts)
{
	uint32_t max_compact_id = t == SONDE_CTFW_HEADER_COMPACT ? 30 : 65534;

	return id > max_compact_id || ((ts - last_ts) >> 27) != 0;
}

/* Bytes of a header form in the x86 layout, for reserving whole events. */
static inline size_t sonde_ctfw_event_header_size(enum sonde_ctfw_header_type t,
						  bool extended)
{
	if (t == SONDE_CTFW_HEADER_COMPACT)
		return extended ? 13 : 4;
	return extended ? 14 : 6;
}

/* Exactly the bytes of the chosen form (4/13 or 6/14 bytes in the x86
 * layout; the header structs are align(8) so no padding precedes them). */
static inline void
sonde_ctfw_put_event_header_form(struct sonde_ctfw_cursor *c,
				 enum sonde_ctfw_header_type t, uint32_t id,
				 uint64_t ts, bool extended)
{
	bool be = c->byte_order == SONDE_CTF_BE;

	if (t == SONDE_CTFW_HEADER_COMPACT) {
		if (!extended) {
			uint32_t low = (uint32_t)ts & 0x7FFFFFFu;

			/* LE fills a byte from its least significant bit,
			 * BE from its most significant one (CTF 1.8 §4.1). */
			sonde_ctfw_put_u32(c,
					   be ? id << 27 | low : low << 5 | id);
			return;
		}
		sonde_ctfw_put_u8(c, be ? 31u << 3 : 31u);
	} else {
		if (!extended) {
			sonde_ctfw_put_u16(c, (uint16_t)id);
			sonde_ctfw_put_u32(c, (uint32_t)ts);
			return;
		}
		sonde_ctfw_put_u16(c, 65535u);
	}
	sonde_ctfw_put_u32(c, id);
	sonde_ctfw_put_u64(c, ts);
}

/* Encodes the header with LTTng's choice of form and advances *last_ts. */
static inline void sonde_ctfw_put_event_header(struct sonde_ctfw_cursor *c,
					       enum sonde_ctfw_header_type t,
					       uint32_t id, uint64_t ts,
					       uint64_t *last_ts)
{
	bool extended = sonde_ctfw_header_needs_extended(t, id, ts, *last_ts);

	sonde_ctfw_put_event_header_form(c, t, id, ts, extended);
	*last_ts = ts;
}

/* Packets ------------------------------------------------------------------ */

/* What goes in a packet's header and context. */
struct sonde_ctfw_packet_info {
	uint32_t stream_id;	     /* stream class id */
	uint64_t stream_instance_id; /* distinct per stream file (LTTng: CPU) */
	uint32_t cpu_id;
	uint64_t timestamp_begin; /* <= first event */
	uint64_t timestamp_end;	  /* >= last event, never 0 */
	uint64_t content_size;	  /* bytes (stored in bits) */
	uint64_t packet_size;	  /* bytes (stored in bits) */
	uint64_t packet_seq_num;
	uint64_t events_discarded; /* cumulative per stream */
};

/* Rounds a content size up to whole pages, as LTTng sizes its packets. */
static inline uint64_t sonde_ctfw_page_round(uint64_t bytes)
{
	return (bytes + SONDE_CTFW_PAGE_SIZE - 1) &
	       ~(uint64_t)(SONDE_CTFW_PAGE_SIZE - 1);
}

/*
 * Writes the packet header and context at the start of the cursor's packet
 * (the cursor is rewound to 0) and leaves the cursor at the first event.
 * Fields only known at the end (timestamp_end, sizes, events_discarded) are
 * written as given and normally patched by sonde_ctfw_packet_finish().
 */
void sonde_ctfw_packet_begin(struct sonde_ctfw_cursor *c,
			     const uint8_t uuid[16],
			     const struct sonde_ctfw_packet_info *info);

/*
 * Patches timestamp_end, content_size (= cursor position unless
 * info->content_size is non-zero), packet_size, packet_seq_num and
 * events_discarded in place, and zero-fills from content end to packet_size.
 * Fails with SONDE_EINVAL if packet_size < content or > the cursor's limit.
 */
int sonde_ctfw_packet_finish(struct sonde_ctfw_cursor *c,
			     const struct sonde_ctfw_packet_info *info,
			     struct sonde_error *err);

/* Index files (LTTng ctf-index 1.1, all big-endian) ------------------------ */

void sonde_ctfw_index_header(uint8_t out[SONDE_CTFW_INDEX_HEADER_SIZE]);
/* One entry; `offset` is the packet's byte offset in the stream file. */
void sonde_ctfw_index_entry(uint8_t out[SONDE_CTFW_INDEX_ENTRY_SIZE],
			    uint64_t offset,
			    const struct sonde_ctfw_packet_info *info);

/* ------------------------------------------------------------------------ */
/* Layer 2: trace class (metadata)                                          */

/* Byte order of one field: the trace's, or forced (network order = BE). */
enum sonde_ctfw_field_order {
	SONDE_CTFW_ORDER_NATIVE = 0,
	SONDE_CTFW_ORDER_LE = 1,
	SONDE_CTFW_ORDER_BE = 2,
};

struct sonde_ctfw_int_type {
	uint8_t size; /* bits: 8, 16, 32 or 64 */
	bool is_signed;
	uint8_t base;	  /* 10 (0 means 10), 16, 8, 2 */
	uint8_t order;	  /* enum sonde_ctfw_field_order */
	uint8_t encoding; /* enum sonde_ctf_encoding */
};

enum sonde_ctfw_field_kind {
	SONDE_CTFW_FIELD_INT,
	SONDE_CTFW_FIELD_ENUM,
	SONDE_CTFW_FIELD_FLOAT,
	SONDE_CTFW_FIELD_STRING,
	SONDE_CTFW_FIELD_ARRAY,
	SONDE_CTFW_FIELD_SEQUENCE, /* preceded by its `_<name>_length` field */
	SONDE_CTFW_FIELD_STRUCT,
};

/* Enum mapping: `lo ... hi` (lo == hi: one value); `automatic` entries take
 * the previous end + 1, as in LTTng's ctf_enum_auto. Values are stored as
 * the container's signedness says. */
struct sonde_ctfw_enum_entry {
	const char *label;
	int64_t lo, hi;
	bool automatic;
};

struct sonde_ctfw_field {
	const char *name; /* without LTTng's leading '_' (added in the TSDL) */
	enum sonde_ctfw_field_kind kind;
	struct sonde_ctfw_int_type integer; /* INT; ENUM container; ARRAY and
	                                        SEQUENCE element */
	struct sonde_ctfw_int_type length;  /* SEQUENCE length */
	uint32_t count;	    /* ARRAY length; ENUM entries; STRUCT members */
	uint8_t float_bits; /* FLOAT: 32 or 64 */
	const struct sonde_ctfw_enum_entry *entries; /* ENUM */
	const struct sonde_ctfw_field *members;	     /* STRUCT */
};

/* Field macros, after lttng-modules' ctf_integer() & co. */
#define SONDE_CTFW_INT_T(bits, sgn, b, ord, enc)                 \
	{                                                        \
		.size = (bits), .is_signed = (sgn), .base = (b), \
		.order = (ord), .encoding = (enc)                \
	}
#define SONDE_CTFW_INTEGER_FULL(n, bits, sgn, b, ord)           \
	{                                                       \
		.name = (n), .kind = SONDE_CTFW_FIELD_INT,      \
		.integer = SONDE_CTFW_INT_T(bits, sgn, b, ord,  \
					    SONDE_CTF_ENC_NONE) \
	}
#define SONDE_CTFW_INTEGER(n, bits, sgn) \
	SONDE_CTFW_INTEGER_FULL(n, bits, sgn, 10, SONDE_CTFW_ORDER_NATIVE)
#define SONDE_CTFW_INTEGER_HEX(n, bits, sgn) \
	SONDE_CTFW_INTEGER_FULL(n, bits, sgn, 16, SONDE_CTFW_ORDER_NATIVE)
#define SONDE_CTFW_INTEGER_OCT(n, bits, sgn) \
	SONDE_CTFW_INTEGER_FULL(n, bits, sgn, 8, SONDE_CTFW_ORDER_NATIVE)
#define SONDE_CTFW_INTEGER_NETWORK(n, bits, sgn) \
	SONDE_CTFW_INTEGER_FULL(n, bits, sgn, 10, SONDE_CTFW_ORDER_BE)
#define SONDE_CTFW_INTEGER_NETWORK_HEX(n, bits, sgn) \
	SONDE_CTFW_INTEGER_FULL(n, bits, sgn, 16, SONDE_CTFW_ORDER_BE)
#define SONDE_CTFW_ARRAY(n, bits, sgn, len)                                  \
	{                                                                    \
		.name = (n), .kind = SONDE_CTFW_FIELD_ARRAY, .count = (len), \
		.integer = SONDE_CTFW_INT_T(bits, sgn, 10,                   \
					    SONDE_CTFW_ORDER_NATIVE,         \
					    SONDE_CTF_ENC_NONE)              \
	}
#define SONDE_CTFW_ARRAY_TEXT(n, len)                                        \
	{                                                                    \
		.name = (n), .kind = SONDE_CTFW_FIELD_ARRAY, .count = (len), \
		.integer = SONDE_CTFW_INT_T(8, false, 10,                    \
					    SONDE_CTFW_ORDER_NATIVE,         \
					    SONDE_CTF_ENC_UTF8)              \
	}
#define SONDE_CTFW_SEQUENCE(n, bits, sgn, len_bits)                  \
	{                                                            \
		.name = (n), .kind = SONDE_CTFW_FIELD_SEQUENCE,      \
		.integer = SONDE_CTFW_INT_T(bits, sgn, 10,           \
					    SONDE_CTFW_ORDER_NATIVE, \
					    SONDE_CTF_ENC_NONE),     \
		.length = SONDE_CTFW_INT_T(len_bits, false, 10,      \
					   SONDE_CTFW_ORDER_NATIVE,  \
					   SONDE_CTF_ENC_NONE)       \
	}
#define SONDE_CTFW_SEQUENCE_TEXT(n, len_bits)                                  \
	{                                                                      \
		.name = (n), .kind = SONDE_CTFW_FIELD_SEQUENCE,                \
		.integer =                                                     \
			SONDE_CTFW_INT_T(8, true, 10, SONDE_CTFW_ORDER_NATIVE, \
					 SONDE_CTF_ENC_UTF8),                  \
		.length = SONDE_CTFW_INT_T(len_bits, false, 10,                \
					   SONDE_CTFW_ORDER_NATIVE,            \
					   SONDE_CTF_ENC_NONE)                 \
	}
#define SONDE_CTFW_STRING(n)                                 \
	{                                                    \
		.name = (n), .kind = SONDE_CTFW_FIELD_STRING \
	}
#define SONDE_CTFW_ENUM(n, bits, sgn, ents, nents)                            \
	{                                                                     \
		.name = (n), .kind = SONDE_CTFW_FIELD_ENUM, .count = (nents), \
		.entries = (ents),                                            \
		.integer = SONDE_CTFW_INT_T(bits, sgn, 10,                    \
					    SONDE_CTFW_ORDER_NATIVE,          \
					    SONDE_CTF_ENC_NONE)               \
	}
#define SONDE_CTFW_FLOAT(n)                                                   \
	{                                                                     \
		.name = (n), .kind = SONDE_CTFW_FIELD_FLOAT, .float_bits = 32 \
	}
#define SONDE_CTFW_DOUBLE(n)                                                  \
	{                                                                     \
		.name = (n), .kind = SONDE_CTFW_FIELD_FLOAT, .float_bits = 64 \
	}
#define SONDE_CTFW_STRUCT(n, mems, nmems)                     \
	{                                                     \
		.name = (n), .kind = SONDE_CTFW_FIELD_STRUCT, \
		.members = (mems), .count = (nmems)           \
	}

struct sonde_ctfw_trace_class;

struct sonde_ctfw_trace_opts {
	enum sonde_ctf_byte_order byte_order;
	const uint8_t *uuid; /* NULL: random (getrandom) */
	/* Clock "monotonic", freq 1 GHz. */
	const uint8_t
		*clock_uuid; /* NULL: the boot id; omitted if unreadable */
	bool has_clock_offset;
	int64_t clock_offset; /* else CLOCK_REALTIME - CLOCK_MONOTONIC now */
};

int sonde_ctfw_trace_class_create(const struct sonde_ctfw_trace_opts *opts,
				  struct sonde_ctfw_trace_class **out,
				  struct sonde_error *err);
void sonde_ctfw_trace_class_free(struct sonde_ctfw_trace_class *tc);

/*
 * env entries.  They belong to the preamble, so they must be added before
 * the first stream class (SONDE_EINVAL afterwards).
 */
int sonde_ctfw_env_add_string(struct sonde_ctfw_trace_class *tc,
			      const char *key, const char *value,
			      struct sonde_error *err);
int sonde_ctfw_env_add_int(struct sonde_ctfw_trace_class *tc, const char *key,
			   int64_t value, struct sonde_error *err);
/* The env of an lttng-modules 2.13 kernel trace (hostname and kernel
 * strings from uname(2)); `trace_name` may be NULL (""). */
int sonde_ctfw_env_add_lttng_kernel(struct sonde_ctfw_trace_class *tc,
				    const char *trace_name,
				    struct sonde_error *err);

/* The env of an lttng-ust 2.13 per-UID trace (lttng-tools 2.13, 64-bit):
 * buffering id = getuid(), hostname from uname(2). */
int sonde_ctfw_env_add_lttng_ust(struct sonde_ctfw_trace_class *tc,
				 const char *trace_name,
				 struct sonde_error *err);
/* Per-PID buffers: the process's trace.  Readers show `procname` and
 * `vpid` after the hostname.  `vpid_datetime` (the app's registration time,
 * ISO 8601 basic) may be NULL: now. */
int sonde_ctfw_env_add_lttng_ust_pid(struct sonde_ctfw_trace_class *tc,
				     const char *trace_name, int64_t pid,
				     const char *procname,
				     const char *vpid_datetime,
				     struct sonde_error *err);

/* Adds `stream { id = N; ... }`, ids 0, 1, ... in call order. `context` is
 * the stream event context (NULL/0 for none). */
int sonde_ctfw_stream_class_add(struct sonde_ctfw_trace_class *tc,
				enum sonde_ctfw_header_type header,
				const struct sonde_ctfw_field *context,
				size_t context_count, uint32_t *id,
				struct sonde_error *err);

/* Adds an `event { ... }`; ids are 0, 1, ... per stream class.  `loglevel`
 * < 0 omits it (kernel), else it is written (UST). */
int sonde_ctfw_event_class_add(struct sonde_ctfw_trace_class *tc,
			       uint32_t stream_class_id, const char *name,
			       int loglevel,
			       const struct sonde_ctfw_field *fields,
			       size_t field_count, uint32_t *id,
			       struct sonde_error *err);

enum sonde_ctf_byte_order
sonde_ctfw_trace_class_byte_order(const struct sonde_ctfw_trace_class *tc);
const uint8_t *
sonde_ctfw_trace_class_uuid(const struct sonde_ctfw_trace_class *tc);
/* SONDE_EINVAL if the stream class does not exist. */
int sonde_ctfw_trace_class_header_type(const struct sonde_ctfw_trace_class *tc,
				       uint32_t stream_class_id,
				       enum sonde_ctfw_header_type *type);
uint32_t
sonde_ctfw_trace_class_event_count(const struct sonde_ctfw_trace_class *tc,
				   uint32_t stream_class_id);

/* The whole TSDL text so far (starts with "/ * CTF 1.8 * /"); it only grows. */
const char *sonde_ctfw_metadata_text(const struct sonde_ctfw_trace_class *tc,
				     size_t *len);

/*
 * One metadata packet holding text[text_offset ...]: fills `out` (4096
 * bytes, zero padded) and returns how many text bytes it took (0 when
 * text_offset is at the end of the text).
 */
size_t sonde_ctfw_metadata_packet(const struct sonde_ctfw_trace_class *tc,
				  size_t text_offset,
				  uint8_t out[SONDE_CTFW_METADATA_PACKET_SIZE]);

/* ------------------------------------------------------------------------ */
/* Layer 3: trace directory and stream files                                */

struct sonde_ctfw_writer;
struct sonde_ctfw_stream;

struct sonde_ctfw_writer_opts {
	bool plain_metadata; /* default: packetized, like LTTng */
	bool no_index;	     /* default: write index/<stream>.idx */
	bool allow_existing; /* write into a non-empty directory */
};

/* Creates `dir` (and parents) if needed.  A non-empty directory is refused
 * unless opts->allow_existing: stale stream files there would be read as
 * part of the new trace.  The trace class is borrowed and
 * must outlive the writer; event classes may be added while writing, then
 * published with sonde_ctfw_writer_flush_metadata(). */
int sonde_ctfw_writer_open(const char *dir, struct sonde_ctfw_trace_class *tc,
			   const struct sonde_ctfw_writer_opts *opts,
			   struct sonde_ctfw_writer **out,
			   struct sonde_error *err);
/* Appends the metadata text added since the last flush to the file. */
int sonde_ctfw_writer_flush_metadata(struct sonde_ctfw_writer *w,
				     struct sonde_error *err);
/* Flushes the metadata and frees the writer (close its streams first). */
int sonde_ctfw_writer_close(struct sonde_ctfw_writer *w,
			    struct sonde_error *err);

/* A stream is not thread-safe: one writer thread per stream (per CPU), as
 * with per-CPU ring buffers. */
struct sonde_ctfw_stream_opts {
	uint32_t stream_class_id;
	uint32_t cpu_id;	  /* also stream_instance_id */
	size_t packet_size;	  /* bytes, rounded up to pages; 0: 256 KiB */
	const char *channel_name; /* file "<channel>_<cpu>"; NULL: "channel0" */
	uint64_t first_seq_num;
};

int sonde_ctfw_stream_open(struct sonde_ctfw_writer *w,
			   const struct sonde_ctfw_stream_opts *opts,
			   struct sonde_ctfw_stream **out,
			   struct sonde_error *err);

/*
 * Starts an event: writes its header and returns the cursor to serialize
 * the stream event context and payload with.  Timestamps must not decrease
 * within a stream (SONDE_EINVAL).  Nothing is visible until commit.
 */
int sonde_ctfw_stream_event_begin(struct sonde_ctfw_stream *s, uint32_t id,
				  uint64_t ts, struct sonde_ctfw_cursor **c,
				  struct sonde_error *err);
/* Ends the event; switches packets when it did not fit (the event moves to
 * the next packet).  SONDE_EINVAL if the event is larger than a packet. */
int sonde_ctfw_stream_event_commit(struct sonde_ctfw_stream *s,
				   struct sonde_error *err);

/* Counts `n` events as discarded (reported in the current packet). */
void sonde_ctfw_stream_discard_events(struct sonde_ctfw_stream *s, uint64_t n);
/* Closes the current packet if it has events and skips `n` packet sequence
 * numbers, as a flight-recorder buffer that overwrote `n` packets. */
int sonde_ctfw_stream_lose_packets(struct sonde_ctfw_stream *s, uint64_t n,
				   struct sonde_error *err);

struct sonde_ctfw_stream_stats {
	uint64_t events, packets, events_discarded, packets_lost, bytes;
};
void sonde_ctfw_stream_stats(const struct sonde_ctfw_stream *s,
			     struct sonde_ctfw_stream_stats *st);

/* Writes the last packet (timestamp_end = max(ts_end, last event)) and the
 * index, closes the files and frees the stream.  `final` (may be NULL)
 * receives the stream's statistics including that last packet. */
int sonde_ctfw_stream_close(struct sonde_ctfw_stream *s, uint64_t ts_end,
			    struct sonde_ctfw_stream_stats *final,
			    struct sonde_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SONDE_CTF_WRITER_H */
