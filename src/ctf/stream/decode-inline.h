/*
 * Decoder pieces shared by the interpreter (decode.c) and the per-event
 * fast paths of the stream (stream.c), inlined into both.
 */
#ifndef SONDE_CTF_STREAM_DECODE_INLINE_H
#define SONDE_CTF_STREAM_DECODE_INLINE_H

#include <string.h>

#include "ctf/stream/decode.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

int dec_tape_reserve(struct dec_state *st, uint32_t n);
int dec_out_of_bounds(struct dec_state *st, const struct dec_op *op,
		      uint64_t pos);
int dec_no_option(struct dec_state *st, const struct sonde_ctf_type *variant,
		  const char *name, uint64_t tag);
int dec_select_option(const struct sonde_ctf_type *t, uint64_t tag,
		      uint32_t *option);

static inline uint64_t sign_extend(uint64_t x, unsigned size)
{
	unsigned shift = 64 - size;

	return (uint64_t)((int64_t)(x << shift) >> shift);
}

static inline uint64_t read_fast(const uint8_t *p, unsigned size)
{
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (size) {
	case 8:
		return *p;
	case 16:
		memcpy(&v16, p, 2);
		return v16;
	case 32:
		memcpy(&v32, p, 4);
		return v32;
	default:
		memcpy(&v64, p, 8);
		return v64;
	}
}

/* Slots, roles and the clock: rare, kept out of the fast path. */
static inline void int_side_effects(struct dec_state *st, const struct dec_op *op,
			     uint64_t x)
{
	if (op->flags & DEC_F_SLOT)
		st->slots[op->slot] = x;
	if (op->flags & DEC_F_CLOCK) {
		unsigned n = op->size;

		if (n >= 64) {
			st->clock = x;
		} else {
			uint64_t mask = (UINT64_C(1) << n) - 1;

			x &= mask;
			if (x < (st->clock & mask))
				st->clock += UINT64_C(1) << n;
			st->clock = (st->clock & ~mask) | x;
		}
		st->clock_class = op->clock;
		st->clock_valid = true;
		st->clock_updated = true;
	}
	if (op->flags & DEC_F_ROLE) {
		st->roles[op->role] = x;
		st->role_size[op->role] = op->size;
		st->roles_seen |= 1u << op->role;
	}
}

/* One member of a fixed struct, near the end of the readable bytes. */
static inline void dec_fixed_member(struct sonde_ctf_value *w,
				    const struct dec_fixed *fx, const uint8_t *q)
{
	switch (fx->kind) {
	case DEC_FX_U8:
		w->v.u = *q;
		break;
	case DEC_FX_U16:
		w->v.u = read_fast(q, 16);
		break;
	case DEC_FX_U32:
		w->v.u = read_fast(q, 32);
		break;
	case DEC_FX_U64:
	case DEC_FX_S64:
		w->v.u = read_fast(q, 64);
		break;
	case DEC_FX_S8:
		w->v.s = (int8_t)*q;
		break;
	case DEC_FX_S16:
		w->v.s = (int16_t)read_fast(q, 16);
		break;
	case DEC_FX_S32:
		w->v.s = (int32_t)read_fast(q, 32);
		break;
	case DEC_FX_F32: {
		uint32_t b = (uint32_t)read_fast(q, 32);
		float f;

		memcpy(&f, &b, sizeof(f));
		w->v.d = f;
		break;
	}
	case DEC_FX_F64: {
		uint64_t b = read_fast(q, 64);

		memcpy(&w->v.d, &b, sizeof(w->v.d));
		break;
	}
	default:
		w->v.str.ptr = (const char *)q;
		w->v.str.len = fx->len;
		break;
	}
}

/* A struct of byte-aligned scalars at fixed offsets, in one step. */
static inline int dec_fixed_struct(struct dec_state *st, const struct dec_op *op,
				   const struct dec_fixed *fx)
{
	uint32_t n = op->count, i, base;
	uint64_t pos = st->pos;
	struct sonde_ctf_value *v;
	const uint8_t *p;
	int ret;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos + op->size > st->limit))
		return dec_out_of_bounds(st, op, pos);
	if (unlikely(st->cap - st->len < n + 1)) {
		ret = dec_tape_reserve(st, n + 1);
		if (ret)
			return ret;
	}
	base = st->len;
	v = &st->tape[base];
	v->type = op->type;
	v->end = base + n + 1;
	v->v.count = n;
	p = st->buf + (pos >> 3);
	if (likely(pos + op->size + 64 <= st->readable)) {
		/* Branch-free: load a word per member, then mask, sign-extend
		 * or keep the address (text) by selection. */
		for (i = 0; i < n; i++) {
			struct sonde_ctf_value *w = &v[i + 1];
			const uint8_t *q = p + fx[i].off;
			uint64_t raw, u, sx, x;

			memcpy(&raw, q, 8);
			u = (raw << fx[i].shift) >> fx[i].shift;
			sx = (uint64_t)((int64_t)(raw << fx[i].shift) >> fx[i].shift);
			x = fx[i].is_signed ? sx : u;
			x = fx[i].is_text ? (uint64_t)(uintptr_t)q : x;
			w->type = fx[i].type;
			w->end = base + i + 2;
			w->v.u = x;
			w->v.str.len = fx[i].len;
			if (unlikely(fx[i].kind >= DEC_FX_F32 && !fx[i].is_text))
				dec_fixed_member(w, &fx[i], q);
		}
	} else {
		for (i = 0; i < n; i++) {
			struct sonde_ctf_value *w = &v[i + 1];

			w->type = fx[i].type;
			w->end = base + i + 2;
			dec_fixed_member(w, &fx[i], p + fx[i].off);
		}
	}
	st->len = base + n + 1;
	pos += op->size;
	st->pos = pos;
	return 0;
}

/* The LTTng compact/large event header (struct dec_lttng_header). */
static inline int dec_lttng_header(struct dec_state *st, const struct dec_op *op,
				   const struct dec_lttng_header *h)
{
	uint64_t pos = (st->pos + 7) & ~(uint64_t)7, limit = st->limit;
	struct sonde_ctf_value *v;
	uint32_t base, n;
	const uint8_t *p;
	uint8_t option;
	uint64_t id;
	int ret;

	if (unlikely(pos + (h->large ? 16 : 8) > limit))
		return dec_out_of_bounds(st, op, pos);
	if (unlikely(st->cap - st->len < 6)) {
		ret = dec_tape_reserve(st, 6);
		if (ret)
			return ret;
	}
	p = st->buf + (pos >> 3);
	id = h->large ? read_fast(p, 16) : (uint64_t)(p[0] & 0x1f);
	option = h->option_of[id];
	if (unlikely(option == DEC_NO_OPTION))
		return dec_no_option(st, h->variant, op->name, id);
	base = st->len;
	v = &st->tape[base];
	v[1].type = h->id.type;
	v[1].end = base + 2;
	v[1].v.u = id;
	v[2].type = h->variant;
	v[2].v.option = option;
	if (option == h->compact_option) {
		unsigned bits = h->large ? 32 : 27;
		uint64_t ts;

		if (unlikely(pos + (h->large ? 48 : 32) > limit))
			return dec_out_of_bounds(st, op, pos);
		ts = h->large ? read_fast(p + 2, 32) : read_fast(p, 32) >> 5;
		v[3].type = h->compact;
		v[3].v.count = 1;
		v[4].type = h->compact_ts.type;
		v[4].end = base + 5;
		v[4].v.u = ts;
		if (likely(h->plain)) {
			uint64_t mask = (UINT64_C(1) << bits) - 1;

			st->slots[h->id.slot] = id;
			st->roles[SONDE_CTF_ROLE_EVENT_ID] = id;
			if (ts < (st->clock & mask))
				st->clock += UINT64_C(1) << bits;
			st->clock = (st->clock & ~mask) | ts;
		} else {
			int_side_effects(st, &h->id, id);
			int_side_effects(st, &h->compact_ts, ts);
		}
		n = 5;
		pos += h->large ? 48 : 32;
	} else {
		unsigned off = h->large ? 2 : 1;
		uint64_t eid, ts;

		if (unlikely(pos + (off + 12) * 8 > limit))
			return dec_out_of_bounds(st, op, pos);
		eid = read_fast(p + off, 32);
		ts = read_fast(p + off + 4, 64);
		v[3].type = h->extended;
		v[3].v.count = 2;
		v[4].type = h->ext_id.type;
		v[4].end = base + 5;
		v[4].v.u = eid;
		v[5].type = h->ext_ts.type;
		v[5].end = base + 6;
		v[5].v.u = ts;
		if (likely(h->plain)) {
			st->slots[h->id.slot] = id;
			st->roles[SONDE_CTF_ROLE_EVENT_ID] = eid;
			st->clock = ts;
		} else {
			int_side_effects(st, &h->id, id);
			int_side_effects(st, &h->ext_id, eid);
			int_side_effects(st, &h->ext_ts, ts);
		}
		n = 6;
		pos += (off + 12) * 8;
	}
	if (likely(h->plain)) {
		st->roles_seen |= 1u << SONDE_CTF_ROLE_EVENT_ID;
		st->role_size[SONDE_CTF_ROLE_EVENT_ID] = 32;
		st->clock_class = h->compact_ts.clock;
		st->clock_valid = true;
		st->clock_updated = true;
	}
	v[0].type = h->header;
	v[0].end = base + n;
	v[0].v.count = 2;
	v[2].end = base + n;
	v[3].end = base + n;
	st->len = base + n;
	st->pos = pos;
	return 0;
}

#endif
