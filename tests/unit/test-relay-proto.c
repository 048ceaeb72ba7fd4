/*
 * The relayd streaming protocol codec (src/relay/relay-proto.h): byte
 * layouts checked against protocols.md §3, round trips at each layout's
 * minor, and malformed payloads refused with one-line errors.
 */
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "relay/relay-proto.h"
#include "tap.h"

static uint8_t buf[SONDE_RELAY_MESSAGE_MAX];

static bool one_line(const struct sonde_error *err)
{
	return err->msg[0] && !strchr(err->msg, '\n');
}

/* Encodes, checks the header, decodes the payload back. */
static int round_trip(uint32_t minor, const struct sonde_relay_request *in,
		      struct sonde_relay_request *out, size_t *payload_len)
{
	struct sonde_relay_header h;
	struct sonde_error err = { 0 };
	size_t n = sonde_relay_request_encode(minor, in, buf);

	if (n < SONDE_RELAY_HEADER_SIZE)
		return -1;
	if (sonde_relay_header_decode(buf, n, &h, &err) || h.cmd != in->cmd)
		return -1;
	*payload_len = n - SONDE_RELAY_HEADER_SIZE;
	return sonde_relay_request_decode(minor, h.cmd, buf + SONDE_RELAY_HEADER_SIZE,
					  *payload_len, out, &err);
}

static struct sonde_relay_request *new_request(uint32_t cmd)
{
	struct sonde_relay_request *r = calloc(1, sizeof(*r));

	r->cmd = cmd;
	return r;
}

static void test_create_session(void)
{
	struct sonde_relay_request *in = new_request(SONDE_RELAY_CREATE_SESSION);
	struct sonde_relay_request *out = new_request(0);
	struct sonde_relay_create_session *c = &in->u.create_session;
	struct sonde_error err = { 0 };
	size_t len;

	strcpy(c->session_name, "live");
	strcpy(c->hostname, "host.example.org");
	c->live_timer = 100000;
	memset(c->sessiond_uuid, 0xab, 16);
	c->session_id = 7;
	c->creation_time = 1700000000;
	ok(round_trip(13, in, out, &len) == 0, "create-session 2.11 round trip");
	is_int(len, 59 + 5 + 17 + 1, "create-session 2.11: 59 bytes and names");
	is_int(be_get32(buf + 24), 5, "session_name_len counts the NUL");
	is_int(be_get32(buf + 24 + 12), 100000, "live_timer at offset 12");
	is_int(be_get64(buf + 24 + 42), 1700000000, "creation_time at offset 42");
	is_str(out->u.create_session.hostname, "host.example.org", "hostname back");
	is_str(out->u.create_session.base_path, "", "empty base path back");
	is_int(out->u.create_session.live_timer, 100000, "live timer back");
	is_int(out->u.create_session.trace_format, SONDE_RELAY_FORMAT_CTF_1_8,
	       "before 2.15: CTF 1.8");

	c->trace_format = SONDE_RELAY_FORMAT_CTF_2;
	c->has_current_chunk_id = true;
	c->current_chunk_id = 3;
	ok(round_trip(15, in, out, &len) == 0, "create-session 2.15 round trip");
	is_int(len, 63 + 5 + 17 + 1, "2.15 adds trace_format");
	is_int(out->u.create_session.trace_format, 2, "trace format back");
	ok(out->u.create_session.has_current_chunk_id &&
	   out->u.create_session.current_chunk_id == 3, "chunk id back");

	ok(round_trip(10, in, out, &len) == 0, "create-session 2.4 round trip");
	is_int(len, 327, "2.4 layout: 327 bytes");
	is_str(out->u.create_session.session_name, "live", "2.4 name back");

	/* Malformed 2.11 payloads. */
	ok(sonde_relay_request_encode(13, in, buf) > 0, "re-encode");
	buf[24 + 59 + 1] = '\0';  /* "l\0ve\0": a NUL inside the name */
	ok(sonde_relay_request_decode(13, 2, buf + 24, len = 59 + 23, out, &err) ==
		   SONDE_EFORMAT && one_line(&err), "embedded NUL refused");
	sonde_relay_request_encode(13, in, buf);
	buf[24 + 59 + 4] = 'x';   /* no terminating NUL */
	ok(sonde_relay_request_decode(13, 2, buf + 24, len, out, &err) ==
		   SONDE_EFORMAT, "missing NUL refused");
	sonde_relay_request_encode(13, in, buf);
	buf[24 + 3] = 0xff;       /* session_name_len 255 > payload */
	ok(sonde_relay_request_decode(13, 2, buf + 24, len, out, &err) ==
		   SONDE_EFORMAT && one_line(&err), "name past the payload refused");
	sonde_relay_request_encode(13, in, buf);
	buf[24] = 0xff;           /* a length of 4 GiB */
	ok(sonde_relay_request_decode(13, 2, buf + 24, len, out, &err) ==
		   SONDE_EFORMAT, "huge name length refused");
	sonde_relay_request_encode(13, in, buf);
	memset(buf + 24 + 18, 0, 16);
	ok(sonde_relay_request_decode(13, 2, buf + 24, len, out, &err) ==
		   SONDE_EFORMAT, "all-zero sessiond uuid refused");
	sonde_relay_request_encode(13, in, buf);
	buf[24 + 16] = 2;
	ok(sonde_relay_request_decode(13, 2, buf + 24, len, out, &err) ==
		   SONDE_EFORMAT, "boolean 2 refused");
	ok(sonde_relay_request_decode(13, 2, buf + 24, 58, out, &err) ==
		   SONDE_EFORMAT, "short payload refused");
	memset(c->session_name, 'a', sizeof(c->session_name));
	is_int(sonde_relay_request_encode(13, in, buf), 0,
	       "encoder refuses an overlong name");
	free(in);
	free(out);
}

static void test_add_stream(void)
{
	struct sonde_relay_request *in = new_request(SONDE_RELAY_ADD_STREAM);
	struct sonde_relay_request *out = new_request(0);
	struct sonde_error err = { 0 };
	size_t len;

	strcpy(in->u.add_stream.channel_name, "channel0_1");
	strcpy(in->u.add_stream.pathname, "ust/uid/1000/64-bit");
	in->u.add_stream.tracefile_size = 1 << 20;
	in->u.add_stream.tracefile_count = 4;
	in->u.add_stream.trace_chunk_id = 9;
	ok(round_trip(13, in, out, &len) == 0, "add-stream 2.11 round trip");
	is_int(len, 32 + 11 + 20, "add-stream 2.11 size");
	is_str(out->u.add_stream.pathname, "ust/uid/1000/64-bit", "path back");
	is_int(out->u.add_stream.trace_chunk_id, 9, "chunk id back");
	ok(round_trip(10, in, out, &len) == 0 && len == 4376,
	   "add-stream 2.2 layout: 4376 bytes");
	is_int(out->u.add_stream.tracefile_count, 4, "2.2 tracefile count back");
	ok(round_trip(1, in, out, &len) == 0 && len == 4360,
	   "add-stream 2.1 layout: 4360 bytes");
	is_str(out->u.add_stream.channel_name, "channel0_1", "2.1 channel back");

	sonde_relay_request_encode(13, in, buf);
	buf[24 + 3] = 0;          /* channel_name_len 0 */
	ok(sonde_relay_request_decode(13, 1, buf + 24, 63, out, &err) ==
		   SONDE_EFORMAT && one_line(&err), "empty length refused");
	free(in);
	free(out);
}

static void test_index_and_streams(void)
{
	struct sonde_relay_request in = { .cmd = SONDE_RELAY_SEND_INDEX }, out;
	struct sonde_error err = { 0 };
	size_t len;

	in.u.index = (struct sonde_relay_index){ 5, 6, 8 * 4096, 8 * 300, 100,
						 200, 3, 1, 2, 6 };
	ok(round_trip(13, &in, &out, &len) == 0 && len == 80, "send-index: 80 bytes");
	ok(!memcmp(&in.u.index, &out.u.index, sizeof(in.u.index)), "index fields back");
	ok(round_trip(7, &in, &out, &len) == 0 && len == 64,
	   "send-index before 2.8: 64 bytes");
	is_int(out.u.index.packet_seq_num, 0, "no sequence number before 2.8");
	ok(sonde_relay_request_decode(13, 13, buf + 24, 79, &out, &err) ==
		   SONDE_EFORMAT, "short index refused");

	in = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CLOSE_STREAM };
	in.u.stream_seq.stream_id = 4;
	in.u.stream_seq.last_net_seq_num = UINT64_MAX;
	ok(round_trip(13, &in, &out, &len) == 0 &&
	   out.u.stream_seq.last_net_seq_num == UINT64_MAX, "close-stream round trip");

	in = (struct sonde_relay_request){ .cmd = SONDE_RELAY_SEND_METADATA };
	in.u.metadata.stream_id = 3;
	in.u.metadata.padding_size = 100;
	in.u.metadata.len = 4000;
	len = sonde_relay_request_encode(13, &in, buf);
	is_int(len, 36, "send-metadata: header and fixed part");
	is_int(be_get64(buf + 8), 4012, "data_size counts the metadata bytes");
	ok(sonde_relay_request_decode(13, 6, buf + 24, 12, &out, &err) == 0 &&
	   out.u.metadata.len == 0 && !out.u.metadata.data &&
	   out.u.metadata.padding_size == 100, "fixed part decodes alone");

	in = (struct sonde_relay_request){ .cmd = SONDE_RELAY_TRACE_CHUNK_EXISTS };
	in.u.id = 42;
	ok(round_trip(13, &in, &out, &len) == 0 && out.u.id == 42,
	   "trace-chunk-exists round trip");
	ok(sonde_relay_request_decode(13, 4, buf, 0, &out, &err) ==
		   SONDE_EUNSUPPORTED && one_line(&err), "update-sync-info unsupported");
	ok(sonde_relay_request_decode(13, 999, buf, 0, &out, &err) ==
		   SONDE_EUNSUPPORTED, "unknown command unsupported");
}

static void test_chunks(void)
{
	struct sonde_relay_request in = { .cmd = SONDE_RELAY_ROTATE_STREAMS }, out;
	struct sonde_error err = { 0 };
	uint64_t id, seq;
	size_t len;

	in.u.rotate.count = 2;
	in.u.rotate.has_new_chunk = true;
	in.u.rotate.new_chunk_id = 77;
	len = sonde_relay_request_encode(13, &in, buf);
	is_int(len, 24 + 13, "rotate-streams: packed 13-byte header");
	is_int(be_get64(buf + 8), 13 + 32, "data_size counts the positions");
	sonde_relay_rotate_position_encode(1, 10, buf + len);
	sonde_relay_rotate_position_encode(2, 20, buf + len + 16);
	ok(sonde_relay_request_decode(13, 18, buf + 24, 45, &out, &err) == 0 &&
	   out.u.rotate.count == 2 && out.u.rotate.new_chunk_id == 77,
	   "packed variant decodes");
	sonde_relay_rotate_position(&out, 1, &id, &seq);
	ok(id == 2 && seq == 20, "second position back");

	/* The x86-64 variant: 7 padding bytes before the chunk id. */
	memset(buf, 0, 52);
	buf[3] = 2;
	buf[4] = 1;
	buf[19] = 77;
	buf[20 + 7] = 1;
	ok(sonde_relay_request_decode(13, 18, buf, 52, &out, &err) == 0 &&
	   out.u.rotate.new_chunk_id == 77, "20-byte header variant decodes");
	sonde_relay_rotate_position(&out, 0, &id, &seq);
	is_int(id, 1, "its first position");
	ok(sonde_relay_request_decode(13, 18, buf, 51, &out, &err) == SONDE_EFORMAT &&
	   one_line(&err), "positions not filling the payload refused");
	buf[0] = 0xff;
	ok(sonde_relay_request_decode(13, 18, buf, 52, &out, &err) == SONDE_EFORMAT,
	   "huge count refused");

	in = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CREATE_TRACE_CHUNK };
	in.u.create_chunk.chunk_id = 1;
	in.u.create_chunk.creation_time = 123;
	ok(round_trip(13, &in, &out, &len) == 0 && len == 20 &&
	   !out.u.create_chunk.override_name[0], "create-trace-chunk, no name");
	strcpy(in.u.create_chunk.override_name, "archive-1");
	ok(round_trip(13, &in, &out, &len) == 0 && len == 30, "with a name");
	is_str(out.u.create_chunk.override_name, "archive-1", "name back");
	buf[24 + 19] = 200;
	ok(sonde_relay_request_decode(13, 19, buf + 24, 30, &out, &err) ==
		   SONDE_EFORMAT, "name past the payload refused");

	in = (struct sonde_relay_request){ .cmd = SONDE_RELAY_CLOSE_TRACE_CHUNK };
	in.u.close_chunk.chunk_id = 1;
	in.u.close_chunk.has_command = true;
	in.u.close_chunk.command = SONDE_RELAY_CHUNK_NO_OPERATION;
	ok(round_trip(13, &in, &out, &len) == 0 && len == 21 &&
	   out.u.close_chunk.command == 1, "close-trace-chunk round trip");
	buf[24 + 20] = 9;
	ok(sonde_relay_request_decode(13, 20, buf + 24, 21, &out, &err) ==
		   SONDE_EFORMAT, "unknown close command refused");
}

static void test_headers(void)
{
	struct sonde_relay_data_header d = { 0, 3, 4, 4000, 96 }, d2;
	struct sonde_relay_header h;
	struct sonde_error err = { 0 };

	sonde_relay_data_header_encode(&d, buf);
	ok(sonde_relay_data_header_decode(buf, 32, &d2, &err) == 0 &&
	   !memcmp(&d, &d2, sizeof(d)), "data header round trip");
	is_int(be_get32(buf + 24), 4000, "data_size at 24");
	buf[24] = 0xff;
	ok(sonde_relay_data_header_decode(buf, 32, &d2, &err) == SONDE_EFORMAT &&
	   one_line(&err), "4 GiB packet refused");
	ok(sonde_relay_data_header_decode(buf, 31, &d2, &err) == SONDE_EFORMAT,
	   "short data header refused");
	h = (struct sonde_relay_header){ 0, (128u << 20) + 1, 6, 0 };
	sonde_relay_header_encode(&h, buf);
	ok(sonde_relay_header_decode(buf, 24, &h, &err) == SONDE_EFORMAT,
	   "payload over 128 MiB refused");
}

static void test_replies(void)
{
	struct sonde_relay_reply *r = calloc(1, sizeof(*r)), *back = calloc(1, sizeof(*back));
	struct sonde_error err = { 0 };
	size_t n;

	r->id = 1;
	r->ret_code = SONDE_RELAY_RET_OK;
	strcpy(r->path, "host/live-20260101-000000");
	n = sonde_relay_reply_encode(13, SONDE_RELAY_CREATE_SESSION, r, buf);
	is_int(n, 16 + 26, "create-session reply with its path");
	is_int(sonde_relay_reply_wire_size(13, 2, buf, 4), 16, "wire size: fixed part first");
	is_int(sonde_relay_reply_wire_size(13, 2, buf, 16), n, "then with the path");
	ok(sonde_relay_reply_decode(13, 2, buf, n, back, &err) == 0 &&
	   back->id == 1 && !strcmp(back->path, r->path), "create-session reply back");
	buf[15] = 0xff;   /* path length 255 */
	ok(sonde_relay_reply_decode(13, 2, buf, n, back, &err) == SONDE_EFORMAT &&
	   one_line(&err), "path length past the reply refused");
	buf[12] = 0xff;
	is_int(sonde_relay_reply_wire_size(13, 2, buf, 16), 16,
	       "oversized path length not asked for");
	is_int(sonde_relay_reply_encode(10, 2, r, buf), 12, "2.4 reply: 12 bytes");

	n = sonde_relay_reply_encode(13, SONDE_RELAY_CLOSE_TRACE_CHUNK, r, buf);
	ok(n == 8 + 26 && sonde_relay_reply_decode(13, 20, buf, n, back, &err) == 0 &&
	   !strcmp(back->path, r->path), "close-trace-chunk reply back");
	r->ret_code = SONDE_RELAY_RET_UNKNOWN;
	n = sonde_relay_reply_encode(13, SONDE_RELAY_CLOSE_TRACE_CHUNK, r, buf);
	ok(n == 8 && sonde_relay_reply_wire_size(13, 20, buf, 8) == 8,
	   "failed close has no path");

	r->exists = true;
	n = sonde_relay_reply_encode(13, SONDE_RELAY_TRACE_CHUNK_EXISTS, r, buf);
	ok(n == 5 && sonde_relay_reply_decode(13, 21, buf, 5, back, &err) == 0 &&
	   back->exists, "trace-chunk-exists reply");
	r->flags = SONDE_RELAY_CONFIG_CLEAR_ALLOWED;
	n = sonde_relay_reply_encode(13, SONDE_RELAY_GET_CONFIGURATION, r, buf);
	ok(n == 12 && sonde_relay_reply_decode(13, 22, buf, 12, back, &err) == 0 &&
	   back->flags == 1, "get-configuration reply");
	r->major = 2;
	r->minor = 13;
	n = sonde_relay_reply_encode(13, SONDE_RELAY_VERSION, r, buf);
	ok(n == 8 && sonde_relay_reply_decode(13, 5, buf, 8, back, &err) == 0 &&
	   back->minor == 13, "version reply");
	is_int(sonde_relay_reply_wire_size(13, SONDE_RELAY_SEND_METADATA, buf, 0), 0,
	       "send-metadata has no reply");
	is_int(sonde_relay_reply_encode(13, SONDE_RELAY_CLOSE_STREAM, r, buf), 4,
	       "generic reply: 4 bytes");
	free(r);
	free(back);
}

int main(void)
{
	test_create_session();
	test_add_stream();
	test_index_and_streams();
	test_chunks();
	test_headers();
	test_replies();
	return tap_done();
}
