/*
 * Unit tests of the stream decoder: bit packing in both byte orders,
 * alignment, sequences, variants, clock reconstruction, lost data, packet
 * bounds and malformed input, on hand-built type models and packets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/stream/stream.h"
#include "helpers/ctf-build.h"
#include "helpers/tap.h"

static struct sonde_arena arena;

/* Reference bit writer, one bit at a time (independent of the decoder). */
static void put_bits(uint8_t *buf, uint64_t pos, unsigned size, uint64_t v,
		     bool be)
{
	unsigned k;

	for (k = 0; k < size; k++) {
		uint64_t bit = be ? (v >> (size - 1 - k)) & 1 : (v >> k) & 1;
		uint64_t at = pos + k;
		unsigned shift = be ? 7 - (unsigned)(at % 8) : (unsigned)(at % 8);

		if (bit)
			buf[at / 8] |= (uint8_t)(1u << shift);
		else
			buf[at / 8] &= (uint8_t)~(1u << shift);
	}
}

/* A trace class whose packet header is `scope`: enough to run one scope. */
static struct sonde_ctf_trace_class *scope_class(const struct sonde_ctf_type *scope,
						 uint32_t slots)
{
	struct sonde_ctf_trace_class *tc = sonde_arena_alloc(&arena, sizeof(*tc));

	tc->major = 1;
	tc->minor = 8;
	tc->packet_header = scope;
	tc->slot_count = slots;
	return tc;
}

struct scope_run {
	struct dec_codec *codec;
	struct dec_state st;
	int ret;
};

static int run_scope(struct scope_run *r, const struct sonde_ctf_type *scope,
		     uint32_t slots, const uint8_t *buf, size_t len)
{
	struct sonde_error err;

	memset(r, 0, sizeof(*r));
	if (dec_codec_create(scope_class(scope, slots), &r->codec, &err))
		return -100;
	if (dec_state_init(&r->st, r->codec))
		return -101;
	r->st.buf = buf;
	r->st.limit = (uint64_t)len * 8;
	r->ret = dec_run(&r->st, r->codec->packet_header);
	return r->ret;
}

static void end_scope(struct scope_run *r)
{
	dec_state_fini(&r->st);
	dec_codec_free(r->codec);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_bit_packing_examples(void)
{
	/* The LTTng compact header word read in both byte orders (ctf.md §1.4). */
	const struct sonde_ctf_type *le = tb_struct(&arena, 8, 2,
		"id", tb_int(&arena, 5, 1, false, SONDE_CTF_LE),
		"timestamp", tb_int(&arena, 27, 1, false, SONDE_CTF_LE));
	const struct sonde_ctf_type *be = tb_struct(&arena, 8, 2,
		"id", tb_int(&arena, 5, 1, false, SONDE_CTF_BE),
		"timestamp", tb_int(&arena, 27, 1, false, SONDE_CTF_BE));
	uint32_t w = (0x123456u << 5) | 17;
	uint8_t le_bytes[4] = { w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, w >> 24 };
	uint32_t wb = (17u << 27) | 0x123456;
	uint8_t be_bytes[4] = { wb >> 24, (wb >> 16) & 0xff, (wb >> 8) & 0xff, wb & 0xff };
	struct scope_run r;

	is_int(run_scope(&r, le, 0, le_bytes, 4), 0, "LE compact header decodes");
	is_int(r.st.tape[1].v.u, 17, "LE: id = w & 0x1f");
	is_int(r.st.tape[2].v.u, 0x123456, "LE: timestamp = w >> 5");
	is_int(r.st.pos, 32, "LE: 32 bits consumed");
	end_scope(&r);
	is_int(run_scope(&r, be, 0, be_bytes, 4), 0, "BE compact header decodes");
	is_int(r.st.tape[1].v.u, 17, "BE: id = w >> 27");
	is_int(r.st.tape[2].v.u, 0x123456, "BE: timestamp = w & 0x7ffffff");
	end_scope(&r);

	/* Signed 3-bit -1 and 7-bit -50, LE, then a 16-bit BE value. */
	{
		const struct sonde_ctf_type *s = tb_struct(&arena, 1, 3,
			"a", tb_int(&arena, 3, 1, true, SONDE_CTF_LE),
			"b", tb_int(&arena, 7, 1, true, SONDE_CTF_LE),
			"c", tb_int(&arena, 16, 8, false, SONDE_CTF_BE));
		uint8_t bytes[4] = { 0 };

		put_bits(bytes, 0, 3, 7, false);
		put_bits(bytes, 3, 7, (uint64_t)-50 & 0x7f, false);
		bytes[2] = 0xAB;
		bytes[3] = 0xCD;
		is_int(run_scope(&r, s, 0, bytes, 4), 0, "signed fields decode");
		is_int(r.st.tape[1].v.s, -1, "3-bit signed -1 sign-extended");
		is_int(r.st.tape[2].v.s, -50, "7-bit signed -50 sign-extended");
		is_int(r.st.tape[3].v.u, 0xABCD, "16-bit BE after alignment to byte 2");
		end_scope(&r);
	}
}

static void test_bit_packing_random(void)
{
	int round, bad = 0;

	for (round = 0; round < 400; round++) {
		bool be = round & 1;
		unsigned n = 1 + rnd() % 12, i;
		struct sonde_ctf_type *st;
		struct sonde_ctf_field_decl *f;
		uint64_t want[12], pos = rnd() % 8;
		uint8_t buf[128];
		struct scope_run r;

		memset(buf, 0xA5, sizeof(buf));
		st = tb_new(&arena, SONDE_CTF_STRUCT, 1);
		f = sonde_arena_alloc(&arena, n * sizeof(*f));
		/* A leading pad field makes the first field start mid-byte. */
		f[0].name = "pad";
		f[0].type = tb_int(&arena, (uint32_t)(pos ? pos : 1), 1, false,
				   be ? SONDE_CTF_BE : SONDE_CTF_LE);
		f[0].slot = -1;
		pos = pos ? pos : 1;
		want[0] = rnd() & ((1ull << pos) - 1);
		put_bits(buf, 0, (unsigned)pos, want[0], be);
		for (i = 1; i < n; i++) {
			unsigned size = 1 + rnd() % 64;
			bool sgn = rnd() & 1;
			uint64_t v = rnd();

			if (size < 64)
				v &= (1ull << size) - 1;
			f[i].name = "f";
			f[i].type = tb_int(&arena, size, 1, sgn,
					   be ? SONDE_CTF_BE : SONDE_CTF_LE);
			f[i].slot = -1;
			put_bits(buf, pos, size, v, be);
			if (sgn && size < 64 && (v >> (size - 1)) & 1)
				v |= ~0ull << size;
			want[i] = v;
			pos += size;
		}
		st->u.structure.count = n;
		st->u.structure.fields = f;
		if (run_scope(&r, st, 0, buf, (pos + 7) / 8)) {
			bad++;
		} else {
			for (i = 0; i < n; i++)
				if (r.st.tape[1 + i].v.u != want[i])
					bad++;
			if (r.st.pos != pos)
				bad++;
		}
		end_scope(&r);
	}
	is_int(bad, 0, "400 random LE/BE bit-packed structs (sizes 1..64) decode exactly");
}

static void test_alignment_and_floats(void)
{
	const struct sonde_ctf_type *u8 = tb_int(&arena, 8, 8, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *u32a = tb_int(&arena, 32, 32, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *s = tb_struct(&arena, 8, 5,
		"a", u8,
		"b", u32a,
		"empty", tb_array(&arena, tb_int(&arena, 32, 64, false, SONDE_CTF_LE), 0, false),
		"d", tb_float(&arena, 11, 53, 8, SONDE_CTF_LE),
		"f", tb_float(&arena, 8, 24, 8, SONDE_CTF_BE));
	struct bbuf b = { 0 };
	struct scope_run r;
	double d = 3.25;
	float fl = -1.5f;
	uint32_t fb;
	uint64_t db;

	bb_le(&b, 0x11, 1);
	bb_zero(&b, 3);
	bb_le(&b, 0xDEADBEEF, 4);
	/* empty array aligned on 64: we are at byte 8 already */
	memcpy(&db, &d, 8);
	bb_le(&b, db, 8);
	memcpy(&fb, &fl, 4);
	bb_le(&b, __builtin_bswap32(fb), 4);
	is_int(run_scope(&r, s, 0, b.p, b.len), 0, "aligned struct decodes");
	is_int(r.st.tape[2].v.u, 0xDEADBEEF, "u32 aligned to 32 bits skips padding");
	is_int(r.st.tape[3].v.count, 0, "empty array has no element");
	ok(r.st.tape[4].v.d == 3.25, "LE double");
	ok(r.st.tape[5].v.d == -1.5, "BE float");
	is_int(r.st.pos, 160, "all 20 bytes consumed");
	end_scope(&r);

	/* A zero-length array still aligns (ctf.md §1.4). */
	{
		const struct sonde_ctf_type *s2 = tb_struct(&arena, 8, 3,
			"a", u8,
			"empty", tb_array(&arena, u32a, 0, false),
			"c", u8);
		uint8_t bytes[5] = { 1, 0xff, 0xff, 0xff, 9 };

		is_int(run_scope(&r, s2, 0, bytes, 5), 0, "zero-length aligned array");
		is_int(r.st.tape[3].v.u, 9, "field after an empty align-32 array is at byte 4");
		end_scope(&r);
	}
	free(b.p);
}

/* The fixed-struct fast path against the generic ops, all member kinds. */
static void test_fixed_struct(void)
{
	const struct sonde_ctf_type *s = tb_struct(&arena, 8, 7,
		"a", tb_int(&arena, 8, 8, false, SONDE_CTF_LE),
		"b", tb_int(&arena, 16, 8, true, SONDE_CTF_LE),
		"c", tb_float(&arena, 8, 24, 8, SONDE_CTF_LE),
		"d", tb_array(&arena, tb_int(&arena, 8, 8, false, SONDE_CTF_LE), 3, true),
		"e", tb_int(&arena, 64, 8, true, SONDE_CTF_LE),
		"f", tb_float(&arena, 11, 53, 8, SONDE_CTF_LE),
		"g", tb_int(&arena, 32, 8, true, SONDE_CTF_LE));
	struct dec_codec *fast, *generic;
	struct dec_state sf, sg;
	struct sonde_error err;
	uint8_t buf[64];
	size_t len = 1 + 2 + 4 + 3 + 8 + 8 + 4;
	int i, same = 1;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(0x9d * i + 0x80);
	ok(!dec_codec_create_ex(scope_class(s, 0), false, &fast, &err) &&
	   !dec_codec_create_ex(scope_class(s, 0), true, &generic, &err),
	   "codecs with and without fast paths");
	is_int(fast->ops[fast->packet_header].code, DEC_OP_STRUCT_FIXED,
	       "the struct compiles to one fixed op");
	/* Once with room to load whole words, once right at the end. */
	for (i = 0; i < 2; i++) {
		uint32_t k;

		dec_state_init(&sf, fast);
		dec_state_init(&sg, generic);
		sf.buf = sg.buf = buf;
		sf.limit = sg.limit = len * 8;
		sf.readable = i ? len * 8 : sizeof(buf) * 8;
		if (dec_run(&sf, fast->packet_header) ||
		    dec_run(&sg, generic->packet_header) || sf.len != sg.len ||
		    sf.pos != sg.pos)
			same = 0;
		for (k = 0; same && k < sf.len; k++)
			if (sf.tape[k].type != sg.tape[k].type ||
			    sf.tape[k].end != sg.tape[k].end ||
			    (k == 4 ? sf.tape[k].v.str.ptr != sg.tape[k].v.str.ptr ||
				      sf.tape[k].v.str.len != sg.tape[k].v.str.len :
			     memcmp(&sf.tape[k].v.u, &sg.tape[k].v.u, 8) != 0))
				same = 0;
		dec_state_fini(&sf);
		dec_state_fini(&sg);
	}
	ok(same, "fixed struct decodes like the generic ops (word loads and tail)");
	dec_codec_free(fast);
	dec_codec_free(generic);
}

static void test_sequences_variants(void)
{
	const struct sonde_ctf_type *u8 = tb_int(&arena, 8, 8, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *u16 = tb_int(&arena, 16, 8, false, SONDE_CTF_LE);
	static const char *const labels[] = { "_num", "_str" };
	static const int64_t lo[] = { 0, 5 }, hi[] = { 4, 9 };
	const struct sonde_ctf_type *tag = tb_enum(&arena, u8, 2, labels, lo, hi);
	struct sonde_ctf_type *s = tb_struct(&arena, 8, 6,
		"_len", u8,
		"_seq", tb_sequence(&arena, u16, 0, false),
		"_tag", tag,
		"_v", tb_variant(&arena, tag, 1, 2, "_num", u16, "_str", tb_string(&arena)),
		"_tlen", u8,
		"_text", tb_sequence(&arena, tb_int(&arena, 8, 8, false, SONDE_CTF_LE), 2, true));
	struct bbuf b = { 0 };
	struct scope_run r;
	int32_t m;

	((struct sonde_ctf_type *)s->u.structure.fields[5].type)->u.sequence.is_text = true;
	tb_field(s, 0)->slot = 0;
	tb_field(s, 2)->slot = 1;
	tb_field(s, 4)->slot = 2;
	bb_le(&b, 3, 1);
	bb_le(&b, 100, 2);
	bb_le(&b, 200, 2);
	bb_le(&b, 300, 2);
	bb_le(&b, 7, 1);        /* tag 7 -> _str */
	bb_put(&b, "hi", 3);
	bb_le(&b, 4, 1);
	bb_put(&b, "ab\0d", 4);
	is_int(run_scope(&r, s, 3, b.p, b.len), 0, "sequence + variant decode");
	is_int(r.st.tape[2].v.count, 3, "sequence has 3 elements");
	is_int(r.st.tape[5].v.u, 300, "third element");
	is_int(r.st.tape[2].end, 6, "sequence node's end skips its elements");
	is_int(r.st.tape[7].v.option, 1, "tag 7 selects option _str");
	is_str(r.st.tape[8].v.str.ptr, "hi", "string option");
	is_int(r.st.tape[10].v.str.len, 4, "text sequence is one node of 4 bytes");
	is_int(r.st.tape[0].end, 11, "struct end");
	m = sonde_ctf_value_struct_member(r.st.tape, 0, "tlen");
	is_int(m, 9, "member lookup by displayed name");
	m = sonde_ctf_value_struct_member(r.st.tape, 0, "_v");
	is_int(m, 7, "member lookup by written name");
	is_int(sonde_ctf_value_struct_member(r.st.tape, 0, "nope"), -1, "missing member");
	end_scope(&r);

	/* Tag value 12 maps to no option. */
	b.p[7] = 12;
	ok(run_scope(&r, s, 3, b.p, b.len) == SONDE_EFORMAT, "unknown tag value fails");
	ok(strstr(r.st.what, "selects no option") != NULL, "error names the variant problem");
	end_scope(&r);

	/* Absurd sequence length fails cleanly. */
	b.p[0] = 255;
	ok(run_scope(&r, s, 3, b.p, b.len) == SONDE_EFORMAT, "sequence longer than the content fails");
	end_scope(&r);

	/* Sequence of empty structs with a huge length hits the tape bound. */
	{
		const struct sonde_ctf_type *u64 = tb_int(&arena, 64, 8, false, SONDE_CTF_LE);
		struct sonde_ctf_type *s2 = tb_struct(&arena, 8, 2, "n", u64,
			"e", tb_sequence(&arena, tb_struct(&arena, 1, 0), 0, false));
		uint8_t bytes[8];

		tb_field(s2, 0)->slot = 0;
		memset(bytes, 0xff, 8);
		ok(run_scope(&r, s2, 1, bytes, 8) == SONDE_EFORMAT,
		   "2^64-1 empty structs fail instead of exhausting memory");
		end_scope(&r);
	}

	/* Strings must end before the content end. */
	{
		const struct sonde_ctf_type *s3 = tb_struct(&arena, 8, 1, "s", tb_string(&arena));

		ok(run_scope(&r, s3, 0, (const uint8_t *)"abc", 3) == SONDE_EFORMAT,
		   "unterminated string fails");
		end_scope(&r);
	}
	free(b.p);
}

/* ---- whole streams: packets, clock, lost data, merge ------------------- */

struct lttng_like {
	struct sonde_ctf_trace_class *tc;
	struct sonde_ctf_clock clock;
};

/*
 * header { u32 magic; u8 stream_id; u8 instance }
 * context { u64 ts_begin; u64 ts_end; u16 content_size; u16 packet_size;
 *           u8 events_discarded; u8 packet_seq_num }
 * event header { u8 id; u8 ts (8-bit clock) }, event 0: { u8 x }, event 1: {}
 */
static void make_class(struct lttng_like *l)
{
	const struct sonde_ctf_type *u8 = tb_int(&arena, 8, 8, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *u16 = tb_int(&arena, 16, 8, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *u32 = tb_int(&arena, 32, 8, false, SONDE_CTF_LE);
	const struct sonde_ctf_type *ts64 = tb_clock_int(&arena, 64, 8, &l->clock);
	const struct sonde_ctf_type *ts8 = tb_clock_int(&arena, 8, 8, &l->clock);
	struct sonde_ctf_type *hdr, *ctx, *evh;
	struct sonde_ctf_stream_class *sc;
	struct sonde_ctf_event_class **ecs;
	const struct sonde_ctf_stream_class **scs;
	struct sonde_ctf_trace_class *tc;

	memset(&l->clock, 0, sizeof(l->clock));
	l->clock.name = "monotonic";
	l->clock.freq = 1000000000;
	l->clock.offset_s = 10;
	hdr = tb_struct(&arena, 8, 3, "magic", u32, "stream_id", u8,
			"stream_instance_id", u8);
	tb_field(hdr, 0)->role = SONDE_CTF_ROLE_MAGIC;
	tb_field(hdr, 1)->role = SONDE_CTF_ROLE_STREAM_ID;
	tb_field(hdr, 2)->role = SONDE_CTF_ROLE_STREAM_INSTANCE_ID;
	ctx = tb_struct(&arena, 8, 6, "timestamp_begin", ts64, "timestamp_end", ts64,
			"content_size", u16, "packet_size", u16,
			"events_discarded", u8, "packet_seq_num", u8);
	tb_field(ctx, 0)->role = SONDE_CTF_ROLE_TIMESTAMP_BEGIN;
	tb_field(ctx, 1)->role = SONDE_CTF_ROLE_TIMESTAMP_END;
	tb_field(ctx, 2)->role = SONDE_CTF_ROLE_CONTENT_SIZE;
	tb_field(ctx, 3)->role = SONDE_CTF_ROLE_PACKET_SIZE;
	tb_field(ctx, 4)->role = SONDE_CTF_ROLE_EVENTS_DISCARDED;
	tb_field(ctx, 5)->role = SONDE_CTF_ROLE_PACKET_SEQ_NUM;
	evh = tb_struct(&arena, 8, 2, "id", u8, "timestamp", ts8);
	tb_field(evh, 0)->role = SONDE_CTF_ROLE_EVENT_ID;

	ecs = sonde_arena_alloc(&arena, 2 * sizeof(*ecs));
	ecs[0] = sonde_arena_alloc(&arena, sizeof(**ecs));
	ecs[0]->id = 0;
	ecs[0]->name = "ev";
	ecs[0]->fields = tb_struct(&arena, 8, 1, "_x", u8);
	ecs[1] = sonde_arena_alloc(&arena, sizeof(**ecs));
	ecs[1]->id = 1;
	ecs[1]->name = "empty";
	ecs[1]->fields = tb_struct(&arena, 8, 0);
	sc = sonde_arena_alloc(&arena, sizeof(*sc));
	sc->id = 0;
	sc->packet_context = ctx;
	sc->event_header = evh;
	sc->clock = &l->clock;
	sc->event_class_count = 2;
	sc->event_classes = (const struct sonde_ctf_event_class *const *)ecs;
	scs = sonde_arena_alloc(&arena, sizeof(*scs));
	scs[0] = sc;
	tc = sonde_arena_alloc(&arena, sizeof(*tc));
	tc->major = 1;
	tc->minor = 8;
	tc->packet_header = hdr;
	tc->stream_class_count = 1;
	tc->stream_classes = (const struct sonde_ctf_stream_class *const *)scs;
	l->tc = tc;
}


/* Starts a packet; returns its offset. Sizes are patched by end_packet. */
static size_t begin_packet(struct bbuf *b, uint8_t instance, uint64_t ts_begin,
			   uint64_t ts_end, uint8_t disc, uint8_t seq)
{
	size_t off = b->len;

	bb_le(b, 0xC1FC1FC1, 4);
	bb_le(b, 0, 1);
	bb_le(b, instance, 1);
	bb_le(b, ts_begin, 8);
	bb_le(b, ts_end, 8);
	bb_le(b, 0, 2);
	bb_le(b, 0, 2);
	bb_le(b, disc, 1);
	bb_le(b, seq, 1);
	return off;
}

static void end_packet(struct bbuf *b, size_t off, size_t padding)
{
	size_t content = b->len - off;

	bb_set_le(b, off + 22, content * 8, 2);
	bb_set_le(b, off + 24, (content + padding) * 8, 2);
	while (padding--)
		bb_le(b, 0xEE, 1);  /* garbage padding must be ignored */
}

static void event(struct bbuf *b, uint8_t ts, uint8_t x)
{
	bb_le(b, 0, 1);
	bb_le(b, ts, 1);
	bb_le(b, x, 1);
}

struct collected {
	int events, disc_events, disc_packets;
	uint64_t cycles[64];
	uint8_t xs[64];
	uint64_t instance[64];
	uint64_t disc_counts[8], pkt_counts[8];
	uint64_t disc_begin[8], disc_end[8];
	char err[SONDE_ERROR_MSG_MAX];
	int status;
};

static void collect_order(struct sonde_ctf_trace_set *set, struct collected *c,
			  enum sonde_ctf_merge_order order)
{
	struct sonde_ctf_iter *it;
	const struct sonde_ctf_msg *m;
	struct sonde_error err = { 0 };
	int ret;

	memset(c, 0, sizeof(*c));
	if (sonde_ctf_iter_create(set, &it, &err) ||
	    sonde_ctf_iter_set_order(it, order)) {
		c->status = -99;
		return;
	}
	while ((ret = sonde_ctf_iter_next(it, &m, &err)) > 0) {
		if (m->kind == SONDE_CTF_MSG_EVENT) {
			const struct sonde_ctf_event *e = m->event;

			if (c->events < 64) {
				c->cycles[c->events] = e->cycles;
				c->xs[c->events] = e->payload >= 0 &&
					e->values[e->payload].v.count ?
					(uint8_t)e->values[e->payload + 1].v.u : 0xFF;
				c->instance[c->events] =
					sonde_ctf_stream_instance_id(e->stream);
			}
			c->events++;
		} else if (m->kind == SONDE_CTF_MSG_DISCARDED_EVENTS) {
			if (c->disc_events < 8) {
				c->disc_counts[c->disc_events] = m->count;
				c->disc_begin[c->disc_events] = m->begin_cycles;
				c->disc_end[c->disc_events] = m->end_cycles;
			}
			c->disc_events++;
		} else {
			if (c->disc_packets < 8)
				c->pkt_counts[c->disc_packets] = m->count;
			c->disc_packets++;
		}
	}
	c->status = ret;
	if (ret < 0)
		snprintf(c->err, sizeof(c->err), "%s", err.msg);
	sonde_ctf_iter_free(it);
}

static void collect(struct sonde_ctf_trace_set *set, struct collected *c)
{
	collect_order(set, c, SONDE_CTF_ORDER_BABELTRACE2);
}

/* Builds a set with one trace over the given stream buffers. */
static struct sonde_ctf_trace_set *make_set(struct lttng_like *l,
					    struct bbuf *streams, size_t n)
{
	struct sonde_ctf_trace_set *set;
	struct sonde_ctf_trace *trace;
	struct sonde_error err;
	char name[32];
	size_t i;

	if (trace_set_create(&set, &err))
		return NULL;
	if (trace_create("mem", l->tc, NULL, &trace, &err)) {
		sonde_ctf_trace_set_free(set);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "mem/stream%zu", i);
		if (trace_add_stream(trace, name, streams[i].p, streams[i].len, &err)) {
			trace_free(trace);
			sonde_ctf_trace_set_free(set);
			return NULL;
		}
	}
	if (trace_set_add(set, trace, &err)) {
		sonde_ctf_trace_set_free(set);
		return NULL;
	}
	return set;
}

static void test_clock_and_lost_data(void)
{
	struct lttng_like l;
	struct bbuf b = { 0 };
	struct sonde_ctf_trace_set *set;
	struct collected c;
	size_t off;

	make_class(&l);
	/* packet 0: begin 0x1F0, events at low bytes 0xF8, 0x05 (wrap), 0x10 */
	off = begin_packet(&b, 0, 0x1F0, 0x310, 0, 0);
	event(&b, 0xF8, 1);
	event(&b, 0x05, 2);
	event(&b, 0x10, 3);
	end_packet(&b, off, 7);
	/* packet 1: events_discarded 3, seq 1 */
	off = begin_packet(&b, 0, 0x400, 0x500, 3, 1);
	event(&b, 0x01, 4);
	end_packet(&b, off, 0);
	/* packet 2: counter wraps at 8 bits (3 -> 1 = 254 lost), seq 4: 2 lost */
	off = begin_packet(&b, 0, 0x600, 0x700, 1, 4);
	event(&b, 0x10, 5);
	end_packet(&b, off, 3);
	/* packet 3: empty */
	off = begin_packet(&b, 0, 0x800, 0x800, 1, 5);
	end_packet(&b, off, 0);

	set = make_set(&l, &b, 1);
	ok(set != NULL, "in-memory trace set");
	collect(set, &c);
	is_int(c.status, 0, "stream decodes to the end");
	is_int(c.events, 5, "5 events");
	is_int(c.cycles[0], 0x1F8, "8-bit clock extends timestamp_begin");
	is_int(c.cycles[1], 0x205, "8-bit clock wraps once");
	is_int(c.cycles[2], 0x210, "then continues");
	is_int(c.cycles[3], 0x401, "timestamp_begin resets the clock per packet");
	is_int(c.xs[4], 5, "payload of the last event");
	is_int(c.disc_events, 2, "two discarded-events notices");
	is_int(c.disc_counts[0], 3, "3 events lost before packet 1");
	is_int(c.disc_begin[0], 0x310, "range starts at the previous packet end");
	is_int(c.disc_end[0], 0x500, "range ends at this packet's end");
	is_int(c.disc_counts[1], 254, "8-bit counter wrap: 254 lost");
	is_int(c.disc_packets, 1, "one discarded-packets notice");
	is_int(c.pkt_counts[0], 2, "2 packets lost between seq 1 and 4");
	sonde_ctf_trace_set_free(set);
	free(b.p);
}

static void test_merge_order(void)
{
	struct lttng_like l;
	struct bbuf s[3] = { { 0 } };
	struct sonde_ctf_trace_set *set;
	struct collected c;
	size_t off;

	make_class(&l);
	/* Files in order instance 2, 0, 1; ties at 0x105 resolve by instance. */
	off = begin_packet(&s[0], 2, 0x100, 0x200, 0, 7);
	event(&s[0], 0x05, 20);
	event(&s[0], 0x30, 21);
	end_packet(&s[0], off, 0);
	off = begin_packet(&s[1], 0, 0x100, 0x200, 0, 0);
	event(&s[1], 0x05, 0);
	event(&s[1], 0x06, 1);
	end_packet(&s[1], off, 0);
	off = begin_packet(&s[2], 1, 0x100, 0x200, 0, 3);
	event(&s[2], 0x01, 10);
	event(&s[2], 0x05, 11);
	end_packet(&s[2], off, 0);
	set = make_set(&l, s, 3);
	collect(set, &c);
	is_int(c.status, 0, "merge of 3 streams");
	is_int(c.events, 6, "6 events");
	is_int(c.xs[0], 10, "earliest first");
	is_int(c.xs[1], 0, "tie at 0x105: instance 0 first");
	is_int(c.xs[2], 11, "then instance 1");
	is_int(c.xs[3], 20, "then instance 2");
	is_int(c.xs[4], 1, "0x106");
	is_int(c.xs[5], 21, "0x130 last");
	sonde_ctf_trace_set_free(set);

	/* babeltrace 1.5's heap: ties favour the challenger (worked by hand
	 * from its CLRS heap with streams inserted in file order). */
	set = make_set(&l, s, 3);
	collect_order(set, &c, SONDE_CTF_ORDER_BABELTRACE1);
	is_int(c.status, 0, "babeltrace 1.5 order");
	ok(c.xs[0] == 10 && c.xs[1] == 0 && c.xs[2] == 11 && c.xs[3] == 20 &&
	   c.xs[4] == 1 && c.xs[5] == 21, "ties as babeltrace 1.5 breaks them");
	sonde_ctf_trace_set_free(set);
	free(s[0].p);
	free(s[1].p);
	free(s[2].p);
}

/* Each malformed packet must give an error naming the problem. */
static void expect_error(struct lttng_like *l, struct bbuf *b, const char *needle,
			 const char *what, int want_events)
{
	struct sonde_ctf_trace_set *set = make_set(l, b, 1);
	struct collected c;

	collect(set, &c);
	if (!ok(c.status < 0 && strstr(c.err, needle), what))
		printf("#   status %d, error \"%s\"\n", c.status, c.err);
	if (want_events >= 0)
		is_int(c.events, want_events, "valid events before the error are returned");
	sonde_ctf_trace_set_free(set);
}

static void test_malformed(void)
{
	struct lttng_like l;
	struct bbuf b = { 0 };
	size_t off;

	make_class(&l);

	off = begin_packet(&b, 0, 0, 0, 0, 0);
	event(&b, 1, 1);
	end_packet(&b, off, 0);
	bb_set_le(&b, off + 22, 0x400, 2);   /* content 128 bytes > packet of 31 */
	expect_error(&l, &b, "exceeds packet size", "content size > packet size", -1);

	bb_set_le(&b, off + 22, 31 * 8, 2);
	bb_set_le(&b, off + 24, 4096 * 8, 2); /* packet beyond the file */
	expect_error(&l, &b, "left in the file", "packet size > file", -1);

	bb_set_le(&b, off + 24, 31 * 8 + 4, 2);
	expect_error(&l, &b, "whole number of bytes", "packet size not in bytes", -1);

	bb_set_le(&b, off + 24, 31 * 8, 2);
	bb_set_le(&b, off + 22, 20 * 8, 2);  /* content smaller than header */
	expect_error(&l, &b, "exceed content size", "content smaller than the packet header", -1);

	bb_set_le(&b, off + 22, 31 * 8, 2);
	bb_set_le(&b, off, 0xC1FC1FC2, 4);
	expect_error(&l, &b, "invalid magic", "bad magic", -1);
	bb_set_le(&b, off, 0xC1FC1FC1, 4);

	b.len = 10;                          /* truncated header */
	expect_error(&l, &b, "packet context", "truncated packet", -1);
	free(b.p);

	/* A valid event, then one crossing content_size by one byte. */
	memset(&b, 0, sizeof(b));
	off = begin_packet(&b, 0, 0, 0, 0, 0);
	event(&b, 1, 1);
	event(&b, 2, 2);
	end_packet(&b, off, 0);
	bb_set_le(&b, off + 22, (b.len - 1) * 8, 2);
	expect_error(&l, &b, "crosses the content end", "event crossing content_size", 1);
	free(b.p);

	/* Unknown event id. */
	memset(&b, 0, sizeof(b));
	off = begin_packet(&b, 0, 0, 0, 0, 0);
	bb_le(&b, 9, 1);
	bb_le(&b, 1, 1);
	bb_le(&b, 0, 1);
	end_packet(&b, off, 0);
	expect_error(&l, &b, "event class 9 is not declared", "unknown event id", 0);
	free(b.p);

	/* Unknown stream class id. */
	memset(&b, 0, sizeof(b));
	off = begin_packet(&b, 0, 0, 0, 0, 0);
	end_packet(&b, off, 0);
	b.p[4] = 3;
	expect_error(&l, &b, "stream class 3 is not declared", "unknown stream id", 0);
	free(b.p);
}

static void test_zero_length_event(void)
{
	struct sonde_ctf_stream_class *sc;
	struct sonde_ctf_event_class *ec, **ecs;
	const struct sonde_ctf_stream_class **scs;
	struct sonde_ctf_trace_class *tc;
	struct lttng_like l;
	uint8_t byte = 0;
	struct bbuf b = { &byte, 1, 1 };

	ec = sonde_arena_alloc(&arena, sizeof(*ec));
	ec->name = "empty";
	ec->fields = tb_struct(&arena, 8, 0);
	ecs = sonde_arena_alloc(&arena, sizeof(*ecs));
	ecs[0] = ec;
	sc = sonde_arena_alloc(&arena, sizeof(*sc));
	sc->event_class_count = 1;
	sc->event_classes = (const struct sonde_ctf_event_class *const *)ecs;
	scs = sonde_arena_alloc(&arena, sizeof(*scs));
	scs[0] = sc;
	tc = sonde_arena_alloc(&arena, sizeof(*tc));
	tc->stream_class_count = 1;
	tc->stream_classes = (const struct sonde_ctf_stream_class *const *)scs;
	l.tc = tc;
	expect_error(&l, &b, "zero length", "zero-length event", 0);
}

int main(void)
{
	sonde_arena_init(&arena, 0);
	test_bit_packing_examples();
	test_bit_packing_random();
	test_alignment_and_floats();
	test_fixed_struct();
	test_sequences_variants();
	test_clock_and_lost_data();
	test_merge_order();
	test_malformed();
	test_zero_length_event();
	sonde_arena_release(&arena);
	return tap_done();
}
