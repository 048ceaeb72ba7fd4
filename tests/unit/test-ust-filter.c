/* Event filters (src/ust/filter.h): the language compiled and evaluated
 * on a payload, errors naming their column, and bytecode or payloads
 * that are malformed refused or evaluated within bounds. */
#include <stdlib.h>

#include "../helpers/tap.h"
#include "ust/filter.h"

static const struct sonde_ctfw_enum_entry colors[] = {
	{ "RED", 0, 0, false },
	{ "MANY", 10, 19, false },
};

static const struct sonde_ctfw_field fields[] = {
	SONDE_CTFW_INTEGER("i", 32, true),
	SONDE_CTFW_INTEGER_NETWORK_HEX("n", 16, false),
	SONDE_CTFW_DOUBLE("d"),
	SONDE_CTFW_STRING("s"),
	SONDE_CTFW_ARRAY_TEXT("a", 8),
	SONDE_CTFW_SEQUENCE_TEXT("t", 16),
	SONDE_CTFW_SEQUENCE("q", 64, true, 32),
	SONDE_CTFW_ENUM("e", 8, false, colors, 2),
	SONDE_CTFW_INTEGER("u", 64, false),
	SONDE_CTFW_INTEGER("i8", 8, true),
};

static const struct sonde_tp_event event = {
	.name = "test:event",
	.fields = fields,
	.field_count = sizeof(fields) / sizeof(fields[0]),
};

/* i=-7 n=0x1234 d=2.5 s="he*llo" a="abc" t="xyz" q=[1] e=12
 * u=0xffffffffffffffff i8=-1 */
static const uint8_t payload[] = {
	0xf9, 0xff, 0xff, 0xff, 0x12, 0x34, 0,	  0,	0,   0,	  0,   0,
	4,    0x40, 'h',  'e',	'*',  'l',  'l',  'o',	0,   'a', 'b', 'c',
	0,    0,    0,	  0,	0,    3,    0,	  'x',	'y', 'z', 1,   0,
	0,    0,    1,	  0,	0,    0,    0,	  0,	0,   0,	  12,  0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static int64_t ctx_integer(int ctx)
{
	return ctx == SONDE_UST_CTX_VPID ? 4242 : 7;
}

static const char *ctx_string(int ctx)
{
	(void)ctx;
	return "myproc";
}

static const struct sonde_ust_filter_ctx ctx = { ctx_integer, ctx_string };

/* 1 pass, 0 reject, -1 never applies to the event, -2 not compiled. */
static int run(const char *expr, const uint8_t *p, size_t len)
{
	struct sonde_ust_bound_filter *b;
	struct sonde_ust_filter *f;
	uint8_t *code;
	size_t n;
	int ret;

	if (sonde_ust_filter_compile(expr, &code, &n, NULL))
		return -2;
	ret = sonde_ust_filter_load(code, n, &f, NULL);
	free(code);
	if (ret)
		return -3;
	b = sonde_ust_filter_bind(f, &event);
	ret = b ? sonde_ust_filter_eval(b, p, len, &ctx) : -1;
	sonde_ust_bound_filter_free(b);
	sonde_ust_filter_free(f);
	return ret;
}

static const struct {
	const char *expr;
	int want;
} cases[] = {
	{ "i == -7", 1 },
	{ "i != -7", 0 },
	{ "i < -6 && i <= -7 && i > -8 && i >= -7", 1 },
	{ "-i == 7 && -(-i) == i", 1 },
	{ "n == 0x1234 && n == 4660 && n == 011064", 1 },
	{ "d == 2.5 && d > 2 && d < 2.6e0 && i < d", 1 },
	{ "s == \"he\\*llo\"", 1 }, /* escaped star: literal */
	{ "s == \"he*llo\"", 1 },   /* glob matching "*" too */
	{ "s == \"h*\" && s != \"*x*\" && s == \"*\" && s == \"**o\"", 1 },
	{ "s == \"he\"", 0 },
	{ "s < \"hf\" && s > \"ha\" && s >= \"he\" && s <= \"he\\*llo\"", 1 },
	{ "a == \"abc\" && t == \"xyz\" && t == \"x*\"", 1 },
	{ "a == \"ab\" || t == \"xy\"", 0 },
	{ "e == 12 && e >= 10", 1 },
	{ "u == -1 && u == 0xffffffffffffffff && i8 == -1", 1 },
	{ "i == 1 || i == -7 && e == 12", 1 }, /* && binds tighter */
	{ "(i == 1 || i == -7) && e == 13", 0 },
	{ "!(i == -7)", 0 },
	{ "!!i && !(i8 == 0)", 1 },
	{ "$ctx.vpid == 4242 && $ctx.vtid == 7 && $ctx.procname == \"my*\"",
	  1 },
	{ "$ctx.procname == \"other\"", 0 },
	{ "nosuch == 1 || i == -7", -1 },
	{ "s == 1", -1 },
	{ "i == \"x\"", -1 },
	{ "q == 1", -1 },
	{ "s", -1 },
	{ "i", 1 },
	{ " ( ( i == -7 ) ) ", 1 },
};

static const struct {
	const char *expr;
	const char *msg;
} errors[] = {
	{ "", "filter: column 1: unexpected end of the expression" },
	{ "i ==", "filter: column 5: unexpected end of the expression" },
	{ "i == 1 )",
	  "filter: column 8: unexpected text after the expression" },
	{ "(i == 1", "filter: column 8: expected ')'" },
	{ "s == \"abc", "filter: column 6: unterminated string" },
	{ "\"a*\" == \"b*\"",
	  "filter: column 6: cannot compare two glob patterns" },
	{ "s >= \"a*\"",
	  "filter: column 3: a glob pattern compares with == or != only" },
	{ "1 == \"x\"",
	  "filter: column 3: cannot compare a string with a number" },
	{ "\"x\" && i", "filter: column 5: a string is not a condition" },
	{ "\"x\"", "filter: column 1: a string is not a condition" },
	{ "$app.x == 1", "filter: column 1: unknown context (only $ctx.NAME)" },
	{ "$ctx.cpu_id == 1",
	  "filter: column 1: unknown context (vpid, vtid, procname, pthread_id)" },
	{ "i == 99999999999999999999", "filter: column 6: integer too large" },
	{ "i == 1.2.3", "filter: column 6: invalid number" },
	{ "i == 0x", "filter: column 6: invalid number" },
	{ "i = 1", "filter: column 3: unexpected text after the expression" },
	{ "i == @",
	  "filter: column 6: expected a field, a context or a literal" },
	{ "-\"x\" == s", "filter: column 1: '-' needs a number" },
};

static void test_language(void)
{
	char what[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s -> %d", cases[i].expr,
			 cases[i].want);
		is_int(run(cases[i].expr, payload, sizeof(payload)),
		       cases[i].want, what);
	}
	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct sonde_error err = { 0 };
		uint8_t *code;
		size_t n;

		snprintf(what, sizeof(what), "refused: %s", errors[i].expr);
		ok(sonde_ust_filter_compile(errors[i].expr, &code, &n, &err) ==
			   SONDE_EFORMAT,
		   what);
		is_str(err.msg, errors[i].msg, "its message");
	}
}

static void test_limits(void)
{
	char deep[200], wide[4000];
	size_t i, n = 0;

	memset(deep, '(', 40);
	strcpy(deep + 40, "i == 1");
	memset(deep + 46, ')', 40);
	deep[86] = 0;
	is_int(run(deep, payload, sizeof(payload)), -2,
	       "40 parentheses: too deep");
	memset(deep, '!', 100);
	strcpy(deep + 100, "i");
	is_int(run(deep, payload, sizeof(payload)), -2, "100 '!': too deep");
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(wide + n, sizeof(wide) - n, "%si == %zu",
				      i ? " || " : "", i);
	is_int(run(wide, payload, sizeof(payload)), -2,
	       "a 3 KiB expression: refused (too long)");
	is_int(run("i == 1 || i == 2 || i == 3 || i == 4 || i == 5 || i == 6 || i == -7",
		   payload, sizeof(payload)),
	       1, "a left-deep chain stays shallow on the stack");
}

static void test_truncated_payloads(void)
{
	static const char *const exprs[] = { "i8 == -1", "u == -1",
					     "t == \"xyz\"", "s == \"*\"",
					     "e == 12" };
	static const size_t ends[] = { 56, 55, 34, 21, 47 };
	size_t i, len;
	bool all = true;

	/* Exact-size copies: ASan catches a read past the end. */
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		for (len = 0; len <= sizeof(payload); len++) {
			uint8_t *copy = malloc(len ? len : 1);

			memcpy(copy, payload, len);
			all &= run(exprs[i], copy, len) == (len >= ends[i]);
			free(copy);
		}
	ok(all, "a payload cut before the field rejects, within bounds");
}

static int load(const uint8_t *code, size_t len)
{
	struct sonde_ust_filter *f;
	struct sonde_error err;
	int ret = sonde_ust_filter_load(code, len, &f, &err);

	sonde_ust_filter_free(f);
	return ret;
}

static void test_malformed_bytecode(void)
{
	static const uint8_t good[] = { 1,
					SONDE_UST_FOP_FIELD,
					1,
					'i',
					SONDE_UST_FOP_INT,
					0xf9,
					0xff,
					0xff,
					0xff,
					0xff,
					0xff,
					0xff,
					0xff,
					SONDE_UST_FOP_EQ };
	static const uint8_t version[] = {
		2, SONDE_UST_FOP_INT, 0, 0, 0, 0, 0, 0, 0, 0
	};
	static const uint8_t unknown[] = { 1, 99 };
	static const uint8_t underflow[] = { 1, SONDE_UST_FOP_EQ };
	static const uint8_t two[] = { 1, SONDE_UST_FOP_CTX, 1,
				       SONDE_UST_FOP_CTX, 2 };
	static const uint8_t bad_ctx[] = { 1, SONDE_UST_FOP_CTX, 9 };
	static const uint8_t empty_name[] = { 1, SONDE_UST_FOP_FIELD, 0 };
	static const uint8_t long_str[] = { 1, SONDE_UST_FOP_STR, 9, 0, 'a' };
	uint8_t overflow[1 + 2 * 33 + 32];
	size_t i, n = 0;
	bool refused = true;
	uint8_t *code;
	size_t len;
	unsigned int seed = 1;

	is_int(load(good, sizeof(good)), 0, "a hand-written program loads");
	for (i = 0; i < sizeof(good); i++)
		refused &= (load(good, i) == 0) == (i == 4); /* 4: just `i` */
	ok(refused,
	   "its truncations are refused (but the first operand alone)");
	is_int(load(version, sizeof(version)), SONDE_EFORMAT,
	       "another version");
	is_int(load(unknown, sizeof(unknown)), SONDE_EFORMAT,
	       "unknown operation");
	is_int(load(underflow, sizeof(underflow)), SONDE_EFORMAT,
	       "stack underflow");
	is_int(load(two, sizeof(two)), SONDE_EFORMAT, "two results");
	is_int(load(bad_ctx, sizeof(bad_ctx)), SONDE_EFORMAT,
	       "unknown context");
	is_int(load(empty_name, sizeof(empty_name)), SONDE_EFORMAT,
	       "empty field name");
	is_int(load(long_str, sizeof(long_str)), SONDE_EFORMAT,
	       "string past the end");
	overflow[n++] = 1;
	for (i = 0; i < 33; i++) {
		overflow[n++] = SONDE_UST_FOP_CTX;
		overflow[n++] = 1;
	}
	for (i = 0; i < 32; i++)
		overflow[n++] = SONDE_UST_FOP_AND;
	is_int(load(overflow, n), SONDE_EFORMAT, "33 values on the stack");
	is_int(sonde_ust_filter_unhex("0", &code, &len), SONDE_EFORMAT,
	       "odd hex");
	is_int(sonde_ust_filter_unhex("0g", &code, &len), SONDE_EFORMAT,
	       "bad hex digit");
	is_int(sonde_ust_filter_unhex("0A", &code, &len), SONDE_EFORMAT,
	       "upper-case hex");
	is_int(sonde_ust_filter_unhex("", &code, &len), SONDE_EFORMAT,
	       "no bytecode");

	/* Random programs (a valid header and biased opcodes), evaluated on
	 * the payload when they load: nothing may read out of bounds. */
	for (i = 0; i < 20000; i++) {
		uint8_t prog[24];
		struct sonde_ust_filter *f;
		struct sonde_ust_bound_filter *b;
		size_t k, plen = 1 + (size_t)(rand_r(&seed) % 23);

		prog[0] = 1;
		for (k = 1; k < plen; k++)
			prog[k] = rand_r(&seed) % 3
					  ? (uint8_t)(1 + rand_r(&seed) % 17)
					  : (uint8_t)rand_r(&seed);
		if (sonde_ust_filter_load(prog, plen, &f, NULL))
			continue;
		b = sonde_ust_filter_bind(f, &event);
		if (b)
			(void)sonde_ust_filter_eval(b, payload, sizeof(payload),
						    &ctx);
		sonde_ust_bound_filter_free(b);
		sonde_ust_filter_free(f);
	}
	ok(1, "20000 random programs loaded, bound and evaluated");
}

int main(void)
{
	test_language();
	test_limits();
	test_truncated_payloads();
	test_malformed_bytecode();
	return tap_done();
}
