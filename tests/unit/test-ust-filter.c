/* Event filters (src/ust/filter.h): the language compiled and evaluated
 * on a filter_payload, errors naming their column, and bytecode or payloads
 * that are malformed refused or evaluated within bounds. */
#include <stdlib.h>

#include "../helpers/tap.h"
#include "../helpers/ust-filter-event.h"

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
	b = sonde_ust_filter_bind(f, &filter_event);
	ret = b ? sonde_ust_filter_eval(b, p, len, &filter_ctx) : -1;
	sonde_ust_bound_filter_free(b);
	sonde_ust_filter_free(f);
	return ret;
}

static const struct {
	const char *expr;
	int want;
} cases[] = {
	{ "i == -7",
	  1 }, /* field OP integer: evaluated without the interpreter */
	{ "i != -7", 0 },
	{ "i >= 0", 0 },
	{ "n == 4660", 1 },
	{ "e > 11", 1 },
	{ "d > 2", 1 },
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
	{ "q[0] == 1 && q[0x0] > 0 && -q[0] == -1", 1 }, /* elements */
	{ "q[1] == 0 || i == -7", 0 }, /* past the end: never passes */
	{ "a[0] == 97 && a[2] == 99 && a[3] == 0 && t[2] == 122", 1 },
	{ "a[7] == 0", 1 },
	{ "a[8] == 0", 0 },
	{ "t[3] == 0", 0 }, /* the sequence holds 3 */
	{ "i[0] == 1", -1 }, /* not a list */
	{ "nosuch[0] == 1", -1 },
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
	{ "q[] == 1", "filter: column 3: expected an index" },
	{ "q[-1] == 1", "filter: column 3: expected an index" },
	{ "q[4294967296] == 1", "filter: column 3: index too large" },
	{ "q[1 == 1", "filter: column 5: expected ']'" },
	{ "q[0] == \"x\"",
	  "filter: column 6: cannot compare a string with a number" },
};

static void test_language(void)
{
	char what[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "%s -> %d", cases[i].expr,
			 cases[i].want);
		is_int(run(cases[i].expr, filter_payload,
			   sizeof(filter_payload)),
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
	is_int(run(deep, filter_payload, sizeof(filter_payload)), -2,
	       "40 parentheses: too deep");
	memset(deep, '!', 100);
	strcpy(deep + 100, "i");
	is_int(run(deep, filter_payload, sizeof(filter_payload)), -2,
	       "100 '!': too deep");
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(wide + n, sizeof(wide) - n, "%si == %zu",
				      i ? " || " : "", i);
	is_int(run(wide, filter_payload, sizeof(filter_payload)), -2,
	       "a 3 KiB expression: refused (too long)");
	is_int(run("i == 1 || i == 2 || i == 3 || i == 4 || i == 5 || i == 6 || i == -7",
		   filter_payload, sizeof(filter_payload)),
	       1, "a left-deep chain stays shallow on the stack");
}

static void test_truncated_payloads(void)
{
	static const char *const exprs[] = { "i8 == -1",     "u == -1",
					     "t == \"xyz\"", "s == \"*\"",
					     "e == 12",	     "n == 4660",
					     "q[0] == 1" };
	static const size_t ends[] = { 56, 55, 34, 21, 47, 6, 46 };
	size_t i, len;
	bool all = true;

	/* Exact-size copies: ASan catches a read past the end. */
	for (i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++)
		for (len = 0; len <= sizeof(filter_payload); len++) {
			uint8_t *copy = malloc(len ? len : 1);

			memcpy(copy, filter_payload, len);
			all &= run(exprs[i], copy, len) == (len >= ends[i]);
			free(copy);
		}
	ok(all, "a filter_payload cut before the field rejects, within bounds");
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
	/* clang-format off */
	static const uint8_t good[] = { 1, SONDE_UST_FOP_FIELD, 1, 'i',
		SONDE_UST_FOP_INT, 0xf9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		SONDE_UST_FOP_EQ };
	static const struct {
		uint8_t code[12];
		size_t len;
		const char *what;
	} bad[] = {
		{ { 2, SONDE_UST_FOP_INT, 0, 0, 0, 0, 0, 0, 0, 0 }, 10, "another version" },
		{ { 1, 99 }, 2, "unknown operation" },
		{ { 1, SONDE_UST_FOP_EQ }, 2, "stack underflow" },
		{ { 1, SONDE_UST_FOP_CTX, 1, SONDE_UST_FOP_CTX, 2 }, 5, "two results" },
		{ { 1, SONDE_UST_FOP_CTX, 9 }, 3, "unknown context" },
		{ { 1, SONDE_UST_FOP_FIELD, 0 }, 3, "empty field name" },
		{ { 1, SONDE_UST_FOP_STR, 9, 0, 'a' }, 5, "string past the end" },
		{ { 1, SONDE_UST_FOP_ELEM, 1, 'q', 0, 0, 0 }, 7, "truncated index" },
	};
	/* clang-format on */
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
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(load(bad[i].code, bad[i].len), SONDE_EFORMAT,
		       bad[i].what);
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
		b = sonde_ust_filter_bind(f, &filter_event);
		if (b)
			(void)sonde_ust_filter_eval(b, filter_payload,
						    sizeof(filter_payload),
						    &filter_ctx);
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
