/*
 * The live viewer protocol codec (src/live/live-proto.c): byte layouts
 * checked against protocols.md §2 (babeltrace's CONNECT bytes), round
 * trips of every message, and malformed input rejected with one line.
 */
#include <stdlib.h>
#include <string.h>

#include "live/live-proto.h"
#include "tap.h"

static int one_line(const struct sonde_error *err)
{
	return err->msg[0] && !strchr(err->msg, '\n');
}

static void test_connect(void)
{
	/* protocols.md §2.2: babeltrace's CONNECT, header + payload. */
	static const uint8_t want[36] = {
		0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 1, 0, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1,
	};
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_CONNECT }, back;
	struct sonde_error err = { 0 };
	uint8_t buf[SONDE_LIVE_REQUEST_MAX];
	uint32_t cmd;
	size_t n;

	req.u.connect.viewer_session_id = UINT64_MAX;
	req.u.connect.major = 2;
	req.u.connect.minor = 4;
	req.u.connect.type = SONDE_LIVE_CLIENT_COMMAND;
	n = sonde_live_request_encode(&req, buf);
	is_int(n, 36, "connect request is 36 bytes");
	ok(!memcmp(buf, want, sizeof(want)), "connect bytes as babeltrace sends them");
	ok(!sonde_live_header_decode(buf, 16, &cmd, &err) &&
	   cmd == SONDE_LIVE_CMD_CONNECT, "header decodes");
	ok(!sonde_live_request_decode(cmd, buf + 16, 20, &back, &err) &&
	   back.u.connect.minor == 4 && back.u.connect.viewer_session_id == UINT64_MAX,
	   "connect payload round trip");

	buf[35] = 3;
	ok(sonde_live_request_decode(cmd, buf + 16, 20, &back, &err) ==
	   SONDE_EFORMAT && one_line(&err), "unknown connection type rejected");
	ok(sonde_live_request_decode(cmd, buf + 16, 19, &back, &err) ==
	   SONDE_EFORMAT && one_line(&err), "short connect payload rejected");
}

static void test_requests(void)
{
	static const uint32_t cmds[] = {
		SONDE_LIVE_CMD_LIST_SESSIONS, SONDE_LIVE_CMD_ATTACH_SESSION,
		SONDE_LIVE_CMD_GET_NEXT_INDEX, SONDE_LIVE_CMD_GET_PACKET,
		SONDE_LIVE_CMD_GET_METADATA, SONDE_LIVE_CMD_GET_NEW_STREAMS,
		SONDE_LIVE_CMD_CREATE_SESSION, SONDE_LIVE_CMD_DETACH_SESSION,
	};
	static const long sizes[] = { 0, 20, 8, 20, 8, 8, 0, 8 };
	struct sonde_error err = { 0 };
	uint8_t buf[SONDE_LIVE_REQUEST_MAX];
	int all = 1;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct sonde_live_request req, back;
		uint32_t cmd;
		size_t n;

		memset(&req, 0, sizeof(req));
		req.cmd = cmds[i];
		if (cmds[i] == SONDE_LIVE_CMD_ATTACH_SESSION) {
			req.u.attach.session_id = 0x0102030405060708ull;
			req.u.attach.seek = SONDE_LIVE_SEEK_LAST;
		} else if (cmds[i] == SONDE_LIVE_CMD_GET_PACKET) {
			req.u.get_packet.stream_id = 7;
			req.u.get_packet.offset = 1ull << 40;
			req.u.get_packet.len = 4096;
		} else if (sizes[i]) {
			req.u.id = 0xfedcba9876543210ull;
		}
		n = sonde_live_request_encode(&req, buf);
		if (n != 16 + (size_t)sizes[i] ||
		    sonde_live_payload_size(cmds[i]) != sizes[i] ||
		    buf[7] != sizes[i] ||
		    sonde_live_header_decode(buf, 16, &cmd, &err) || cmd != cmds[i] ||
		    sonde_live_request_decode(cmd, buf + 16, n - 16, &back, &err) ||
		    memcmp(&back.u, &req.u, sizeof(req.u))) {
			printf("# command %u does not round-trip\n", cmds[i]);
			all = 0;
		}
	}
	ok(all, "every command round-trips with its fixed payload size");

	memset(buf, 0, 16);
	buf[11] = 10;
	ok(sonde_live_header_decode(buf, 16, &(uint32_t){ 0 }, &err) ==
	   SONDE_EUNSUPPORTED && one_line(&err), "unknown command 10 refused");
	buf[11] = 0;
	ok(sonde_live_header_decode(buf, 16, &(uint32_t){ 0 }, &err) ==
	   SONDE_EUNSUPPORTED, "command 0 refused");
	/* data_size is not trusted: babeltrace 1.x sends it in host order. */
	memset(buf, 0xff, 8);
	buf[8] = buf[9] = buf[10] = 0;
	buf[11] = SONDE_LIVE_CMD_LIST_SESSIONS;
	ok(!sonde_live_header_decode(buf, 16, &(uint32_t){ 0 }, &err),
	   "data_size ignored");
	ok(sonde_live_header_decode(buf, 15, &(uint32_t){ 0 }, &err) ==
	   SONDE_EFORMAT, "short header rejected");
	is_str(sonde_live_cmd_name(SONDE_LIVE_CMD_GET_NEXT_INDEX),
	       "get-next-index", "command names");
	is_str(sonde_live_cmd_name(99), "unknown", "unknown command name");
}

static void test_sessions(void)
{
	struct sonde_live_session s = { 0 }, back;
	struct sonde_error err = { 0 };
	uint8_t buf[SONDE_LIVE_SESSION_2_4_SIZE + 600];
	uint32_t count;
	size_t n;

	s.id = 3;
	s.live_timer = 1000000;
	s.clients = 1;
	s.streams = 5;
	strcpy(s.hostname, "vm.example.org");
	strcpy(s.session_name, "livesess");
	n = sonde_live_session_encode(4, &s, buf);
	is_int(n, 339, "2.4 entry is 339 bytes");
	is_int(sonde_live_session_wire_size(4, buf, 0), 339, "2.4 wire size");
	ok(!sonde_live_session_decode(4, buf, n, &back, &err) &&
	   back.id == 3 && back.live_timer == 1000000 && back.streams == 5 &&
	   !strcmp(back.hostname, "vm.example.org") &&
	   !strcmp(back.session_name, "livesess"), "2.4 entry round trip");
	/* A peer that fills the whole field gets its string cut, not overrun. */
	memset(buf + 20, 'h', 64);
	memset(buf + 84, 's', 255);
	ok(!sonde_live_session_decode(4, buf, n, &back, &err) &&
	   strlen(back.hostname) == 63 && strlen(back.session_name) == 254,
	   "unterminated 2.4 names are forced to end");

	n = sonde_live_session_encode(15, &s, buf);
	is_int(n, 32 + 14 + 8, "2.15 entry is 32 bytes + names");
	is_int(sonde_live_session_wire_size(15, buf, 10), 32,
	       "2.15 wire size before the fixed part");
	is_int(sonde_live_session_wire_size(15, buf, 32), n,
	       "2.15 wire size from the fixed part");
	ok(!sonde_live_session_decode(15, buf, n, &back, &err) &&
	   !strcmp(back.hostname, "vm.example.org") &&
	   !strcmp(back.session_name, "livesess"), "2.15 entry round trip");
	ok(sonde_live_session_decode(15, buf, n - 1, &back, &err) ==
	   SONDE_EFORMAT && one_line(&err), "truncated 2.15 entry rejected");
	buf[32 + 3] = 0;
	ok(sonde_live_session_decode(15, buf, n, &back, &err) == SONDE_EFORMAT,
	   "NUL inside a 2.15 name rejected");
	buf[20] = 0x7f;
	ok(sonde_live_session_wire_size(15, buf, 32) <= 32 + 2 * 255 + 1,
	   "huge 2.15 name length does not ask for more than the limit");
	ok(sonde_live_session_decode(15, buf, 32 + 600, &back, &err) ==
	   SONDE_EFORMAT, "huge 2.15 name length rejected");

	sonde_live_count_encode(2, buf);
	ok(!sonde_live_count_decode(buf, 4, &count, &err) && count == 2,
	   "session count");
	sonde_live_count_encode(SONDE_LIVE_SESSIONS_MAX + 1, buf);
	ok(sonde_live_count_decode(buf, 4, &count, &err) == SONDE_EFORMAT &&
	   one_line(&err), "absurd session count rejected");
}

static void test_streams(void)
{
	struct sonde_live_streams_reply r = { SONDE_LIVE_ATTACH_OK, 3 }, back;
	struct sonde_live_stream *s = calloc(2, sizeof(*s));
	struct sonde_error err = { 0 };
	uint8_t *buf = malloc(SONDE_LIVE_STREAM_SIZE);

	sonde_live_streams_reply_encode(&r, buf);
	ok(!sonde_live_attach_reply_decode(buf, 8, &back, &err) &&
	   back.status == 1 && back.count == 3, "attach reply round trip");
	r.status = SONDE_LIVE_ATTACH_ALREADY;
	sonde_live_streams_reply_encode(&r, buf);
	ok(sonde_live_attach_reply_decode(buf, 8, &back, &err) == SONDE_EFORMAT,
	   "streams announced with a failed attach rejected");
	r.count = 0;
	sonde_live_streams_reply_encode(&r, buf);
	ok(!sonde_live_attach_reply_decode(buf, 8, &back, &err) &&
	   back.status == SONDE_LIVE_ATTACH_ALREADY, "attach ALREADY decodes");
	r.status = 7;
	sonde_live_streams_reply_encode(&r, buf);
	ok(sonde_live_attach_reply_decode(buf, 8, &back, &err) == SONDE_EFORMAT &&
	   one_line(&err), "unknown attach status rejected");
	r.status = SONDE_LIVE_NEW_STREAMS_HUP;
	sonde_live_streams_reply_encode(&r, buf);
	ok(!sonde_live_new_streams_reply_decode(buf, 8, &back, &err),
	   "new-streams HUP decodes");
	r.status = 5;
	sonde_live_streams_reply_encode(&r, buf);
	ok(sonde_live_new_streams_reply_decode(buf, 8, &back, &err) ==
	   SONDE_EFORMAT, "new-streams status 5 rejected");
	r.status = 1;
	r.count = SONDE_LIVE_STREAMS_MAX + 1;
	sonde_live_streams_reply_encode(&r, buf);
	ok(sonde_live_new_streams_reply_decode(buf, 8, &back, &err) ==
	   SONDE_EFORMAT, "absurd stream count rejected");

	s[0].id = 12;
	s[0].ctf_trace_id = 4;
	s[0].metadata = true;
	strcpy(s[0].path_name, "ust/uid/1000/64-bit");
	strcpy(s[0].channel_name, "metadata");
	sonde_live_stream_encode(&s[0], buf);
	ok(buf[19] == 1 && !memcmp(buf + 20, "ust/uid", 7) &&
	   !memcmp(buf + 4116, "metadata", 9), "stream record layout");
	ok(!sonde_live_stream_decode(buf, SONDE_LIVE_STREAM_SIZE, &s[1], &err) &&
	   s[1].id == 12 && s[1].ctf_trace_id == 4 && s[1].metadata &&
	   !strcmp(s[1].path_name, s[0].path_name) &&
	   !strcmp(s[1].channel_name, "metadata"), "stream record round trip");
	memset(buf + 20, 'p', SONDE_LIVE_STREAM_SIZE - 20);
	ok(!sonde_live_stream_decode(buf, SONDE_LIVE_STREAM_SIZE, &s[1], &err) &&
	   strlen(s[1].path_name) == 4095 && strlen(s[1].channel_name) == 254,
	   "unterminated stream names are forced to end");
	ok(sonde_live_stream_decode(buf, 100, &s[1], &err) == SONDE_EFORMAT,
	   "short stream record rejected");
	free(buf);
	free(s);
}

static void test_index(void)
{
	struct sonde_live_index x = {
		.offset = 8192, .packet_size = 32768, .content_size = 30000,
		.timestamp_begin = 100, .timestamp_end = 200,
		.events_discarded = 1, .stream_id = 0,
		.status = SONDE_LIVE_INDEX_OK,
		.flags = SONDE_LIVE_FLAG_NEW_METADATA,
	}, back;
	struct sonde_error err = { 0 };
	uint8_t buf[SONDE_LIVE_INDEX_SIZE];

	sonde_live_index_encode(&x, buf);
	ok(!sonde_live_index_decode(buf, sizeof(buf), &back, &err) &&
	   !memcmp(&back, &x, sizeof(x)), "index round trip");
	ok(buf[59] == 1 && buf[63] == 1, "status and flags at 56 and 60");
	x.packet_size = 12;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT && one_line(&err), "packet size not whole bytes");
	x.packet_size = 0;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "OK index of an empty packet");
	x.packet_size = 8ull * SONDE_LIVE_PACKET_MAX + 8;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "packet over the limit");
	x.packet_size = 8192;
	x.content_size = 8200;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "content larger than the packet");
	x.content_size = 8192;
	x.offset = UINT64_MAX - 10;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "offset overflow");
	memset(&x, 0, sizeof(x));
	x.status = SONDE_LIVE_INDEX_INACTIVE;
	x.timestamp_end = 12345;
	x.flags = SONDE_LIVE_FLAG_NEW_STREAM;
	sonde_live_index_encode(&x, buf);
	ok(!sonde_live_index_decode(buf, sizeof(buf), &back, &err) &&
	   back.timestamp_end == 12345 && back.flags == 2,
	   "INACTIVE beacon with NEW_STREAM");
	x.status = 0;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "index status 0 rejected");
	x.status = 7;
	sonde_live_index_encode(&x, buf);
	ok(sonde_live_index_decode(buf, sizeof(buf), &back, &err) ==
	   SONDE_EFORMAT, "index status 7 rejected");
	ok(sonde_live_index_decode(buf, 63, &back, &err) == SONDE_EFORMAT,
	   "short index rejected");
}

static void test_packet_metadata(void)
{
	struct sonde_live_packet_reply p = { SONDE_LIVE_PACKET_OK, 4096, 0 }, pb;
	struct sonde_live_metadata_reply m = { 1234, SONDE_LIVE_METADATA_OK }, mb;
	struct sonde_error err = { 0 };
	uint8_t buf[12];
	uint32_t status;

	sonde_live_packet_reply_encode(&p, buf);
	ok(!sonde_live_packet_reply_decode(buf, 12, &pb, &err) &&
	   pb.len == 4096 && pb.status == 1, "packet reply round trip");
	p.len = 0;
	sonde_live_packet_reply_encode(&p, buf);
	ok(sonde_live_packet_reply_decode(buf, 12, &pb, &err) == SONDE_EFORMAT,
	   "OK packet of 0 bytes rejected");
	p.len = SONDE_LIVE_PACKET_MAX + 1;
	sonde_live_packet_reply_encode(&p, buf);
	ok(sonde_live_packet_reply_decode(buf, 12, &pb, &err) == SONDE_EFORMAT,
	   "packet over the limit rejected");
	p.status = SONDE_LIVE_PACKET_ERR;
	p.len = 10;
	sonde_live_packet_reply_encode(&p, buf);
	ok(sonde_live_packet_reply_decode(buf, 12, &pb, &err) == SONDE_EFORMAT,
	   "ERR with bytes rejected");
	p.len = 0;
	p.flags = SONDE_LIVE_FLAG_NEW_METADATA;
	sonde_live_packet_reply_encode(&p, buf);
	ok(!sonde_live_packet_reply_decode(buf, 12, &pb, &err) &&
	   pb.flags == 1, "ERR with a flag decodes (refresh then retry)");

	sonde_live_metadata_reply_encode(&m, buf);
	ok(buf[7] == 0xd2 && buf[11] == 1, "metadata reply: u64 len then status");
	ok(!sonde_live_metadata_reply_decode(buf, 12, &mb, &err) &&
	   mb.len == 1234, "metadata reply round trip");
	m.len = 0;
	sonde_live_metadata_reply_encode(&m, buf);
	ok(!sonde_live_metadata_reply_decode(buf, 12, &mb, &err),
	   "OK with 0 bytes is a retry, accepted");
	m.len = 1ull << 40;
	sonde_live_metadata_reply_encode(&m, buf);
	ok(sonde_live_metadata_reply_decode(buf, 12, &mb, &err) ==
	   SONDE_EFORMAT && one_line(&err), "metadata over the limit rejected");
	m.len = 5;
	m.status = SONDE_LIVE_METADATA_NO_NEW;
	sonde_live_metadata_reply_encode(&m, buf);
	ok(sonde_live_metadata_reply_decode(buf, 12, &mb, &err) ==
	   SONDE_EFORMAT, "NO_NEW with bytes rejected");
	m.len = 0;
	m.status = 4;
	sonde_live_metadata_reply_encode(&m, buf);
	ok(sonde_live_metadata_reply_decode(buf, 12, &mb, &err) ==
	   SONDE_EFORMAT, "metadata status 4 rejected");

	sonde_live_status_encode(SONDE_LIVE_CREATE_OK, buf);
	ok(!sonde_live_create_status_decode(buf, 4, &status, &err) &&
	   status == 1, "create-session reply");
	sonde_live_status_encode(3, buf);
	ok(sonde_live_create_status_decode(buf, 4, &status, &err) ==
	   SONDE_EFORMAT, "create-session status 3 rejected");
	ok(!sonde_live_detach_status_decode(buf, 4, &status, &err) &&
	   status == SONDE_LIVE_DETACH_ERR, "detach-session reply");
	ok(sonde_live_detach_status_decode(buf, 3, &status, &err) ==
	   SONDE_EFORMAT, "short detach reply rejected");
}

int main(void)
{
	test_connect();
	test_requests();
	test_sessions();
	test_streams();
	test_index();
	test_packet_metadata();
	return tap_done();
}
