/*
 * The event the filter tests and fuzz target evaluate filters on (every
 * field kind a filter reads), a payload for it and context values:
 * tests/unit/test-ust-filter.c, fuzz/fuzz-ust-filter.c.
 */
#ifndef SONDE_TESTS_UST_FILTER_EVENT_H
#define SONDE_TESTS_UST_FILTER_EVENT_H

#include "ust/filter.h"

static const struct sonde_ctfw_enum_entry filter_colors[] = {
	{ "RED", 0, 0, false },
	{ "MANY", 10, 19, false },
};

static const struct sonde_ctfw_field filter_fields[] = {
	SONDE_CTFW_INTEGER("i", 32, true),
	SONDE_CTFW_INTEGER_NETWORK_HEX("n", 16, false),
	SONDE_CTFW_DOUBLE("d"),
	SONDE_CTFW_STRING("s"),
	SONDE_CTFW_ARRAY_TEXT("a", 8),
	SONDE_CTFW_SEQUENCE_TEXT("t", 16),
	SONDE_CTFW_SEQUENCE("q", 64, true, 32),
	SONDE_CTFW_ENUM("e", 8, false, filter_colors, 2),
	SONDE_CTFW_INTEGER("u", 64, false),
	SONDE_CTFW_INTEGER("i8", 8, true),
};

static const struct sonde_tp_event filter_event = {
	.name = "test:event",
	.fields = filter_fields,
	.field_count = sizeof(filter_fields) / sizeof(filter_fields[0]),
};

/* i=-7 n=0x1234 d=2.5 s="he*llo" a="abc" t="xyz" q=[1] e=12
 * u=0xffffffffffffffff i8=-1 */
/* clang-format off */
static const uint8_t filter_payload[] = {
	0xf9, 0xff, 0xff, 0xff, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 4, 0x40,
	'h', 'e', '*', 'l', 'l', 'o', 0, 'a', 'b', 'c', 0, 0, 0, 0, 0,
	3, 0, 'x', 'y', 'z', 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
	12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
/* clang-format on */

static int64_t filter_ctx_integer(int ctx)
{
	return ctx == SONDE_UST_CTX_VPID ? 4242 : 7;
}

static const char *filter_ctx_string(int ctx)
{
	(void)ctx;
	return "myproc";
}

static const struct sonde_ust_filter_ctx filter_ctx = { filter_ctx_integer,
							filter_ctx_string };

#endif
