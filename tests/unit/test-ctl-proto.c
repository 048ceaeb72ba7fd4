/*
 * Control protocol of sonde-sessiond: round trips, and every kind of
 * malformed message rejected with a one-line error.
 */
#include <stdlib.h>
#include <string.h>

#include "session/ctl-proto.h"
#include "tap.h"

static size_t build(uint8_t *buf, uint16_t type, const uint8_t *payload,
		    uint32_t len)
{
	const uint8_t hdr[12] = { 'S', 'N', 'D', 'C', 1, 0, (uint8_t)type,
				  (uint8_t)(type >> 8), (uint8_t)len,
				  (uint8_t)(len >> 8), (uint8_t)(len >> 16),
				  (uint8_t)(len >> 24) };

	memcpy(buf, hdr, 12);
	if (len)
		memcpy(buf + 12, payload, len);
	return 12 + len;
}

static int rejects(const uint8_t *buf, size_t len, const char *needle,
		   const char *what)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_msg *msg = (struct sonde_ctl_msg *)1;
	int ret = sonde_ctl_decode(buf, len, &msg, &err);

	ok(ret < 0 && msg == NULL, what);
	if (!strstr(err.msg, needle) || strchr(err.msg, '\n')) {
		ok(0, "error message");
		return 0;
	}
	return 1;
}

static void test_round_trip(void)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *msg = NULL;
	const struct sonde_ctl_rec *rec, *ch;
	uint8_t *buf;
	size_t len, events = 0;
	uint64_t u = 0;
	int64_t s = 0;

	sonde_ctl_writer_init(&w, SONDE_CTL_REPLY);
	sonde_ctl_put_i64(&w, SONDE_CTL_T_STATUS, -6);
	sonde_ctl_put_str(&w, SONDE_CTL_T_MESSAGE, "session 'x' not found");
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_SESSION_REC);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, "x");
	sonde_ctl_put_u64(&w, SONDE_CTL_T_EVENTS_RECORDED, 1ULL << 40);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_SNAPSHOT, true);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_CHANNEL_REC);
	sonde_ctl_put_str(&w, SONDE_CTL_T_CHANNEL, "channel0");
	for (int i = 0; i < 3; i++) {
		sonde_ctl_rec_begin(&w, SONDE_CTL_T_EVENT_REC);
		sonde_ctl_put_str(&w, SONDE_CTL_T_EVENT, "");
		sonde_ctl_rec_end(&w);
	}
	sonde_ctl_rec_end(&w);
	sonde_ctl_rec_end(&w);
	is_int(sonde_ctl_writer_finish(&w, &buf, &len, &err), 0, "encode nested reply");
	is_int(sonde_ctl_decode(buf, len, &msg, &err), 0, "decode it");
	free(buf);
	if (!msg)
		return;
	is_int(msg->type, SONDE_CTL_REPLY, "type");
	ok(sonde_ctl_get_i64(&msg->root, SONDE_CTL_T_STATUS, &s) && s == -6,
	   "negative status survives");
	is_str(sonde_ctl_get_str(&msg->root, SONDE_CTL_T_MESSAGE),
	       "session 'x' not found", "message");
	rec = msg->root.fields[2].v.rec;
	ok(msg->root.fields[2].tag == SONDE_CTL_T_SESSION_REC, "record tag");
	ok(sonde_ctl_get_u64(rec, SONDE_CTL_T_EVENTS_RECORDED, &u) && u == 1ULL << 40,
	   "u64 in a record");
	ok(sonde_ctl_get_bool(rec, SONDE_CTL_T_SNAPSHOT, false), "bool in a record");
	ok(!sonde_ctl_get_str(rec, SONDE_CTL_T_MESSAGE), "lookups do not leak out of records");
	ch = rec->fields[3].v.rec;
	for (size_t i = 0; i < ch->count; i++)
		events += ch->fields[i].tag == SONDE_CTL_T_EVENT_REC;
	is_int((int)events, 3, "repeated records at depth 4");
	is_str(sonde_ctl_get_str(ch->fields[1].v.rec, SONDE_CTL_T_EVENT), "",
	       "empty string");
	sonde_ctl_msg_free(msg);
}

static void test_writer_refuses(void)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_writer w;
	uint8_t *buf = NULL;
	size_t len;
	char *big = malloc(SONDE_CTL_STRING_MAX + 2);

	sonde_ctl_writer_init(&w, SONDE_CTL_CREATE);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_SESSION, 1);   /* wrong kind */
	ok(sonde_ctl_writer_finish(&w, &buf, &len, &err) < 0, "writer: wrong kind for a tag");

	sonde_ctl_writer_init(&w, SONDE_CTL_CREATE);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_SESSION_REC);
	ok(sonde_ctl_writer_finish(&w, &buf, &len, &err) < 0, "writer: unclosed record");

	sonde_ctl_writer_init(&w, SONDE_CTL_CREATE);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_SESSION_REC);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_CHANNEL_REC);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_EVENT_REC);
	sonde_ctl_rec_begin(&w, SONDE_CTL_T_EVENT_REC);
	ok(sonde_ctl_writer_finish(&w, &buf, &len, &err) < 0, "writer: nesting limit");

	if (big) {
		memset(big, 'a', SONDE_CTL_STRING_MAX + 1);
		big[SONDE_CTL_STRING_MAX + 1] = '\0';
		sonde_ctl_writer_init(&w, SONDE_CTL_CREATE);
		sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, big);
		ok(sonde_ctl_writer_finish(&w, &buf, &len, &err) < 0,
		   "writer: string over the limit");
		free(big);
	}
}

static void test_malformed(void)
{
	uint8_t buf[256], p[128];
	size_t len;

	len = build(buf, SONDE_CTL_CREATE, NULL, 0);
	rejects(buf, 5, "shorter than its", "truncated header");
	buf[0] = 'X';
	rejects(buf, len, "bad magic", "bad magic");
	len = build(buf, SONDE_CTL_CREATE, NULL, 0);
	buf[4] = 2;
	rejects(buf, len, "protocol version 2", "other version");
	len = build(buf, 0, NULL, 0);
	rejects(buf, len, "unknown type 0", "type 0");
	len = build(buf, SONDE_CTL_TYPE_END, NULL, 0);
	rejects(buf, len, "unknown type", "type past the end");
	len = build(buf, SONDE_CTL_CREATE, NULL, 0);
	buf[11] = 0x7f;
	rejects(buf, len, "over the", "payload over the limit");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x03\x00\x01\x00\x00\x00" "a", 7);
	rejects(buf, len - 1, "announces", "payload shorter than announced");

	/* field framing */
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x03\x00\x01", 3);
	rejects(buf, len, "truncated field header", "truncated field header");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x03\x00\x09\x00\x00\x00" "abc", 9);
	rejects(buf, len, "claims 9 bytes", "field longer than the payload");
	len = build(buf, SONDE_CTL_CREATE,
		    (const uint8_t *)"\x03\x00\xff\xff\xff\xff" "abc", 9);
	rejects(buf, len, "claims", "field length near 4 GiB");

	/* values */
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x63\x00\x00\x00\x00\x00", 6);
	rejects(buf, len, "unknown field tag 99", "unknown tag");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x00\x00\x00\x00\x00\x00", 6);
	rejects(buf, len, "unknown field tag 0", "tag 0");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x03\x00\x03\x00\x00\x00" "a\0b", 9);
	rejects(buf, len, "NUL", "string with a NUL");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x10\x00\x04\x00\x00\x00" "abcd", 10);
	rejects(buf, len, "not 8", "u64 of 4 bytes");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x05\x00\x01\x00\x00\x00" "\x02", 7);
	rejects(buf, len, "boolean", "bool of value 2");
	len = build(buf, SONDE_CTL_CREATE, (const uint8_t *)"\x05\x00\x00\x00\x00\x00", 6);
	rejects(buf, len, "boolean", "bool of 0 bytes");
	len = build(buf, SONDE_CTL_CREATE,
		    (const uint8_t *)"\x03\x00\x01\x00\x00\x00" "a" "\x03\x00\x01\x00\x00\x00" "b", 14);
	rejects(buf, len, "repeated", "non-repeating tag twice");
	/* a record holding a bad field */
	len = build(buf, SONDE_CTL_REPLY,
		    (const uint8_t *)"\x17\x00\x07\x00\x00\x00" "\x05\x00\x01\x00\x00\x00" "\x09", 13);
	rejects(buf, len, "boolean", "bad field inside a record");
	/* TRACK: a tracker record naming two trackers, a value with a NUL,
	 * an ALL that is not a boolean */
	len = build(buf, SONDE_CTL_TRACK,
		    (const uint8_t *)"\x3a\x00\x12\x00\x00\x00"
				     "\x3b\x00\x03\x00\x00\x00" "pid"
				     "\x3b\x00\x03\x00\x00\x00" "uid", 24);
	rejects(buf, len, "field 59 repeated", "tracker record, two trackers");
	len = build(buf, SONDE_CTL_TRACK,
		    (const uint8_t *)"\x3a\x00\x09\x00\x00\x00"
				     "\x3c\x00\x03\x00\x00\x00" "1\0" "2", 15);
	rejects(buf, len, "NUL", "tracked value with a NUL");
	len = build(buf, SONDE_CTL_TRACK,
		    (const uint8_t *)"\x3a\x00\x07\x00\x00\x00"
				     "\x09\x00\x01\x00\x00\x00" "\x05", 13);
	rejects(buf, len, "boolean", "tracker ALL of value 5");
	len = build(buf, SONDE_CTL_TRACK,
		    (const uint8_t *)"\x3a\x00\x07\x00\x00\x00"
				     "\x3c\x00\x08\x00\x00\x00" "1", 13);
	rejects(buf, len, "claims 8 bytes", "tracked value past its record");
	/* records nested five deep */
	memset(p, 0, sizeof(p));
	{
		size_t n = 0, inner = 0;

		for (int d = 0; d < 5; d++) {
			uint8_t tmp[128];
			size_t tl = 0;

			tmp[tl++] = 0x17;
			tmp[tl++] = 0;
			tmp[tl++] = (uint8_t)inner;
			tmp[tl++] = 0;
			tmp[tl++] = 0;
			tmp[tl++] = 0;
			memcpy(tmp + tl, p, inner);
			tl += inner;
			memcpy(p, tmp, tl);
			n = tl;
			inner = tl;
		}
		len = build(buf, SONDE_CTL_REPLY, p, (uint32_t)n);
		rejects(buf, len, "nested deeper", "records nested too deep");
	}
}

static void test_header_parse(void)
{
	struct sonde_error err = { 0 };
	uint8_t buf[64];
	uint32_t payload = 0;
	uint16_t type = 0;

	build(buf, SONDE_CTL_LIST_SESSIONS, NULL, 0);
	buf[8] = 40;
	is_int(sonde_ctl_header_parse(buf, 12, &type, &payload, &err), 0,
	       "header alone parses");
	ok(type == SONDE_CTL_LIST_SESSIONS && payload == 40, "type and length");
	is_str(sonde_ctl_type_name(SONDE_CTL_ENABLE_EVENT), "enable-event", "type name");
	is_str(sonde_ctl_type_name(999), "unknown", "unknown type name");
}

int main(void)
{
	test_round_trip();
	test_writer_refuses();
	test_malformed();
	test_header_parse();
	return tap_done();
}
