/*
 * Compiles the type trees of a trace class into decoder programs (see
 * decode.h).  Done once per trace; the programs are read-only afterwards
 * and shared by all the streams of the trace.
 */
#include "ctf/stream/decode-inline.h"

#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_BYTE_ORDER SONDE_CTF_BE
#else
#define HOST_BYTE_ORDER SONDE_CTF_LE
#endif

/* Deeper type nesting than this is refused rather than risking the C stack
 * while compiling. */
#define MAX_NESTING 256

struct compiler {
	struct dec_codec *codec;
	struct sonde_error *err;
	uint32_t depth;
	bool generic_only;       /* tests: no specialised ops */
};

static int emit(struct compiler *c, struct dec_op **op, uint32_t *index)
{
	struct dec_codec *codec = c->codec;

	if (codec->op_count == codec->op_cap) {
		size_t cap = codec->op_cap ? codec->op_cap * 2 : 256;
		struct dec_op *ops;

		if (cap > INT32_MAX)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "metadata: too many types to compile");
		ops = realloc(codec->ops, cap * sizeof(*ops));
		if (!ops)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
		codec->ops = ops;
		codec->op_cap = cap;
	}
	*index = (uint32_t)codec->op_count;
	*op = &codec->ops[codec->op_count++];
	memset(*op, 0, sizeof(**op));
	(*op)->slot = -1;
	return 0;
}

static int reserve_targets(struct compiler *c, size_t n, uint32_t *first)
{
	struct dec_codec *codec = c->codec;

	if (codec->target_count + n > codec->target_cap) {
		size_t cap = codec->target_cap ? codec->target_cap : 64;
		uint32_t *t;

		while (cap < codec->target_count + n)
			cap *= 2;
		t = realloc(codec->targets, cap * sizeof(*t));
		if (!t)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
		codec->targets = t;
		codec->target_cap = cap;
	}
	*first = (uint32_t)codec->target_count;
	codec->target_count += n;
	return 0;
}

/* Smallest number of bits a value of this type can occupy (alignment
 * ignored); saturates instead of overflowing. */
static uint64_t min_bits(const struct sonde_ctf_type *t, unsigned depth)
{
	uint64_t sum = 0, m, e;
	size_t i;

	if (depth > MAX_NESTING)
		return 0;
	switch (t->kind) {
	case SONDE_CTF_INT:
		return t->u.integer.size;
	case SONDE_CTF_FLOAT:
		return t->u.floating.exp_dig + t->u.floating.mant_dig;
	case SONDE_CTF_STRING:
		return 8;
	case SONDE_CTF_ENUM:
		return t->u.enumeration.container->u.integer.size;
	case SONDE_CTF_STRUCT:
		for (i = 0; i < t->u.structure.count; i++) {
			sum += min_bits(t->u.structure.fields[i].type, depth + 1);
			if (sum > UINT32_MAX)
				return UINT32_MAX;
		}
		return sum;
	case SONDE_CTF_VARIANT:
		m = UINT32_MAX;
		for (i = 0; i < t->u.variant.count; i++) {
			e = min_bits(t->u.variant.options[i].type, depth + 1);
			if (e < m)
				m = e;
		}
		return t->u.variant.count ? m : 0;
	case SONDE_CTF_ARRAY:
		e = min_bits(t->u.array.element, depth + 1);
		if (e && t->u.array.length > UINT32_MAX / e)
			return UINT32_MAX;
		return e * t->u.array.length;
	case SONDE_CTF_SEQUENCE:
		return 0;
	}
	return 0;
}

static void fill_int_op(struct dec_op *op, const struct sonde_ctf_type *t,
			const struct sonde_ctf_type *int_type, const char *name,
			int32_t slot, uint8_t role)
{
	uint32_t size = int_type->u.integer.size;

	memset(op, 0, sizeof(*op));
	op->code = DEC_OP_INT;
	op->size = size;
	op->align_mask = t->align ? t->align - 1 : 0;
	op->type = t;
	op->name = name;
	op->role = role;
	op->slot = slot;
	if (int_type->u.integer.is_signed)
		op->flags |= DEC_F_SIGNED;
	if (int_type->u.integer.byte_order == SONDE_CTF_BE)
		op->flags |= DEC_F_BE;
	if (slot >= 0)
		op->flags |= DEC_F_SLOT;
	if (role != SONDE_CTF_ROLE_NONE)
		op->flags |= DEC_F_ROLE;
	if (int_type->u.integer.mapped_clock &&
	    role != SONDE_CTF_ROLE_TIMESTAMP_END) {
		op->flags |= DEC_F_CLOCK;
		op->clock = int_type->u.integer.mapped_clock;
	}
	if ((size == 8 || size == 16 || size == 32 || size == 64) &&
	    op->align_mask >= 7 &&
	    int_type->u.integer.byte_order == HOST_BYTE_ORDER)
		op->code = DEC_OP_INT_FAST;
}

static int compile_int(struct compiler *c, const struct sonde_ctf_type *t,
		       const struct sonde_ctf_type *int_type, const char *name,
		       int32_t slot, uint8_t role)
{
	uint32_t size = int_type->u.integer.size;
	struct dec_op *op;
	uint32_t idx;
	int ret;

	if (size < 1 || size > 64)
		return sonde_error_set(c->err, SONDE_EUNSUPPORTED,
				       "field '%s': %u-bit integers are not supported",
				       name ? name : "", size);
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	fill_int_op(op, t, int_type, name, slot, role);
	return 0;
}

static const struct sonde_ctf_type *int_of(const struct sonde_ctf_type *t)
{
	if (t->kind == SONDE_CTF_INT)
		return t;
	if (t->kind == SONDE_CTF_ENUM && t->u.enumeration.container &&
	    t->u.enumeration.container->kind == SONDE_CTF_INT)
		return t->u.enumeration.container;
	return NULL;
}

/* Is `t` an unsigned little-endian integer of `size` bits aligned on
 * `align` bits (the byte-packed LTTng layout)? */
static bool is_le_uint(const struct sonde_ctf_type *t, uint32_t size,
		       uint32_t align)
{
	const struct sonde_ctf_type *i = t ? int_of(t) : NULL;

	return i && i->u.integer.size == size && !i->u.integer.is_signed &&
	       i->u.integer.byte_order == SONDE_CTF_LE && t->align == align;
}

/*
 * Recognises the LTTng compact and large event headers in the x86 (byte-
 * packed) layout; see struct dec_lttng_header.  Only the shape matters,
 * not the names, and the option is still chosen through the variant's
 * ranges at run time.
 */
static bool match_lttng_header(const struct sonde_ctf_type *t,
			       struct dec_lttng_header *h)
{
	const struct sonde_ctf_field_decl *f, *o;
	const struct sonde_ctf_type *v;
	uint32_t i;

	if (HOST_BYTE_ORDER != SONDE_CTF_LE || t->align != 8 ||
	    t->u.structure.count != 2)
		return false;
	f = t->u.structure.fields;
	v = f[1].type;
	if (!v || v->kind != SONDE_CTF_VARIANT || v->u.variant.count != 2 ||
	    f[0].slot < 0 || v->u.variant.tag_slot != f[0].slot ||
	    f[1].slot >= 0 || f[1].role)
		return false;
	memset(h, 0, sizeof(*h));
	if (is_le_uint(f[0].type, 5, 1))
		h->large = false;
	else if (is_le_uint(f[0].type, 16, 8))
		h->large = true;
	else
		return false;
	if (int_of(f[0].type)->u.integer.mapped_clock)
		return false;
	o = v->u.variant.options;
	for (i = 0; i < 2; i++) {
		const struct sonde_ctf_type *st = o[i].type;
		const struct sonde_ctf_field_decl *m;

		if (!st || st->kind != SONDE_CTF_STRUCT || o[i].slot >= 0 ||
		    o[i].role)
			return false;
		m = st->u.structure.fields;
		if (st->u.structure.count == 1 && !h->compact) {
			if (!(h->large ? st->align == 8 && is_le_uint(m[0].type, 32, 8) :
				st->align == 1 && is_le_uint(m[0].type, 27, 1)))
				return false;
			h->compact = st;
			h->compact_option = i;
			fill_int_op(&h->compact_ts, m[0].type, int_of(m[0].type),
				    m[0].name, m[0].slot, m[0].role);
		} else if (st->u.structure.count == 2 && !h->extended) {
			if (st->align != 8 || !is_le_uint(m[0].type, 32, 8) ||
			    !is_le_uint(m[1].type, 64, 8))
				return false;
			h->extended = st;
			h->extended_option = i;
			fill_int_op(&h->ext_id, m[0].type, int_of(m[0].type),
				    m[0].name, m[0].slot, m[0].role);
			fill_int_op(&h->ext_ts, m[1].type, int_of(m[1].type),
				    m[1].name, m[1].slot, m[1].role);
		} else {
			return false;
		}
	}
	h->variant = v;
	h->header = t;
	fill_int_op(&h->id, f[0].type, int_of(f[0].type), f[0].name,
		    f[0].slot, f[0].role);
	h->plain = h->id.flags == (DEC_F_SLOT | DEC_F_ROLE) &&
		   h->id.role == SONDE_CTF_ROLE_EVENT_ID &&
		   h->ext_id.flags == DEC_F_ROLE &&
		   h->ext_id.role == SONDE_CTF_ROLE_EVENT_ID &&
		   h->compact_ts.flags == DEC_F_CLOCK &&
		   h->ext_ts.flags == DEC_F_CLOCK &&
		   h->compact_ts.clock == h->ext_ts.clock;
	return true;
}

/* Can member `t` be decoded at a fixed byte offset without side effects? */
static bool fixed_kind(const struct sonde_ctf_field_decl *f,
		       uint8_t *kind, uint32_t *bits, uint32_t *len)
{
	const struct sonde_ctf_type *t = f->type, *i;

	if (!t || f->slot >= 0 || f->role || !t->align || t->align % 8)
		return false;
	i = int_of(t);
	if (i) {
		uint32_t size = i->u.integer.size;

		if (i->u.integer.byte_order != HOST_BYTE_ORDER ||
		    i->u.integer.mapped_clock)
			return false;
		switch (size) {
		case 8: *kind = DEC_FX_U8; break;
		case 16: *kind = DEC_FX_U16; break;
		case 32: *kind = DEC_FX_U32; break;
		case 64: *kind = DEC_FX_U64; break;
		default: return false;
		}
		if (i->u.integer.is_signed)
			*kind += DEC_FX_S8 - DEC_FX_U8;
		*bits = size;
		return true;
	}
	if (t->kind == SONDE_CTF_FLOAT) {
		uint32_t size = t->u.floating.exp_dig + t->u.floating.mant_dig;

		if (t->u.floating.byte_order != HOST_BYTE_ORDER ||
		    (size != 32 && size != 64))
			return false;
		*kind = size == 32 ? DEC_FX_F32 : DEC_FX_F64;
		*bits = size;
		return true;
	}
	if (t->kind == SONDE_CTF_ARRAY && t->u.array.is_text &&
	    t->u.array.length < (1u << 20)) {
		*kind = DEC_FX_TEXT;
		*len = (uint32_t)t->u.array.length;
		*bits = *len * 8;
		return true;
	}
	return false;
}

/* Emits a DEC_OP_STRUCT_FIXED when every member qualifies. */
static int try_fixed_struct(struct compiler *c, const struct sonde_ctf_type *t,
			    const char *name, bool *done)
{
	size_t n = t->u.structure.count, i;
	struct dec_codec *codec = c->codec;
	uint64_t cur = 0;
	struct dec_op *op;
	uint32_t idx;
	int ret;

	*done = false;
	if (!n || t->align < 8 || t->align % 8)
		return 0;
	for (i = 0; i < n; i++) {
		const struct sonde_ctf_field_decl *f = &t->u.structure.fields[i];
		uint32_t bits = 0, len = 0;
		uint8_t kind;

		if (!fixed_kind(f, &kind, &bits, &len) ||
		    f->type->align > t->align)
			return 0;
		cur = (cur + f->type->align - 1) & ~(uint64_t)(f->type->align - 1);
		cur += bits;
		if (cur > (1u << 24))
			return 0;
	}
	if (codec->fixed_count + n > codec->fixed_cap) {
		size_t cap = codec->fixed_cap ? codec->fixed_cap : 64;
		struct dec_fixed *fx;

		while (cap < codec->fixed_count + n)
			cap *= 2;
		fx = realloc(codec->fixed, cap * sizeof(*fx));
		if (!fx)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
		codec->fixed = fx;
		codec->fixed_cap = cap;
	}
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	op->code = DEC_OP_STRUCT_FIXED;
	op->align_mask = t->align - 1;
	op->type = t;
	op->name = name;
	op->count = (uint32_t)n;
	op->target = (uint32_t)codec->fixed_count;
	cur = 0;
	for (i = 0; i < n; i++) {
		const struct sonde_ctf_field_decl *f = &t->u.structure.fields[i];
		struct dec_fixed *fx = &codec->fixed[codec->fixed_count++];
		uint32_t bits = 0, len = 0;
		uint8_t kind = 0;

		fixed_kind(f, &kind, &bits, &len);
		cur = (cur + f->type->align - 1) & ~(uint64_t)(f->type->align - 1);
		fx->off = (uint32_t)(cur / 8);
		fx->len = len;
		fx->kind = kind;
		fx->is_signed = kind >= DEC_FX_S8 && kind <= DEC_FX_S64;
		fx->is_text = kind == DEC_FX_TEXT;
		fx->shift = kind <= DEC_FX_S64 ? (uint8_t)(64 - bits) : 0;
		fx->type = f->type;
		cur += bits;
	}
	op->size = (uint32_t)cur;
	*done = true;
	return 0;
}

static int try_lttng_header(struct compiler *c, const struct sonde_ctf_type *t,
			    const char *name, bool *done)
{
	struct dec_codec *codec = c->codec;
	struct dec_lttng_header h;
	struct dec_op *op;
	uint32_t idx;
	int ret;

	*done = false;
	if (!match_lttng_header(t, &h))
		return 0;
	if (codec->header_count == codec->header_cap) {
		size_t cap = codec->header_cap ? codec->header_cap * 2 : 4;
		struct dec_lttng_header *hs;

		hs = realloc(codec->headers, cap * sizeof(*hs));
		if (!hs)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
		codec->headers = hs;
		codec->header_cap = cap;
	}
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	{
		size_t n = h.large ? 65536 : 32, i;

		h.option_of = malloc(n);
		if (!h.option_of)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
		for (i = 0; i < n; i++) {
			uint32_t option;

			h.option_of[i] = dec_select_option(h.variant, i, &option) ?
					 DEC_NO_OPTION : (uint8_t)option;
		}
	}
	op->code = DEC_OP_LTTNG_HEADER;
	op->align_mask = 7;
	op->type = t;
	op->name = name;
	op->target = (uint32_t)codec->header_count;
	codec->headers[codec->header_count++] = h;
	*done = true;
	return 0;
}

static int compile_type(struct compiler *c, const struct sonde_ctf_type *t,
			const char *name, int32_t slot, uint8_t role);

static int compile_struct(struct compiler *c, const struct sonde_ctf_type *t,
			  const char *name)
{
	struct dec_op *op;
	uint32_t idx;
	bool done;
	size_t i;
	int ret;

	if (!c->generic_only) {
		ret = try_lttng_header(c, t, name, &done);
		if (ret || done)
			return ret;
		ret = try_fixed_struct(c, t, name, &done);
		if (ret || done)
			return ret;
	}
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	op->code = DEC_OP_STRUCT;
	op->align_mask = t->align ? t->align - 1 : 0;
	op->type = t;
	op->name = name;
	op->count = (uint32_t)t->u.structure.count;
	for (i = 0; i < t->u.structure.count; i++) {
		const struct sonde_ctf_field_decl *f = &t->u.structure.fields[i];

		ret = compile_type(c, f->type, f->name, f->slot, f->role);
		if (ret)
			return ret;
	}
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	op->code = DEC_OP_STRUCT_END;
	return 0;
}

static int compile_variant(struct compiler *c, const struct sonde_ctf_type *t,
			   const char *name)
{
	size_t n = t->u.variant.count, i;
	uint32_t idx, first = 0, jump_idx, end_idx;
	uint32_t *jumps = NULL;
	struct dec_op *op;
	int ret;

	if (t->u.variant.tag_slot < 0 || !t->u.variant.tag_type)
		return sonde_error_set(c->err, SONDE_EUNSUPPORTED,
				       "variant '%s': unresolved tag '%s'",
				       name ? name : "",
				       t->u.variant.tag_name ? t->u.variant.tag_name : "");
	ret = reserve_targets(c, n, &first);
	if (ret)
		return ret;
	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	op->code = DEC_OP_VARIANT;
	op->type = t;
	op->name = name;
	op->slot = t->u.variant.tag_slot;
	op->target = first;
	op->count = (uint32_t)n;
	if (n) {
		jumps = calloc(n, sizeof(*jumps));
		if (!jumps)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
	}
	for (i = 0; i < n; i++) {
		const struct sonde_ctf_field_decl *f = &t->u.variant.options[i];

		c->codec->targets[first + i] = (uint32_t)c->codec->op_count;
		ret = compile_type(c, f->type, f->name, f->slot, f->role);
		if (!ret)
			ret = emit(c, &op, &jump_idx);
		if (ret)
			goto out;
		op->code = DEC_OP_JUMP;
		jumps[i] = jump_idx;
	}
	ret = emit(c, &op, &end_idx);
	if (ret)
		goto out;
	op->code = DEC_OP_VARIANT_END;
	for (i = 0; i < n; i++)
		c->codec->ops[jumps[i]].target = end_idx;
out:
	free(jumps);
	return ret;
}

static int compile_list(struct compiler *c, const struct sonde_ctf_type *t,
			const char *name, uint8_t role)
{
	bool seq = t->kind == SONDE_CTF_SEQUENCE;
	const struct sonde_ctf_type *elem = seq ? t->u.sequence.element :
						  t->u.array.element;
	bool text = seq ? t->u.sequence.is_text : t->u.array.is_text;
	uint32_t idx, next_idx;
	struct dec_op *op;
	int ret;

	ret = emit(c, &op, &idx);
	if (ret)
		return ret;
	op->type = t;
	op->name = name;
	op->role = role;
	if (role != SONDE_CTF_ROLE_NONE)
		op->flags |= DEC_F_ROLE;
	/* Arrays align on their element even when empty. */
	op->align_mask = elem->kind == SONDE_CTF_VARIANT ? 0 :
			 (elem->align ? elem->align - 1 : 0);
	if (t->align > elem->align && elem->kind != SONDE_CTF_VARIANT)
		op->align_mask = t->align - 1;
	if (seq) {
		if (t->u.sequence.length_slot < 0)
			return sonde_error_set(c->err, SONDE_EUNSUPPORTED,
					       "sequence '%s': unresolved length '%s'",
					       name ? name : "",
					       t->u.sequence.length_name ?
					       t->u.sequence.length_name : "");
		op->flags |= DEC_F_SEQ;
		op->slot = t->u.sequence.length_slot;
	} else {
		op->length = t->u.array.length;
	}
	if (text) {
		op->code = DEC_OP_TEXT;
		op->size = 8;
		if (op->align_mask < 7)
			op->align_mask = 7;
		return 0;
	}
	op->code = DEC_OP_LIST;
	op->size = (uint32_t)min_bits(elem, 0);
	ret = compile_type(c, elem, name, -1, SONDE_CTF_ROLE_NONE);
	if (ret)
		return ret;
	ret = emit(c, &op, &next_idx);
	if (ret)
		return ret;
	op->code = DEC_OP_LIST_NEXT;
	op->target = idx + 1;
	c->codec->ops[idx].target = next_idx + 1;
	return 0;
}

static int compile_type(struct compiler *c, const struct sonde_ctf_type *t,
			const char *name, int32_t slot, uint8_t role)
{
	struct dec_op *op;
	uint32_t idx;
	int ret = 0;

	if (!t)
		return sonde_error_set(c->err, SONDE_EINVAL,
				       "field '%s' has no type", name ? name : "");
	if (++c->depth > MAX_NESTING) {
		c->depth--;
		return sonde_error_set(c->err, SONDE_EUNSUPPORTED,
				       "field '%s': types nested too deeply",
				       name ? name : "");
	}
	if (c->depth > c->codec->max_depth)
		c->codec->max_depth = c->depth;
	switch (t->kind) {
	case SONDE_CTF_INT:
		ret = compile_int(c, t, t, name, slot, role);
		break;
	case SONDE_CTF_ENUM:
		if (!t->u.enumeration.container ||
		    t->u.enumeration.container->kind != SONDE_CTF_INT) {
			ret = sonde_error_set(c->err, SONDE_EINVAL,
					      "enum '%s' has no integer container",
					      name ? name : "");
			break;
		}
		ret = compile_int(c, t, t->u.enumeration.container, name, slot,
				  role);
		break;
	case SONDE_CTF_FLOAT: {
		uint32_t size = t->u.floating.exp_dig + t->u.floating.mant_dig;

		if (size != 32 && size != 64) {
			ret = sonde_error_set(c->err, SONDE_EUNSUPPORTED,
					      "field '%s': %u-bit floats are not supported",
					      name ? name : "", size);
			break;
		}
		ret = emit(c, &op, &idx);
		if (ret)
			break;
		op->code = DEC_OP_FLOAT;
		op->size = size;
		op->align_mask = t->align ? t->align - 1 : 0;
		op->type = t;
		op->name = name;
		if (t->u.floating.byte_order == SONDE_CTF_BE)
			op->flags |= DEC_F_BE;
		break;
	}
	case SONDE_CTF_STRING:
		ret = emit(c, &op, &idx);
		if (ret)
			break;
		op->code = DEC_OP_STRING;
		op->align_mask = 7;
		op->type = t;
		op->name = name;
		break;
	case SONDE_CTF_STRUCT:
		ret = compile_struct(c, t, name);
		break;
	case SONDE_CTF_VARIANT:
		ret = compile_variant(c, t, name);
		break;
	case SONDE_CTF_ARRAY:
	case SONDE_CTF_SEQUENCE:
		ret = compile_list(c, t, name, role);
		break;
	default:
		ret = sonde_error_set(c->err, SONDE_EINVAL,
				      "field '%s' has an unknown type kind",
				      name ? name : "");
	}
	c->depth--;
	return ret;
}

static int compile_scope(struct compiler *c, const struct sonde_ctf_type *t,
			 dec_prog *prog)
{
	struct dec_op *op;
	uint32_t idx;
	int ret;

	*prog = DEC_NO_PROG;
	if (!t)
		return 0;
	*prog = (dec_prog)c->codec->op_count;
	ret = compile_type(c, t, NULL, -1, SONDE_CTF_ROLE_NONE);
	if (!ret)
		ret = emit(c, &op, &idx);
	if (!ret)
		op->code = DEC_OP_END;
	return ret;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct dec_event_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int compile_stream_class(struct compiler *c,
				const struct sonde_ctf_stream_class *sc,
				struct dec_stream_class *dsc)
{
	uint64_t max_id = 0;
	size_t n = sc->event_class_count, i;
	int ret;

	dsc->sc = sc;
	ret = compile_scope(c, sc->packet_context, &dsc->packet_context);
	if (!ret)
		ret = compile_scope(c, sc->event_header, &dsc->event_header);
	if (!ret)
		ret = compile_scope(c, sc->event_context, &dsc->event_context);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (sc->event_classes[i]->id > max_id)
			max_id = sc->event_classes[i]->id;
	dsc->dense = n && max_id < 4 * (uint64_t)n + 64;
	dsc->entry_count = dsc->dense ? (size_t)max_id + 1 : n;
	if (dsc->entry_count) {
		dsc->entries = calloc(dsc->entry_count, sizeof(*dsc->entries));
		if (!dsc->entries)
			return sonde_error_set(c->err, SONDE_ENOMEM,
					       "out of memory compiling types");
	}
	for (i = 0; i < n; i++) {
		const struct sonde_ctf_event_class *ec = sc->event_classes[i];
		struct dec_event_entry *e = dsc->dense ?
			&dsc->entries[ec->id] : &dsc->entries[i];

		if (dsc->dense && e->ec)
			continue; /* duplicate id: the first declaration wins */
		e->id = ec->id;
		e->ec = ec;
		ret = compile_scope(c, ec->context, &e->context);
		if (!ret)
			ret = compile_scope(c, ec->fields, &e->fields);
		if (ret)
			return sonde_error_prefix(c->err, "event '%s'",
						  ec->name ? ec->name : "");
	}
	if (!dsc->dense && n)
		qsort(dsc->entries, n, sizeof(*dsc->entries), cmp_entry);
	return 0;
}

/* A program made of one op of kind `code` (then END), or NULL. */
static const struct dec_op *single_op(const struct dec_codec *codec,
				      dec_prog prog, uint8_t code)
{
	if (prog < 0 || codec->ops[prog].code != code ||
	    codec->ops[prog + 1].code != DEC_OP_END)
		return NULL;
	return &codec->ops[prog];
}

/* Once the op array no longer moves, point the fast paths into it. */
static void link_fast_paths(struct dec_codec *codec)
{
	size_t i, j;

	for (i = 0; i < codec->sc_count; i++) {
		struct dec_stream_class *dsc = &codec->scs[i];

		dsc->lttng_header = single_op(codec, dsc->event_header,
					      DEC_OP_LTTNG_HEADER);
		if (dsc->lttng_header)
			dsc->lttng = &codec->headers[dsc->lttng_header->target];
		for (j = 0; j < dsc->entry_count; j++) {
			struct dec_event_entry *e = &dsc->entries[j];

			if (e->ec && dsc->event_context < 0 && e->context < 0)
				e->fixed_payload = single_op(codec, e->fields,
							     DEC_OP_STRUCT_FIXED);
			if (e->fixed_payload)
				e->fixed_members =
					&codec->fixed[e->fixed_payload->target];
		}
	}
}

int dec_codec_create(const struct sonde_ctf_trace_class *tc,
		     struct dec_codec **out, struct sonde_error *err)
{
	return dec_codec_create_ex(tc, false, out, err);
}

int dec_codec_create_ex(const struct sonde_ctf_trace_class *tc,
			bool generic_only, struct dec_codec **out,
			struct sonde_error *err)
{
	struct compiler c = { 0 };
	struct dec_codec *codec;
	size_t i;
	int ret;

	codec = calloc(1, sizeof(*codec));
	if (!codec)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	codec->tc = tc;
	c.codec = codec;
	c.generic_only = generic_only;
	c.err = err;
	ret = compile_scope(&c, tc->packet_header, &codec->packet_header);
	if (ret)
		goto fail;
	if (tc->stream_class_count) {
		codec->scs = calloc(tc->stream_class_count, sizeof(*codec->scs));
		if (!codec->scs) {
			ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
			goto fail;
		}
	}
	codec->sc_count = tc->stream_class_count;
	for (i = 0; i < tc->stream_class_count; i++) {
		ret = compile_stream_class(&c, tc->stream_classes[i],
					   &codec->scs[i]);
		if (ret)
			goto fail;
	}
	link_fast_paths(codec);
	*out = codec;
	return 0;
fail:
	dec_codec_free(codec);
	return ret;
}

void dec_codec_free(struct dec_codec *codec)
{
	size_t i;

	if (!codec)
		return;
	for (i = 0; i < codec->sc_count; i++)
		free(codec->scs[i].entries);
	free(codec->scs);
	free(codec->ops);
	free(codec->targets);
	free(codec->fixed);
	for (i = 0; i < codec->header_count; i++)
		free(codec->headers[i].option_of);
	free(codec->headers);
	free(codec);
}

const struct dec_stream_class *dec_codec_stream_class(const struct dec_codec *c,
						      uint64_t id)
{
	size_t i;

	for (i = 0; i < c->sc_count; i++)
		if (c->scs[i].sc->id == id)
			return &c->scs[i];
	return NULL;
}

const struct dec_event_entry *dec_find_event_sorted(const struct dec_stream_class *dsc,
						    uint64_t id)
{
	size_t lo = 0, hi = dsc->entry_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (dsc->entries[mid].id == id)
			return &dsc->entries[mid];
		if (dsc->entries[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
