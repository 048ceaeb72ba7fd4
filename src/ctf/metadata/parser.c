/*
 * TSDL recursive-descent parser: tokens -> the type model of a trace class.
 *
 * Types are built directly (no syntax tree); typedef/typealias names and
 * struct/variant/enum tags live in a scoped symbol table.  Everything that
 * needs the whole metadata (native byte order, clock maps, stream/event
 * wiring, path resolution) is done after the last token.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/metadata/lexer.h"
#include "ctf/metadata/metadata-internal.h"

/* Growable array of fixed-size elements (temporary, malloc'd). */
struct vec {
	void *v;
	size_t n, cap, elem;
};

static void *vec_push(struct vec *vc)
{
	if (vc->n == vc->cap) {
		size_t cap = vc->cap ? vc->cap * 2 : 8;
		void *v = realloc(vc->v, cap * vc->elem);

		if (!v)
			return NULL;
		vc->v = v;
		vc->cap = cap;
	}
	return memset((char *)vc->v + vc->n++ * vc->elem, 0, vc->elem);
}

#define VEC(type) { NULL, 0, 0, sizeof(type) }
#define VEC_AT(vc, type, i) (((type *)(vc).v)[i])

/* Symbol table entry: a type name, or "struct X" / "variant X" / "enum X". */
struct sym {
	const char *key;
	const struct sonde_ctf_type *type;
	uint32_t level;
	int32_t next;            /* next entry in the same hash bucket */
	uint32_t hash;
};

struct pending_map {
	struct md_type *type;
	const char *clock;
	uint32_t line;
};

struct pending_stream {
	struct md_stream_class *sc;
	bool has_id;
	uint32_t line;
};

struct pending_event {
	struct sonde_ctf_event_class *ec;
	bool has_id, has_stream_id, has_name;
	uint32_t line;
};

struct parser {
	const struct md_token *tok;
	size_t ntok, pos;
	const char *origin;
	struct sonde_error *err;
	struct md_trace_class *tc;
	struct sonde_arena *a;

	struct sym *syms;
	size_t nsym, capsym;
	int32_t *buckets;
	size_t nbuckets;
	uint32_t level;
	unsigned depth;

	struct vec basics;       /* struct md_type *: integers and floats */
	struct vec maps;         /* struct pending_map */
	struct vec clocks;       /* struct sonde_ctf_clock * */
	struct vec env;          /* struct sonde_ctf_env_entry */
	struct vec streams;      /* struct pending_stream */
	struct vec events;       /* struct pending_event */
	bool have_trace, have_byte_order, have_major, have_minor;
	uint32_t trace_line;
};

/* ------------------------------------------------------------------------ */
/* Errors and tokens                                                        */

static int perr(struct parser *p, const struct md_token *t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct parser *p, const struct md_token *t, const char *fmt, ...)
{
	char msg[SONDE_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return md_error_sanitize(p->err,
				 sonde_error_set(p->err, SONDE_EFORMAT, "%s:%u: %s",
						 p->origin, t ? t->line : 0, msg));
}

static int nomem(struct parser *p)
{
	const struct md_token *t = &p->tok[p->pos];

	return sonde_error_set(p->err, SONDE_ENOMEM,
			       "%s:%u: out of memory or metadata too complex",
			       p->origin, t->line);
}

static const struct md_token *peek(struct parser *p)
{
	return &p->tok[p->pos];
}

static const struct md_token *peek_at(struct parser *p, size_t k)
{
	size_t i = p->pos + k;

	return &p->tok[i < p->ntok ? i : p->ntok - 1];
}

static const struct md_token *next(struct parser *p)
{
	const struct md_token *t = &p->tok[p->pos];

	if (t->type != TK_EOF)
		p->pos++;
	return t;
}

static bool accept(struct parser *p, int type)
{
	if (peek(p)->type == type) {
		next(p);
		return true;
	}
	return false;
}

static int unexpected(struct parser *p, const char *wanted)
{
	const struct md_token *t = peek(p);
	char buf[96];

	return perr(p, t, "expected %s, found %s", wanted,
		    md_tok_describe(t, buf, sizeof(buf)));
}

static int expect(struct parser *p, int type, const char *wanted)
{
	if (accept(p, type))
		return 0;
	return unexpected(p, wanted);
}

static char *tok_dup(struct parser *p, const struct md_token *t)
{
	return sonde_arena_strndup(p->a, t->s, t->len);
}

static int enter(struct parser *p)
{
	if (++p->depth > MD_MAX_DEPTH)
		return perr(p, peek(p), "nesting too deep (more than %d levels)",
			    MD_MAX_DEPTH);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Scoped symbol table                                                      */

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static const struct sonde_ctf_type *sym_lookup(struct parser *p, const char *key)
{
	uint32_t h = hash_str(key);
	int32_t i;

	if (!p->nbuckets)
		return NULL;
	for (i = p->buckets[h & (p->nbuckets - 1)]; i >= 0; i = p->syms[i].next) {
		if (p->syms[i].hash == h && strcmp(p->syms[i].key, key) == 0)
			return p->syms[i].type;
	}
	return NULL;
}

static int sym_rehash(struct parser *p, size_t nbuckets)
{
	int32_t *b = malloc(nbuckets * sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < nbuckets; i++)
		b[i] = -1;
	/* Insertion order keeps inner declarations ahead in each chain. */
	for (size_t i = 0; i < p->nsym; i++) {
		size_t bi = p->syms[i].hash & (nbuckets - 1);

		p->syms[i].next = b[bi];
		b[bi] = (int32_t)i;
	}
	free(p->buckets);
	p->buckets = b;
	p->nbuckets = nbuckets;
	return 0;
}

/* Adds `key` in the current scope; a name already in this scope is an error. */
static int sym_add(struct parser *p, const struct md_token *at, const char *key,
		   const struct sonde_ctf_type *type)
{
	uint32_t h = hash_str(key);
	struct sym *s;
	size_t bi;

	if (p->nbuckets) {
		for (int32_t i = p->buckets[h & (p->nbuckets - 1)]; i >= 0;
		     i = p->syms[i].next) {
			if (p->syms[i].hash == h && strcmp(p->syms[i].key, key) == 0 &&
			    p->syms[i].level == p->level)
				return perr(p, at, "'%s' is already defined in this scope",
					    key);
		}
	}
	if (p->nsym == p->capsym) {
		size_t cap = p->capsym ? p->capsym * 2 : 64;
		struct sym *v = realloc(p->syms, cap * sizeof(*v));

		if (!v)
			return nomem(p);
		p->syms = v;
		p->capsym = cap;
	}
	if (p->nsym >= p->nbuckets && sym_rehash(p, p->nbuckets ? p->nbuckets * 2 : 64))
		return nomem(p);
	s = &p->syms[p->nsym];
	s->key = sonde_arena_strdup(p->a, key);
	if (!s->key)
		return nomem(p);
	s->type = type;
	s->level = p->level;
	s->hash = h;
	bi = h & (p->nbuckets - 1);
	s->next = p->buckets[bi];
	p->buckets[bi] = (int32_t)p->nsym++;
	return 0;
}

static void scope_push(struct parser *p)
{
	p->level++;
}

static void scope_pop(struct parser *p)
{
	while (p->nsym && p->syms[p->nsym - 1].level == p->level) {
		struct sym *s = &p->syms[--p->nsym];

		p->buckets[s->hash & (p->nbuckets - 1)] = s->next;
	}
	p->level--;
}

/* ------------------------------------------------------------------------ */
/* Type nodes                                                               */

static struct md_type *new_type(struct parser *p, enum sonde_ctf_kind kind,
				const struct md_token *at)
{
	struct md_type *t = sonde_arena_alloc(p->a, sizeof(*t));

	if (!t)
		return NULL;
	t->pub.kind = kind;
	t->pub.align = 1;
	t->depth = 1;
	t->line = at->line;
	if (kind == SONDE_CTF_INT || kind == SONDE_CTF_FLOAT) {
		struct md_type **slot = vec_push(&p->basics);

		if (!slot)
			return NULL;
		*slot = t;
	}
	return t;
}

static bool is_text_element(const struct sonde_ctf_type *e)
{
	return e->kind == SONDE_CTF_INT && e->u.integer.size == 8 &&
	       e->align == 8 && e->u.integer.encoding != SONDE_CTF_ENC_NONE;
}

static int check_depth(struct parser *p, const struct md_token *at,
		       struct md_type *t, const struct sonde_ctf_type *child)
{
	unsigned d = md_type(child)->depth + 1u;

	if (d > MD_MAX_DEPTH)
		return perr(p, at, "type nesting too deep (more than %d levels)",
			    MD_MAX_DEPTH);
	if (d > t->depth)
		t->depth = (uint16_t)d;
	if (md_type(child)->has_dynamic)
		t->has_dynamic = true;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Values of attributes                                                     */

enum val_kind { VAL_INT, VAL_STRING, VAL_PATH };

struct val {
	enum val_kind kind;
	bool neg;
	uint64_t mag;            /* VAL_INT */
	const char *str;         /* VAL_STRING decoded, VAL_PATH joined with '.' */
	const struct md_token *tok;
};

static bool path_component(const struct md_token *t)
{
	return t->type == TK_IDENT;
}

/* ident ('.' ident)* joined into the arena. */
static int parse_path(struct parser *p, const char **out)
{
	size_t start = p->pos, len = 0, n = 0;
	char *s;

	if (!path_component(peek(p)))
		return unexpected(p, "an identifier");
	for (;;) {
		len += next(p)->len + 1;
		n++;
		if (peek(p)->type == TK_DOT && path_component(peek_at(p, 1))) {
			next(p);
			continue;
		}
		break;
	}
	s = sonde_arena_alloc(p->a, len);
	if (!s)
		return nomem(p);
	len = 0;
	for (size_t i = 0; i < n; i++) {
		const struct md_token *t = &p->tok[start + 2 * i];

		if (i)
			s[len++] = '.';
		memcpy(s + len, t->s, t->len);
		len += t->len;
	}
	s[len] = '\0';
	*out = s;
	return 0;
}

static int parse_value(struct parser *p, struct val *v)
{
	const struct md_token *t = peek(p);

	memset(v, 0, sizeof(*v));
	v->tok = t;
	if (t->type == TK_STRING) {
		next(p);
		v->kind = VAL_STRING;
		v->str = t->s;
		if (peek(p)->type == TK_STRING)
			return perr(p, peek(p), "adjacent string literals are not allowed");
		return 0;
	}
	if (t->type == TK_PLUS || t->type == TK_MINUS) {
		v->neg = t->type == TK_MINUS;
		next(p);
		t = peek(p);
		if (t->type != TK_INT)
			return unexpected(p, "an integer");
	}
	if (t->type == TK_INT) {
		next(p);
		v->kind = VAL_INT;
		v->mag = t->value;
		if (!v->mag)
			v->neg = false;
		return 0;
	}
	if (t->type == TK_IDENT) {
		v->kind = VAL_PATH;
		return parse_path(p, &v->str);
	}
	return unexpected(p, "a value");
}

static int val_uint(struct parser *p, const struct val *v, const char *attr,
		    uint64_t max, uint64_t *out)
{
	if (v->kind != VAL_INT)
		return perr(p, v->tok, "'%s' must be an integer", attr);
	if (v->neg || v->mag > max)
		return perr(p, v->tok, "'%s' out of range: %s%" PRIu64, attr,
			    v->neg ? "-" : "", v->mag);
	*out = v->mag;
	return 0;
}

static int val_int(struct parser *p, const struct val *v, const char *attr,
		   int64_t *out)
{
	if (v->kind != VAL_INT)
		return perr(p, v->tok, "'%s' must be an integer", attr);
	if (v->neg) {
		if (v->mag > (uint64_t)INT64_MAX + 1)
			return perr(p, v->tok, "'%s' out of range", attr);
		*out = v->mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v->mag;
	} else {
		if (v->mag > INT64_MAX)
			return perr(p, v->tok, "'%s' out of range", attr);
		*out = (int64_t)v->mag;
	}
	return 0;
}

static int val_bool(struct parser *p, const struct val *v, const char *attr,
		    bool *out)
{
	if (v->kind == VAL_INT && !v->neg && v->mag <= 1) {
		*out = v->mag == 1;
		return 0;
	}
	if (v->kind == VAL_PATH) {
		if (!strcmp(v->str, "true") || !strcmp(v->str, "TRUE")) {
			*out = true;
			return 0;
		}
		if (!strcmp(v->str, "false") || !strcmp(v->str, "FALSE")) {
			*out = false;
			return 0;
		}
	}
	return perr(p, v->tok, "'%s' must be true or false", attr);
}

/* Names given as strings or (LTTng 2.0-2.5) bare identifiers. */
static int val_name(struct parser *p, const struct val *v, const char *attr,
		    const char **out)
{
	if (v->kind == VAL_INT)
		return perr(p, v->tok, "'%s' must be a string", attr);
	*out = v->str;
	return 0;
}

static int val_byte_order(struct parser *p, const struct val *v, bool allow_native,
			  uint8_t *out)
{
	if (v->kind == VAL_PATH) {
		const char *s = v->str;

		if (!strcmp(s, "le") || !strcmp(s, "little")) {
			*out = SONDE_CTF_LE;
			return 0;
		}
		if (!strcmp(s, "be") || !strcmp(s, "big") || !strcmp(s, "network")) {
			*out = SONDE_CTF_BE;
			return 0;
		}
		if (!strcmp(s, "native") && allow_native) {
			*out = MD_BYTE_ORDER_NATIVE;
			return 0;
		}
	}
	return perr(p, v->tok, "invalid byte_order%s%s%s",
		    v->kind == VAL_INT ? "" : " '",
		    v->kind == VAL_INT ? "" : v->str,
		    v->kind == VAL_INT ? "" : "'");
}

static int val_encoding(struct parser *p, const struct val *v, uint8_t *out)
{
	if (v->kind == VAL_PATH) {
		const char *s = v->str;

		if (!strcmp(s, "none")) {
			*out = SONDE_CTF_ENC_NONE;
			return 0;
		}
		if (!strcmp(s, "UTF8") || !strcmp(s, "utf8")) {
			*out = SONDE_CTF_ENC_UTF8;
			return 0;
		}
		if (!strcmp(s, "ASCII") || !strcmp(s, "ascii")) {
			*out = SONDE_CTF_ENC_ASCII;
			return 0;
		}
	}
	return perr(p, v->tok, "invalid encoding");
}

static int val_align(struct parser *p, const struct val *v, uint32_t *out)
{
	uint64_t a = 0;
	int ret = val_uint(p, v, "align", UINT32_MAX, &a);

	if (ret)
		return ret;
	if (!a || (a & (a - 1)) || a > (1u << 31))
		return perr(p, v->tok, "alignment %" PRIu64 " is not a power of two",
			    a);
	*out = (uint32_t)a;
	return 0;
}

/* key ('.' key)* then '=' or ':='. */
static int parse_attr_key(struct parser *p, const char **key)
{
	int ret = parse_path(p, key);

	if (ret)
		return ret;
	if (peek(p)->type != TK_EQ && peek(p)->type != TK_COLONEQ)
		return unexpected(p, "'=' or ':='");
	return 0;
}

/* `key = value` inside a type's attribute block (integer, floating_point,
 * string): those blocks take no `:=` type assignment. */
static int parse_type_attr(struct parser *p, const char *what,
			   const char **key, struct val *v)
{
	int ret = parse_attr_key(p, key);

	if (ret)
		return ret;
	if (next(p)->type == TK_COLONEQ)
		return perr(p, peek(p), "unexpected ':=' in %s", what);
	return parse_value(p, v);
}

/* ------------------------------------------------------------------------ */
/* Type specifiers                                                          */

static int parse_type_spec(struct parser *p, const struct sonde_ctf_type **out);
static int parse_typealias(struct parser *p);
static int parse_typedef(struct parser *p);

static bool is_c_type_word(uint8_t kw)
{
	switch (kw) {
	case KW_CHAR: case KW_SHORT: case KW_INT: case KW_LONG: case KW_SIGNED:
	case KW_UNSIGNED: case KW_FLOAT: case KW_DOUBLE: case KW_VOID:
	case KW_BOOL: case KW_COMPLEX: case KW_IMAGINARY:
		return true;
	default:
		return false;
	}
}

static int tok_key(struct parser *p, const struct md_token *t, char *buf, size_t size)
{
	if (t->len >= size)
		return perr(p, t, "identifier too long");
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return 0;
}

static bool is_type_name(struct parser *p, const struct md_token *t)
{
	char key[256];

	if (t->type != TK_IDENT || t->kw != KW_NONE || t->len >= sizeof(key))
		return false;
	memcpy(key, t->s, t->len);
	key[t->len] = '\0';
	return sym_lookup(p, key) != NULL;
}

static int parse_integer(struct parser *p, const struct md_token *kw,
			 const struct sonde_ctf_type **out)
{
	struct md_type *t = new_type(p, SONDE_CTF_INT, kw);
	bool have_size = false, have_align = false;
	uint64_t size = 0;
	int ret;

	if (!t)
		return nomem(p);
	t->pub.u.integer.base = 10;
	t->pub.u.integer.byte_order = MD_BYTE_ORDER_NATIVE;
	ret = expect(p, TK_LBRACE, "'{' after 'integer'");
	while (!ret && !accept(p, TK_RBRACE)) {
		const char *key;
		struct val v;

		ret = parse_type_attr(p, "integer", &key, &v);
		if (ret)
			break;
		if (!strcmp(key, "size")) {
			ret = val_uint(p, &v, "size", UINT32_MAX, &size);
			if (!ret && (size < 1 || size > 64))
				ret = perr(p, v.tok, "integer size %" PRIu64
					   " out of range (1 to 64 bits)", size);
			t->pub.u.integer.size = (uint32_t)size;
			have_size = true;
		} else if (!strcmp(key, "align")) {
			ret = val_align(p, &v, &t->pub.align);
			have_align = true;
		} else if (!strcmp(key, "signed")) {
			ret = val_bool(p, &v, "signed", &t->pub.u.integer.is_signed);
		} else if (!strcmp(key, "byte_order")) {
			ret = val_byte_order(p, &v, true, &t->pub.u.integer.byte_order);
		} else if (!strcmp(key, "base")) {
			uint8_t base = 0;

			if (v.kind == VAL_INT && !v.neg &&
			    (v.mag == 2 || v.mag == 8 || v.mag == 10 || v.mag == 16))
				base = (uint8_t)v.mag;
			else if (v.kind == VAL_PATH) {
				static const char *const dec[] = { "decimal", "dec", "d", "i", "u" };
				static const char *const hex[] = { "hexadecimal", "hex", "x", "X", "p" };
				static const char *const oct[] = { "octal", "oct", "o" };
				static const char *const bin[] = { "binary", "b" };

				for (size_t i = 0; i < 5; i++) {
					if (!strcmp(v.str, dec[i]))
						base = 10;
					if (!strcmp(v.str, hex[i]))
						base = 16;
				}
				for (size_t i = 0; i < 3; i++)
					if (!strcmp(v.str, oct[i]))
						base = 8;
				for (size_t i = 0; i < 2; i++)
					if (!strcmp(v.str, bin[i]))
						base = 2;
			}
			if (!base)
				ret = perr(p, v.tok, "invalid integer base");
			t->pub.u.integer.base = base;
		} else if (!strcmp(key, "encoding")) {
			ret = val_encoding(p, &v, &t->pub.u.integer.encoding);
		} else if (!strcmp(key, "map")) {
			struct pending_map *m;

			if (v.kind != VAL_PATH || strncmp(v.str, "clock.", 6) ||
			    strlen(v.str) < 13 ||
			    strcmp(v.str + strlen(v.str) - 6, ".value")) {
				ret = perr(p, v.tok, "invalid map (expected clock.NAME.value)");
				break;
			}
			m = vec_push(&p->maps);
			if (!m) {
				ret = nomem(p);
				break;
			}
			m->type = t;
			m->clock = sonde_arena_strndup(p->a, v.str + 6, strlen(v.str) - 12);
			m->line = v.tok->line;
			if (!m->clock)
				ret = nomem(p);
		}
		/* Unknown attributes are ignored, as babeltrace does. */
		if (!ret)
			ret = expect(p, TK_SEMI, "';'");
	}
	if (ret)
		return ret;
	if (!have_size)
		return perr(p, kw, "integer has no size");
	if (!have_align)
		t->pub.align = size % 8 ? 1 : 8;
	*out = &t->pub;
	return 0;
}

static int parse_floating(struct parser *p, const struct md_token *kw,
			  const struct sonde_ctf_type **out)
{
	struct md_type *t = new_type(p, SONDE_CTF_FLOAT, kw);
	bool have_align = false;
	uint64_t e = 0, m = 0;
	int ret;

	if (!t)
		return nomem(p);
	t->pub.u.floating.byte_order = MD_BYTE_ORDER_NATIVE;
	ret = expect(p, TK_LBRACE, "'{' after 'floating_point'");
	while (!ret && !accept(p, TK_RBRACE)) {
		const char *key;
		struct val v;

		ret = parse_type_attr(p, "floating_point", &key, &v);
		if (ret)
			break;
		if (!strcmp(key, "exp_dig"))
			ret = val_uint(p, &v, "exp_dig", 1024, &e);
		else if (!strcmp(key, "mant_dig"))
			ret = val_uint(p, &v, "mant_dig", 1024, &m);
		else if (!strcmp(key, "align")) {
			ret = val_align(p, &v, &t->pub.align);
			have_align = true;
		} else if (!strcmp(key, "byte_order"))
			ret = val_byte_order(p, &v, true, &t->pub.u.floating.byte_order);
		if (!ret)
			ret = expect(p, TK_SEMI, "';'");
	}
	if (ret)
		return ret;
	if (!((e == 8 && m == 24) || (e == 11 && m == 53)))
		return perr(p, kw, "unsupported floating_point (exp_dig %" PRIu64
			    ", mant_dig %" PRIu64 "): only 32 and 64-bit IEEE 754",
			    e, m);
	t->pub.u.floating.exp_dig = (uint32_t)e;
	t->pub.u.floating.mant_dig = (uint32_t)m;
	if (!have_align)
		t->pub.align = 8;
	*out = &t->pub;
	return 0;
}

static int parse_string_type(struct parser *p, const struct md_token *kw,
			     const struct sonde_ctf_type **out)
{
	struct md_type *t = new_type(p, SONDE_CTF_STRING, kw);
	int ret = 0;

	if (!t)
		return nomem(p);
	t->pub.align = 8;
	t->pub.u.string.encoding = SONDE_CTF_ENC_UTF8;
	if (accept(p, TK_LBRACE)) {
		while (!ret && !accept(p, TK_RBRACE)) {
			const char *key;
			struct val v;

			ret = parse_type_attr(p, "string", &key, &v);
			if (!ret && !strcmp(key, "encoding")) {
				ret = val_encoding(p, &v, &t->pub.u.string.encoding);
				if (t->pub.u.string.encoding == SONDE_CTF_ENC_NONE)
					t->pub.u.string.encoding = SONDE_CTF_ENC_UTF8;
			}
			if (!ret)
				ret = expect(p, TK_SEMI, "';'");
		}
	}
	if (ret)
		return ret;
	*out = &t->pub;
	return 0;
}

/* Value of an enum entry, checked against the container's range. */
static int enum_value(struct parser *p, const struct val *v,
		      const struct sonde_ctf_type *c, uint64_t *raw)
{
	uint32_t n = c->u.integer.size;

	if (v->kind != VAL_INT)
		return perr(p, v->tok, "enum value must be an integer");
	if (c->u.integer.is_signed) {
		uint64_t max_pos = n == 64 ? INT64_MAX : (UINT64_C(1) << (n - 1)) - 1;
		uint64_t max_neg = n == 64 ? (uint64_t)INT64_MAX + 1 : UINT64_C(1) << (n - 1);

		if ((v->neg && v->mag > max_neg) || (!v->neg && v->mag > max_pos))
			return perr(p, v->tok, "enum value %s%" PRIu64
				    " out of range of its %u-bit signed container",
				    v->neg ? "-" : "", v->mag, n);
		*raw = v->neg ? (uint64_t)0 - v->mag : v->mag;
	} else {
		uint64_t max = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;

		if (v->neg || v->mag > max)
			return perr(p, v->tok, "enum value %s%" PRIu64
				    " out of range of its %u-bit unsigned container",
				    v->neg ? "-" : "", v->mag, n);
		*raw = v->mag;
	}
	return 0;
}

static bool enum_less(const struct sonde_ctf_type *c, uint64_t a, uint64_t b)
{
	if (c->u.integer.is_signed)
		return (int64_t)a < (int64_t)b;
	return a < b;
}

static int parse_enum(struct parser *p, const struct md_token *kw,
		      const struct sonde_ctf_type **out)
{
	const struct md_token *name = NULL;
	const struct sonde_ctf_type *c = NULL;
	struct vec maps = VEC(struct sonde_ctf_enum_mapping);
	struct md_type *t;
	char key[300];
	uint64_t next_val = 0;
	bool have_next = true;
	int ret = 0;

	if (peek(p)->type == TK_IDENT && peek(p)->kw == KW_NONE) {
		name = next(p);
		if (name->len > 256)
			return perr(p, name, "identifier too long");
		snprintf(key, sizeof(key), "enum %.*s", (int)name->len, name->s);
	}
	if (name && peek(p)->type != TK_LBRACE && peek(p)->type != TK_COLON) {
		*out = sym_lookup(p, key);
		if (!*out)
			return perr(p, name, "unknown enum '%.*s'", (int)name->len, name->s);
		return 0;
	}
	if (accept(p, TK_COLON)) {
		const struct md_token *at = peek(p);

		ret = parse_type_spec(p, &c);
		if (ret)
			return ret;
		if (c->kind != SONDE_CTF_INT)
			return perr(p, at, "enum container must be an integer type");
	} else {
		c = sym_lookup(p, "int");
		if (!c)
			return perr(p, kw, "enum without container type and no 'int' type defined");
		if (c->kind != SONDE_CTF_INT)
			return perr(p, kw, "enum container 'int' is not an integer type");
	}
	t = new_type(p, SONDE_CTF_ENUM, kw);
	if (!t)
		return nomem(p);
	t->pub.align = c->align;
	t->pub.u.enumeration.container = c;
	ret = expect(p, TK_LBRACE, "'{'");
	while (!ret && !accept(p, TK_RBRACE)) {
		const struct md_token *lt = next(p);
		struct sonde_ctf_enum_mapping *m;
		uint64_t lo = 0, hi = 0;

		if (lt->type == TK_STRING) {
			m = vec_push(&maps);
			if (m)
				m->label = lt->s;
		} else if (lt->type == TK_IDENT && lt->kw == KW_NONE) {
			m = vec_push(&maps);
			if (m)
				m->label = tok_dup(p, lt);
		} else {
			p->pos--;
			ret = unexpected(p, "an enum label");
			break;
		}
		if (!m || !m->label) {
			ret = nomem(p);
			break;
		}
		if (accept(p, TK_EQ)) {
			struct val v;

			ret = parse_value(p, &v);
			if (!ret)
				ret = enum_value(p, &v, c, &lo);
			hi = lo;
			if (!ret && accept(p, TK_ELLIPSIS)) {
				ret = parse_value(p, &v);
				if (!ret)
					ret = enum_value(p, &v, c, &hi);
				if (!ret && enum_less(c, hi, lo))
					ret = perr(p, v.tok, "enum range of '%s' is reversed",
						   m->label);
			}
			if (ret)
				break;
		} else {
			if (!have_next) {
				ret = perr(p, lt, "enum value of '%s' overflows its container",
					   m->label);
				break;
			}
			lo = hi = next_val;
		}
		m->lo.u = lo;
		m->hi.u = hi;
		/* Next implicit value, unless hi is the container's maximum. */
		{
			uint32_t n = c->u.integer.size;
			uint64_t max = c->u.integer.is_signed ?
				(n == 64 ? INT64_MAX : (UINT64_C(1) << (n - 1)) - 1) :
				(n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1);

			have_next = hi != max;
			next_val = hi + 1;
			if (c->u.integer.is_signed && n < 64 && (int64_t)next_val > (int64_t)max)
				have_next = false;
		}
		if (!accept(p, TK_COMMA)) {
			ret = expect(p, TK_RBRACE, "',' or '}'");
			break;
		}
	}
	if (!ret && !maps.n)
		ret = perr(p, kw, "enum has no entries");
	if (!ret) {
		struct sonde_ctf_enum_mapping *arr =
			sonde_arena_alloc(p->a, maps.n * sizeof(*arr));

		if (!arr)
			ret = nomem(p);
		else {
			memcpy(arr, maps.v, maps.n * sizeof(*arr));
			t->pub.u.enumeration.mappings = arr;
			t->pub.u.enumeration.count = maps.n;
		}
	}
	free(maps.v);
	if (!ret && name)
		ret = sym_add(p, name, key, &t->pub);
	if (!ret)
		*out = &t->pub;
	return ret;
}

/* '[' ... ']' suffixes of a declarator, applied to `base`. */
struct dim {
	bool is_seq;
	uint64_t length;
	const char *path;
	const struct md_token *tok;
};

static bool is_absolute_root(const char *s, size_t len)
{
	return (len == 5 && !memcmp(s, "trace", 5)) ||
	       (len == 6 && !memcmp(s, "stream", 6)) ||
	       (len == 5 && !memcmp(s, "event", 5)) ||
	       (len == 3 && !memcmp(s, "env", 3));
}

/* Length of a sequence or tag of a variant: a field path. */
static int parse_field_ref(struct parser *p, const char **out)
{
	const struct md_token *t = peek(p);

	if (t->type != TK_IDENT)
		return unexpected(p, "a field name");
	if (t->kw != KW_NONE && !is_absolute_root(t->s, t->len))
		return perr(p, t, "reserved keyword '%.*s' used as a field name",
			    (int)t->len, t->s);
	if (is_type_name(p, t) && peek_at(p, 1)->type != TK_DOT)
		return perr(p, t, "'%.*s' is a type, not a field", (int)t->len, t->s);
	return parse_path(p, out);
}

static int parse_dims(struct parser *p, struct vec *dims)
{
	while (accept(p, TK_LBRACK)) {
		struct dim *d = vec_push(dims);
		const struct md_token *t = peek(p);
		int ret;

		if (!d)
			return nomem(p);
		d->tok = t;
		if (t->type == TK_INT || t->type == TK_PLUS || t->type == TK_MINUS) {
			struct val v;

			ret = parse_value(p, &v);
			if (!ret)
				ret = val_uint(p, &v, "array length", UINT32_MAX, &d->length);
		} else {
			d->is_seq = true;
			ret = parse_field_ref(p, &d->path);
		}
		if (!ret)
			ret = expect(p, TK_RBRACK, "']'");
		if (ret)
			return ret;
	}
	return 0;
}

static int apply_dims(struct parser *p, const struct sonde_ctf_type *base,
		      const struct vec *dims, const struct sonde_ctf_type **out)
{
	const struct sonde_ctf_type *cur = base;

	for (size_t i = dims->n; i-- > 0;) {
		const struct dim *d = &VEC_AT(*dims, struct dim, i);
		struct md_type *t = new_type(p, d->is_seq ? SONDE_CTF_SEQUENCE :
					     SONDE_CTF_ARRAY, d->tok);
		int ret;

		if (!t)
			return nomem(p);
		ret = check_depth(p, d->tok, t, cur);
		if (ret)
			return ret;
		t->pub.align = cur->align;
		if (d->is_seq) {
			t->pub.u.sequence.element = cur;
			t->pub.u.sequence.length_name = d->path;
			t->pub.u.sequence.length_slot = -1;
			t->pub.u.sequence.is_text = is_text_element(cur);
			t->path = d->path;
			t->has_dynamic = true;
			t->tag_relative = !is_absolute_root(d->path, strcspn(d->path, "."));
		} else {
			t->pub.u.array.element = cur;
			t->pub.u.array.length = d->length;
			t->pub.u.array.is_text = is_text_element(cur);
		}
		cur = &t->pub;
	}
	*out = cur;
	return 0;
}

/* Member/option list of a struct or variant body. */
static int parse_declarator_name(struct parser *p, const struct md_token **name)
{
	const struct md_token *t = peek(p);

	if (t->type != TK_IDENT)
		return unexpected(p, "a name");
	if (t->kw != KW_NONE)
		return perr(p, t, "reserved keyword '%.*s' used as a name",
			    (int)t->len, t->s);
	*name = next(p);
	return 0;
}

/* Checks, when a struct is complete, the sequence lengths and variant tags
 * that name one of its own earlier members (the common case); others are
 * resolved per declaration later. */
static int check_local_refs(struct parser *p, const struct sonde_ctf_field_decl *f,
			    size_t count);

/* Hash set of the member names of one struct or variant body, so that
 * duplicate detection stays linear for bodies with many members. */
struct name_set {
	uint32_t *slots;         /* member index + 1, 0 = empty */
	size_t cap;
};

static uint32_t hash_mem(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static bool name_set_find(const struct name_set *ns, const struct vec *fields,
			  const char *name, size_t len)
{
	if (!ns->cap)
		return false;
	for (size_t i = hash_mem(name, len) & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
		const char *n;

		if (!ns->slots[i])
			return false;
		n = VEC_AT(*fields, struct sonde_ctf_field_decl, ns->slots[i] - 1).name;
		if (strlen(n) == len && !memcmp(n, name, len))
			return true;
	}
}

static int name_set_add(struct name_set *ns, const struct vec *fields, size_t index)
{
	if ((index + 1) * 2 > ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		uint32_t *slots = calloc(cap, sizeof(*slots));

		if (!slots || index >= UINT32_MAX - 1) {
			free(slots);
			return -1;
		}
		free(ns->slots);
		ns->slots = slots;
		ns->cap = cap;
		for (size_t k = 0; k < index; k++)
			name_set_add(ns, fields, k);
	}
	{
		const char *n = VEC_AT(*fields, struct sonde_ctf_field_decl, index).name;
		size_t i = hash_mem(n, strlen(n)) & (ns->cap - 1);

		while (ns->slots[i])
			i = (i + 1) & (ns->cap - 1);
		ns->slots[i] = (uint32_t)index + 1;
	}
	return 0;
}

static int parse_compound_body(struct parser *p, bool is_variant,
			       struct vec *fields)
{
	struct name_set names = { NULL, 0 };
	int ret = expect(p, TK_LBRACE, "'{'");

	if (ret)
		return ret;
	scope_push(p);
	while (!ret && !accept(p, TK_RBRACE)) {
		const struct sonde_ctf_type *spec;
		const struct md_token *at = peek(p);

		if (at->type == TK_EOF) {
			ret = unexpected(p, "'}'");
			break;
		}
		if (at->type == TK_IDENT && at->kw == KW_TYPEALIAS) {
			ret = parse_typealias(p);
			continue;
		}
		if (at->type == TK_IDENT && at->kw == KW_TYPEDEF) {
			ret = parse_typedef(p);
			continue;
		}
		ret = parse_type_spec(p, &spec);
		if (ret)
			break;
		if (accept(p, TK_SEMI))
			continue;     /* a type definition only */
		for (;;) {
			const struct md_token *name = NULL;
			struct vec dims = VEC(struct dim);
			struct sonde_ctf_field_decl *fd;
			const struct sonde_ctf_type *ft = NULL;

			ret = parse_declarator_name(p, &name);
			if (!ret)
				ret = parse_dims(p, &dims);
			if (!ret)
				ret = apply_dims(p, spec, &dims, &ft);
			free(dims.v);
			if (ret)
				break;
			if (name_set_find(&names, fields, name->s, name->len)) {
				ret = perr(p, name, "duplicate %s '%.*s'",
					   is_variant ? "option" : "field",
					   (int)name->len, name->s);
				break;
			}
			if (ft->kind == SONDE_CTF_VARIANT && !md_type(ft)->path) {
				ret = perr(p, name, "variant '%.*s' has no tag",
					   (int)name->len, name->s);
				break;
			}
			fd = vec_push(fields);
			if (!fd) {
				ret = nomem(p);
				break;
			}
			fd->name = tok_dup(p, name);
			fd->type = ft;
			fd->slot = -1;
			if (!fd->name || name_set_add(&names, fields, fields->n - 1)) {
				ret = nomem(p);
				break;
			}
			if (accept(p, TK_COMMA))
				continue;
			ret = expect(p, TK_SEMI, "';' or ','");
			break;
		}
	}
	scope_pop(p);
	free(names.slots);
	return ret;
}

static int finish_fields(struct parser *p, struct md_type *t, struct vec *fields,
			 const struct md_token *at)
{
	struct sonde_ctf_field_decl *arr = NULL;

	if (fields->n) {
		arr = sonde_arena_alloc(p->a, fields->n * sizeof(*arr));
		if (!arr)
			return nomem(p);
		memcpy(arr, fields->v, fields->n * sizeof(*arr));
	}
	for (size_t i = 0; i < fields->n; i++) {
		int ret = check_depth(p, at, t, arr[i].type);

		if (ret)
			return ret;
	}
	if (t->pub.kind == SONDE_CTF_STRUCT) {
		t->pub.u.structure.fields = arr;
		t->pub.u.structure.count = fields->n;
	} else {
		t->pub.u.variant.options = arr;
		t->pub.u.variant.count = fields->n;
	}
	return 0;
}

static int parse_struct(struct parser *p, const struct md_token *kw,
			const struct sonde_ctf_type **out)
{
	const struct md_token *name = NULL;
	struct vec fields = VEC(struct sonde_ctf_field_decl);
	struct md_type *t;
	char key[300];
	int ret;

	if (peek(p)->type == TK_IDENT && peek(p)->kw == KW_NONE) {
		name = next(p);
		if (name->len > 256)
			return perr(p, name, "identifier too long");
		snprintf(key, sizeof(key), "struct %.*s", (int)name->len, name->s);
	}
	if (name && peek(p)->type != TK_LBRACE) {
		*out = sym_lookup(p, key);
		if (!*out)
			return perr(p, name, "unknown struct '%.*s'", (int)name->len,
				    name->s);
		return 0;
	}
	if (!name && peek(p)->type != TK_LBRACE)
		return unexpected(p, "'{' or a struct name");
	t = new_type(p, SONDE_CTF_STRUCT, kw);
	if (!t)
		return nomem(p);
	ret = parse_compound_body(p, false, &fields);
	if (!ret)
		ret = finish_fields(p, t, &fields, kw);
	free(fields.v);
	if (ret)
		return ret;
	for (size_t i = 0; i < t->pub.u.structure.count; i++) {
		uint32_t a = t->pub.u.structure.fields[i].type->align;

		if (a > t->pub.align)
			t->pub.align = a;
	}
	if (peek(p)->type == TK_IDENT && peek(p)->kw == KW_ALIGN) {
		const struct md_token *at = next(p);
		struct val v;
		uint32_t a = 1;

		ret = expect(p, TK_LPAREN, "'(' after 'align'");
		if (!ret)
			ret = parse_value(p, &v);
		if (!ret)
			ret = val_align(p, &v, &a);
		if (!ret)
			ret = expect(p, TK_RPAREN, "')'");
		if (ret)
			return ret;
		(void)at;
		if (a > t->pub.align)
			t->pub.align = a;
	}
	ret = check_local_refs(p, t->pub.u.structure.fields, t->pub.u.structure.count);
	if (!ret && name)
		ret = sym_add(p, name, key, &t->pub);
	if (!ret)
		*out = &t->pub;
	return ret;
}

static int parse_variant(struct parser *p, const struct md_token *kw,
			 const struct sonde_ctf_type **out)
{
	const struct md_token *name = NULL;
	struct vec fields = VEC(struct sonde_ctf_field_decl);
	const char *tag = NULL;
	struct md_type *t;
	char key[300];
	int ret;

	if (peek(p)->type == TK_IDENT && peek(p)->kw == KW_NONE) {
		name = next(p);
		if (name->len > 256)
			return perr(p, name, "identifier too long");
		snprintf(key, sizeof(key), "variant %.*s", (int)name->len, name->s);
	}
	if (accept(p, TK_LT)) {
		ret = parse_field_ref(p, &tag);
		if (!ret)
			ret = expect(p, TK_GT, "'>'");
		if (ret)
			return ret;
	}
	if (name && peek(p)->type != TK_LBRACE) {
		const struct sonde_ctf_type *found = sym_lookup(p, key);

		if (!found)
			return perr(p, name, "unknown variant '%.*s'", (int)name->len,
				    name->s);
		if (tag) {
			t = sonde_arena_alloc(p->a, sizeof(*t));
			if (!t)
				return nomem(p);
			*t = *md_type(found);
			t->path = tag;
			t->pub.u.variant.tag_name = tag;
			t->has_dynamic = true;
			t->tag_relative = !is_absolute_root(tag, strcspn(tag, "."));
			found = &t->pub;
		}
		*out = found;
		return 0;
	}
	if (!name && peek(p)->type != TK_LBRACE)
		return unexpected(p, "'{' or a variant name");
	t = new_type(p, SONDE_CTF_VARIANT, kw);
	if (!t)
		return nomem(p);
	ret = parse_compound_body(p, true, &fields);
	if (!ret)
		ret = finish_fields(p, t, &fields, kw);
	free(fields.v);
	if (ret)
		return ret;
	if (!t->pub.u.variant.count)
		return perr(p, kw, "variant has no options");
	t->pub.u.variant.tag_slot = -1;
	if (tag) {
		t->path = tag;
		t->pub.u.variant.tag_name = tag;
		t->has_dynamic = true;
		t->tag_relative = !is_absolute_root(tag, strcspn(tag, "."));
	}
	if (name) {
		ret = sym_add(p, name, key, &t->pub);
		if (ret)
			return ret;
	}
	*out = &t->pub;
	return 0;
}

static int parse_type_spec(struct parser *p, const struct sonde_ctf_type **out)
{
	const struct md_token *t = peek(p);
	char key[300];
	size_t klen = 0;
	unsigned words = 0;
	int ret = enter(p);

	if (ret)
		goto out;
	while (t->type == TK_IDENT && t->kw == KW_CONST)
		t = (next(p), peek(p));
	if (t->type == TK_IDENT) {
		switch (t->kw) {
		case KW_INTEGER:
			next(p);
			ret = parse_integer(p, t, out);
			goto out;
		case KW_FLOATING_POINT:
			next(p);
			ret = parse_floating(p, t, out);
			goto out;
		case KW_STRING:
			next(p);
			ret = parse_string_type(p, t, out);
			goto out;
		case KW_STRUCT:
			next(p);
			ret = parse_struct(p, t, out);
			goto out;
		case KW_VARIANT:
			next(p);
			ret = parse_variant(p, t, out);
			goto out;
		case KW_ENUM:
			next(p);
			ret = parse_enum(p, t, out);
			goto out;
		default:
			break;
		}
	}
	/* A C-like specifier list: keywords such as `unsigned long`, or one
	 * type name. */
	for (;;) {
		const struct md_token *w = peek(p);

		if (w->type == TK_IDENT && w->kw == KW_CONST) {
			next(p);
			continue;
		}
		if (w->type != TK_IDENT)
			break;
		if (!is_c_type_word(w->kw)) {
			if (w->kw != KW_NONE || words)
				break;
			if (!is_type_name(p, w)) {
				ret = perr(p, w, "unknown type '%.*s'",
					   (int)(w->len > 100 ? 100 : w->len), w->s);
				goto out;
			}
		}
		if (klen + w->len + 2 > sizeof(key)) {
			ret = perr(p, w, "type name too long");
			goto out;
		}
		if (klen)
			key[klen++] = ' ';
		memcpy(key + klen, w->s, w->len);
		klen += w->len;
		words++;
		next(p);
		if (w->kw == KW_NONE)
			break;
	}
	key[klen] = '\0';
	if (!words) {
		ret = unexpected(p, "a type");
		goto out;
	}
	*out = sym_lookup(p, key);
	if (!*out)
		ret = perr(p, t, "unknown type '%s'", key);
out:
	p->depth--;
	return ret;
}

/* ------------------------------------------------------------------------ */
/* typealias and typedef                                                    */

/* A top-level alias of a bare sequence or tagged variant can never resolve
 * a relative path: no struct surrounds it. */
static int check_alias_target(struct parser *p, const struct md_token *at,
			      const struct sonde_ctf_type *t)
{
	if (p->level)
		return 0;
	while (t->kind == SONDE_CTF_ARRAY)
		t = t->u.array.element;
	if ((t->kind == SONDE_CTF_SEQUENCE || t->kind == SONDE_CTF_VARIANT) &&
	    md_type(t)->path && md_type(t)->tag_relative)
		return perr(p, at, "'%s' cannot be resolved outside a struct",
			    md_type(t)->path);
	return 0;
}

static int parse_typealias(struct parser *p)
{
	const struct md_token *kw = next(p);
	const struct sonde_ctf_type *target;
	struct vec dims = VEC(struct dim);
	char key[300];
	size_t klen = 0;
	int ret;

	ret = parse_type_spec(p, &target);
	if (!ret)
		ret = parse_dims(p, &dims);
	if (!ret)
		ret = apply_dims(p, target, &dims, &target);
	free(dims.v);
	if (!ret)
		ret = expect(p, TK_COLONEQ, "':='");
	if (ret)
		return ret;
	for (;;) {
		const struct md_token *w = peek(p);

		if (w->type == TK_IDENT && w->kw == KW_CONST) {
			next(p);
			continue;
		}
		if (w->type != TK_IDENT)
			break;
		if (w->kw != KW_NONE && !is_c_type_word(w->kw))
			return perr(p, w, "reserved keyword '%.*s' used as a type name",
				    (int)w->len, w->s);
		if (klen + w->len + 2 > sizeof(key))
			return perr(p, w, "type name too long");
		if (klen)
			key[klen++] = ' ';
		memcpy(key + klen, w->s, w->len);
		klen += w->len;
		next(p);
	}
	if (!klen)
		return unexpected(p, "an alias name");
	key[klen] = '\0';
	if (peek(p)->type == TK_LBRACK)
		return perr(p, peek(p), "array suffix on an alias name is not supported");
	ret = check_alias_target(p, kw, target);
	if (!ret)
		ret = sym_add(p, kw, key, target);
	if (!ret)
		ret = expect(p, TK_SEMI, "';'");
	return ret;
}

static int parse_typedef(struct parser *p)
{
	const struct md_token *kw = next(p);
	const struct sonde_ctf_type *spec;
	int ret = parse_type_spec(p, &spec);

	if (ret)
		return ret;
	for (;;) {
		const struct md_token *name = NULL;
		const struct sonde_ctf_type *t;
		struct vec dims = VEC(struct dim);
		char key[300];

		ret = parse_declarator_name(p, &name);
		if (!ret)
			ret = parse_dims(p, &dims);
		if (!ret)
			ret = apply_dims(p, spec, &dims, &t);
		free(dims.v);
		if (!ret)
			ret = check_alias_target(p, kw, t);
		if (!ret)
			ret = tok_key(p, name, key, 257);
		if (!ret)
			ret = sym_add(p, name, key, t);
		if (ret)
			return ret;
		if (!accept(p, TK_COMMA))
			break;
	}
	return expect(p, TK_SEMI, "';'");
}

/* ------------------------------------------------------------------------ */
/* Local reference checks                                                   */

static const struct sonde_ctf_field_decl *
find_member(const struct sonde_ctf_field_decl *f, size_t count, const char *name,
	    size_t len)
{
	/* Backwards: a length field usually just precedes its sequence.
	 * Names are unique within a struct, so the order does not matter
	 * otherwise. */
	for (size_t i = count; i-- > 0;) {
		if (strlen(f[i].name) == len && !memcmp(f[i].name, name, len))
			return &f[i];
	}
	return NULL;
}

/* Follows a dotted path through struct members, starting among f[0..count). */
static const struct sonde_ctf_field_decl *
follow_path(const struct sonde_ctf_field_decl *f, size_t count, const char *path)
{
	for (;;) {
		size_t len = strcspn(path, ".");
		const struct sonde_ctf_field_decl *d = find_member(f, count, path, len);

		if (!d || !path[len])
			return d;
		if (d->type->kind != SONDE_CTF_STRUCT)
			return NULL;
		f = d->type->u.structure.fields;
		count = d->type->u.structure.count;
		path += len + 1;
	}
}


int md_check_length_type(const struct sonde_ctf_type *t)
{
	if (t->kind == SONDE_CTF_ENUM)
		t = t->u.enumeration.container;
	return t->kind == SONDE_CTF_INT && !t->u.integer.is_signed;
}

int md_check_tag_type(const struct sonde_ctf_type *t)
{
	return t->kind == SONDE_CTF_ENUM;
}

static int check_local_refs(struct parser *p, const struct sonde_ctf_field_decl *f,
			    size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct sonde_ctf_type *t = f[i].type;

		while (t->kind == SONDE_CTF_ARRAY || t->kind == SONDE_CTF_SEQUENCE) {
			const struct md_type *mt = md_type(t);

			if (t->kind == SONDE_CTF_SEQUENCE && mt->tag_relative) {
				const struct sonde_ctf_field_decl *d =
					follow_path(f, i, mt->path);

				if (d && !md_check_length_type(d->type)) {
					const struct md_token at = { .line = mt->line };

					return perr(p, &at, "length '%s' of sequence '%s' is not an unsigned integer",
						    mt->path, f[i].name);
				}
			}
			t = t->kind == SONDE_CTF_ARRAY ? t->u.array.element :
			    t->u.sequence.element;
		}
		if (t->kind == SONDE_CTF_VARIANT && md_type(t)->tag_relative) {
			const struct md_type *mt = md_type(t);
			const struct sonde_ctf_field_decl *d = follow_path(f, i, mt->path);
			const struct md_token at = { .line = mt->line };

			if (!d)
				continue;
			if (!md_check_tag_type(d->type))
				return perr(p, &at, "tag '%s' of variant '%s' is not an enum",
					    mt->path, f[i].name);
			/* At least one option must be selectable. */
			{
				const struct sonde_ctf_type *e = d->type;
				bool any = false;

				for (size_t m = 0; m < e->u.enumeration.count && !any; m++) {
					const char *l = e->u.enumeration.mappings[m].label;

					any = find_member(t->u.variant.options,
							  t->u.variant.count, l,
							  strlen(l)) != NULL;
				}
				if (!any)
					return perr(p, &at, "no label of tag '%s' names an option of variant '%s'",
						    mt->path, f[i].name);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Blocks                                                                   */

static int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_uuid(struct parser *p, const struct val *v, uint8_t uuid[16])
{
	const char *s = v->str;
	size_t n = 0;

	if (v->kind != VAL_STRING)
		return perr(p, v->tok, "uuid must be a string");
	if (strlen(s) != 36)
		return perr(p, v->tok, "invalid uuid \"%.40s\"", s);
	for (size_t i = 0; i < 36; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return perr(p, v->tok, "invalid uuid \"%s\"", s);
			continue;
		}
		hi = hex_digit_value(s[i]);
		lo = i + 1 < 36 ? hex_digit_value(s[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return perr(p, v->tok, "invalid uuid \"%s\"", s);
		uuid[n++] = (uint8_t)(hi * 16 + lo);
		i++;
	}
	return 0;
}

typedef int (*attr_fn)(struct parser *p, void *ctx, const char *key,
		       const struct md_token *at, const struct val *v,
		       const struct sonde_ctf_type *type);

/* `{ key = value; key := type; typealias ...; } ;` with its own scope. */
static int parse_block(struct parser *p, attr_fn fn, void *ctx)
{
	int ret = expect(p, TK_LBRACE, "'{'");

	if (ret)
		return ret;
	ret = enter(p);
	if (ret)
		return ret;
	scope_push(p);
	while (!ret && !accept(p, TK_RBRACE)) {
		const struct md_token *at = peek(p);
		const char *key;

		if (at->type == TK_IDENT && at->kw == KW_TYPEALIAS) {
			ret = parse_typealias(p);
			continue;
		}
		if (at->type == TK_IDENT && at->kw == KW_TYPEDEF) {
			ret = parse_typedef(p);
			continue;
		}
		if (at->type == TK_EOF) {
			ret = unexpected(p, "'}'");
			break;
		}
		ret = parse_attr_key(p, &key);
		if (ret)
			break;
		if (next(p)->type == TK_COLONEQ) {
			const struct sonde_ctf_type *type;

			ret = parse_type_spec(p, &type);
			if (!ret)
				ret = fn(p, ctx, key, at, NULL, type);
		} else {
			struct val v;

			ret = parse_value(p, &v);
			if (!ret)
				ret = fn(p, ctx, key, at, &v, NULL);
		}
		if (!ret)
			ret = expect(p, TK_SEMI, "';'");
	}
	scope_pop(p);
	p->depth--;
	if (!ret)
		ret = expect(p, TK_SEMI, "';' after block");
	return ret;
}

static int need_value(struct parser *p, const struct md_token *at,
		      const char *key, const struct val *v)
{
	if (!v)
		return perr(p, at, "'%s' must be a value, not a type", key);
	return 0;
}

static int need_struct(struct parser *p, const struct md_token *at,
		       const char *key, const struct sonde_ctf_type *type,
		       const struct sonde_ctf_type **out)
{
	if (!type)
		return perr(p, at, "'%s' must be assigned a type with ':='", key);
	if (type->kind != SONDE_CTF_STRUCT)
		return perr(p, at, "'%s' must be a struct", key);
	if (*out)
		return perr(p, at, "duplicate '%s'", key);
	*out = type;
	return 0;
}

static int trace_attr(struct parser *p, void *ctx, const char *key,
		      const struct md_token *at, const struct val *v,
		      const struct sonde_ctf_type *type)
{
	struct sonde_ctf_trace_class *tc = &p->tc->pub;
	uint64_t u = 0;
	int ret;

	(void)ctx;
	if (!strcmp(key, "packet.header"))
		return need_struct(p, at, key, type, &tc->packet_header);
	if (!v)
		return 0;
	if (!strcmp(key, "major") || !strcmp(key, "minor")) {
		ret = val_uint(p, v, key, UINT32_MAX, &u);
		if (ret)
			return ret;
		if (key[1] == 'a') {
			tc->major = (uint32_t)u;
			p->have_major = true;
			if (u != 1)
				return perr(p, v->tok, "unsupported CTF major version %" PRIu64, u);
		} else {
			tc->minor = (uint32_t)u;
			p->have_minor = true;
			if (u != 8)
				return perr(p, v->tok, "unsupported CTF minor version %" PRIu64, u);
		}
		return 0;
	}
	if (!strcmp(key, "uuid")) {
		tc->has_uuid = true;
		return parse_uuid(p, v, tc->uuid);
	}
	if (!strcmp(key, "byte_order")) {
		p->have_byte_order = true;
		return val_byte_order(p, v, false, &tc->byte_order);
	}
	return 0;
}

static int env_attr(struct parser *p, void *ctx, const char *key,
		    const struct md_token *at, const struct val *v,
		    const struct sonde_ctf_type *type)
{
	struct sonde_ctf_env_entry *e = NULL;
	int ret;

	(void)ctx;
	(void)type;
	ret = need_value(p, at, key, v);
	if (ret)
		return ret;
	for (size_t i = 0; i < p->env.n; i++) {
		if (!strcmp(VEC_AT(p->env, struct sonde_ctf_env_entry, i).key, key))
			e = &VEC_AT(p->env, struct sonde_ctf_env_entry, i);
	}
	if (!e) {
		e = vec_push(&p->env);
		if (!e)
			return nomem(p);
	}
	e->key = key;
	if (v->kind == VAL_INT) {
		e->is_int = true;
		e->str_value = NULL;
		return val_int(p, v, key, &e->int_value);
	}
	e->is_int = false;
	e->str_value = v->str;
	return 0;
}

static int clock_attr(struct parser *p, void *ctx, const char *key,
		      const struct md_token *at, const struct val *v,
		      const struct sonde_ctf_type *type)
{
	struct sonde_ctf_clock *c = ctx;
	uint64_t u = 0;
	int ret;

	(void)at;
	(void)type;
	if (!v)
		return 0;
	if (!strcmp(key, "name"))
		return val_name(p, v, key, &c->name);
	if (!strcmp(key, "uuid")) {
		c->has_uuid = true;
		return parse_uuid(p, v, c->uuid);
	}
	if (!strcmp(key, "description")) {
		if (v->kind != VAL_STRING)
			return perr(p, v->tok, "'description' must be a string");
		c->description = v->str;
		return 0;
	}
	if (!strcmp(key, "freq")) {
		ret = val_uint(p, v, key, UINT64_MAX, &u);
		if (!ret && !u)
			ret = perr(p, v->tok, "clock frequency must not be 0");
		c->freq = u;
		return ret;
	}
	if (!strcmp(key, "precision"))
		return val_uint(p, v, key, UINT64_MAX, &c->precision);
	if (!strcmp(key, "offset_s"))
		return val_int(p, v, key, &c->offset_s);
	if (!strcmp(key, "offset"))
		return val_int(p, v, key, &c->offset);
	if (!strcmp(key, "absolute"))
		return val_bool(p, v, key, &c->absolute);
	return 0;
}

static int stream_attr(struct parser *p, void *ctx, const char *key,
		       const struct md_token *at, const struct val *v,
		       const struct sonde_ctf_type *type)
{
	struct pending_stream *ps = ctx;
	struct sonde_ctf_stream_class *sc = &ps->sc->pub;

	if (!strcmp(key, "packet.context"))
		return need_struct(p, at, key, type, &sc->packet_context);
	if (!strcmp(key, "event.header"))
		return need_struct(p, at, key, type, &sc->event_header);
	if (!strcmp(key, "event.context"))
		return need_struct(p, at, key, type, &sc->event_context);
	if (!strcmp(key, "id")) {
		int ret = need_value(p, at, key, v);

		ps->has_id = true;
		return ret ? ret : val_uint(p, v, key, UINT64_MAX, &sc->id);
	}
	return 0;
}

static int event_attr(struct parser *p, void *ctx, const char *key,
		      const struct md_token *at, const struct val *v,
		      const struct sonde_ctf_type *type)
{
	struct pending_event *pe = ctx;
	struct sonde_ctf_event_class *ec = pe->ec;
	int ret;

	if (!strcmp(key, "context"))
		return need_struct(p, at, key, type, &ec->context);
	if (!strcmp(key, "fields"))
		return need_struct(p, at, key, type, &ec->fields);
	if (!strcmp(key, "name") || !strcmp(key, "id") ||
	    !strcmp(key, "stream_id") || !strcmp(key, "loglevel") ||
	    !strcmp(key, "model.emf.uri")) {
		ret = need_value(p, at, key, v);
		if (ret)
			return ret;
	} else {
		return 0;
	}
	if (!strcmp(key, "name")) {
		if (pe->has_name)
			return perr(p, at, "duplicate event name");
		pe->has_name = true;
		return val_name(p, v, key, &ec->name);
	}
	if (!strcmp(key, "id")) {
		if (pe->has_id)
			return perr(p, at, "duplicate event id");
		pe->has_id = true;
		return val_uint(p, v, key, UINT64_MAX, &ec->id);
	}
	if (!strcmp(key, "stream_id")) {
		if (pe->has_stream_id)
			return perr(p, at, "duplicate event stream_id");
		pe->has_stream_id = true;
		return val_uint(p, v, key, UINT64_MAX, &ec->stream_class_id);
	}
	if (!strcmp(key, "loglevel")) {
		ec->has_loglevel = true;
		return val_int(p, v, key, &ec->loglevel);
	}
	if (v->kind != VAL_STRING)
		return perr(p, v->tok, "'model.emf.uri' must be a string");
	ec->emf_uri = v->str;
	return 0;
}

static int ignore_attr(struct parser *p, void *ctx, const char *key,
		       const struct md_token *at, const struct val *v,
		       const struct sonde_ctf_type *type)
{
	(void)p;
	(void)ctx;
	(void)key;
	(void)at;
	(void)v;
	(void)type;
	return 0;
}

static int parse_top(struct parser *p)
{
	while (peek(p)->type != TK_EOF) {
		const struct md_token *t = peek(p);
		const struct sonde_ctf_type *type;
		int ret;

		if (t->type == TK_IDENT && peek_at(p, 1)->type == TK_LBRACE) {
			switch (t->kw) {
			case KW_TRACE:
				next(p);
				if (p->have_trace)
					return perr(p, t, "duplicate trace block");
				p->have_trace = true;
				p->trace_line = t->line;
				ret = parse_block(p, trace_attr, NULL);
				if (ret)
					return ret;
				continue;
			case KW_ENV:
				next(p);
				ret = parse_block(p, env_attr, NULL);
				if (ret)
					return ret;
				continue;
			case KW_CLOCK: {
				struct sonde_ctf_clock *c, **slot;

				next(p);
				c = sonde_arena_alloc(p->a, sizeof(*c));
				slot = vec_push(&p->clocks);
				if (!c || !slot)
					return nomem(p);
				*slot = c;
				c->freq = 1000000000;
				ret = parse_block(p, clock_attr, c);
				if (ret)
					return ret;
				if (!c->name)
					return perr(p, t, "clock has no name");
				for (size_t i = 0; i + 1 < p->clocks.n; i++) {
					if (!strcmp(VEC_AT(p->clocks, struct sonde_ctf_clock *, i)->name,
						    c->name))
						return perr(p, t, "duplicate clock '%s'", c->name);
				}
				continue;
			}
			case KW_STREAM: {
				struct pending_stream *ps = vec_push(&p->streams);

				next(p);
				if (!ps)
					return nomem(p);
				ps->sc = sonde_arena_alloc(p->a, sizeof(*ps->sc));
				if (!ps->sc)
					return nomem(p);
				ps->line = t->line;
				ret = parse_block(p, stream_attr, ps);
				if (ret)
					return ret;
				continue;
			}
			case KW_EVENT: {
				struct pending_event *pe = vec_push(&p->events);

				next(p);
				if (!pe)
					return nomem(p);
				pe->ec = sonde_arena_alloc(p->a, sizeof(*pe->ec));
				if (!pe->ec)
					return nomem(p);
				pe->line = t->line;
				ret = parse_block(p, event_attr, pe);
				if (ret)
					return ret;
				if (!pe->has_name)
					return perr(p, t, "event has no name");
				continue;
			}
			case KW_CALLSITE:
				next(p);
				ret = parse_block(p, ignore_attr, NULL);
				if (ret)
					return ret;
				continue;
			default:
				break;
			}
		}
		if (t->type == TK_IDENT && t->kw == KW_TYPEALIAS) {
			ret = parse_typealias(p);
			if (ret)
				return ret;
			continue;
		}
		if (t->type == TK_IDENT && t->kw == KW_TYPEDEF) {
			ret = parse_typedef(p);
			if (ret)
				return ret;
			continue;
		}
		ret = parse_type_spec(p, &type);
		if (ret)
			return ret;
		/* babeltrace's grammar takes `struct a {..} struct b {..};` as
		 * one declaration with two specifiers (ctf-testsuite
		 * struct-inner-struct). */
		t = peek(p);
		if (t->type == TK_IDENT && (t->kw == KW_STRUCT || t->kw == KW_VARIANT ||
					    t->kw == KW_ENUM))
			continue;
		if (!accept(p, TK_SEMI))
			return unexpected(p, "';' after a top-level type definition");
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Wiring streams and events                                                */

static int wire_classes(struct parser *p)
{
	struct sonde_ctf_trace_class *tc = &p->tc->pub;
	const struct md_token *at = &p->tok[p->ntok - 1];
	size_t nstreams = p->streams.n;
	struct md_stream_class **scs;
	size_t *counts;
	int ret = 0;

	if (!nstreams && p->events.n) {
		struct pending_stream *ps = vec_push(&p->streams);

		if (!ps)
			return nomem(p);
		ps->sc = sonde_arena_alloc(p->a, sizeof(*ps->sc));
		if (!ps->sc)
			return nomem(p);
		ps->has_id = false;
		ps->line = at->line;
		nstreams = 1;
	}
	scs = sonde_arena_alloc(p->a, (nstreams + 1) * sizeof(*scs));
	counts = calloc(nstreams + 1, sizeof(*counts));
	if (!scs || !counts) {
		free(counts);
		return nomem(p);
	}
	for (size_t i = 0; i < nstreams; i++) {
		struct pending_stream *ps = &VEC_AT(p->streams, struct pending_stream, i);
		const struct md_token l = { .line = ps->line };

		if (!ps->has_id && nstreams > 1) {
			ret = perr(p, &l, "stream has no id but the trace has several streams");
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			if (scs[j]->pub.id == ps->sc->pub.id) {
				ret = perr(p, &l, "duplicate stream id %" PRIu64,
					   ps->sc->pub.id);
				goto out;
			}
		}
		scs[i] = ps->sc;
	}
	/* First pass: find each event's stream, count per stream. */
	for (size_t i = 0; i < p->events.n; i++) {
		struct pending_event *pe = &VEC_AT(p->events, struct pending_event, i);
		const struct md_token l = { .line = pe->line };
		size_t s;

		if (!pe->has_stream_id) {
			if (nstreams > 1) {
				ret = perr(p, &l, "event '%s' has no stream_id but the trace has several streams",
					   pe->ec->name);
				goto out;
			}
			pe->ec->stream_class_id = scs[0]->pub.id;
		}
		for (s = 0; s < nstreams; s++)
			if (scs[s]->pub.id == pe->ec->stream_class_id)
				break;
		if (s == nstreams) {
			ret = perr(p, &l, "event '%s' refers to undeclared stream %" PRIu64,
				   pe->ec->name, pe->ec->stream_class_id);
			goto out;
		}
		counts[s]++;
	}
	for (size_t s = 0; s < nstreams; s++) {
		scs[s]->pub.event_classes = sonde_arena_alloc(p->a,
			(counts[s] + 1) * sizeof(struct sonde_ctf_event_class *));
		if (!scs[s]->pub.event_classes) {
			ret = nomem(p);
			goto out;
		}
	}
	for (size_t i = 0; i < p->events.n; i++) {
		struct pending_event *pe = &VEC_AT(p->events, struct pending_event, i);
		size_t s;

		for (s = 0; s < nstreams; s++)
			if (scs[s]->pub.id == pe->ec->stream_class_id)
				break;
		((const struct sonde_ctf_event_class **)scs[s]->pub.event_classes)
			[scs[s]->pub.event_class_count++] = pe->ec;
	}
	for (size_t s = 0; s < nstreams; s++) {
		uint64_t dup = 0;

		ret = md_stream_class_index(p->a, scs[s], &dup);
		if (ret == SONDE_ENOMEM) {
			ret = nomem(p);
			goto out;
		}
		if (ret) {
			/* Name the second declaration of the id. */
			struct md_token l = { .line = 0 };
			unsigned seen = 0;

			for (size_t i = 0; i < p->events.n && seen < 2; i++) {
				struct pending_event *pe =
					&VEC_AT(p->events, struct pending_event, i);

				if (pe->ec->stream_class_id == scs[s]->pub.id &&
				    pe->ec->id == dup) {
					l.line = pe->line;
					seen++;
				}
			}
			ret = perr(p, &l, "event id %" PRIu64 " declared twice in stream %" PRIu64,
				   dup, scs[s]->pub.id);
			goto out;
		}
	}
	tc->stream_classes = (const struct sonde_ctf_stream_class *const *)scs;
	tc->stream_class_count = nstreams;
out:
	free(counts);
	return ret;
}

static int finish(struct parser *p)
{
	struct sonde_ctf_trace_class *tc = &p->tc->pub;
	const struct md_token *end = &p->tok[p->ntok - 1];
	int ret;

	if (!p->have_trace)
		return perr(p, end, "no trace block");
	if (!p->have_byte_order) {
		const struct md_token l = { .line = p->trace_line };

		return perr(p, &l, "trace block has no byte_order");
	}
	if (!p->have_major || !p->have_minor) {
		const struct md_token l = { .line = p->trace_line };

		return perr(p, &l, "trace block has no major/minor version");
	}
	for (size_t i = 0; i < p->basics.n; i++) {
		struct md_type *t = VEC_AT(p->basics, struct md_type *, i);
		uint8_t *bo = t->pub.kind == SONDE_CTF_INT ?
			&t->pub.u.integer.byte_order : &t->pub.u.floating.byte_order;

		if (*bo == MD_BYTE_ORDER_NATIVE)
			*bo = tc->byte_order;
	}
	if (p->clocks.n) {
		struct sonde_ctf_clock **arr =
			sonde_arena_alloc(p->a, p->clocks.n * sizeof(*arr));

		if (!arr)
			return nomem(p);
		memcpy(arr, p->clocks.v, p->clocks.n * sizeof(*arr));
		tc->clocks = (const struct sonde_ctf_clock *const *)arr;
		tc->clock_count = p->clocks.n;
	}
	for (size_t i = 0; i < p->maps.n; i++) {
		struct pending_map *m = &VEC_AT(p->maps, struct pending_map, i);
		size_t c;

		for (c = 0; c < tc->clock_count; c++)
			if (!strcmp(tc->clocks[c]->name, m->clock))
				break;
		if (c == tc->clock_count) {
			const struct md_token l = { .line = m->line };

			return perr(p, &l, "map refers to undeclared clock '%s'", m->clock);
		}
		m->type->pub.u.integer.mapped_clock = tc->clocks[c];
	}
	if (p->env.n) {
		struct sonde_ctf_env_entry *arr =
			sonde_arena_alloc(p->a, p->env.n * sizeof(*arr));

		if (!arr)
			return nomem(p);
		memcpy(arr, p->env.v, p->env.n * sizeof(*arr));
		tc->env = arr;
		tc->env_count = p->env.n;
	}
	ret = wire_classes(p);
	if (ret)
		return ret;
	return md_resolve(p->tc, p->origin, p->err);
}

int sonde_ctf_metadata_parse(const char *text, size_t len, const char *origin,
			     struct sonde_ctf_trace_class **out,
			     struct sonde_error *err)
{
	struct parser p = {
		.origin = origin ? origin : "metadata",
		.err = err,
		.basics = VEC(struct md_type *),
		.maps = VEC(struct pending_map),
		.clocks = VEC(struct sonde_ctf_clock *),
		.env = VEC(struct sonde_ctf_env_entry),
		.streams = VEC(struct pending_stream),
		.events = VEC(struct pending_event),
	};
	struct md_tokens toks = { NULL, 0 };
	struct md_trace_class *tc;
	size_t limit;
	int ret;

	if (!text || !out)
		return sonde_error_set(err, SONDE_EINVAL, "%s: no metadata", p.origin);
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory", p.origin);
	limit = len > (SIZE_MAX - MD_ARENA_BASE_LIMIT) / MD_ARENA_PER_BYTE ?
		SIZE_MAX : MD_ARENA_BASE_LIMIT + len * MD_ARENA_PER_BYTE;
	sonde_arena_init(&tc->arena, limit);
	p.tc = tc;
	p.a = &tc->arena;
	ret = md_lex(text, len, p.origin, &tc->arena, &toks, err);
	if (ret)
		goto fail;
	p.tok = toks.v;
	p.ntok = toks.count;
	ret = parse_top(&p);
	if (!ret)
		ret = finish(&p);
	if (ret)
		goto fail;
	*out = &tc->pub;
	goto done;
fail:
	sonde_arena_release(&tc->arena);
	free(tc);
done:
	free(toks.v);
	free(p.syms);
	free(p.buckets);
	free(p.basics.v);
	free(p.maps.v);
	free(p.clocks.v);
	free(p.env.v);
	free(p.streams.v);
	free(p.events.v);
	return ret;
}
