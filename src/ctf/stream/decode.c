/*
 * The decoder interpreter: runs compiled programs over packet bytes and
 * writes the value tape.  Bit packing follows CTF 1.8 §4.1 (ctf.md §1.4):
 * offsets are relative to the packet start; little-endian fields fill bytes
 * from their least significant bit, big-endian ones from their most
 * significant bit.
 */
#include "ctf/stream/decode-inline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


int dec_state_init(struct dec_state *st, const struct dec_codec *codec)
{
	uint32_t slots = codec->tc->slot_count;

	memset(st, 0, sizeof(*st));
	st->codec = codec;
	st->cap = 64;
	st->tape = malloc(st->cap * sizeof(*st->tape));
	st->frames = malloc((codec->max_depth + 1) * sizeof(*st->frames));
	st->slots = calloc(slots ? slots : 1, sizeof(*st->slots));
	if (!st->tape || !st->frames || !st->slots) {
		dec_state_fini(st);
		return SONDE_ENOMEM;
	}
	return 0;
}

void dec_state_fini(struct dec_state *st)
{
	free(st->tape);
	free(st->frames);
	free(st->slots);
	st->tape = NULL;
	st->frames = NULL;
	st->slots = NULL;
}

static int tape_grow(struct dec_state *st)
{
	uint32_t cap = st->cap * 2;
	struct sonde_ctf_value *t;

	if (st->cap >= DEC_MAX_NODES) {
		snprintf(st->what, sizeof(st->what),
			 "more than %u values in one event", DEC_MAX_NODES);
		return SONDE_EFORMAT;
	}
	t = realloc(st->tape, (size_t)cap * sizeof(*t));
	if (!t) {
		snprintf(st->what, sizeof(st->what), "out of memory");
		return SONDE_ENOMEM;
	}
	st->tape = t;
	st->cap = cap;
	return 0;
}

/* Makes room for `n` more nodes. */
int dec_tape_reserve(struct dec_state *st, uint32_t n)
{
	int ret;

	while (st->cap - st->len < n) {
		ret = tape_grow(st);
		if (ret)
			return ret;
	}
	return 0;
}

/* Reads `size` (1..64) bits at bit `pos`; the caller checked the bounds. */
static uint64_t read_bits(const uint8_t *buf, uint64_t pos, unsigned size,
			  bool be)
{
	const uint8_t *p = buf + (pos >> 3);
	unsigned shift = pos & 7;
	unsigned nbytes = (shift + size + 7) / 8;
	unsigned i, n = nbytes < 8 ? nbytes : 8;
	uint64_t x = 0;

	if (!be) {
		for (i = 0; i < n; i++)
			x |= (uint64_t)p[i] << (8 * i);
		x >>= shift;
		if (nbytes == 9)
			x |= (uint64_t)p[8] << (64 - shift);
	} else {
		for (i = 0; i < n; i++)
			x = (x << 8) | p[i];
		if (nbytes == 9)
			x = (x << shift) | (p[8] >> (8 - shift));
		else
			x <<= 64 - 8 * nbytes + shift;
		x >>= 64 - size;
		return x;
	}
	return size == 64 ? x : x & ((UINT64_C(1) << size) - 1);
}

int dec_select_option(const struct sonde_ctf_type *t, uint64_t tag,
		      uint32_t *option)
{
	const struct sonde_ctf_type *tag_type = t->u.variant.tag_type;
	bool is_signed = false;
	size_t i;

	if (tag_type->kind == SONDE_CTF_ENUM)
		is_signed = tag_type->u.enumeration.container->u.integer.is_signed;
	else if (tag_type->kind == SONDE_CTF_INT)
		is_signed = tag_type->u.integer.is_signed;
	for (i = 0; i < t->u.variant.range_count; i++) {
		const struct sonde_ctf_variant_range *r = &t->u.variant.ranges[i];
		bool in = is_signed ?
			(int64_t)tag >= r->lo.s && (int64_t)tag <= r->hi.s :
			tag >= r->lo.u && tag <= r->hi.u;

		if (in && r->option < t->u.variant.count) {
			*option = r->option;
			return 0;
		}
	}
	return -1;
}

static const char *op_name(const struct dec_op *op)
{
	return op->name ? op->name : "(scope)";
}

int dec_out_of_bounds(struct dec_state *st, const struct dec_op *op,
		      uint64_t pos)
{
	snprintf(st->what, sizeof(st->what),
		 "field '%s' at bit %llu crosses the content end (bit %llu)",
		 op_name(op), (unsigned long long)pos,
		 (unsigned long long)st->limit);
	return SONDE_EFORMAT;
}

int dec_no_option(struct dec_state *st, const struct sonde_ctf_type *variant,
		  const char *name, uint64_t tag)
{
	snprintf(st->what, sizeof(st->what),
		 "variant '%s': tag '%s' value %lld selects no option",
		 name ? name : "(scope)",
		 variant->u.variant.tag_name ? variant->u.variant.tag_name : "",
		 (long long)tag);
	return SONDE_EFORMAT;
}

#define NEXT()                                                                \
	do {                                                                  \
		op = &ops[pc];                                                \
		goto *dispatch[op->code];                                     \
	} while (0)

#define NEW_NODE(v)                                                           \
	do {                                                                  \
		if (unlikely(st->len >= st->cap)) {                           \
			ret = tape_grow(st);                                  \
			if (ret)                                              \
				goto fail;                                    \
		}                                                             \
		(v) = &st->tape[st->len++];                                   \
	} while (0)

int dec_run(struct dec_state *st, dec_prog prog)
{
	const struct dec_op *ops = st->codec->ops;
	const uint32_t *targets = st->codec->targets;
	const uint8_t *buf = st->buf;
	struct dec_frame *frames = st->frames;
	const uint64_t limit = st->limit;
	uint64_t pos = st->pos;
	uint32_t pc = (uint32_t)prog, depth = 0;
	struct sonde_ctf_value *v;
	const struct dec_op *op;
	int ret = 0;
	/* Threaded dispatch: one indirect jump per op kind predicts far better
	 * than the single jump of a switch. */
	static const void *const dispatch[] = {
		[DEC_OP_END] = &&L_end,
		[DEC_OP_INT_FAST] = &&L_int_fast,
		[DEC_OP_INT] = &&L_int,
		[DEC_OP_FLOAT] = &&L_float,
		[DEC_OP_STRING] = &&L_string,
		[DEC_OP_TEXT] = &&L_text,
		[DEC_OP_STRUCT] = &&L_struct,
		[DEC_OP_STRUCT_END] = &&L_struct_end,
		[DEC_OP_VARIANT] = &&L_variant,
		[DEC_OP_VARIANT_END] = &&L_variant_end,
		[DEC_OP_JUMP] = &&L_jump,
		[DEC_OP_LIST] = &&L_list,
		[DEC_OP_LIST_NEXT] = &&L_list_next,
		[DEC_OP_STRUCT_FIXED] = &&L_struct_fixed,
		[DEC_OP_LTTNG_HEADER] = &&L_lttng_header,
	};

	if (prog < 0)
		return 0;
	NEXT();
L_int_fast: {
	uint64_t x;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos + op->size > limit))
		goto out_of_bounds;
	x = read_fast(buf + (pos >> 3), op->size);
	if (op->flags & DEC_F_SIGNED)
		x = sign_extend(x, op->size);
	NEW_NODE(v);
	v->type = op->type;
	v->end = st->len;
	v->v.u = x;
	pos += op->size;
	if (unlikely(op->flags & (DEC_F_SLOT | DEC_F_ROLE | DEC_F_CLOCK)))
		int_side_effects(st, op, x);
	pc++;
	NEXT();
	}
L_int: {
	uint64_t x;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos + op->size > limit))
		goto out_of_bounds;
	x = read_bits(buf, pos, op->size, op->flags & DEC_F_BE);
	if (op->flags & DEC_F_SIGNED)
		x = sign_extend(x, op->size);
	NEW_NODE(v);
	v->type = op->type;
	v->end = st->len;
	v->v.u = x;
	pos += op->size;
	if (op->flags & (DEC_F_SLOT | DEC_F_ROLE | DEC_F_CLOCK))
		int_side_effects(st, op, x);
	pc++;
	NEXT();
	}
L_float: {
	uint64_t x;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos + op->size > limit))
		goto out_of_bounds;
	x = read_bits(buf, pos, op->size, op->flags & DEC_F_BE);
	NEW_NODE(v);
	v->type = op->type;
	v->end = st->len;
	if (op->size == 32) {
		uint32_t b = (uint32_t)x;
		float f;

		memcpy(&f, &b, sizeof(f));
		v->v.d = f;
	} else {
		memcpy(&v->v.d, &x, sizeof(v->v.d));
	}
	pos += op->size;
	pc++;
	NEXT();
	}
L_string: {
	const uint8_t *start, *nul;

	pos = (pos + 7) & ~(uint64_t)7;
	if (unlikely(pos + 8 > limit))
		goto out_of_bounds;
	start = buf + (pos >> 3);
	nul = memchr(start, 0, (limit - pos) >> 3);
	if (unlikely(!nul)) {
		snprintf(st->what, sizeof(st->what),
			 "string '%s' at bit %llu is not terminated before the content end",
			 op_name(op), (unsigned long long)pos);
		ret = SONDE_EFORMAT;
		goto fail;
	}
	NEW_NODE(v);
	v->type = op->type;
	v->end = st->len;
	v->v.str.ptr = (const char *)start;
	v->v.str.len = (size_t)(nul - start);
	pos += ((uint64_t)(nul - start) + 1) * 8;
	pc++;
	NEXT();
	}
L_text: {
	uint64_t count = (op->flags & DEC_F_SEQ) ?
			 st->slots[op->slot] : op->length;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos > limit || count > (limit - pos) / 8))
		goto out_of_bounds;
	NEW_NODE(v);
	v->type = op->type;
	v->end = st->len;
	v->v.str.ptr = (const char *)buf + (pos >> 3);
	v->v.str.len = (size_t)count;
	pos += count * 8;
	pc++;
	NEXT();
	}
L_struct:
	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos > limit))
		goto out_of_bounds;
	NEW_NODE(v);
	v->type = op->type;
	v->v.count = op->count;
	frames[depth++].node = st->len - 1;
	pc++;
	NEXT();
L_struct_end:
L_variant_end:
	st->tape[frames[--depth].node].end = st->len;
	pc++;
	NEXT();
L_variant: {
	uint64_t tag = st->slots[op->slot];
	uint32_t option;

	if (unlikely(dec_select_option(op->type, tag, &option))) {
		snprintf(st->what, sizeof(st->what),
			 "variant '%s': tag '%s' value %lld selects no option",
			 op_name(op),
			 op->type->u.variant.tag_name ?
			 op->type->u.variant.tag_name : "",
			 (long long)tag);
		ret = SONDE_EFORMAT;
		goto fail;
	}
	NEW_NODE(v);
	v->type = op->type;
	v->v.option = option;
	frames[depth++].node = st->len - 1;
	pc = targets[op->target + option];
	NEXT();
	}
L_jump:
	pc = op->target;
	NEXT();
L_list: {
	uint64_t count = (op->flags & DEC_F_SEQ) ?
			 st->slots[op->slot] : op->length;

	pos = (pos + op->align_mask) & ~(uint64_t)op->align_mask;
	if (unlikely(pos > limit))
		goto out_of_bounds;
	if (unlikely(op->size && count > (limit - pos) / op->size))
		goto out_of_bounds;
	if (unlikely(count > DEC_MAX_NODES)) {
		snprintf(st->what, sizeof(st->what),
			 "'%s': %llu elements is more than supported",
			 op_name(op), (unsigned long long)count);
		ret = SONDE_EFORMAT;
		goto fail;
	}
	if (op->flags & DEC_F_ROLE) {
		st->roles_seen |= 1u << op->role;
		st->role_size[op->role] = (uint32_t)count;
		st->uuid_byte_off = pos >> 3;
	}
	NEW_NODE(v);
	v->type = op->type;
	v->v.count = count;
	if (!count) {
		v->end = st->len;
		pc = op->target;
		NEXT();
	}
	frames[depth].node = st->len - 1;
	frames[depth].body = pc + 1;
	frames[depth].left = count;
	depth++;
	pc++;
	NEXT();
	}
L_list_next: {
	struct dec_frame *f = &frames[depth - 1];

	if (--f->left) {
		pc = f->body;
	} else {
		st->tape[f->node].end = st->len;
		depth--;
		pc++;
	}
	NEXT();
	}
L_struct_fixed:
	st->pos = pos;
	ret = dec_fixed_struct(st, op, &st->codec->fixed[op->target]);
	if (unlikely(ret))
		return ret;
	pos = st->pos;
	pc++;
	NEXT();
L_lttng_header:
	st->pos = pos;
	ret = dec_lttng_header(st, op, &st->codec->headers[op->target]);
	if (unlikely(ret))
		return ret;
	pos = st->pos;
	pc++;
	NEXT();
L_end:
	st->pos = pos;
	return 0;
out_of_bounds:
	ret = dec_out_of_bounds(st, op, pos);
fail:
	st->pos = pos;
	return ret;
}
