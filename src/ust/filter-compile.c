/*
 * The filter language (LTTng's) compiled to bytecode, in sonde-sessiond:
 *
 *   expr    := and ('||' and)*
 *   and     := not ('&&' not)*
 *   not     := '!' not | cmp
 *   cmp     := operand (('==' | '!=' | '<' | '<=' | '>' | '>=') operand)?
 *   operand := '(' expr ')' | '-' operand | INTEGER | FLOAT | STRING
 *            | FIELD | FIELD '[' INDEX ']' | '$ctx.' NAME
 *
 * Integers are decimal, 0x hexadecimal or 0 octal; strings are in double
 * quotes, `\` escaping the next character; a string with an unescaped `*`
 * is a glob (`*` matches any run of characters), compared with == or !=
 * only.  Types are checked where the compiler can (a literal string
 * against a number is refused); fields are checked per event by the
 * programs.  The recursion is bounded by the evaluation stack.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ust/filter.h"

enum value_type {
	TYPE_NUMBER, /* literal, or an integer context, or a truth value */
	TYPE_STRING, /* literal, or a string context */
	TYPE_GLOB,
	TYPE_FIELD, /* known per event only */
};

struct compiler {
	const char *src, *pos;
	uint8_t code[SONDE_UST_FILTER_CODE_MAX];
	size_t len;
	int depth; /* of the evaluation stack */
	int nesting;	      /* parentheses and '!' */
	struct sonde_error *err;
};

static int fail(struct compiler *c, const char *at, const char *what)
{
	return sonde_error_set(c->err, SONDE_EFORMAT, "filter: column %d: %s",
			       (int)(at - c->src) + 1, what);
}

static void skip_space(struct compiler *c)
{
	while (*c->pos == ' ' || *c->pos == '\t' || *c->pos == '\n' ||
	       *c->pos == '\r')
		c->pos++;
}

/* Whether the next token is `tok` (consumed if so). */
static bool accept(struct compiler *c, const char *tok)
{
	size_t n = strlen(tok);

	skip_space(c);
	if (strncmp(c->pos, tok, n))
		return false;
	/* "<" is not the start of "<=", "!" not of "!=". */
	if (n == 1 && (tok[0] == '<' || tok[0] == '>' || tok[0] == '!') &&
	    c->pos[1] == '=')
		return false;
	c->pos += n;
	return true;
}

static int emit(struct compiler *c, const char *at, const void *bytes, size_t n)
{
	if (n > sizeof(c->code) - c->len)
		return fail(c, at, "expression too long");
	memcpy(c->code + c->len, bytes, n);
	c->len += n;
	return 0;
}

static int emit_op(struct compiler *c, const char *at, uint8_t op, int pushes)
{
	c->depth += pushes;
	if (c->depth > SONDE_UST_FILTER_STACK_MAX)
		return fail(c, at, "expression too deeply nested");
	return emit(c, at, &op, 1);
}

static int emit_u64(struct compiler *c, const char *at, uint8_t op, uint64_t v)
{
	uint8_t b[8];
	int i, ret = emit_op(c, at, op, 1);

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return ret ? ret : emit(c, at, b, 8);
}

static int emit_bytes(struct compiler *c, const char *at, uint8_t op,
		      const char *s, size_t n, size_t len_bytes)
{
	uint8_t b[2] = { (uint8_t)n, (uint8_t)(n >> 8) };
	int ret;

	if (n >= (len_bytes == 1 ? 256u : 65536u))
		return fail(c, at, "name or string too long");
	ret = emit_op(c, at, op, 1);
	if (!ret)
		ret = emit(c, at, b, len_bytes);
	return ret ? ret : emit(c, at, s, n);
}

static bool is_ident_start(char ch)
{
	return ch == '_' || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

static bool is_ident(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static int number(struct compiler *c, bool negative, enum value_type *type)
{
	const char *start = c->pos, *p = c->pos;
	bool is_float = false;
	char buf[64], *end;

	while (is_ident(*p) || *p == '.' ||
	       ((*p == '+' || *p == '-') && (p[-1] == 'e' || p[-1] == 'E') &&
		!(start[0] == '0' && (start[1] == 'x' || start[1] == 'X'))))
		p++;
	if ((size_t)(p - start) >= sizeof(buf))
		return fail(c, start, "number too long");
	memcpy(buf, start, (size_t)(p - start));
	buf[p - start] = 0;
	if (!(buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')))
		is_float = strpbrk(buf, ".eE") != NULL;
	errno = 0;
	*type = TYPE_NUMBER;
	c->pos = p;
	if (is_float) {
		double d = strtod(buf, &end);
		uint64_t bits;

		if (*end || errno || !isfinite(d))
			return fail(c, start, "invalid number");
		d = negative ? -d : d;
		memcpy(&bits, &d, 8);
		return emit_u64(c, start, SONDE_UST_FOP_FLOAT, bits);
	}
	{
		unsigned long long v = strtoull(buf, &end, 0);

		if (*end || errno)
			return fail(c, start,
				    errno ? "integer too large"
					  : "invalid number");
		return emit_u64(c, start, SONDE_UST_FOP_INT,
				negative ? 0 - (uint64_t)v : (uint64_t)v);
	}
}

static int string(struct compiler *c, enum value_type *type)
{
	const char *start = c->pos, *p = c->pos + 1;
	char text[SONDE_UST_FILTER_EXPR_MAX];
	size_t raw_len = 0, plain_len = 0;
	char plain[SONDE_UST_FILTER_EXPR_MAX];
	bool glob = false;

	/* Two spellings: `raw` keeps the escapes (a glob's matcher reads
	 * them), `plain` resolves them (an exact string). */
	for (; *p && *p != '"'; p++) {
		if (raw_len + 2 > sizeof(text))
			return fail(c, start, "string too long");
		if (*p == '\\') {
			if (!p[1])
				break;
			text[raw_len++] = *p++;
		} else if (*p == '*') {
			glob = true;
		}
		text[raw_len++] = *p;
		plain[plain_len++] = *p;
	}
	if (*p != '"')
		return fail(c, start, "unterminated string");
	c->pos = p + 1;
	*type = glob ? TYPE_GLOB : TYPE_STRING;
	if (glob)
		return emit_bytes(c, start, SONDE_UST_FOP_GLOB, text, raw_len,
				  2);
	return emit_bytes(c, start, SONDE_UST_FOP_STR, plain, plain_len, 2);
}

static int context(struct compiler *c, enum value_type *type)
{
	static const char *const names[] = { "vpid", "vtid", "procname",
					     "pthread_id" };
	static const enum sonde_ust_context ids[] = {
		SONDE_UST_CTX_VPID, SONDE_UST_CTX_VTID, SONDE_UST_CTX_PROCNAME,
		SONDE_UST_CTX_PTHREAD_ID
	};
	const char *start = c->pos, *name = c->pos + 5;
	size_t i, n = 0;

	if (strncmp(c->pos, "$ctx.", 5))
		return fail(c, start, "unknown context (only $ctx.NAME)");
	while (is_ident(name[n]))
		n++;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncmp(name, names[i], n)) {
			uint8_t id = (uint8_t)ids[i];
			int ret = emit_op(c, start, SONDE_UST_FOP_CTX, 1);

			c->pos = name + n;
			*type = ids[i] == SONDE_UST_CTX_PROCNAME ? TYPE_STRING
								 : TYPE_NUMBER;
			return ret ? ret : emit(c, start, &id, 1);
		}
	return fail(c, start,
		    "unknown context (vpid, vtid, procname, pthread_id)");
}

static int expr(struct compiler *c, enum value_type *type);

/* `name[INDEX]`, after the '[': an element of an array or sequence. */
static int element(struct compiler *c, const char *name, size_t n,
		   enum value_type *type)
{
	const char *at;
	unsigned long long index;
	char *end;
	uint8_t b[4];
	int i, ret;

	skip_space(c);
	at = c->pos;
	if (*at < '0' || *at > '9')
		return fail(c, at, "expected an index");
	errno = 0;
	index = strtoull(at, &end, 0);
	if (errno || index > UINT32_MAX)
		return fail(c, at, "index too large");
	c->pos = end;
	if (!accept(c, "]"))
		return fail(c, c->pos, "expected ']'");
	*type = TYPE_NUMBER;
	ret = emit_bytes(c, name, SONDE_UST_FOP_ELEM, name, n, 1);
	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(index >> (8 * i));
	return ret ? ret : emit(c, name, b, 4);
}

static int operand(struct compiler *c, enum value_type *type)
{
	const char *start;
	int ret;

	skip_space(c);
	start = c->pos;
	if (accept(c, "(")) {
		ret = expr(c, type);
		if (!ret && !accept(c, ")"))
			ret = fail(c, c->pos, "expected ')'");
		return ret;
	}
	if (accept(c, "-")) {
		skip_space(c);
		if (*c->pos >= '0' && *c->pos <= '9')
			return number(c, true, type);
		if (c->nesting >= SONDE_UST_FILTER_STACK_MAX)
			return fail(c, start, "expression too deeply nested");
		c->nesting++;
		ret = operand(c, type);
		c->nesting--;
		if (!ret && (*type == TYPE_STRING || *type == TYPE_GLOB))
			return fail(c, start, "'-' needs a number");
		return ret ? ret : emit_op(c, start, SONDE_UST_FOP_NEG, 0);
	}
	if ((*c->pos >= '0' && *c->pos <= '9') || *c->pos == '.')
		return number(c, false, type);
	if (*c->pos == '"')
		return string(c, type);
	if (*c->pos == '$')
		return context(c, type);
	if (is_ident_start(*c->pos)) {
		size_t n = 0;

		while (is_ident(c->pos[n]))
			n++;
		c->pos += n;
		if (accept(c, "["))
			return element(c, start, n, type);
		*type = TYPE_FIELD;
		return emit_bytes(c, start, SONDE_UST_FOP_FIELD, start, n, 1);
	}
	return fail(c, start,
		    *start ? "expected a field, a context or a literal"
			   : "unexpected end of the expression");
}

static const struct {
	const char *tok;
	uint8_t op;
} comparisons[] = {
	{ "==", SONDE_UST_FOP_EQ }, { "!=", SONDE_UST_FOP_NE },
	{ "<=", SONDE_UST_FOP_LE }, { ">=", SONDE_UST_FOP_GE },
	{ "<", SONDE_UST_FOP_LT },  { ">", SONDE_UST_FOP_GT },
};

static bool is_text(enum value_type t)
{
	return t == TYPE_STRING || t == TYPE_GLOB;
}

static int comparison(struct compiler *c, enum value_type *type)
{
	enum value_type right;
	const char *at;
	size_t i;
	int ret = operand(c, type);

	if (ret)
		return ret;
	skip_space(c);
	at = c->pos;
	for (i = 0; i < sizeof(comparisons) / sizeof(comparisons[0]); i++)
		if (accept(c, comparisons[i].tok))
			break;
	if (i == sizeof(comparisons) / sizeof(comparisons[0]))
		return 0;
	ret = operand(c, &right);
	if (ret)
		return ret;
	if ((is_text(*type) && right == TYPE_NUMBER) ||
	    (*type == TYPE_NUMBER && is_text(right)))
		return fail(c, at, "cannot compare a string with a number");
	if (*type == TYPE_GLOB && right == TYPE_GLOB)
		return fail(c, at, "cannot compare two glob patterns");
	if ((*type == TYPE_GLOB || right == TYPE_GLOB) &&
	    comparisons[i].op != SONDE_UST_FOP_EQ &&
	    comparisons[i].op != SONDE_UST_FOP_NE)
		return fail(c, at,
			    "a glob pattern compares with == or != only");
	*type = TYPE_NUMBER;
	return emit_op(c, at, comparisons[i].op, -1);
}

static int logical_operand(struct compiler *c, const char *at,
			   enum value_type type)
{
	return is_text(type) ? fail(c, at, "a string is not a condition") : 0;
}

static int negation(struct compiler *c, enum value_type *type)
{
	const char *at;
	int ret;

	skip_space(c);
	at = c->pos;
	if (!accept(c, "!"))
		return comparison(c, type);
	if (c->nesting >= SONDE_UST_FILTER_STACK_MAX)
		return fail(c, at, "expression too deeply nested");
	c->nesting++;
	ret = negation(c, type);
	c->nesting--;
	if (!ret)
		ret = logical_operand(c, at, *type);
	*type = TYPE_NUMBER;
	return ret ? ret : emit_op(c, at, SONDE_UST_FOP_NOT, 0);
}

/* One level of && or ||. */
static int logical(struct compiler *c, enum value_type *type, bool is_or)
{
	enum value_type right;
	const char *at = c->pos;
	int ret = is_or ? logical(c, type, false) : negation(c, type);

	while (!ret) {
		skip_space(c);
		at = c->pos;
		if (!accept(c, is_or ? "||" : "&&"))
			break;
		ret = logical_operand(c, at, *type);
		if (!ret)
			ret = is_or ? logical(c, &right, false)
				    : negation(c, &right);
		if (!ret)
			ret = logical_operand(c, at, right);
		if (!ret)
			ret = emit_op(c, at,
				      is_or ? SONDE_UST_FOP_OR
					    : SONDE_UST_FOP_AND,
				      -1);
		*type = TYPE_NUMBER;
	}
	return ret;
}

static int expr(struct compiler *c, enum value_type *type)
{
	int ret;

	/* Bounds the recursion ("((((...", "!!!!..."). */
	if (c->nesting >= SONDE_UST_FILTER_STACK_MAX)
		return fail(c, c->pos, "expression too deeply nested");
	c->nesting++;
	ret = logical(c, type, true);
	c->nesting--;
	return ret;
}

int sonde_ust_filter_compile(const char *src, uint8_t **code, size_t *len,
			     struct sonde_error *err)
{
	struct compiler *c;
	enum value_type type;
	int ret;

	*code = NULL;
	*len = 0;
	if (strlen(src) > SONDE_UST_FILTER_EXPR_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "filter: longer than %d characters",
				       SONDE_UST_FILTER_EXPR_MAX);
	c = calloc(1, sizeof(*c));
	if (!c)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	c->src = c->pos = src;
	c->err = err;
	c->code[c->len++] = SONDE_UST_FILTER_VERSION;
	ret = expr(c, &type);
	if (!ret) {
		skip_space(c);
		if (*c->pos)
			ret = fail(c, c->pos,
				   "unexpected text after the expression");
		else if (is_text(type))
			ret = fail(c, src, "a string is not a condition");
	}
	if (!ret) {
		*code = malloc(c->len);
		if (!*code)
			ret = sonde_error_set(err, SONDE_ENOMEM,
					      "out of memory");
		else {
			memcpy(*code, c->code, c->len);
			*len = c->len;
		}
	}
	free(c);
	return ret;
}

char *sonde_ust_filter_hex(const uint8_t *code, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * len + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = digits[code[i] >> 4];
		s[2 * i + 1] = digits[code[i] & 15];
	}
	s[2 * len] = 0;
	return s;
}
