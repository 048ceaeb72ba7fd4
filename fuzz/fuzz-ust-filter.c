/*
 * Fuzzes event filters (src/ust/filter.h) on both sides:
 *
 *   byte 0 even: the rest is an expression for the daemon's compiler;
 *                what it compiles must load, bind and evaluate.
 *   byte 0 odd:  u16 little-endian length L, L bytes of bytecode as if
 *                sent by a daemon, then an event payload: the program's
 *                loader, binder and evaluator must not read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
};

static const struct sonde_tp_event event = {
	.name = "fuzz:event",
	.fields = fields,
	.field_count = sizeof(fields) / sizeof(fields[0]),
};

/* i=-7 n=0x1234 d=2.5 s="hello" a="abc" t="xyz" q=[1] e=12 u=99 */
static const uint8_t valid_payload[] = {
	0xf9, 0xff, 0xff, 0xff, 0x12, 0x34, 0,	 0,   0,   0, 0, 0, 4, 0x40,
	'h',  'e',  'l',  'l',	'o',  0,    'a', 'b', 'c', 0, 0, 0, 0, 0,
	3,    0,    'x',  'y',	'z',  1,    0,	 0,   0,   1, 0, 0, 0, 0,
	0,    0,    0,	  12,	99,   0,    0,	 0,   0,   0, 0, 0,
};

static int64_t ctx_integer(int ctx)
{
	return ctx;
}

static const char *ctx_string(int ctx)
{
	(void)ctx;
	return "fuzz";
}

static const struct sonde_ust_filter_ctx ctx = { ctx_integer, ctx_string };

static void run(const uint8_t *code, size_t len, const uint8_t *payload,
		size_t payload_len, bool must_load)
{
	struct sonde_ust_bound_filter *b;
	struct sonde_ust_filter *f;
	struct sonde_error err;
	uint8_t *copy;

	if (sonde_ust_filter_load(code, len, &f, &err)) {
		if (must_load) {
			fprintf(stderr, "compiled bytecode refused: %s\n",
				err.msg);
			abort();
		}
		return;
	}
	b = sonde_ust_filter_bind(f, &event);
	if (b) {
		/* An exact-size copy, so ASan sees any read past the end. */
		copy = malloc(payload_len ? payload_len : 1);
		if (copy) {
			if (payload_len)
				memcpy(copy, payload, payload_len);
			(void)sonde_ust_filter_eval(b, copy, payload_len, &ctx);
			free(copy);
		}
	}
	sonde_ust_bound_filter_free(b);
	sonde_ust_filter_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		char *expr = malloc(size);
		uint8_t *code;
		size_t len;

		if (!expr)
			return 0;
		memcpy(expr, data + 1, size - 1);
		expr[size - 1] = 0;
		if (sonde_ust_filter_compile(expr, &code, &len, NULL) == 0) {
			char *hex = sonde_ust_filter_hex(code, len);
			uint8_t *back;
			size_t back_len;

			/* The wire form round-trips. */
			if (hex &&
			    (sonde_ust_filter_unhex(hex, &back, &back_len) ||
			     back_len != len || memcmp(back, code, len)))
				abort();
			if (hex)
				free(back);
			free(hex);
			run(code, len, valid_payload, sizeof(valid_payload),
			    true);
			free(code);
		}
		free(expr);
	} else if (size >= 3) {
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;

		if (len > size - 3)
			len = size - 3;
		run(data + 3, len, data + 3 + len, size - 3 - len, false);
	}
	return 0;
}
