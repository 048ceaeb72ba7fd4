#include "ctf/metadata/lexer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keyword {
	const char *name;
	uint8_t len;
	uint8_t kw;
};

static const struct keyword keywords[] = {
	{ "align", 5, KW_ALIGN }, { "callsite", 8, KW_CALLSITE },
	{ "const", 5, KW_CONST }, { "char", 4, KW_CHAR },
	{ "clock", 5, KW_CLOCK }, { "double", 6, KW_DOUBLE },
	{ "enum", 4, KW_ENUM }, { "env", 3, KW_ENV },
	{ "event", 5, KW_EVENT }, { "floating_point", 14, KW_FLOATING_POINT },
	{ "float", 5, KW_FLOAT }, { "integer", 7, KW_INTEGER },
	{ "int", 3, KW_INT }, { "long", 4, KW_LONG },
	{ "short", 5, KW_SHORT }, { "signed", 6, KW_SIGNED },
	{ "stream", 6, KW_STREAM }, { "string", 6, KW_STRING },
	{ "struct", 6, KW_STRUCT }, { "trace", 5, KW_TRACE },
	{ "typealias", 9, KW_TYPEALIAS }, { "typedef", 7, KW_TYPEDEF },
	{ "unsigned", 8, KW_UNSIGNED }, { "variant", 7, KW_VARIANT },
	{ "void", 4, KW_VOID }, { "_Bool", 5, KW_BOOL },
	{ "_Complex", 8, KW_COMPLEX }, { "_Imaginary", 10, KW_IMAGINARY },
};

static uint8_t keyword_of(const char *s, size_t len)
{
	size_t i;

	if (len < 3 || len > 14)
		return KW_NONE;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (keywords[i].len == len && keywords[i].name[0] == s[0] &&
		    memcmp(keywords[i].name, s, len) == 0)
			return keywords[i].kw;
	}
	return KW_NONE;
}

static bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

struct lexer {
	const char *text;
	size_t len, pos;
	uint32_t line;
	const char *origin;
	struct sonde_arena *strings;
	struct sonde_error *err;
	struct md_tokens toks;
	size_t cap;
};

static int lex_error(struct lexer *lx, const char *what)
{
	return sonde_error_set(lx->err, SONDE_EFORMAT, "%s:%u: %s", lx->origin,
			       lx->line, what);
}

static struct md_token *push(struct lexer *lx, uint8_t type)
{
	struct md_token *t;

	if (lx->toks.count == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 1024;
		struct md_token *v = realloc(lx->toks.v, cap * sizeof(*v));

		if (!v)
			return NULL;
		lx->toks.v = v;
		lx->cap = cap;
	}
	t = &lx->toks.v[lx->toks.count++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->line = lx->line;
	return t;
}

static int lex_number(struct lexer *lx, struct md_token *t)
{
	const char *s = lx->text;
	size_t p = lx->pos;
	uint64_t v = 0;
	unsigned base = 10, digits = 0;

	if (s[p] == '0' && p + 1 < lx->len && (s[p + 1] == 'x' || s[p + 1] == 'X')) {
		base = 16;
		p += 2;
	} else if (s[p] == '0') {
		base = 8;
		p++;
		digits++;   /* the 0 itself */
	}
	for (; p < lx->len; p++) {
		int d = hex_value((unsigned char)s[p]);

		if (d < 0 || (unsigned)d >= base) {
			if (d >= 0 && base == 8 && d < 10)
				return lex_error(lx, "invalid digit in octal literal");
			break;
		}
		if (v > (UINT64_MAX - (unsigned)d) / base)
			return lex_error(lx, "integer literal too large");
		v = v * base + (unsigned)d;
		digits++;
	}
	if (!digits)
		return lex_error(lx, "incomplete integer literal");
	/* C suffixes: u, l, ul, lu, ll, ull, llu in any case. */
	{
		unsigned us = 0, ls = 0;

		while (p < lx->len && (s[p] == 'u' || s[p] == 'U' ||
				       s[p] == 'l' || s[p] == 'L')) {
			if (s[p] == 'u' || s[p] == 'U')
				us++;
			else
				ls++;
			p++;
		}
		if (us > 1 || ls > 2)
			return lex_error(lx, "invalid integer literal suffix");
	}
	if (p < lx->len && (is_ident_char((unsigned char)s[p]) || s[p] == '.')) {
		if (s[p] == '.' && !(p + 2 < lx->len && s[p + 1] == '.' && s[p + 2] == '.'))
			return lex_error(lx, "floating-point literals are not supported");
		if (s[p] != '.')
			return lex_error(lx, "invalid integer literal");
	}
	t->value = v;
	t->s = s + lx->pos;
	t->len = (uint32_t)(p - lx->pos);
	lx->pos = p;
	return 0;
}

/* A "string" or a 'c'haracter literal (kept as a string: only unknown
 * attributes use them). Escapes such as \0 truncate the C string. */
static int lex_string(struct lexer *lx, struct md_token *t, char quote)
{
	const char *s = lx->text;
	size_t p = lx->pos + 1, start = p, n = 0;
	char *out;

	/* First pass: find the end, so the decoded copy can be sized. */
	for (;;) {
		if (p >= lx->len || s[p] == '\n')
			return lex_error(lx, "unterminated string literal");
		if (s[p] == quote)
			break;
		if (s[p] == '\\') {
			if (p + 1 >= lx->len)
				return lex_error(lx, "unterminated string literal");
			p++;
		}
		p++;
	}
	out = sonde_arena_alloc(lx->strings, p - start + 1);
	if (!out)
		return sonde_error_set(lx->err, SONDE_ENOMEM,
				       "%s:%u: out of memory", lx->origin, lx->line);
	for (size_t i = start; i < p; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		c = (unsigned char)s[++i];
		switch (c) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case 'a': out[n++] = '\a'; break;
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'v': out[n++] = '\v'; break;
		case 'e': out[n++] = 0x1b; break;
		case '\\': case '"': case '\'': case '?':
			out[n++] = (char)c;
			break;
		case 'x': {
			unsigned v = 0, k = 0;

			while (k < 2 && i + 1 < p && hex_value((unsigned char)s[i + 1]) >= 0) {
				v = v * 16 + (unsigned)hex_value((unsigned char)s[++i]);
				k++;
			}
			if (!k)
				return lex_error(lx, "invalid \\x escape in string literal");
			out[n++] = (char)v;
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				unsigned v = c - '0', k = 1;

				while (k < 3 && i + 1 < p && s[i + 1] >= '0' && s[i + 1] <= '7') {
					v = v * 8 + (unsigned)(s[++i] - '0');
					k++;
				}
				if (v > 255)
					return lex_error(lx, "invalid octal escape in string literal");
				out[n++] = (char)v;
				break;
			}
			return lex_error(lx, "invalid escape sequence in string literal");
		}
	}
	out[n] = '\0';
	t->s = out;
	t->len = (uint32_t)n;
	lx->pos = p + 1;
	return 0;
}

struct punct {
	const char *s;
	uint8_t len, type;
};

static const struct punct puncts[] = {
	{ "...", 3, TK_ELLIPSIS }, { ":=", 2, TK_COLONEQ }, { "->", 2, TK_ARROW },
	{ "[", 1, TK_LBRACK }, { "]", 1, TK_RBRACK }, { "(", 1, TK_LPAREN },
	{ ")", 1, TK_RPAREN }, { "{", 1, TK_LBRACE }, { "}", 1, TK_RBRACE },
	{ ".", 1, TK_DOT }, { "*", 1, TK_STAR }, { "+", 1, TK_PLUS },
	{ "-", 1, TK_MINUS }, { "<", 1, TK_LT }, { ">", 1, TK_GT },
	{ ":", 1, TK_COLON }, { ";", 1, TK_SEMI }, { "=", 1, TK_EQ },
	{ ",", 1, TK_COMMA },
};

int md_lex(const char *text, size_t len, const char *origin,
	   struct sonde_arena *strings, struct md_tokens *out,
	   struct sonde_error *err)
{
	struct lexer lx = {
		.text = text, .len = len, .line = 1, .origin = origin,
		.strings = strings, .err = err,
	};
	int ret;

	if (len > UINT32_MAX) {
		ret = sonde_error_set(err, SONDE_ENOMEM, "%s: metadata too large",
				      origin);
		goto fail;
	}
	while (lx.pos < len) {
		unsigned char c = (unsigned char)text[lx.pos];
		struct md_token *t;
		size_t i;

		if (c == '\n') {
			lx.line++;
			lx.pos++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			lx.pos++;
			continue;
		}
		if (c == '/' && lx.pos + 1 < len && text[lx.pos + 1] == '*') {
			uint32_t start_line = lx.line;

			lx.pos += 2;
			for (;;) {
				if (lx.pos + 1 >= len) {
					lx.line = start_line;
					ret = lex_error(&lx, "unterminated comment");
					goto fail;
				}
				if (text[lx.pos] == '*' && text[lx.pos + 1] == '/')
					break;
				if (text[lx.pos] == '\0') {
					ret = lex_error(&lx, "NUL character in metadata");
					goto fail;
				}
				if (text[lx.pos] == '\n')
					lx.line++;
				lx.pos++;
			}
			lx.pos += 2;
			continue;
		}
		if (c == '/' && lx.pos + 1 < len && text[lx.pos + 1] == '/') {
			while (lx.pos < len && text[lx.pos] != '\n') {
				if (text[lx.pos] == '\0') {
					ret = lex_error(&lx, "NUL character in metadata");
					goto fail;
				}
				lx.pos++;
			}
			continue;
		}
		t = push(&lx, TK_EOF);
		if (!t) {
			ret = sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
					      origin);
			goto fail;
		}
		if (is_ident_start(c)) {
			size_t p = lx.pos;

			while (p < len && is_ident_char((unsigned char)text[p]))
				p++;
			t->type = TK_IDENT;
			t->s = text + lx.pos;
			t->len = (uint32_t)(p - lx.pos);
			t->kw = keyword_of(t->s, t->len);
			lx.pos = p;
			continue;
		}
		if (c >= '0' && c <= '9') {
			t->type = TK_INT;
			ret = lex_number(&lx, t);
			if (ret)
				goto fail;
			continue;
		}
		if (c == '"' || c == '\'') {
			t->type = TK_STRING;
			ret = lex_string(&lx, t, (char)c);
			if (ret)
				goto fail;
			continue;
		}
		for (i = 0; i < sizeof(puncts) / sizeof(puncts[0]); i++) {
			if (lx.pos + puncts[i].len <= len &&
			    memcmp(text + lx.pos, puncts[i].s, puncts[i].len) == 0)
				break;
		}
		if (i == sizeof(puncts) / sizeof(puncts[0])) {
			char msg[64];

			if (c == 0)
				snprintf(msg, sizeof(msg), "NUL character in metadata");
			else if (c >= 0x20 && c < 0x7f)
				snprintf(msg, sizeof(msg), "unexpected character '%c'", c);
			else
				snprintf(msg, sizeof(msg), "unexpected byte 0x%02x", c);
			ret = lex_error(&lx, msg);
			goto fail;
		}
		t->type = puncts[i].type;
		t->s = text + lx.pos;
		t->len = puncts[i].len;
		lx.pos += puncts[i].len;
	}
	{
		struct md_token *t = push(&lx, TK_EOF);

		if (!t) {
			ret = sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
					      origin);
			goto fail;
		}
		t->s = "";
	}
	*out = lx.toks;
	return 0;
fail:
	free(lx.toks.v);
	return ret;
}

const char *md_tok_describe(const struct md_token *t, char *buf, size_t size)
{
	switch (t->type) {
	case TK_EOF:
		snprintf(buf, size, "end of metadata");
		break;
	case TK_STRING:
		snprintf(buf, size, "string \"%.40s\"", t->s);
		break;
	default:
		snprintf(buf, size, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->s);
		break;
	}
	return buf;
}
