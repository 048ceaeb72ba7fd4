/*
 * TSDL lexer: turns the whole metadata text into a token array up front so
 * the parser can look ahead freely.
 */
#ifndef SONDE_CTF_METADATA_LEXER_H
#define SONDE_CTF_METADATA_LEXER_H

#include <stdint.h>
#include <stddef.h>

#include "common/arena.h"
#include "sonde/error.h"

enum md_tok_type {
	TK_EOF,
	TK_IDENT,
	TK_INT,
	TK_STRING,
	TK_LBRACK, TK_RBRACK, TK_LPAREN, TK_RPAREN, TK_LBRACE, TK_RBRACE,
	TK_DOT, TK_ARROW, TK_STAR, TK_PLUS, TK_MINUS, TK_LT, TK_GT,
	TK_COLON, TK_SEMI, TK_ELLIPSIS, TK_EQ, TK_COMMA, TK_COLONEQ,
};

enum md_keyword {
	KW_NONE,
	KW_ALIGN, KW_CALLSITE, KW_CONST, KW_CHAR, KW_CLOCK, KW_DOUBLE, KW_ENUM,
	KW_ENV, KW_EVENT, KW_FLOATING_POINT, KW_FLOAT, KW_INTEGER, KW_INT,
	KW_LONG, KW_SHORT, KW_SIGNED, KW_STREAM, KW_STRING, KW_STRUCT,
	KW_TRACE, KW_TYPEALIAS, KW_TYPEDEF, KW_UNSIGNED, KW_VARIANT, KW_VOID,
	KW_BOOL, KW_COMPLEX, KW_IMAGINARY,
};

struct md_token {
	uint8_t type;            /* enum md_tok_type */
	uint8_t kw;              /* enum md_keyword for TK_IDENT */
	uint32_t line;
	uint32_t len;
	const char *s;           /* identifier (into the text, not terminated)
	                            or decoded string (arena, NUL-terminated) */
	uint64_t value;          /* TK_INT magnitude */
};

struct md_tokens {
	struct md_token *v;
	size_t count;
};

/* Strings are decoded into `strings`.  Fails with "origin:LINE: ...". */
int md_lex(const char *text, size_t len, const char *origin,
	   struct sonde_arena *strings, struct md_tokens *out,
	   struct sonde_error *err);

const char *md_tok_describe(const struct md_token *t, char *buf, size_t size);

#endif
