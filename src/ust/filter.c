/*
 * Event filters in traced programs: bytecode from the daemon checked once
 * (load), bound to each event it may apply to (field names resolved,
 * types checked), then evaluated on the payload of each candidate event.
 * Nothing in the bytecode is trusted: every read is bounds-checked when
 * loading, and evaluation reads the payload only within its length.
 */
#include <stdlib.h>
#include <string.h>

#include "ust/filter.h"
#include "ust/ust-internal.h"

enum value_kind { VAL_INT, VAL_FLOAT, VAL_STRING, VAL_GLOB };

struct insn {
	uint8_t op;
	uint8_t ctx;
	uint16_t len;
	int64_t i;
	double d;
	const char *s; /* FIELD name, STR bytes, GLOB pattern (in `code`) */
};

struct sonde_ust_filter {
	uint8_t *code;
	struct insn *insns;
	uint32_t count;
};

struct bound_field {
	const struct sonde_ctfw_field *field;
	uint32_t index;
	int64_t fixed_offset; /* -1 when a variable-size field precedes it */
};

struct sonde_ust_bound_filter {
	const struct sonde_ust_filter *filter;
	const struct sonde_tp_event *ev;
	/* The most common filter, `field OP integer` on an integer field at
	 * a fixed offset, evaluated without the interpreter (a third of the
	 * cost of a rejected event): the comparison, else 0. */
	uint8_t simple_op;
	struct bound_field fields[]; /* per instruction (FIELD ones used) */
};

struct value {
	enum value_kind kind;
	int64_t i;
	double d;
	const char *s;
	size_t n;
};

int sonde_ust_filter_unhex(const char *hex, uint8_t **code, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *b;

	*code = NULL;
	*len = 0;
	if (n % 2 || n / 2 > SONDE_UST_FILTER_CODE_MAX || !n)
		return SONDE_EFORMAT;
	b = malloc(n / 2);
	if (!b)
		return SONDE_ENOMEM;
	for (i = 0; i < n; i++) {
		char ch = hex[i];
		int v = ch >= '0' && ch <= '9'	 ? ch - '0'
			: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
						 : -1;

		if (v < 0) {
			free(b);
			return SONDE_EFORMAT;
		}
		if (i % 2)
			b[i / 2] = (uint8_t)(b[i / 2] | v);
		else
			b[i / 2] = (uint8_t)(v << 4);
	}
	*code = b;
	*len = n / 2;
	return 0;
}

/* The little-endian number in the `n` bytes at p. */
static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Stack effect of an operator: operands taken. */
static int operands(uint8_t op)
{
	switch (op) {
	case SONDE_UST_FOP_NOT:
	case SONDE_UST_FOP_NEG:
		return 1;
	case SONDE_UST_FOP_EQ:
	case SONDE_UST_FOP_NE:
	case SONDE_UST_FOP_LT:
	case SONDE_UST_FOP_LE:
	case SONDE_UST_FOP_GT:
	case SONDE_UST_FOP_GE:
	case SONDE_UST_FOP_AND:
	case SONDE_UST_FOP_OR:
		return 2;
	default:
		return -1;
	}
}

static int load_fail(struct sonde_ust_filter *f, struct sonde_error *err,
		     size_t at, const char *what)
{
	sonde_ust_filter_free(f);
	return sonde_error_set(err, SONDE_EFORMAT,
			       "filter bytecode: offset %zu: %s", at, what);
}

int sonde_ust_filter_load(const uint8_t *code, size_t len,
			  struct sonde_ust_filter **out,
			  struct sonde_error *err)
{
	struct sonde_ust_filter *f;
	size_t pos = 1;
	int depth = 0;

	*out = NULL;
	if (len < 2 || len > SONDE_UST_FILTER_CODE_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "filter bytecode: %zu bytes", len);
	if (code[0] != SONDE_UST_FILTER_VERSION)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "filter bytecode: version %u", code[0]);
	f = calloc(1, sizeof(*f));
	if (!f || !(f->code = malloc(len)) ||
	    !(f->insns = calloc(len, sizeof(*f->insns)))) {
		sonde_ust_filter_free(f);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	memcpy(f->code, code, len);
	while (pos < len) {
		struct insn *in = &f->insns[f->count];
		size_t at = pos, n;

		in->op = f->code[pos++];
		switch (in->op) {
		case SONDE_UST_FOP_FIELD:
		case SONDE_UST_FOP_ELEM:
			if (pos >= len || (n = f->code[pos]) == 0 ||
			    n > len - pos - 1)
				return load_fail(f, err, at, "bad field name");
			in->len = (uint16_t)n;
			in->s = (const char *)f->code + pos + 1;
			pos += 1 + n;
			if (in->op == SONDE_UST_FOP_ELEM) {
				if (len - pos < 4)
					return load_fail(f, err, at,
							 "truncated index");
				in->i = (int64_t)le(f->code + pos, 4);
				pos += 4;
			}
			depth++;
			break;
		case SONDE_UST_FOP_CTX:
			if (pos >= len || f->code[pos] < SONDE_UST_CTX_VPID ||
			    f->code[pos] > SONDE_UST_CTX_PTHREAD_ID)
				return load_fail(f, err, at, "bad context");
			in->ctx = f->code[pos++];
			depth++;
			break;
		case SONDE_UST_FOP_INT:
		case SONDE_UST_FOP_FLOAT:
			if (len - pos < 8)
				return load_fail(f, err, at,
						 "truncated number");
			in->i = (int64_t)le(f->code + pos, 8);
			memcpy(&in->d, &in->i, 8);
			pos += 8;
			depth++;
			break;
		case SONDE_UST_FOP_STR:
		case SONDE_UST_FOP_GLOB:
			if (len - pos < 2)
				return load_fail(f, err, at,
						 "truncated string");
			n = (size_t)f->code[pos] | (size_t)f->code[pos + 1]
							   << 8;
			if (n > len - pos - 2)
				return load_fail(f, err, at,
						 "truncated string");
			in->len = (uint16_t)n;
			in->s = (const char *)f->code + pos + 2;
			pos += 2 + n;
			depth++;
			break;
		default:
			if (operands(in->op) < 0)
				return load_fail(f, err, at,
						 "unknown operation");
			if (depth < operands(in->op))
				return load_fail(f, err, at, "stack underflow");
			depth -= operands(in->op) - 1;
		}
		if (depth > SONDE_UST_FILTER_STACK_MAX)
			return load_fail(f, err, at, "stack overflow");
		f->count++;
	}
	if (depth != 1)
		return load_fail(f, err, len, "not one result");
	*out = f;
	return 0;
}

void sonde_ust_filter_free(struct sonde_ust_filter *f)
{
	if (!f)
		return;
	free(f->insns);
	free(f->code);
	free(f);
}

/* Bytes of a field whose size does not depend on the payload; -1 for
 * strings and sequences. */
static int64_t fixed_size(const struct sonde_ctfw_field *fd)
{
	switch (fd->kind) {
	case SONDE_CTFW_FIELD_INT:
	case SONDE_CTFW_FIELD_ENUM:
		return fd->integer.size / 8;
	case SONDE_CTFW_FIELD_FLOAT:
		return fd->float_bits / 8;
	case SONDE_CTFW_FIELD_ARRAY:
		return (int64_t)fd->count * (fd->integer.size / 8);
	default:
		return -1;
	}
}

static bool is_text_field(const struct sonde_ctfw_field *fd)
{
	return fd->kind == SONDE_CTFW_FIELD_STRING ||
	       ((fd->kind == SONDE_CTFW_FIELD_ARRAY ||
		 fd->kind == SONDE_CTFW_FIELD_SEQUENCE) &&
		fd->integer.size == 8 &&
		fd->integer.encoding != SONDE_CTF_ENC_NONE);
}

static bool is_number_field(const struct sonde_ctfw_field *fd)
{
	return ((fd->kind == SONDE_CTFW_FIELD_INT ||
		 fd->kind == SONDE_CTFW_FIELD_ENUM) &&
		(fd->integer.size == 8 || fd->integer.size == 16 ||
		 fd->integer.size == 32 || fd->integer.size == 64)) ||
	       (fd->kind == SONDE_CTFW_FIELD_FLOAT &&
		(fd->float_bits == 32 || fd->float_bits == 64));
}

/* Elements `name[i]` can be read from: arrays and sequences of whole
 * bytes, text ones included (their elements are the characters' codes). */
static bool is_integer_list(const struct sonde_ctfw_field *fd)
{
	return (fd->kind == SONDE_CTFW_FIELD_ARRAY ||
		fd->kind == SONDE_CTFW_FIELD_SEQUENCE) &&
	       (fd->integer.size == 8 || fd->integer.size == 16 ||
		fd->integer.size == 32 || fd->integer.size == 64);
}

/* Resolves the field an instruction names; false if the event lacks it. */
static bool bind_field(const struct sonde_tp_event *ev, const struct insn *in,
		       struct bound_field *bf)
{
	int64_t off = 0;
	uint32_t i;

	for (i = 0; i < ev->field_count; i++) {
		const struct sonde_ctfw_field *fd = &ev->fields[i];

		if (strlen(fd->name) == in->len &&
		    !memcmp(fd->name, in->s, in->len)) {
			*bf = (struct bound_field){ fd, i, off };
			return true;
		}
		if (off >= 0)
			off = fixed_size(fd) < 0 ? -1 : off + fixed_size(fd);
	}
	return false;
}

struct sonde_ust_bound_filter *
sonde_ust_filter_bind(const struct sonde_ust_filter *f,
		      const struct sonde_tp_event *ev)
{
	enum value_kind types[SONDE_UST_FILTER_STACK_MAX] = { VAL_STRING };
	struct sonde_ust_bound_filter *b;
	int depth = 0;
	uint32_t k;

	b = calloc(1, sizeof(*b) + f->count * sizeof(b->fields[0]));
	if (!b)
		return NULL;
	b->filter = f;
	b->ev = ev;
	/* The loader checked the stack; here the types, by the same walk. */
	for (k = 0; k < f->count; k++) {
		const struct insn *in = &f->insns[k];
		enum value_kind l, r;

		switch (in->op) {
		case SONDE_UST_FOP_FIELD:
			if (!bind_field(ev, in, &b->fields[k]))
				goto never;
			if (is_text_field(b->fields[k].field))
				types[depth++] = VAL_STRING;
			else if (is_number_field(b->fields[k].field))
				types[depth++] = VAL_INT;
			else
				goto never; /* integer arrays and sequences */
			break;
		case SONDE_UST_FOP_ELEM:
			if (!bind_field(ev, in, &b->fields[k]) ||
			    !is_integer_list(b->fields[k].field))
				goto never;
			types[depth++] = VAL_INT;
			break;
		case SONDE_UST_FOP_CTX:
			types[depth++] = in->ctx == SONDE_UST_CTX_PROCNAME
						 ? VAL_STRING
						 : VAL_INT;
			break;
		case SONDE_UST_FOP_INT:
		case SONDE_UST_FOP_FLOAT:
			types[depth++] = VAL_INT;
			break;
		case SONDE_UST_FOP_STR:
			types[depth++] = VAL_STRING;
			break;
		case SONDE_UST_FOP_GLOB:
			types[depth++] = VAL_GLOB;
			break;
		case SONDE_UST_FOP_NOT:
		case SONDE_UST_FOP_NEG:
			if (types[depth - 1] != VAL_INT)
				goto never;
			break;
		case SONDE_UST_FOP_AND:
		case SONDE_UST_FOP_OR:
			if (types[depth - 1] != VAL_INT ||
			    types[depth - 2] != VAL_INT)
				goto never;
			depth--;
			break;
		default: /* comparisons */
			l = types[depth - 2];
			r = types[depth - 1];
			if ((l == VAL_INT) != (r == VAL_INT) ||
			    (l == VAL_GLOB && r == VAL_GLOB) ||
			    ((l == VAL_GLOB || r == VAL_GLOB) &&
			     in->op != SONDE_UST_FOP_EQ &&
			     in->op != SONDE_UST_FOP_NE))
				goto never;
			types[--depth - 1] = VAL_INT;
		}
	}
	if (types[0] != VAL_INT)
		goto never;
	if (f->count == 3 && f->insns[0].op == SONDE_UST_FOP_FIELD &&
	    f->insns[1].op == SONDE_UST_FOP_INT &&
	    operands(f->insns[2].op) == 2 &&
	    f->insns[2].op != SONDE_UST_FOP_AND &&
	    f->insns[2].op != SONDE_UST_FOP_OR &&
	    b->fields[0].field->kind != SONDE_CTFW_FIELD_FLOAT &&
	    b->fields[0].fixed_offset >= 0)
		b->simple_op = f->insns[2].op;
	return b;
never:
	free(b);
	return NULL;
}

void sonde_ust_bound_filter_free(struct sonde_ust_bound_filter *b)
{
	free(b);
}

/* Bytes the field at `p` takes in the payload, or -1 if it overruns. */
static int64_t payload_size(const struct sonde_ctfw_field *fd, const uint8_t *p,
			    size_t left)
{
	int64_t n = fixed_size(fd);

	if (fd->kind == SONDE_CTFW_FIELD_STRING) {
		const uint8_t *nul = memchr(p, 0, left);

		return nul ? nul - p + 1 : -1;
	}
	if (fd->kind == SONDE_CTFW_FIELD_SEQUENCE) {
		size_t lb = fd->length.size / 8, eb = fd->integer.size / 8;
		uint64_t count = 0;

		if (lb < 1 || lb > 8 || left < lb)
			return -1;
		memcpy(&count, p, lb); /* host order, little-endian hosts */
		if (eb < 1 || count > (left - lb) / eb)
			return -1;
		return (int64_t)(lb + count * eb);
	}
	return n >= 0 && (size_t)n <= left ? n : -1;
}

/* Where a bound field lies in the payload: false if it overruns. */
static bool locate_field(const struct bound_field *bf,
			 const struct sonde_ust_bound_filter *b,
			 const uint8_t *payload, size_t len, size_t *off,
			 size_t *size)
{
	int64_t n;

	if (bf->fixed_offset >= 0) {
		*off = (size_t)bf->fixed_offset;
	} else {
		uint32_t i;

		for (*off = 0, i = 0; i < bf->index; i++) {
			n = payload_size(&b->ev->fields[i], payload + *off,
					 len - *off);
			if (n < 0)
				return false;
			*off += (size_t)n;
		}
	}
	if (*off > len ||
	    (n = payload_size(bf->field, payload + *off, len - *off)) < 0)
		return false;
	*size = (size_t)n;
	return true;
}

/* The integer at p as the field (or, for a list, its elements) types it. */
static int64_t read_int(const struct sonde_ctfw_field *fd, const uint8_t *p)
{
	unsigned int bytes = fd->integer.size / 8, i;
	uint8_t be = fd->integer.order == SONDE_CTFW_ORDER_BE ? SONDE_CTF_BE
		     : fd->integer.order == SONDE_CTFW_ORDER_LE
			     ? SONDE_CTF_LE
			     : SONDE_CTFW_HOST_ORDER;
	uint64_t u = 0;

	if (be == SONDE_CTFW_HOST_ORDER) {
		/* The usual case, without the byte loop. */
		uint16_t u16;
		uint32_t u32;

		switch (bytes) {
		case 1:
			u = p[0];
			break;
		case 2:
			memcpy(&u16, p, 2);
			u = u16;
			break;
		case 4:
			memcpy(&u32, p, 4);
			u = u32;
			break;
		default:
			memcpy(&u, p, 8);
		}
	} else {
		for (i = 0; i < bytes; i++)
			u = u << 8 | p[be == SONDE_CTF_BE ? i : bytes - 1 - i];
	}
	if (fd->integer.is_signed && bytes < 8 && (u >> (8 * bytes - 1)))
		u |= ~(uint64_t)0 << (8 * bytes);
	return (int64_t)u;
}

static bool read_field(const struct bound_field *bf,
		       const struct sonde_ust_bound_filter *b,
		       const uint8_t *payload, size_t len, struct value *v)
{
	const struct sonde_ctfw_field *fd = bf->field;
	size_t off, n;

	if (!locate_field(bf, b, payload, len, &off, &n))
		return false;
	payload += off;
	if (fd->kind == SONDE_CTFW_FIELD_FLOAT) {
		v->kind = VAL_FLOAT;
		if (fd->float_bits == 32) {
			float x;

			memcpy(&x, payload, 4);
			v->d = x;
		} else {
			memcpy(&v->d, payload, 8);
		}
		return true;
	}
	if (fd->kind == SONDE_CTFW_FIELD_INT ||
	    fd->kind == SONDE_CTFW_FIELD_ENUM) {
		v->kind = VAL_INT;
		v->i = read_int(fd, payload);
		return true;
	}
	/* Text: strings, char arrays and sequences, up to their first NUL. */
	v->kind = VAL_STRING;
	v->s = (const char *)payload;
	v->n = n;
	if (fd->kind == SONDE_CTFW_FIELD_SEQUENCE) {
		v->s += fd->length.size / 8;
		v->n -= fd->length.size / 8;
	}
	{
		const char *nul = memchr(v->s, 0, v->n);

		if (nul)
			v->n = (size_t)(nul - v->s);
	}
	return true;
}

/* Element `index` of an array or sequence: false past its end. */
static bool read_element(const struct bound_field *bf,
			 const struct sonde_ust_bound_filter *b,
			 const uint8_t *payload, size_t len, int64_t index,
			 struct value *v)
{
	const struct sonde_ctfw_field *fd = bf->field;
	size_t off, n, width = fd->integer.size / 8;

	if (!locate_field(bf, b, payload, len, &off, &n))
		return false;
	payload += off;
	if (fd->kind == SONDE_CTFW_FIELD_SEQUENCE) {
		payload += fd->length.size / 8;
		n -= fd->length.size / 8;
	}
	if ((uint64_t)index >= n / width)
		return false;
	v->kind = VAL_INT;
	v->i = read_int(fd, payload + (size_t)index * width);
	return true;
}

/* LTTng's star glob: `*` matches any run, `\` makes the next character
 * literal.  Backtracks to the last star only: linear in practice. */
static bool glob_match(const char *pat, size_t plen, const char *s, size_t n)
{
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

	while (i < n) {
		if (p < plen && pat[p] == '*') {
			star_p = ++p;
			star_i = i;
			continue;
		}
		if (p < plen) {
			size_t q = p;

			if (pat[q] == '\\' && q + 1 < plen)
				q++;
			if (pat[q] == s[i]) {
				p = q + 1;
				i++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		p = star_p;
		i = ++star_i;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

static int compare_strings(const struct value *l, const struct value *r)
{
	size_t n = l->n < r->n ? l->n : r->n;
	int c = memcmp(l->s, r->s, n);

	return c ? c : (l->n > r->n) - (l->n < r->n);
}

static bool compare(uint8_t op, const struct value *l, const struct value *r)
{
	int c;

	if (l->kind == VAL_GLOB || r->kind == VAL_GLOB) {
		const struct value *g = l->kind == VAL_GLOB ? l : r;
		const struct value *s = l->kind == VAL_GLOB ? r : l;
		bool m;

		if (s->kind != VAL_STRING)
			return false;
		m = glob_match(g->s, g->n, s->s, s->n);
		return op == SONDE_UST_FOP_EQ	? m
		       : op == SONDE_UST_FOP_NE ? !m
						: false;
	}
	if ((l->kind == VAL_STRING) != (r->kind == VAL_STRING))
		return false;
	if (l->kind == VAL_STRING) {
		c = compare_strings(l, r);
	} else if (l->kind == VAL_INT && r->kind == VAL_INT) {
		c = (l->i > r->i) - (l->i < r->i);
	} else {
		double a = l->kind == VAL_INT ? (double)l->i : l->d;
		double b = r->kind == VAL_INT ? (double)r->i : r->d;

		if (a != a || b != b) /* NaN: only != holds */
			return op == SONDE_UST_FOP_NE;
		c = (a > b) - (a < b);
	}
	switch (op) {
	case SONDE_UST_FOP_EQ:
		return c == 0;
	case SONDE_UST_FOP_NE:
		return c != 0;
	case SONDE_UST_FOP_LT:
		return c < 0;
	case SONDE_UST_FOP_LE:
		return c <= 0;
	case SONDE_UST_FOP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

static bool truth(const struct value *v)
{
	return v->kind == VAL_INT ? v->i != 0
				  : v->kind == VAL_FLOAT && v->d != 0;
}

bool sonde_ust_filter_eval(const struct sonde_ust_bound_filter *b,
			   const uint8_t *payload, size_t len,
			   const struct sonde_ust_filter_ctx *ctx)
{
	struct value stack[SONDE_UST_FILTER_STACK_MAX];
	const struct sonde_ust_filter *f = b->filter;
	int depth = 0;
	uint32_t k;

	if (b->simple_op) {
		struct value field,
			literal = { .kind = VAL_INT, .i = f->insns[1].i };

		return read_field(&b->fields[0], b, payload, len, &field) &&
		       compare(b->simple_op, &field, &literal);
	}
	for (k = 0; k < f->count; k++) {
		const struct insn *in = &f->insns[k];
		struct value *v = &stack[depth];

		/* The loader proved the depth stays within 1..STACK_MAX. */
		switch (in->op) {
		case SONDE_UST_FOP_FIELD:
			if (!read_field(&b->fields[k], b, payload, len, v))
				return false;
			depth++;
			break;
		case SONDE_UST_FOP_ELEM:
			if (!read_element(&b->fields[k], b, payload, len, in->i,
					  v))
				return false;
			depth++;
			break;
		case SONDE_UST_FOP_CTX:
			if (in->ctx == SONDE_UST_CTX_PROCNAME) {
				v->kind = VAL_STRING;
				v->s = ctx->string(in->ctx);
				v->n = strlen(v->s);
			} else {
				v->kind = VAL_INT;
				v->i = ctx->integer(in->ctx);
			}
			depth++;
			break;
		case SONDE_UST_FOP_INT:
			*v = (struct value){ .kind = VAL_INT, .i = in->i };
			depth++;
			break;
		case SONDE_UST_FOP_FLOAT:
			*v = (struct value){ .kind = VAL_FLOAT, .d = in->d };
			depth++;
			break;
		case SONDE_UST_FOP_STR:
		case SONDE_UST_FOP_GLOB:
			*v = (struct value){ .kind = in->op == SONDE_UST_FOP_STR
							     ? VAL_STRING
							     : VAL_GLOB,
					     .s = in->s,
					     .n = in->len };
			depth++;
			break;
		case SONDE_UST_FOP_NOT:
			stack[depth - 1] = (struct value){
				.kind = VAL_INT, .i = !truth(&stack[depth - 1])
			};
			break;
		case SONDE_UST_FOP_NEG:
			if (stack[depth - 1].kind == VAL_INT)
				stack[depth - 1].i =
					(int64_t)(0 -
						  (uint64_t)stack[depth - 1].i);
			else
				stack[depth - 1].d = -stack[depth - 1].d;
			break;
		case SONDE_UST_FOP_AND:
		case SONDE_UST_FOP_OR: {
			bool l = truth(&stack[depth - 2]),
			     r = truth(&stack[depth - 1]);

			depth--;
			stack[depth - 1] =
				(struct value){ .kind = VAL_INT,
						.i = in->op == SONDE_UST_FOP_AND
							     ? l && r
							     : l || r };
			break;
		}
		default:
			depth--;
			stack[depth - 1] =
				(struct value){ .kind = VAL_INT,
						.i = compare(in->op,
							     &stack[depth - 1],
							     &stack[depth]) };
		}
	}
	return depth == 1 && truth(&stack[0]);
}

int sonde_ust_event_filter_make(struct sonde_ust_sink *sink,
				const struct sonde_ust_enabler *en,
				struct sonde_ust_filter *const *programs,
				size_t count, const struct sonde_tp_event *ev,
				struct sonde_ust_event_filter **out)
{
	struct sonde_ust_event_filter *set;
	size_t i;

	*out = NULL;
	for (i = 0; i < count; i++)
		if (!programs[i] &&
		    sonde_ust_enabler_match(&en[i], ev->name, ev->loglevel))
			return 0;
	set = calloc(1, sizeof(*set) + count * sizeof(set->bound[0]));
	if (!set)
		return -1;
	for (i = 0; i < count; i++) {
		if (!sonde_ust_enabler_match(&en[i], ev->name, ev->loglevel))
			continue;
		set->bound[set->count] = sonde_ust_filter_bind(programs[i], ev);
		set->count += set->bound[set->count] != NULL;
	}
	set->next = sink->event_filters;
	sink->event_filters = set;
	*out = set;
	return 0;
}
