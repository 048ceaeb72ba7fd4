/*
 * Fuzzes the live viewer protocol codec (src/live/live-proto.c), which
 * faces relays (the viewer decodes their replies) and viewers (the relay
 * decodes their commands).  The first byte picks the message kind, the
 * rest is the message.  Any input must decode or fail with a one-line
 * error; what decodes must encode to bytes that decode to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "live/live-proto.h"

static void check_error(const struct sonde_error *err)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n') ||
	    !err->msg[0])
		abort();
}

static void fuzz_request(const uint8_t *p, size_t n, struct sonde_error *err)
{
	struct sonde_live_request req, again;
	uint8_t buf[SONDE_LIVE_REQUEST_MAX];
	uint32_t cmd;
	long size;

	if (sonde_live_header_decode(p, n < 16 ? n : 16, &cmd, err)) {
		check_error(err);
		return;
	}
	size = sonde_live_payload_size(cmd);
	if (size < 0)
		abort();
	if (sonde_live_request_decode(cmd, p + 16, n - 16, &req, err)) {
		check_error(err);
		return;
	}
	if (sonde_live_request_encode(&req, buf) != 16 + (size_t)size ||
	    sonde_live_request_decode(cmd, buf + 16, (size_t)size, &again, err) ||
	    memcmp(&req.u, &again.u, sizeof(req.u)))
		abort();
}

static void fuzz_session(uint32_t minor, const uint8_t *p, size_t n,
			 struct sonde_error *err)
{
	struct sonde_live_session s, again;
	uint8_t buf[SONDE_LIVE_SESSION_2_4_SIZE + 2 * SONDE_LIVE_NAME_MAX];
	size_t want = sonde_live_session_wire_size(minor, p, n), len;

	if (want > sonde_live_session_max_size(minor) + 1)
		abort();
	if (sonde_live_session_decode(minor, p, n, &s, err)) {
		check_error(err);
		return;
	}
	if (want != n)
		abort();
	len = sonde_live_session_encode(minor, &s, buf);
	if (len > sonde_live_session_max_size(minor) ||
	    sonde_live_session_decode(minor, buf, len, &again, err) ||
	    memcmp(&s, &again, sizeof(s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_error err = { 0 };
	static struct sonde_live_stream st, st2;
	uint8_t buf[SONDE_LIVE_STREAM_SIZE];
	const uint8_t *p = data + 1;
	size_t n = size ? size - 1 : 0;
	int ret = 0;

	if (!size)
		return 0;
	switch (data[0] % 12) {
	case 0:
		fuzz_request(p, n, &err);
		return 0;
	case 1: {
		struct sonde_live_connect c, c2;

		ret = sonde_live_connect_decode(p, n, &c, &err);
		if (!ret) {
			sonde_live_connect_encode(&c, buf);
			if (sonde_live_connect_decode(buf, n, &c2, &err) ||
			    c.viewer_session_id != c2.viewer_session_id ||
			    c.major != c2.major || c.minor != c2.minor ||
			    c.type != c2.type)
				abort();
		}
		break;
	}
	case 2: {
		uint32_t v, v2;

		ret = sonde_live_create_status_decode(p, n, &v, &err);
		if (ret)
			check_error(&err);
		ret = sonde_live_detach_status_decode(p, n, &v, &err);
		if (ret)
			check_error(&err);
		ret = sonde_live_count_decode(p, n, &v, &err);
		if (!ret) {
			sonde_live_count_encode(v, buf);
			if (sonde_live_count_decode(buf, 4, &v2, &err) || v != v2)
				abort();
		}
		break;
	}
	case 3:
		fuzz_session(4, p, n, &err);
		return 0;
	case 4:
		fuzz_session(15, p, n, &err);
		return 0;
	case 5:
	case 6: {
		struct sonde_live_streams_reply r, r2;
		int (*dec)(const uint8_t *, size_t,
			   struct sonde_live_streams_reply *,
			   struct sonde_error *) = data[0] % 12 == 5 ?
			sonde_live_attach_reply_decode :
			sonde_live_new_streams_reply_decode;

		ret = dec(p, n, &r, &err);
		if (!ret) {
			sonde_live_streams_reply_encode(&r, buf);
			if (dec(buf, 8, &r2, &err) || memcmp(&r, &r2, sizeof(r)))
				abort();
		}
		break;
	}
	case 7:
		ret = sonde_live_stream_decode(p, n, &st, &err);
		if (!ret) {
			sonde_live_stream_encode(&st, buf);
			if (sonde_live_stream_decode(buf, sizeof(buf), &st2, &err) ||
			    st.id != st2.id || st.metadata != st2.metadata ||
			    strcmp(st.path_name, st2.path_name) ||
			    strcmp(st.channel_name, st2.channel_name))
				abort();
		}
		break;
	case 8: {
		struct sonde_live_index x, x2;

		ret = sonde_live_index_decode(p, n, &x, &err);
		if (!ret) {
			sonde_live_index_encode(&x, buf);
			if (sonde_live_index_decode(buf, 64, &x2, &err) ||
			    memcmp(&x, &x2, sizeof(x)))
				abort();
		}
		break;
	}
	case 9: {
		struct sonde_live_packet_reply r, r2;

		ret = sonde_live_packet_reply_decode(p, n, &r, &err);
		if (!ret) {
			sonde_live_packet_reply_encode(&r, buf);
			if (sonde_live_packet_reply_decode(buf, 12, &r2, &err) ||
			    memcmp(&r, &r2, sizeof(r)))
				abort();
		}
		break;
	}
	default: {
		struct sonde_live_metadata_reply r, r2;

		ret = sonde_live_metadata_reply_decode(p, n, &r, &err);
		if (!ret) {
			sonde_live_metadata_reply_encode(&r, buf);
			if (sonde_live_metadata_reply_decode(buf, 12, &r2, &err) ||
			    r.len != r2.len || r.status != r2.status)
				abort();
		}
		break;
	}
	}
	if (ret)
		check_error(&err);
	return 0;
}
