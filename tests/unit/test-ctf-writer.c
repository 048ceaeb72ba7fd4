/* Unit tests of the CTF writer: byte images against hand-computed ones. */
#include "sonde/ctf-writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../helpers/tap.h"
#include "ctf/writer/lttng-kernel.h"

static int bytes_eq(const uint8_t *got, const uint8_t *want, size_t n,
		    const char *what)
{
	int same = memcmp(got, want, n) == 0;
	size_t i;

	tap_check(same, __FILE__, __LINE__, what);
	if (!same) {
		printf("#   got ");
		for (i = 0; i < n; i++)
			printf(" %02X", got[i]);
		printf("\n#   want");
		for (i = 0; i < n; i++)
			printf(" %02X", want[i]);
		printf("\n");
	}
	return same;
}

#define BYTES(got, what, ...)                                                 \
	do {                                                                  \
		static const uint8_t want_[] = { __VA_ARGS__ };               \
		bytes_eq((got), want_, sizeof(want_), (what));                \
	} while (0)

static void test_event_headers(void)
{
	uint8_t buf[64];
	struct sonde_ctfw_cursor c;
	uint64_t last = 0;

	/* ctf.md §1.6: the first event of many-threads' channel0_0. */
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_event_header(&c, SONDE_CTFW_HEADER_COMPACT, 1180,
				    2357617208766ull, &last);
	is_int(c.pos, 13, "compact/extended is 13 bytes");
	BYTES(buf, "compact/extended LE matches many-threads",
	      0x1F, 0x9C, 0x04, 0x00, 0x00, 0xBE, 0xAD, 0xEF, 0xEC, 0x24,
	      0x02, 0x00, 0x00);
	is_int(last, 2357617208766ull, "last_ts follows the event");

	/* Compact: id in bits 0-4, low 27 bits of the clock above. */
	c.pos = 0;
	sonde_ctfw_put_event_header(&c, SONDE_CTFW_HEADER_COMPACT, 5,
				    2357617208766ull + 1000, &last);
	is_int(c.pos, 4, "compact/compact is 4 bytes");
	{
		uint32_t low = (uint32_t)((2357617208766ull + 1000) & 0x7FFFFFF);
		uint32_t w = low << 5 | 5;
		uint8_t want[4] = { (uint8_t)w, (uint8_t)(w >> 8),
				    (uint8_t)(w >> 16), (uint8_t)(w >> 24) };

		bytes_eq(buf, want, 4, "compact/compact LE word");
	}

	/* Big endian: id in the 5 most significant bits. */
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_BE);
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_COMPACT, 5,
					 0x7654321, false);
	BYTES(buf, "compact/compact BE", 0x2F, 0x65, 0x43, 0x21);
	c.pos = 0;
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_COMPACT, 1180,
					 0x0102030405060708ull, true);
	BYTES(buf, "compact/extended BE", 0xF8, 0x00, 0x00, 0x04, 0x9C, 0x01,
	      0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08);

	/* Large headers. */
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_LARGE, 0x1234,
					 0xAABBCCDDEEull, false);
	is_int(c.pos, 6, "large/compact is 6 bytes");
	BYTES(buf, "large/compact LE", 0x34, 0x12, 0xEE, 0xDD, 0xCC, 0xBB);
	c.pos = 0;
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_LARGE, 70000,
					 0x0102030405060708ull, true);
	is_int(c.pos, 14, "large/extended is 14 bytes");
	BYTES(buf, "large/extended LE", 0xFF, 0xFF, 0x70, 0x11, 0x01, 0x00,
	      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_BE);
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_LARGE, 0x1234,
					 0xAABBCCDDEEull, false);
	BYTES(buf, "large/compact BE", 0x12, 0x34, 0xBB, 0xCC, 0xDD, 0xEE);
	c.pos = 0;
	sonde_ctfw_put_event_header_form(&c, SONDE_CTFW_HEADER_LARGE, 7, 9, true);
	BYTES(buf, "large/extended BE", 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x07,
	      0, 0, 0, 0, 0, 0, 0, 9);
}

static void test_raw_stores(void)
{
	uint8_t buf[32];

	memset(buf, 0xAA, sizeof(buf));
	sonde_ctfw_store_u16(buf, 0x0102, SONDE_CTF_LE);
	sonde_ctfw_store_u16(buf + 2, 0x0102, SONDE_CTF_BE);
	sonde_ctfw_store_u32(buf + 4, 0x01020304, SONDE_CTF_LE);
	sonde_ctfw_store_u32(buf + 8, 0x01020304, SONDE_CTF_BE);
	sonde_ctfw_store_u64(buf + 12, 0x0102030405060708ull, SONDE_CTF_BE);
	sonde_ctfw_store_text(buf + 20, "ab", 4);
	BYTES(buf, "raw stores", 0x02, 0x01, 0x01, 0x02, 0x04, 0x03, 0x02, 0x01,
	      0x01, 0x02, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 'a', 'b', 0, 0,
	      0xAA);
	is_int(sonde_ctfw_event_header_size(SONDE_CTFW_HEADER_COMPACT, false), 4,
	       "compact header size");
	is_int(sonde_ctfw_event_header_size(SONDE_CTFW_HEADER_COMPACT, true), 13,
	       "compact extended header size");
	is_int(sonde_ctfw_event_header_size(SONDE_CTFW_HEADER_LARGE, false), 6,
	       "large header size");
	is_int(sonde_ctfw_event_header_size(SONDE_CTFW_HEADER_LARGE, true), 14,
	       "large extended header size");
}

static void test_extended_rule(void)
{
	const enum sonde_ctfw_header_type C = SONDE_CTFW_HEADER_COMPACT;
	const enum sonde_ctfw_header_type L = SONDE_CTFW_HEADER_LARGE;
	uint64_t base = 5ull << 40;

	ok(!sonde_ctfw_header_needs_extended(C, 30, base + 10, base), "compact id 30 fits");
	ok(sonde_ctfw_header_needs_extended(C, 31, base + 10, base), "compact id 31 is extended");
	ok(!sonde_ctfw_header_needs_extended(L, 65534, base + 10, base), "large id 65534 fits");
	ok(sonde_ctfw_header_needs_extended(L, 65535, base + 10, base), "large id 65535 is extended");
	ok(!sonde_ctfw_header_needs_extended(C, 1, base + (1u << 27) - 1, base),
	   "delta 2^27-1 stays compact");
	ok(sonde_ctfw_header_needs_extended(C, 1, base + (1u << 27), base),
	   "delta 2^27 is extended");
	ok(sonde_ctfw_header_needs_extended(L, 1, base + (1u << 27), base),
	   "large: 27-bit threshold too");
	ok(sonde_ctfw_header_needs_extended(C, 1, base - 1, base),
	   "a timestamp going back is extended");
	ok(sonde_ctfw_header_needs_extended(C, 1, 1u << 27, 0),
	   "fresh buffer (last_ts 0): extended beyond 2^27");
}

static void test_fields(void)
{
	uint8_t buf[64];
	struct sonde_ctfw_cursor c;
	uint16_t arr16[2] = { 0x0102, 0x0304 };

	memset(buf, 0xAA, sizeof(buf));
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_u8(&c, 0x11);
	sonde_ctfw_put_u16(&c, 0x2233);
	sonde_ctfw_put_u32(&c, 0x44556677);
	sonde_ctfw_put_u64(&c, 0x8899AABBCCDDEEFFull);
	sonde_ctfw_put_be32(&c, 0x01020304);
	sonde_ctfw_put_u32(&c, (uint32_t)-2);
	BYTES(buf, "LE integers and a network-order one",
	      0x11, 0x33, 0x22, 0x77, 0x66, 0x55, 0x44, 0xFF, 0xEE, 0xDD, 0xCC,
	      0xBB, 0xAA, 0x99, 0x88, 0x01, 0x02, 0x03, 0x04, 0xFE, 0xFF, 0xFF,
	      0xFF);

	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_BE);
	sonde_ctfw_put_u16(&c, 0x2233);
	sonde_ctfw_put_u64(&c, 0x0102030405060708ull);
	sonde_ctfw_put_int(&c, 0xABCD, 2, SONDE_CTF_LE);
	sonde_ctfw_put_int_array(&c, arr16, 2, 2, SONDE_CTF_BE);
	BYTES(buf, "BE integers, a forced-LE one, a BE array", 0x22, 0x33,
	      1, 2, 3, 4, 5, 6, 7, 8, 0xCD, 0xAB, 0x01, 0x02, 0x03, 0x04);

	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_float(&c, 0.5f);
	sonde_ctfw_put_double(&c, -2.0);
	BYTES(buf, "float and double LE", 0x00, 0x00, 0x00, 0x3F,
	      0, 0, 0, 0, 0, 0, 0x00, 0xC0);
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_BE);
	sonde_ctfw_put_double(&c, -2.0);
	BYTES(buf, "double BE", 0xC0, 0, 0, 0, 0, 0, 0, 0);

	memset(buf, 0xAA, sizeof(buf));
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_string(&c, "ab");
	sonde_ctfw_put_string(&c, "");
	sonde_ctfw_put_text_array(&c, "xyz", 5);
	sonde_ctfw_put_text_array(&c, "toolong", 3);
	BYTES(buf, "strings and text arrays", 'a', 'b', 0, 0, 'x', 'y', 'z', 0,
	      0, 't', 'o', 'o');
	is_int(c.pos, 12, "string/text sizes");

	memset(buf, 0xAA, sizeof(buf));
	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTF_LE);
	sonde_ctfw_put_u8(&c, 1);
	sonde_ctfw_align(&c, 8);
	is_int(c.pos, 8, "align to 8 bytes");
	BYTES(buf, "alignment pads with zeros", 1, 0, 0, 0, 0, 0, 0, 0);
	sonde_ctfw_align(&c, 8);
	is_int(c.pos, 8, "aligned position is kept");

	sonde_ctfw_cursor_init(&c, buf, 6, SONDE_CTF_LE);
	sonde_ctfw_put_u32(&c, 1);
	ok(!c.overflow, "no overflow while it fits");
	sonde_ctfw_put_u32(&c, 2);
	ok(c.overflow, "overflow when a field does not fit");
	is_int(c.pos, 6, "overflow leaves pos at the limit");
	sonde_ctfw_put_u8(&c, 3);
	ok(c.overflow && c.pos == 6, "overflow is sticky");
}

static void test_packet(void)
{
	static uint8_t pkt[4096];
	const uint8_t uuid[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	struct sonde_ctfw_packet_info info = {
		.stream_id = 2, .stream_instance_id = 3, .cpu_id = 3,
		.timestamp_begin = 0x1000, .packet_seq_num = 7,
	};
	struct sonde_ctfw_cursor c;
	struct sonde_error err = { 0 };
	uint8_t index[SONDE_CTFW_INDEX_ENTRY_SIZE], ih[SONDE_CTFW_INDEX_HEADER_SIZE];
	int rc;

	memset(pkt, 0x5A, sizeof(pkt));
	sonde_ctfw_cursor_init(&c, pkt, sizeof(pkt), SONDE_CTF_LE);
	sonde_ctfw_packet_begin(&c, uuid, &info);
	is_int(c.pos, 84, "packet header + context is 84 bytes");
	sonde_ctfw_put_u32(&c, 0xDEADBEEF);
	info.timestamp_end = 0x2000;
	info.packet_size = 4096;
	info.events_discarded = 9;
	rc = sonde_ctfw_packet_finish(&c, &info, &err);
	is_int(rc, 0, "packet finish");
	BYTES(pkt, "packet header LE",
	      0xC1, 0x1F, 0xFC, 0xC1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	      13, 14, 15, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
	      0x00, 0x10, 0, 0, 0, 0, 0, 0,          /* timestamp_begin */
	      0x00, 0x20, 0, 0, 0, 0, 0, 0,          /* timestamp_end */
	      0xC0, 0x02, 0, 0, 0, 0, 0, 0,          /* content_size 704 bits */
	      0x00, 0x80, 0, 0, 0, 0, 0, 0,          /* packet_size 32768 bits */
	      7, 0, 0, 0, 0, 0, 0, 0,                /* packet_seq_num */
	      9, 0, 0, 0, 0, 0, 0, 0,                /* events_discarded */
	      3, 0, 0, 0,                            /* cpu_id */
	      0xEF, 0xBE, 0xAD, 0xDE, 0, 0, 0, 0);
	ok(pkt[4095] == 0 && pkt[1000] == 0, "padding is zeroed");

	sonde_ctfw_cursor_init(&c, pkt, sizeof(pkt), SONDE_CTF_BE);
	info.timestamp_end = 0;
	sonde_ctfw_packet_begin(&c, uuid, &info);
	info.timestamp_end = 0x2000;
	info.packet_size = 4096;
	rc = sonde_ctfw_packet_finish(&c, &info, &err);
	BYTES(pkt, "packet magic BE", 0xC1, 0xFC, 0x1F, 0xC1);
	BYTES(pkt + 48, "content_size BE (672 bits)", 0, 0, 0, 0, 0, 0, 0x02, 0xA0);

	info.packet_size = 8192;
	rc = sonde_ctfw_packet_finish(&c, &info, &err);
	is_int(rc, SONDE_EINVAL, "packet larger than the buffer is refused");
	info.packet_size = 64;
	rc = sonde_ctfw_packet_finish(&c, &info, &err);
	is_int(rc, SONDE_EINVAL, "packet smaller than its content is refused");

	sonde_ctfw_index_header(ih);
	BYTES(ih, "index header 1.1", 0xC1, 0xF1, 0xDC, 0xC1, 0, 0, 0, 1, 0, 0, 0, 1,
	      0, 0, 0, 72);
	info.packet_size = 4096;
	info.content_size = 100;
	sonde_ctfw_index_entry(index, 8192, &info);
	BYTES(index, "index entry", 0, 0, 0, 0, 0, 0, 0x20, 0x00,
	      0, 0, 0, 0, 0, 0, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0x03, 0x20,
	      0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0x20, 0x00,
	      0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 2,
	      0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 7);
}

static const struct sonde_ctfw_enum_entry colors[] = {
	{ .label = "RED", .automatic = true },
	{ .label = "GREEN", .lo = 5, .hi = 5 },
	{ .label = "BLUE\"ish", .lo = 10, .hi = 20 },
	{ .label = "NEXT", .automatic = true },
};

static const struct sonde_ctfw_field inner[] = {
	SONDE_CTFW_INTEGER("x", 8, false),
};

static const struct sonde_ctfw_field all_kinds[] = {
	SONDE_CTFW_INTEGER("i", 32, true),
	SONDE_CTFW_INTEGER_HEX("h", 64, false),
	SONDE_CTFW_INTEGER_OCT("o", 16, false),
	SONDE_CTFW_INTEGER_NETWORK("n", 32, false),
	SONDE_CTFW_ARRAY_TEXT("comm", 16),
	SONDE_CTFW_ARRAY("a", 32, false, 4),
	SONDE_CTFW_SEQUENCE("s", 8, true, 32),
	SONDE_CTFW_SEQUENCE_TEXT("st", 64),
	SONDE_CTFW_STRING("str"),
	SONDE_CTFW_ENUM("e", 8, false, colors, 4),
	SONDE_CTFW_FLOAT("f"),
	SONDE_CTFW_DOUBLE("d"),
	SONDE_CTFW_STRUCT("nest", inner, 1),
};

static const char all_kinds_tsdl[] =
	"event {\n"
	"\tname = \"demo\";\n"
	"\tid = 0;\n"
	"\tstream_id = 0;\n"
	"\tfields := struct {\n"
	"\t\tinteger { size = 32; align = 8; signed = 1; encoding = none; base = 10; } _i;\n"
	"\t\tinteger { size = 64; align = 8; signed = 0; encoding = none; base = 16; } _h;\n"
	"\t\tinteger { size = 16; align = 8; signed = 0; encoding = none; base = 8; } _o;\n"
	"\t\tinteger { size = 32; align = 8; signed = 0; encoding = none; base = 10; byte_order = be; } _n;\n"
	"\t\tinteger { size = 8; align = 8; signed = 0; encoding = UTF8; base = 10; } _comm[16];\n"
	"\t\tinteger { size = 32; align = 8; signed = 0; encoding = none; base = 10; } _a[4];\n"
	"\t\tinteger { size = 32; align = 8; signed = 0; encoding = none; base = 10; } __s_length;\n"
	"\t\tinteger { size = 8; align = 8; signed = 1; encoding = none; base = 10; } _s[ __s_length ];\n"
	"\t\tinteger { size = 64; align = 8; signed = 0; encoding = none; base = 10; } __st_length;\n"
	"\t\tinteger { size = 8; align = 8; signed = 1; encoding = UTF8; base = 10; } _st[ __st_length ];\n"
	"\t\tstring _str;\n"
	"\t\tenum : integer { size = 8; align = 8; signed = 0; encoding = none; base = 10; } {\n"
	"\t\t\t\"RED\",\n"
	"\t\t\t\"GREEN\" = 5,\n"
	"\t\t\t\"BLUE\\\"ish\" = 10 ... 20,\n"
	"\t\t\t\"NEXT\",\n"
	"\t\t} _e;\n"
	"\t\tfloating_point { exp_dig = 8; mant_dig = 24; align = 8; } _f;\n"
	"\t\tfloating_point { exp_dig = 11; mant_dig = 53; align = 8; } _d;\n"
	"\t\tstruct {\n"
	"\t\t\tinteger { size = 8; align = 8; signed = 0; encoding = none; base = 10; } _x;\n"
	"\t\t} _nest;\n"
	"\t};\n"
	"};\n";

static void test_metadata(void)
{
	const uint8_t uuid[16] = { 0x69, 0x86, 0x1f, 0xba, 0xfe, 0x44, 0x2b, 0x41,
				   0xb7, 0x5b, 0x39, 0xac, 0xaf, 0x69, 0x30, 0xec };
	struct sonde_ctfw_trace_opts opts = {
		.byte_order = SONDE_CTF_LE, .uuid = uuid, .clock_uuid = uuid,
		.has_clock_offset = true, .clock_offset = 1457111225177515989ll,
	};
	static const struct sonde_ctfw_field bad_size[] = { SONDE_CTFW_INTEGER("x", 12, false) };
	static const struct sonde_ctfw_field bad_name[] = { SONDE_CTFW_INTEGER("a-b", 8, false) };
	static const struct sonde_ctfw_field ctx[] = { SONDE_CTFW_INTEGER("vtid", 32, true) };
	struct sonde_ctfw_trace_class *tc;
	struct sonde_error err = { 0 };
	static uint8_t pkt[SONDE_CTFW_METADATA_PACKET_SIZE];
	const char *text;
	char *joined;
	size_t len, off, took, total = 0;
	uint32_t id = 99;
	int rc, i;

	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	is_int(rc, 0, "trace class created");
	if (rc)
		return;
	is_int(sonde_ctfw_env_add_string(tc, "hostname", "wilbrod", &err), 0, "env string");
	is_int(sonde_ctfw_env_add_int(tc, "tracer_major", 2, &err), 0, "env int");
	is_int(sonde_ctfw_env_add_string(tc, "bad key", "x", &err), SONDE_EINVAL,
	       "env key must be an identifier");
	is_int(sonde_ctfw_event_class_add(tc, 0, "early", -1, NULL, 0, NULL, &err),
	       SONDE_EINVAL, "event class before its stream class is refused");
	is_int(sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_COMPACT, NULL, 0, &id, &err),
	       0, "stream class 0");
	is_int(id, 0, "first stream class id is 0");
	is_int(sonde_ctfw_env_add_int(tc, "late", 1, &err), SONDE_EINVAL,
	       "env after the preamble is refused");
	is_int(sonde_ctfw_event_class_add(tc, 0, "demo", -1, all_kinds,
					  sizeof(all_kinds) / sizeof(all_kinds[0]), &id, &err),
	       0, "event class with every field kind");
	is_int(id, 0, "first event id is 0");
	text = sonde_ctfw_metadata_text(tc, &len);
	len = strlen(text);
	is_int(sonde_ctfw_event_class_add(tc, 0, "bad", -1, bad_size, 1, NULL, &err),
	       SONDE_EUNSUPPORTED, "12-bit integer refused");
	is_str(err.msg, "event class 'bad': field 'x': integer size 12 (8, 16, 32 or 64 supported)",
	       "error message names the class and field");
	is_int(sonde_ctfw_event_class_add(tc, 0, "bad", -1, bad_name, 1, NULL, &err),
	       SONDE_EINVAL, "bad field name refused");
	text = sonde_ctfw_metadata_text(tc, &len);
	is_int(strlen(text), len, "failed additions leave the text untouched");
	is_int(sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_LARGE, ctx, 1, &id, &err),
	       0, "stream class 1 with a context");
	is_int(sonde_ctfw_event_class_add(tc, 1, "ust:ev", 13, NULL, 0, &id, &err), 0,
	       "UST-like event with a loglevel");
	is_int(sonde_ctfw_trace_class_event_count(tc, 0), 1, "event count per stream class");
	for (i = 0; i < 20; i++) {
		char name[32];

		snprintf(name, sizeof(name), "filler_%d", i);
		rc |= sonde_ctfw_event_class_add(tc, 0, name, -1, all_kinds,
						 sizeof(all_kinds) / sizeof(all_kinds[0]),
						 &id, &err);
	}
	is_int(rc, 0, "20 more event classes");
	is_int(id, 20, "ids go on per stream class");

	text = sonde_ctfw_metadata_text(tc, &len);
	ok(strncmp(text, "/* CTF 1.8 */\n\ntypealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n", 86) == 0,
	   "text starts with the signature and the first typealias");
	ok(strstr(text, "\tuuid = \"69861fba-fe44-2b41-b75b-39acaf6930ec\";\n\tbyte_order = le;\n") != NULL,
	   "trace uuid and byte order");
	ok(strstr(text, "env {\n\thostname = \"wilbrod\";\n\ttracer_major = 2;\n};\n") != NULL,
	   "env block");
	ok(strstr(text, "\toffset = 1457111225177515989;\n};\n") != NULL, "clock offset");
	ok(strstr(text, "struct event_header_compact {\n"
		  "\tenum : uint5_t { compact = 0 ... 30, extended = 31 } id;\n") != NULL,
	   "compact header struct");
	ok(strstr(text, "\tenum : uint16_t { compact = 0 ... 65534, extended = 65535 } id;\n") != NULL,
	   "large header struct");
	if (!ok(strstr(text, all_kinds_tsdl) != NULL, "event block in LTTng's shape")) {
		fputs("# text:\n", stdout);
		fputs(text, stdout);
	}
	ok(strstr(text, "stream {\n\tid = 1;\n\tevent.header := struct event_header_large;\n"
		  "\tpacket.context := struct packet_context;\n\tevent.context := struct {\n"
		  "\t\tinteger { size = 32; align = 8; signed = 1; encoding = none; base = 10; } _vtid;\n"
		  "\t};\n};\n") != NULL, "stream block with an event context");
	ok(strstr(text, "\tname = \"ust:ev\";\n\tid = 0;\n\tstream_id = 1;\n\tloglevel = 13;\n"
		  "\tfields := struct {\n\t};\n") != NULL, "loglevel and empty payload");

	/* Packetized: the text cut in 4059-byte pieces behind 37-byte headers. */
	joined = malloc(len + 1);
	for (off = 0; joined && (took = sonde_ctfw_metadata_packet(tc, off, pkt)); off += took) {
		uint32_t content;

		if (off == 0) {
			BYTES(pkt, "metadata packet header", 0x57, 0x1D, 0xD1, 0x75,
			      0x69, 0x86, 0x1f, 0xba, 0xfe, 0x44, 0x2b, 0x41,
			      0xb7, 0x5b, 0x39, 0xac, 0xaf, 0x69, 0x30, 0xec,
			      0, 0, 0, 0);
			BYTES(pkt + 28, "metadata packet size and versions",
			      0x00, 0x80, 0, 0, 0, 0, 0, 1, 8);
		}
		memcpy(&content, pkt + 24, 4);
		if (content != (37 + took) * 8)
			break;
		memcpy(joined + off, pkt + 37, took);
		total += took;
	}
	ok(total == len && joined && memcmp(joined, text, len) == 0,
	   "packets carry the whole text with the right content sizes");
	ok(len > 2 * 4059, "text spans several packets");
	free(joined);
	sonde_ctfw_trace_class_free(tc);

	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	is_int(rc, 0, "trace class for the LTTng env helpers");
	if (rc)
		return;
	is_int(sonde_ctfw_env_add_lttng_ust(tc, "sess\"ion", &err), 0, "UST env");
	text = sonde_ctfw_metadata_text(tc, &len);
	ok(strstr(text, "env {\n\tdomain = \"ust\";\n\ttracer_name = \"lttng-ust\";\n"
		  "\ttracer_major = 2;\n\ttracer_minor = 13;\n"
		  "\ttracer_buffering_scheme = \"uid\";\n") != NULL, "UST env keys in order");
	ok(strstr(text, "\ttrace_name = \"sess\\\"ion\";\n") != NULL, "env strings are escaped");
	sonde_ctfw_trace_class_free(tc);
	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	is_int(rc, 0, "another trace class");
	if (rc)
		return;
	is_int(sonde_ctfw_env_add_lttng_ust_pid(tc, "s", 42, "app", "20261122T010203+0000", &err),
	       0, "UST per-PID env");
	text = sonde_ctfw_metadata_text(tc, &len);
	ok(strstr(text, "\ttracer_buffering_scheme = \"pid\";\n\ttracer_buffering_id = 42;\n") &&
	   strstr(text, "\ttracer_patchlevel = 5;\n\tvpid = 42;\n\tprocname = \"app\";\n"
		  "\tvpid_datetime = \"20261122T010203+0000\";\n"),
	   "per-PID env names the process");
	sonde_ctfw_trace_class_free(tc);
	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	if (rc)
		return;
	is_int(sonde_ctfw_env_add_lttng_kernel(tc, NULL, &err), 0, "kernel env");
	text = sonde_ctfw_metadata_text(tc, &len);
	ok(strstr(text, "\tdomain = \"kernel\";\n\tsysname = \"Linux\";\n") != NULL &&
	   strstr(text, "\ttracer_name = \"lttng-modules\";\n\ttracer_major = 2;\n"
		  "\ttracer_minor = 13;\n") != NULL, "kernel env claims lttng-modules 2.13");
	sonde_ctfw_trace_class_free(tc);

	opts.byte_order = SONDE_CTF_BE;
	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	is_int(rc, 0, "BE trace class");
	if (rc)
		return;
	text = sonde_ctfw_metadata_text(tc, &len);
	ok(strstr(text, "\tbyte_order = be;\n") != NULL, "byte_order = be");
	sonde_ctfw_metadata_packet(tc, 0, pkt);
	BYTES(pkt, "BE metadata magic", 0x75, 0xD1, 0x1D, 0x57);
	sonde_ctfw_trace_class_free(tc);
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n > 0 ? (size_t)n : 1);
	if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return data;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void test_file_writer(void)
{
	static const struct sonde_ctfw_field payload[] = {
		SONDE_CTFW_SEQUENCE("blob", 8, false, 32),
	};
	struct sonde_ctfw_trace_opts opts = { .byte_order = SONDE_CTF_LE };
	struct sonde_ctfw_writer_opts wopts = { .plain_metadata = true };
	struct sonde_ctfw_stream_opts sopts = { .cpu_id = 1, .packet_size = 4096 };
	struct sonde_ctfw_trace_class *tc = NULL;
	struct sonde_ctfw_writer *w = NULL;
	struct sonde_ctfw_stream *s = NULL;
	struct sonde_ctfw_stream_stats st;
	struct sonde_ctfw_cursor *c;
	struct sonde_error err = { 0 };
	char dir[] = "/tmp/sonde-test-writer-XXXXXX", path[256];
	uint8_t blob[990];
	uint8_t *data, *idx;
	size_t len, idx_len, off;
	uint64_t ts = 1ull << 40;
	int rc, i, bad = 0;

	memset(blob, 0x77, sizeof(blob));
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	rc = rc ? rc : sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_COMPACT, NULL, 0, NULL, &err);
	rc = rc ? rc : sonde_ctfw_event_class_add(tc, 0, "blob", -1, payload, 1, NULL, &err);
	rc = rc ? rc : sonde_ctfw_writer_open(dir, tc, &wopts, &w, &err);
	rc = rc ? rc : sonde_ctfw_stream_open(w, &sopts, &s, &err);
	is_int(rc, 0, "writer and stream opened");
	if (rc) {
		printf("# %s\n", err.msg);
		return;
	}
	/* 10 events of 4 + 4 + 990 bytes (the first 13 + 4 + 990): 4 fit in
	 * the 4012 bytes after a packet's header. */
	for (i = 0; i < 10 && !rc; i++) {
		rc = sonde_ctfw_stream_event_begin(s, 0, ts + 100 * (uint64_t)i, &c, &err);
		if (rc)
			break;
		sonde_ctfw_put_u32(c, sizeof(blob));
		sonde_ctfw_put_bytes(c, blob, sizeof(blob));
		rc = sonde_ctfw_stream_event_commit(s, &err);
	}
	is_int(rc, 0, "10 events written");
	rc = sonde_ctfw_stream_event_begin(s, 0, ts, &c, &err);
	is_int(rc, SONDE_EINVAL, "a timestamp going back is refused");
	rc = sonde_ctfw_stream_event_begin(s, 0, ts + 5000, &c, &err);
	sonde_ctfw_put_u32(c, 5000);
	for (i = 0; i < 5; i++)
		sonde_ctfw_put_bytes(c, blob, sizeof(blob));
	rc = sonde_ctfw_stream_event_commit(s, &err);
	is_int(rc, SONDE_EINVAL, "an event larger than a packet is refused");
	sonde_ctfw_stream_discard_events(s, 3);
	rc = sonde_ctfw_stream_close(s, ts + 2000, &st, &err);
	is_int(rc, 0, "stream closed");
	is_int(st.events, 10, "stats: events");
	is_int(st.packets, 3, "stats: packets");
	is_int(st.events_discarded, 3, "stats: discarded");
	rc = sonde_ctfw_writer_close(w, &err);
	is_int(rc, 0, "writer closed");
	w = NULL;
	rc = sonde_ctfw_writer_open(dir, tc, &wopts, &w, &err);
	is_int(rc, SONDE_EINVAL, "a non-empty directory is refused");
	ok(strstr(err.msg, "directory is not empty") != NULL, "and the error says why");

	snprintf(path, sizeof(path), "%s/channel0_1", dir);
	data = read_file(path, &len);
	is_int(data ? (long long)len : -1, 3 * 4096, "three 4096-byte packets");
	for (off = 0; data && off + 4096 <= len; off += 4096) {
		const uint8_t *p = data + off;
		uint64_t seq = off / 4096;

		if (le64(p + 64) != seq || le64(p + 56) != 32768 || p[80] != 1 || p[24] != 1)
			bad++;
		/* Each packet's first event: 4 events per packet, the first
		 * of a packet is compact at the packet begin (the stream's
		 * first one is extended: last_ts starts at 0). */
		if (le64(p + 32) != ts + 100 * 4 * seq)
			bad++;
		if (seq == 0 ? p[84] != 31 : (p[84] & 0x1F) != 0)
			bad++;
		if (seq < 2 && le64(p + 48) != (84 + 4 * 998 + (seq == 0 ? 9 : 0)) * 8)
			bad++;
		if (seq == 2 && le64(p + 48) != (84 + 2 * 998) * 8)
			bad++;
	}
	is_int(bad, 0, "packet contexts: seq, sizes, cpu, begin times, first headers");
	if (data) {
		ok(le64(data + 2 * 4096 + 40) == ts + 2000, "last packet ends at the close time");
		ok(le64(data + 2 * 4096 + 72) == 3, "discarded count in the last packet");
		ok(le64(data + 40) == ts + 400, "a full packet ends at the next packet's begin");
	}
	free(data);
	snprintf(path, sizeof(path), "%s/index/channel0_1.idx", dir);
	idx = read_file(path, &idx_len);
	is_int(idx ? (long long)idx_len : -1, 16 + 3 * 72, "index: header and 3 entries");
	free(idx);
	snprintf(path, sizeof(path), "%s/metadata", dir);
	data = read_file(path, &len);
	ok(data && len > 14 && memcmp(data, "/* CTF 1.8 */\n", 14) == 0, "plain metadata file");
	free(data);
	sonde_ctfw_trace_class_free(tc);

	unlink(path);
	snprintf(path, sizeof(path), "%s/index/channel0_1.idx", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/channel0_1", dir);
	unlink(path);
	rmdir(dir);
}

/* The TSDL text of a packetized little-endian LTTng metadata file. */
static char *lttng_metadata_text(const char *rel)
{
	const char *shared = getenv("SONDE_SHARED_DIR");
	char path[4096];
	uint8_t *data;
	char *text;
	size_t len, off = 0, n = 0;

	snprintf(path, sizeof(path), "%s/%s", shared ? shared : "../shared",
		 rel);
	data = read_file(path, &len);
	if (!data)
		return NULL;
	text = malloc(len + 1);
	while (text && off + 37 <= len) {
		uint32_t content, packet;

		memcpy(&content, data + off + 24, 4);
		memcpy(&packet, data + off + 28, 4);
		if (content / 8 < 37 || content > packet || packet / 8 > len - off)
			break;
		memcpy(text + n, data + off + 37, content / 8 - 37);
		n += content / 8 - 37;
		off += packet / 8;
	}
	if (text)
		text[n] = '\0';
	free(data);
	return text;
}

/* The part of `text` from `from` to the next `to` (excluded), or "". */
static const char *slice(const char *text, const char *from, const char *to,
			 size_t *len)
{
	const char *a = text ? strstr(text, from) : NULL;
	const char *b = a ? strstr(a + strlen(from), to) : NULL;

	*len = b ? (size_t)(b - a) : 0;
	return b ? a : "";
}

/*
 * Our TSDL against real LTTng output: the whole preamble of an
 * lttng-modules 2.11 trace (babeltrace's multi-domains/kernel) given the
 * same uuids, env and clock offset, and our lttng-modules field lists of
 * sched_switch and sched_process_fork against lttng-modules 2.8's
 * (many-threads).
 */
static void test_against_lttng(void)
{
	static const uint8_t uuid[16] = { 0x83, 0x0f, 0x21, 0x29, 0x77, 0xd5,
					  0xcb, 0x4e, 0x90, 0xcf, 0xb0, 0x75,
					  0x4d, 0x8c, 0xe8, 0x89 };
	static const uint8_t clock_uuid[16] = { 0x88, 0xcb, 0xa0, 0x16, 0x36,
						0xe2, 0x48, 0xc2, 0xaf, 0xf8,
						0x3e, 0x4b, 0x9a, 0xef, 0xb0,
						0x5c };
	const struct sonde_lttng_kernel_event
		*sched_switch = sonde_lttng_kernel_event("sched_switch"),
		*fork = sonde_lttng_kernel_event("sched_process_fork");
	struct sonde_ctfw_trace_opts opts = {
		.byte_order = SONDE_CTF_LE, .uuid = uuid,
		.clock_uuid = clock_uuid, .has_clock_offset = true,
		.clock_offset = 1564079206484157378ll,
	};
	struct sonde_ctfw_trace_class *tc;
	struct sonde_error err = { 0 };
	char *kernel = lttng_metadata_text(
		"data/ctf/babeltrace-ctf-traces/succeed/multi-domains/kernel/metadata");
	char *many = lttng_metadata_text("data/traces/many-threads/metadata");
	const char *text, *want, *got;
	size_t len, want_len, got_len;
	int rc;

	if (!kernel || !many) {
		printf("ok %d - LTTng comparison # SKIP corpus not found "
		       "(SONDE_SHARED_DIR)\n", ++tap_count);
		goto out;
	}
	rc = sonde_ctfw_trace_class_create(&opts, &tc, &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "hostname", "joraj-alpa", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "domain", "kernel", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "sysname", "Linux", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "kernel_release",
						 "4.15.0-43-generic", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "kernel_version",
						 "#46-Ubuntu SMP Thu Dec 6 14:45:28 UTC 2018", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "tracer_name", "lttng-modules", &err);
	rc = rc ? rc : sonde_ctfw_env_add_int(tc, "tracer_major", 2, &err);
	rc = rc ? rc : sonde_ctfw_env_add_int(tc, "tracer_minor", 11, &err);
	rc = rc ? rc : sonde_ctfw_env_add_int(tc, "tracer_patchlevel", 0, &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "trace_buffering_scheme", "global", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "trace_name", "", &err);
	rc = rc ? rc : sonde_ctfw_env_add_string(tc, "trace_creation_datetime", "", &err);
	rc = rc ? rc : sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_COMPACT,
						   NULL, 0, NULL, &err);
	rc = rc ? rc : sonde_ctfw_event_class_add(tc, 0, "sched_switch", -1,
						  sched_switch->fields,
						  sched_switch->field_count,
						  NULL, &err);
	rc = rc ? rc : sonde_ctfw_event_class_add(tc, 0, "sched_process_fork", -1,
						  fork->fields,
						  fork->field_count, NULL,
						  &err);
	is_int(rc, 0, "trace class like multi-domains/kernel");
	if (rc)
		goto out;
	text = sonde_ctfw_metadata_text(tc, &len);
	want = slice(kernel, "typealias", "event {", &want_len);
	got = slice(text, "typealias", "event {", &got_len);
	ok(want_len > 2000 && want_len == got_len && !memcmp(want, got, got_len),
	   "preamble byte-identical to lttng-modules 2.11's");
	want = slice(many, "name = \"sched_switch\"", "\n};\n", &want_len);
	want = slice(want, "fields := struct", "\n};\n", &want_len);
	got = slice(text, "name = \"sched_switch\"", "\n};\n", &got_len);
	got = slice(got, "fields := struct", "\n};\n", &got_len);
	ok(want_len > 100 && want_len == got_len && !memcmp(want, got, got_len),
	   "sched_switch fields byte-identical to lttng-modules 2.8's");
	want = slice(many, "name = \"sched_process_fork\"", "\n};\n", &want_len);
	want = slice(want, "fields := struct", "\n};\n", &want_len);
	got = slice(text, "name = \"sched_process_fork\"", "\n};\n", &got_len);
	got = slice(got, "fields := struct", "\n};\n", &got_len);
	ok(want_len > 100 && want_len == got_len && !memcmp(want, got, got_len),
	   "sched_process_fork fields (with a sequence) identical too");
	sonde_ctfw_trace_class_free(tc);
out:
	free(kernel);
	free(many);
}

int main(void)
{
	test_event_headers();
	test_extended_rule();
	test_raw_stores();
	test_fields();
	test_packet();
	test_metadata();
	test_file_writer();
	test_against_lttng();
	return tap_done();
}
