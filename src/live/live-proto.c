/*
 * Live viewer protocol codec.  Decoders check the size first, then each
 * status against its command's table, so that nothing a peer sends can
 * make the reader consume a length it did not check.
 */
#include "live/live-proto.h"
#include "common/be.h"

#include <string.h>

static int check_size(const char *what, size_t len, size_t want,
		      struct sonde_error *err)
{
	if (len == want)
		return 0;
	return sonde_error_set(err, SONDE_EFORMAT,
			       "live %s: %zu bytes instead of %zu", what, len,
			       want);
}

static int bad_status(const char *what, uint32_t status,
		      struct sonde_error *err)
{
	return sonde_error_set(err, SONDE_EFORMAT, "live %s: unknown status %u",
			       what, status);
}

static const char *const cmd_names[] = {
	[SONDE_LIVE_CMD_CONNECT] = "connect",
	[SONDE_LIVE_CMD_LIST_SESSIONS] = "list-sessions",
	[SONDE_LIVE_CMD_ATTACH_SESSION] = "attach-session",
	[SONDE_LIVE_CMD_GET_NEXT_INDEX] = "get-next-index",
	[SONDE_LIVE_CMD_GET_PACKET] = "get-packet",
	[SONDE_LIVE_CMD_GET_METADATA] = "get-metadata",
	[SONDE_LIVE_CMD_GET_NEW_STREAMS] = "get-new-streams",
	[SONDE_LIVE_CMD_CREATE_SESSION] = "create-session",
	[SONDE_LIVE_CMD_DETACH_SESSION] = "detach-session",
};

const char *sonde_live_cmd_name(uint32_t cmd)
{
	return cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[cmd] ?
		cmd_names[cmd] : "unknown";
}

long sonde_live_payload_size(uint32_t cmd)
{
	switch (cmd) {
	case SONDE_LIVE_CMD_CONNECT:
		return SONDE_LIVE_CONNECT_SIZE;
	case SONDE_LIVE_CMD_LIST_SESSIONS:
	case SONDE_LIVE_CMD_CREATE_SESSION:
		return 0;
	case SONDE_LIVE_CMD_ATTACH_SESSION:
		return SONDE_LIVE_ATTACH_SIZE;
	case SONDE_LIVE_CMD_GET_NEXT_INDEX:
	case SONDE_LIVE_CMD_GET_METADATA:
	case SONDE_LIVE_CMD_GET_NEW_STREAMS:
	case SONDE_LIVE_CMD_DETACH_SESSION:
		return SONDE_LIVE_ID_SIZE;
	case SONDE_LIVE_CMD_GET_PACKET:
		return SONDE_LIVE_GET_PACKET_SIZE;
	default:
		return -1;
	}
}

size_t sonde_live_request_encode(const struct sonde_live_request *req,
				 uint8_t *buf)
{
	long size = sonde_live_payload_size(req->cmd);
	uint8_t *p = buf + SONDE_LIVE_HEADER_SIZE;

	if (size < 0)
		size = 0;
	be_put64(buf, (uint64_t)size);
	be_put32(buf + 8, req->cmd);
	be_put32(buf + 12, 0);
	switch (req->cmd) {
	case SONDE_LIVE_CMD_CONNECT:
		sonde_live_connect_encode(&req->u.connect, p);
		break;
	case SONDE_LIVE_CMD_ATTACH_SESSION:
		be_put64(p, req->u.attach.session_id);
		be_put64(p + 8, req->u.attach.offset);
		be_put32(p + 16, req->u.attach.seek);
		break;
	case SONDE_LIVE_CMD_GET_NEXT_INDEX:
	case SONDE_LIVE_CMD_GET_METADATA:
	case SONDE_LIVE_CMD_GET_NEW_STREAMS:
	case SONDE_LIVE_CMD_DETACH_SESSION:
		be_put64(p, req->u.id);
		break;
	case SONDE_LIVE_CMD_GET_PACKET:
		be_put64(p, req->u.get_packet.stream_id);
		be_put64(p + 8, req->u.get_packet.offset);
		be_put32(p + 16, req->u.get_packet.len);
		break;
	default:
		break;
	}
	return SONDE_LIVE_HEADER_SIZE + (size_t)size;
}

int sonde_live_header_decode(const uint8_t *buf, size_t len, uint32_t *cmd,
			     struct sonde_error *err)
{
	int ret = check_size("command header", len, SONDE_LIVE_HEADER_SIZE, err);

	if (ret)
		return ret;
	*cmd = be_get32(buf + 8);
	if (sonde_live_payload_size(*cmd) < 0)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "live command header: unknown command %u",
				       *cmd);
	return 0;
}

int sonde_live_request_decode(uint32_t cmd, const uint8_t *payload, size_t len,
			      struct sonde_live_request *out,
			      struct sonde_error *err)
{
	long size = sonde_live_payload_size(cmd);
	int ret;

	if (size < 0)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "live command: unknown command %u", cmd);
	ret = check_size(sonde_live_cmd_name(cmd), len, (size_t)size, err);
	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	out->cmd = cmd;
	switch (cmd) {
	case SONDE_LIVE_CMD_CONNECT:
		out->u.connect.viewer_session_id = be_get64(payload);
		out->u.connect.major = be_get32(payload + 8);
		out->u.connect.minor = be_get32(payload + 12);
		out->u.connect.type = be_get32(payload + 16);
		if (out->u.connect.type != SONDE_LIVE_CLIENT_COMMAND &&
		    out->u.connect.type != SONDE_LIVE_CLIENT_NOTIFICATION)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "live connect: unknown connection type %u",
					       out->u.connect.type);
		break;
	case SONDE_LIVE_CMD_ATTACH_SESSION:
		out->u.attach.session_id = be_get64(payload);
		out->u.attach.offset = be_get64(payload + 8);
		out->u.attach.seek = be_get32(payload + 16);
		break;
	case SONDE_LIVE_CMD_GET_NEXT_INDEX:
	case SONDE_LIVE_CMD_GET_METADATA:
	case SONDE_LIVE_CMD_GET_NEW_STREAMS:
	case SONDE_LIVE_CMD_DETACH_SESSION:
		out->u.id = be_get64(payload);
		break;
	case SONDE_LIVE_CMD_GET_PACKET:
		out->u.get_packet.stream_id = be_get64(payload);
		out->u.get_packet.offset = be_get64(payload + 8);
		out->u.get_packet.len = be_get32(payload + 16);
		break;
	default:
		break;
	}
	return 0;
}

void sonde_live_connect_encode(const struct sonde_live_connect *c, uint8_t *buf)
{
	be_put64(buf, c->viewer_session_id);
	be_put32(buf + 8, c->major);
	be_put32(buf + 12, c->minor);
	be_put32(buf + 16, c->type);
}

int sonde_live_connect_decode(const uint8_t *buf, size_t len,
			      struct sonde_live_connect *out,
			      struct sonde_error *err)
{
	int ret = check_size("connect reply", len, SONDE_LIVE_CONNECT_SIZE, err);

	if (ret)
		return ret;
	out->viewer_session_id = be_get64(buf);
	out->major = be_get32(buf + 8);
	out->minor = be_get32(buf + 12);
	out->type = be_get32(buf + 16);
	return 0;
}

void sonde_live_status_encode(uint32_t status, uint8_t *buf)
{
	be_put32(buf, status);
}

static int status_decode(const char *what, const uint8_t *buf, size_t len,
			 uint32_t max, uint32_t *status,
			 struct sonde_error *err)
{
	int ret = check_size(what, len, SONDE_LIVE_STATUS_SIZE, err);

	if (ret)
		return ret;
	*status = be_get32(buf);
	if (*status < 1 || *status > max)
		return bad_status(what, *status, err);
	return 0;
}

int sonde_live_create_status_decode(const uint8_t *buf, size_t len,
				    uint32_t *status, struct sonde_error *err)
{
	return status_decode("create-session reply", buf, len,
			     SONDE_LIVE_CREATE_ERR, status, err);
}

int sonde_live_detach_status_decode(const uint8_t *buf, size_t len,
				    uint32_t *status, struct sonde_error *err)
{
	return status_decode("detach-session reply", buf, len,
			     SONDE_LIVE_DETACH_ERR, status, err);
}

void sonde_live_count_encode(uint32_t count, uint8_t *buf)
{
	be_put32(buf, count);
}

int sonde_live_count_decode(const uint8_t *buf, size_t len, uint32_t *count,
			    struct sonde_error *err)
{
	int ret = check_size("list-sessions reply", len, SONDE_LIVE_COUNT_SIZE,
			     err);

	if (ret)
		return ret;
	*count = be_get32(buf);
	if (*count > SONDE_LIVE_SESSIONS_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live list-sessions reply: %u sessions (at most %u)",
				       *count, SONDE_LIVE_SESSIONS_MAX);
	return 0;
}

size_t sonde_live_session_wire_size(uint32_t minor, const uint8_t *buf,
				    size_t len)
{
	uint64_t names;

	if (minor < SONDE_LIVE_MINOR_NAMES)
		return SONDE_LIVE_SESSION_2_4_SIZE;
	if (len < SONDE_LIVE_SESSION_2_15_SIZE)
		return SONDE_LIVE_SESSION_2_15_SIZE;
	/* Lengths beyond the limit are refused by the decoder; asking for
	 * no more than the limit keeps a reader from allocating for them. */
	names = (uint64_t)be_get32(buf + 20) + be_get32(buf + 24);
	if (names > 2 * SONDE_LIVE_NAME_MAX)
		names = 2 * SONDE_LIVE_NAME_MAX + 1;
	return SONDE_LIVE_SESSION_2_15_SIZE + (size_t)names;
}

size_t sonde_live_session_max_size(uint32_t minor)
{
	return minor < SONDE_LIVE_MINOR_NAMES ? SONDE_LIVE_SESSION_2_4_SIZE :
	       SONDE_LIVE_SESSION_2_15_SIZE + 2 * SONDE_LIVE_NAME_MAX;
}

size_t sonde_live_session_encode(uint32_t minor,
				 const struct sonde_live_session *s,
				 uint8_t *buf)
{
	size_t host, name;

	be_put64(buf, s->id);
	be_put32(buf + 8, s->live_timer);
	be_put32(buf + 12, s->clients);
	be_put32(buf + 16, s->streams);
	if (minor < SONDE_LIVE_MINOR_NAMES) {
		put_padded(buf + 20, SONDE_LIVE_HOSTNAME_FIELD, s->hostname);
		put_padded(buf + 84, SONDE_LIVE_SESSION_NAME_FIELD,
			  s->session_name);
		return SONDE_LIVE_SESSION_2_4_SIZE;
	}
	host = strnlen(s->hostname, SONDE_LIVE_NAME_MAX);
	name = strnlen(s->session_name, SONDE_LIVE_NAME_MAX);
	be_put32(buf + 20, (uint32_t)host);
	be_put32(buf + 24, (uint32_t)name);
	be_put32(buf + 28, s->trace_format);
	memcpy(buf + 32, s->hostname, host);
	memcpy(buf + 32 + host, s->session_name, name);
	return SONDE_LIVE_SESSION_2_15_SIZE + host + name;
}

/* A 2.15 name: counted bytes that must not hold a NUL. */
static int get_counted(char *dst, const uint8_t *p, uint32_t n,
		       const char *what, struct sonde_error *err)
{
	if (memchr(p, '\0', n))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live session entry: %s holds a NUL byte",
				       what);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

int sonde_live_session_decode(uint32_t minor, const uint8_t *buf, size_t len,
			      struct sonde_live_session *out,
			      struct sonde_error *err)
{
	uint32_t host, name;
	int ret;

	memset(out, 0, sizeof(*out));
	if (minor < SONDE_LIVE_MINOR_NAMES) {
		ret = check_size("session entry", len,
				 SONDE_LIVE_SESSION_2_4_SIZE, err);
		if (ret)
			return ret;
	} else if (len < SONDE_LIVE_SESSION_2_15_SIZE) {
		return check_size("session entry", len,
				  SONDE_LIVE_SESSION_2_15_SIZE, err);
	}
	out->id = be_get64(buf);
	out->live_timer = be_get32(buf + 8);
	out->clients = be_get32(buf + 12);
	out->streams = be_get32(buf + 16);
	if (minor < SONDE_LIVE_MINOR_NAMES) {
		get_padded(out->hostname, buf + 20, SONDE_LIVE_HOSTNAME_FIELD);
		get_padded(out->session_name, buf + 84,
			  SONDE_LIVE_SESSION_NAME_FIELD);
		return 0;
	}
	host = be_get32(buf + 20);
	name = be_get32(buf + 24);
	out->trace_format = be_get32(buf + 28);
	if (host > SONDE_LIVE_NAME_MAX || name > SONDE_LIVE_NAME_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live session entry: name lengths %u and %u (at most %u)",
				       host, name, SONDE_LIVE_NAME_MAX);
	ret = check_size("session entry", len,
			 SONDE_LIVE_SESSION_2_15_SIZE + (size_t)host + name, err);
	if (!ret)
		ret = get_counted(out->hostname, buf + 32, host, "hostname", err);
	if (!ret)
		ret = get_counted(out->session_name, buf + 32 + host, name,
				  "session name", err);
	return ret;
}

void sonde_live_streams_reply_encode(const struct sonde_live_streams_reply *r,
				     uint8_t *buf)
{
	be_put32(buf, r->status);
	be_put32(buf + 4, r->count);
}

static int streams_reply_decode(const char *what, const uint8_t *buf,
				size_t len, uint32_t max_status,
				struct sonde_live_streams_reply *out,
				struct sonde_error *err)
{
	int ret = check_size(what, len, SONDE_LIVE_STREAMS_SIZE, err);

	if (ret)
		return ret;
	out->status = be_get32(buf);
	out->count = be_get32(buf + 4);
	if (out->status < 1 || out->status > max_status)
		return bad_status(what, out->status, err);
	/* Both tables have OK = 1. */
	if (out->status != SONDE_LIVE_ATTACH_OK && out->count)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live %s: status %u announces %u streams",
				       what, out->status, out->count);
	if (out->count > SONDE_LIVE_STREAMS_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live %s: %u streams (at most %u)", what,
				       out->count, SONDE_LIVE_STREAMS_MAX);
	return 0;
}

int sonde_live_attach_reply_decode(const uint8_t *buf, size_t len,
				   struct sonde_live_streams_reply *out,
				   struct sonde_error *err)
{
	return streams_reply_decode("attach-session reply", buf, len,
				    SONDE_LIVE_ATTACH_NO_SESSION, out, err);
}

int sonde_live_new_streams_reply_decode(const uint8_t *buf, size_t len,
					struct sonde_live_streams_reply *out,
					struct sonde_error *err)
{
	return streams_reply_decode("get-new-streams reply", buf, len,
				    SONDE_LIVE_NEW_STREAMS_HUP, out, err);
}

void sonde_live_stream_encode(const struct sonde_live_stream *s, uint8_t *buf)
{
	be_put64(buf, s->id);
	be_put64(buf + 8, s->ctf_trace_id);
	be_put32(buf + 16, s->metadata ? 1 : 0);
	put_padded(buf + 20, SONDE_LIVE_PATH_FIELD, s->path_name);
	put_padded(buf + 20 + SONDE_LIVE_PATH_FIELD, SONDE_LIVE_CHANNEL_FIELD,
		  s->channel_name);
}

int sonde_live_stream_decode(const uint8_t *buf, size_t len,
			     struct sonde_live_stream *out,
			     struct sonde_error *err)
{
	int ret = check_size("stream record", len, SONDE_LIVE_STREAM_SIZE, err);

	if (ret)
		return ret;
	out->id = be_get64(buf);
	out->ctf_trace_id = be_get64(buf + 8);
	/* babeltrace2 tests non-zero: so do we. */
	out->metadata = be_get32(buf + 16) != 0;
	get_padded(out->path_name, buf + 20, SONDE_LIVE_PATH_FIELD);
	get_padded(out->channel_name, buf + 20 + SONDE_LIVE_PATH_FIELD,
		  SONDE_LIVE_CHANNEL_FIELD);
	return 0;
}

void sonde_live_index_encode(const struct sonde_live_index *x, uint8_t *buf)
{
	be_put64(buf, x->offset);
	be_put64(buf + 8, x->packet_size);
	be_put64(buf + 16, x->content_size);
	be_put64(buf + 24, x->timestamp_begin);
	be_put64(buf + 32, x->timestamp_end);
	be_put64(buf + 40, x->events_discarded);
	be_put64(buf + 48, x->stream_id);
	be_put32(buf + 56, x->status);
	be_put32(buf + 60, x->flags);
}

int sonde_live_index_decode(const uint8_t *buf, size_t len,
			    struct sonde_live_index *out,
			    struct sonde_error *err)
{
	int ret = check_size("get-next-index reply", len, SONDE_LIVE_INDEX_SIZE,
			     err);

	if (ret)
		return ret;
	out->offset = be_get64(buf);
	out->packet_size = be_get64(buf + 8);
	out->content_size = be_get64(buf + 16);
	out->timestamp_begin = be_get64(buf + 24);
	out->timestamp_end = be_get64(buf + 32);
	out->events_discarded = be_get64(buf + 40);
	out->stream_id = be_get64(buf + 48);
	out->status = be_get32(buf + 56);
	out->flags = be_get32(buf + 60);
	if (out->status < 1 || out->status > SONDE_LIVE_INDEX_EOF)
		return bad_status("get-next-index reply", out->status, err);
	if (out->status != SONDE_LIVE_INDEX_OK)
		return 0;
	if (!out->packet_size || out->packet_size % 8 ||
	    out->packet_size / 8 > SONDE_LIVE_PACKET_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-next-index reply: packet size %llu bits is not a whole number of bytes up to %u",
				       (unsigned long long)out->packet_size,
				       SONDE_LIVE_PACKET_MAX);
	if (out->content_size > out->packet_size)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-next-index reply: content size %llu bits exceeds packet size %llu bits",
				       (unsigned long long)out->content_size,
				       (unsigned long long)out->packet_size);
	if (out->offset > UINT64_MAX - out->packet_size / 8)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-next-index reply: packet at offset %llu overflows",
				       (unsigned long long)out->offset);
	return 0;
}

void sonde_live_packet_reply_encode(const struct sonde_live_packet_reply *r,
				    uint8_t *buf)
{
	be_put32(buf, r->status);
	be_put32(buf + 4, r->len);
	be_put32(buf + 8, r->flags);
}

int sonde_live_packet_reply_decode(const uint8_t *buf, size_t len,
				   struct sonde_live_packet_reply *out,
				   struct sonde_error *err)
{
	int ret = check_size("get-packet reply", len, SONDE_LIVE_PACKET_SIZE,
			     err);

	if (ret)
		return ret;
	out->status = be_get32(buf);
	out->len = be_get32(buf + 4);
	out->flags = be_get32(buf + 8);
	if (out->status < 1 || out->status > SONDE_LIVE_PACKET_EOF)
		return bad_status("get-packet reply", out->status, err);
	if (out->status == SONDE_LIVE_PACKET_OK &&
	    (!out->len || out->len > SONDE_LIVE_PACKET_MAX))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-packet reply: %u bytes (1 to %u)",
				       out->len, SONDE_LIVE_PACKET_MAX);
	if (out->status != SONDE_LIVE_PACKET_OK && out->len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-packet reply: status %u with %u bytes",
				       out->status, out->len);
	return 0;
}

void sonde_live_metadata_reply_encode(const struct sonde_live_metadata_reply *r,
				      uint8_t *buf)
{
	be_put64(buf, r->len);
	be_put32(buf + 8, r->status);
}

int sonde_live_metadata_reply_decode(const uint8_t *buf, size_t len,
				     struct sonde_live_metadata_reply *out,
				     struct sonde_error *err)
{
	int ret = check_size("get-metadata reply", len,
			     SONDE_LIVE_METADATA_SIZE, err);

	if (ret)
		return ret;
	out->len = be_get64(buf);
	out->status = be_get32(buf + 8);
	if (out->status < 1 || out->status > SONDE_LIVE_METADATA_ERR)
		return bad_status("get-metadata reply", out->status, err);
	/* OK with 0 bytes means "retry" (relay mid-clear); allowed. */
	if (out->len > SONDE_LIVE_METADATA_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-metadata reply: %llu bytes (at most %u)",
				       (unsigned long long)out->len,
				       SONDE_LIVE_METADATA_MAX);
	if (out->status != SONDE_LIVE_METADATA_OK && out->len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live get-metadata reply: status %u with %llu bytes",
				       out->status, (unsigned long long)out->len);
	return 0;
}
