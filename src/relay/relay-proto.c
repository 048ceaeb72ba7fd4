/*
 * Relayd streaming protocol codec.  Decoders check the payload size for
 * the negotiated minor before reading a field, then every announced length
 * against both its limit and the bytes actually there, so nothing a peer
 * sends makes the reader step outside the payload it was given.
 */
#include "relay/relay-proto.h"

#include <string.h>

#include "common/be.h"

static const char *const cmd_names[] = {
	[SONDE_RELAY_ADD_STREAM] = "add-stream",
	[SONDE_RELAY_CREATE_SESSION] = "create-session",
	[SONDE_RELAY_START_DATA] = "start-data",
	[SONDE_RELAY_UPDATE_SYNC_INFO] = "update-sync-info",
	[SONDE_RELAY_VERSION] = "version",
	[SONDE_RELAY_SEND_METADATA] = "send-metadata",
	[SONDE_RELAY_CLOSE_STREAM] = "close-stream",
	[SONDE_RELAY_DATA_PENDING] = "data-pending",
	[SONDE_RELAY_QUIESCENT_CONTROL] = "quiescent-control",
	[SONDE_RELAY_BEGIN_DATA_PENDING] = "begin-data-pending",
	[SONDE_RELAY_END_DATA_PENDING] = "end-data-pending",
	[SONDE_RELAY_ADD_INDEX] = "add-index",
	[SONDE_RELAY_SEND_INDEX] = "send-index",
	[SONDE_RELAY_CLOSE_INDEX] = "close-index",
	[SONDE_RELAY_LIST_SESSIONS] = "list-sessions",
	[SONDE_RELAY_STREAMS_SENT] = "streams-sent",
	[SONDE_RELAY_RESET_METADATA] = "reset-metadata",
	[SONDE_RELAY_ROTATE_STREAMS] = "rotate-streams",
	[SONDE_RELAY_CREATE_TRACE_CHUNK] = "create-trace-chunk",
	[SONDE_RELAY_CLOSE_TRACE_CHUNK] = "close-trace-chunk",
	[SONDE_RELAY_TRACE_CHUNK_EXISTS] = "trace-chunk-exists",
	[SONDE_RELAY_GET_CONFIGURATION] = "get-configuration",
};

const char *sonde_relay_cmd_name(uint32_t cmd)
{
	if (cmd < sizeof(cmd_names) / sizeof(cmd_names[0]) && cmd_names[cmd])
		return cmd_names[cmd];
	return "unknown";
}

/* Headers -------------------------------------------------------------------- */

void sonde_relay_header_encode(const struct sonde_relay_header *h, uint8_t *buf)
{
	be_put64(buf, h->circuit_id);
	be_put64(buf + 8, h->data_size);
	be_put32(buf + 16, h->cmd);
	be_put32(buf + 20, h->cmd_version);
}

int sonde_relay_header_decode(const uint8_t *buf, size_t len,
			      struct sonde_relay_header *out,
			      struct sonde_error *err)
{
	if (len < SONDE_RELAY_HEADER_SIZE)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay header: %zu bytes instead of %d",
				       len, SONDE_RELAY_HEADER_SIZE);
	out->circuit_id = be_get64(buf);
	out->data_size = be_get64(buf + 8);
	out->cmd = be_get32(buf + 16);
	out->cmd_version = be_get32(buf + 20);
	if (out->data_size > SONDE_RELAY_PAYLOAD_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s: payload of %llu bytes (at most %u)",
				       sonde_relay_cmd_name(out->cmd),
				       (unsigned long long)out->data_size,
				       SONDE_RELAY_PAYLOAD_MAX);
	return 0;
}

void sonde_relay_data_header_encode(const struct sonde_relay_data_header *h,
				    uint8_t *buf)
{
	be_put64(buf, h->circuit_id);
	be_put64(buf + 8, h->stream_id);
	be_put64(buf + 16, h->net_seq_num);
	be_put32(buf + 24, h->data_size);
	be_put32(buf + 28, h->padding_size);
}

int sonde_relay_data_header_decode(const uint8_t *buf, size_t len,
				   struct sonde_relay_data_header *out,
				   struct sonde_error *err)
{
	if (len < SONDE_RELAY_DATA_HEADER_SIZE)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay data header: %zu bytes instead of %d",
				       len, SONDE_RELAY_DATA_HEADER_SIZE);
	out->circuit_id = be_get64(buf);
	out->stream_id = be_get64(buf + 8);
	out->net_seq_num = be_get64(buf + 16);
	out->data_size = be_get32(buf + 24);
	out->padding_size = be_get32(buf + 28);
	if ((uint64_t)out->data_size + out->padding_size > SONDE_RELAY_PAYLOAD_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay data: packet of %llu bytes (at most %u)",
				       (unsigned long long)out->data_size +
					       out->padding_size,
				       SONDE_RELAY_PAYLOAD_MAX);
	return 0;
}

/* Requests ------------------------------------------------------------------ */

static size_t create_session_size(uint32_t minor)
{
	if (minor < SONDE_RELAY_MINOR_SESSION_2_4)
		return 0;
	if (minor < SONDE_RELAY_MINOR_CHUNKS)
		return 327;
	return minor < SONDE_RELAY_MINOR_FORMAT ? 59 : 63;
}

static size_t add_stream_size(uint32_t minor)
{
	if (minor < SONDE_RELAY_MINOR_ADD_STREAM_2_2)
		return 4360;
	return minor < SONDE_RELAY_MINOR_CHUNKS ? 4376 : 32;
}

static size_t index_size(uint32_t minor)
{
	return minor < SONDE_RELAY_MINOR_INDEX_1_1 ? 64 : 80;
}

/* Appends a length-prefixed name (the 2.11 layouts): its bytes and NUL. */
static size_t put_name(uint8_t *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return n;
}

static bool fits(const char *s, size_t max)
{
	return strnlen(s, max) < max;
}

static size_t encode_create_session(uint32_t minor,
				    const struct sonde_relay_create_session *c,
				    uint8_t *p)
{
	size_t off;

	if (minor < SONDE_RELAY_MINOR_SESSION_2_4)
		return 0;
	if (minor < SONDE_RELAY_MINOR_CHUNKS) {
		put_padded(p, 255, c->session_name);
		put_padded(p + 255, 64, c->hostname);
		be_put32(p + 319, c->live_timer);
		be_put32(p + 323, c->snapshot);
		return 327;
	}
	be_put32(p, (uint32_t)strlen(c->session_name) + 1);
	be_put32(p + 4, (uint32_t)strlen(c->hostname) + 1);
	be_put32(p + 8, (uint32_t)strlen(c->base_path) + 1);
	be_put32(p + 12, c->live_timer);
	p[16] = c->snapshot;
	p[17] = c->name_contains_creation_time;
	memcpy(p + 18, c->sessiond_uuid, 16);
	be_put64(p + 34, c->session_id);
	be_put64(p + 42, c->creation_time);
	p[50] = c->has_current_chunk_id;
	be_put64(p + 51, c->has_current_chunk_id ? c->current_chunk_id : 0);
	off = 59;
	if (minor >= SONDE_RELAY_MINOR_FORMAT) {
		be_put32(p + 59, c->trace_format);
		off = 63;
	}
	off += put_name(p + off, c->session_name);
	off += put_name(p + off, c->hostname);
	off += put_name(p + off, c->base_path);
	return off;
}

static size_t encode_add_stream(uint32_t minor,
				const struct sonde_relay_add_stream *a,
				uint8_t *p)
{
	size_t off;

	if (minor < SONDE_RELAY_MINOR_CHUNKS) {
		put_padded(p, 264, a->channel_name);
		put_padded(p + 264, 4096, a->pathname);
		if (minor < SONDE_RELAY_MINOR_ADD_STREAM_2_2)
			return 4360;
		be_put64(p + 4360, a->tracefile_size);
		be_put64(p + 4368, a->tracefile_count);
		return 4376;
	}
	be_put32(p, (uint32_t)strlen(a->channel_name) + 1);
	be_put32(p + 4, (uint32_t)strlen(a->pathname) + 1);
	be_put64(p + 8, a->tracefile_size);
	be_put64(p + 16, a->tracefile_count);
	be_put64(p + 24, a->trace_chunk_id);
	off = 32;
	off += put_name(p + off, a->channel_name);
	off += put_name(p + off, a->pathname);
	return off;
}

static void encode_index(uint32_t minor, const struct sonde_relay_index *x,
			 uint8_t *p)
{
	be_put64(p, x->relay_stream_id);
	be_put64(p + 8, x->net_seq_num);
	be_put64(p + 16, x->packet_size);
	be_put64(p + 24, x->content_size);
	be_put64(p + 32, x->timestamp_begin);
	be_put64(p + 40, x->timestamp_end);
	be_put64(p + 48, x->events_discarded);
	be_put64(p + 56, x->stream_id);
	if (minor >= SONDE_RELAY_MINOR_INDEX_1_1) {
		be_put64(p + 64, x->stream_instance_id);
		be_put64(p + 72, x->packet_seq_num);
	}
}

/* Checks that every name fits before anything is written. */
static bool names_fit(const struct sonde_relay_request *req)
{
	switch (req->cmd) {
	case SONDE_RELAY_CREATE_SESSION:
		return fits(req->u.create_session.session_name,
			    SONDE_RELAY_SESSION_NAME_MAX) &&
		       fits(req->u.create_session.hostname,
			    SONDE_RELAY_HOSTNAME_MAX) &&
		       fits(req->u.create_session.base_path, SONDE_RELAY_PATH_MAX);
	case SONDE_RELAY_ADD_STREAM:
		return fits(req->u.add_stream.channel_name,
			    SONDE_RELAY_CHANNEL_NAME_MAX) &&
		       fits(req->u.add_stream.pathname, SONDE_RELAY_PATH_MAX);
	case SONDE_RELAY_CREATE_TRACE_CHUNK:
		return fits(req->u.create_chunk.override_name,
			    SONDE_RELAY_CHUNK_NAME_MAX);
	default:
		return true;
	}
}

size_t sonde_relay_request_encode(uint32_t minor,
				  const struct sonde_relay_request *req,
				  uint8_t *buf)
{
	struct sonde_relay_header h = { .cmd = req->cmd };
	uint8_t *p = buf + SONDE_RELAY_HEADER_SIZE;
	uint64_t tail = 0;
	size_t n = 0;

	if (!names_fit(req))
		return 0;
	switch (req->cmd) {
	case SONDE_RELAY_VERSION:
		be_put32(p, req->u.version.major);
		be_put32(p + 4, req->u.version.minor);
		n = 8;
		break;
	case SONDE_RELAY_CREATE_SESSION:
		n = encode_create_session(minor, &req->u.create_session, p);
		break;
	case SONDE_RELAY_ADD_STREAM:
		n = encode_add_stream(minor, &req->u.add_stream, p);
		break;
	case SONDE_RELAY_START_DATA:
	case SONDE_RELAY_STREAMS_SENT:
		break;
	case SONDE_RELAY_SEND_METADATA:
		be_put64(p, req->u.metadata.stream_id);
		be_put32(p + 8, req->u.metadata.padding_size);
		n = SONDE_RELAY_METADATA_FIXED_SIZE;
		tail = req->u.metadata.len;
		break;
	case SONDE_RELAY_SEND_INDEX:
		encode_index(minor, &req->u.index, p);
		n = index_size(minor);
		break;
	case SONDE_RELAY_CLOSE_STREAM:
	case SONDE_RELAY_DATA_PENDING:
		be_put64(p, req->u.stream_seq.stream_id);
		be_put64(p + 8, req->u.stream_seq.last_net_seq_num);
		n = 16;
		break;
	case SONDE_RELAY_QUIESCENT_CONTROL:
	case SONDE_RELAY_BEGIN_DATA_PENDING:
	case SONDE_RELAY_END_DATA_PENDING:
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
	case SONDE_RELAY_GET_CONFIGURATION:
		be_put64(p, req->u.id);
		n = 8;
		break;
	case SONDE_RELAY_RESET_METADATA:
		be_put64(p, req->u.reset_metadata.stream_id);
		be_put64(p + 8, req->u.reset_metadata.version);
		n = 16;
		break;
	case SONDE_RELAY_ROTATE_STREAMS:
		be_put32(p, req->u.rotate.count);
		p[4] = req->u.rotate.has_new_chunk;
		be_put64(p + 5, req->u.rotate.has_new_chunk ?
				     req->u.rotate.new_chunk_id : 0);
		n = 13;
		tail = (uint64_t)req->u.rotate.count * SONDE_RELAY_ROTATE_POSITION_SIZE;
		break;
	case SONDE_RELAY_CREATE_TRACE_CHUNK: {
		const char *name = req->u.create_chunk.override_name;

		be_put64(p, req->u.create_chunk.chunk_id);
		be_put64(p + 8, req->u.create_chunk.creation_time);
		be_put32(p + 16, name[0] ? (uint32_t)strlen(name) + 1 : 0);
		n = 20 + (name[0] ? put_name(p + 20, name) : 0);
		break;
	}
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		be_put64(p, req->u.close_chunk.chunk_id);
		be_put64(p + 8, req->u.close_chunk.close_time);
		p[16] = req->u.close_chunk.has_command;
		be_put32(p + 17, req->u.close_chunk.has_command ?
				      req->u.close_chunk.command : 0);
		n = 21;
		break;
	default:
		return 0;
	}
	h.data_size = n + tail;
	sonde_relay_header_encode(&h, buf);
	return SONDE_RELAY_HEADER_SIZE + n;
}

static int short_payload(uint32_t cmd, size_t len, size_t want,
			 struct sonde_error *err)
{
	return sonde_error_set(err, SONDE_EFORMAT,
			       "relay %s: payload of %zu bytes, %zu expected",
			       sonde_relay_cmd_name(cmd), len, want);
}

/*
 * A name of the 2.11 layouts, `n` bytes announced (NUL included) at `p`:
 * it must hold exactly one NUL, its last byte, and fit `max`.
 */
static int get_name(const char *what, char *dst, const uint8_t *p, uint32_t n,
		    size_t max, struct sonde_error *err)
{
	if (n == 0 || n > max)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s: length %u out of 1..%zu", what,
				       n, max);
	if (p[n - 1] != '\0' || strlen((const char *)p) != n - 1)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s: not one NUL-terminated string",
				       what);
	memcpy(dst, p, n);
	return 0;
}

static int decode_create_session(uint32_t minor, const uint8_t *p, size_t len,
				 struct sonde_relay_create_session *c,
				 struct sonde_error *err)
{
	static const uint8_t zero_uuid[16];
	size_t fixed = create_session_size(minor);
	uint32_t name_len, host_len, base_len;
	size_t off;
	int ret;

	memset(c, 0, sizeof(*c));
	c->trace_format = SONDE_RELAY_FORMAT_CTF_1_8;
	if (len < fixed)
		return short_payload(SONDE_RELAY_CREATE_SESSION, len, fixed, err);
	if (minor < SONDE_RELAY_MINOR_SESSION_2_4)
		return 0;
	if (minor < SONDE_RELAY_MINOR_CHUNKS) {
		get_padded(c->session_name, p, 255);
		get_padded(c->hostname, p + 255, 64);
		c->live_timer = be_get32(p + 319);
		c->snapshot = be_get32(p + 323) != 0;
		return 0;
	}
	name_len = be_get32(p);
	host_len = be_get32(p + 4);
	base_len = be_get32(p + 8);
	c->live_timer = be_get32(p + 12);
	if (p[16] > 1 || p[17] > 1 || p[50] > 1)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay create-session: boolean byte not 0 or 1");
	c->snapshot = p[16];
	c->name_contains_creation_time = p[17];
	memcpy(c->sessiond_uuid, p + 18, 16);
	c->session_id = be_get64(p + 34);
	c->creation_time = be_get64(p + 42);
	c->has_current_chunk_id = p[50];
	c->current_chunk_id = c->has_current_chunk_id ? be_get64(p + 51) : 0;
	if (minor >= SONDE_RELAY_MINOR_FORMAT) {
		c->trace_format = be_get32(p + 59);
		if (c->trace_format != SONDE_RELAY_FORMAT_CTF_1_8 &&
		    c->trace_format != SONDE_RELAY_FORMAT_CTF_2)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay create-session: unknown trace format %u",
					       c->trace_format);
	}
	if (!memcmp(c->sessiond_uuid, zero_uuid, sizeof(zero_uuid)))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay create-session: all-zero sessiond uuid");
	/* Each length is at most 4096, so the sum cannot wrap. */
	if (name_len > SONDE_RELAY_PATH_MAX || host_len > SONDE_RELAY_PATH_MAX ||
	    base_len > SONDE_RELAY_PATH_MAX ||
	    len - fixed < (size_t)name_len + host_len + base_len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay create-session: names of %u+%u+%u bytes in a %zu-byte payload",
				       name_len, host_len, base_len, len);
	off = fixed;
	ret = get_name("session name", c->session_name, p + off, name_len,
		       SONDE_RELAY_SESSION_NAME_MAX, err);
	off += name_len;
	if (!ret)
		ret = get_name("hostname", c->hostname, p + off, host_len,
			       SONDE_RELAY_HOSTNAME_MAX, err);
	off += host_len;
	if (!ret)
		ret = get_name("base path", c->base_path, p + off, base_len,
			       SONDE_RELAY_PATH_MAX, err);
	return ret;
}

static int decode_add_stream(uint32_t minor, const uint8_t *p, size_t len,
			     struct sonde_relay_add_stream *a,
			     struct sonde_error *err)
{
	size_t fixed = add_stream_size(minor);
	uint32_t chan_len, path_len;
	int ret;

	memset(a, 0, sizeof(*a));
	if (len < fixed)
		return short_payload(SONDE_RELAY_ADD_STREAM, len, fixed, err);
	if (minor < SONDE_RELAY_MINOR_CHUNKS) {
		get_padded(a->channel_name, p, 264);
		get_padded(a->pathname, p + 264, 4096);
		if (minor >= SONDE_RELAY_MINOR_ADD_STREAM_2_2) {
			a->tracefile_size = be_get64(p + 4360);
			a->tracefile_count = be_get64(p + 4368);
		}
		return 0;
	}
	chan_len = be_get32(p);
	path_len = be_get32(p + 4);
	a->tracefile_size = be_get64(p + 8);
	a->tracefile_count = be_get64(p + 16);
	a->trace_chunk_id = be_get64(p + 24);
	if (chan_len > SONDE_RELAY_PATH_MAX || path_len > SONDE_RELAY_PATH_MAX ||
	    len - fixed < (size_t)chan_len + path_len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay add-stream: names of %u+%u bytes in a %zu-byte payload",
				       chan_len, path_len, len);
	ret = get_name("channel name", a->channel_name, p + fixed, chan_len,
		       SONDE_RELAY_CHANNEL_NAME_MAX, err);
	if (!ret)
		ret = get_name("path name", a->pathname, p + fixed + chan_len,
			       path_len, SONDE_RELAY_PATH_MAX, err);
	return ret;
}

static void decode_index(uint32_t minor, const uint8_t *p,
			 struct sonde_relay_index *x)
{
	x->relay_stream_id = be_get64(p);
	x->net_seq_num = be_get64(p + 8);
	x->packet_size = be_get64(p + 16);
	x->content_size = be_get64(p + 24);
	x->timestamp_begin = be_get64(p + 32);
	x->timestamp_end = be_get64(p + 40);
	x->events_discarded = be_get64(p + 48);
	x->stream_id = be_get64(p + 56);
	x->stream_instance_id = 0;
	x->packet_seq_num = 0;
	if (minor >= SONDE_RELAY_MINOR_INDEX_1_1) {
		x->stream_instance_id = be_get64(p + 64);
		x->packet_seq_num = be_get64(p + 72);
	}
}

/* The header size of a ROTATE_STREAMS payload of `len` bytes: 13 (packed),
 * 16 or 20 (the optional chunk id aligned by the producer's ABI), the one
 * for which the positions fill the rest exactly; 0 if none does. */
static size_t rotate_header_size(const uint8_t *p, size_t len)
{
	static const size_t sizes[] = { 13, 16, 20 };
	uint64_t count;

	if (len < 13)
		return 0;
	count = be_get32(p);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (len >= sizes[i] &&
		    len - sizes[i] == count * SONDE_RELAY_ROTATE_POSITION_SIZE)
			return sizes[i];
	return 0;
}

static int decode_rotate(const uint8_t *p, size_t len,
			 struct sonde_relay_request *out,
			 struct sonde_error *err)
{
	size_t hdr = rotate_header_size(p, len);

	if (!hdr)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay rotate-streams: %zu bytes do not hold a header and %u positions",
				       len, len >= 4 ? be_get32(p) : 0);
	out->u.rotate.count = be_get32(p);
	if (out->u.rotate.count > SONDE_RELAY_ROTATE_STREAMS_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay rotate-streams: %u streams (at most %u)",
				       out->u.rotate.count,
				       SONDE_RELAY_ROTATE_STREAMS_MAX);
	if (p[4] > 1)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay rotate-streams: boolean byte not 0 or 1");
	out->u.rotate.has_new_chunk = p[4];
	/* The chunk id ends the header, whatever padding preceded it. */
	out->u.rotate.new_chunk_id = p[4] ? be_get64(p + hdr - 8) : 0;
	out->u.rotate.positions = p + hdr;
	return 0;
}

static int decode_create_chunk(const uint8_t *p, size_t len,
			       struct sonde_relay_request *out,
			       struct sonde_error *err)
{
	uint32_t name_len;

	if (len < 20)
		return short_payload(SONDE_RELAY_CREATE_TRACE_CHUNK, len, 20, err);
	out->u.create_chunk.chunk_id = be_get64(p);
	out->u.create_chunk.creation_time = be_get64(p + 8);
	out->u.create_chunk.override_name[0] = '\0';
	name_len = be_get32(p + 16);
	if (name_len == 0)
		return 0;
	if (name_len > len - 20)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay create-trace-chunk: name of %u bytes in a %zu-byte payload",
				       name_len, len);
	return get_name("chunk name", out->u.create_chunk.override_name, p + 20,
			name_len, SONDE_RELAY_CHUNK_NAME_MAX, err);
}

int sonde_relay_request_decode(uint32_t minor, uint32_t cmd,
			       const uint8_t *p, size_t len,
			       struct sonde_relay_request *out,
			       struct sonde_error *err)
{
	size_t want = 0;

	out->cmd = cmd;
	switch (cmd) {
	case SONDE_RELAY_CREATE_SESSION:
		return decode_create_session(minor, p, len,
					     &out->u.create_session, err);
	case SONDE_RELAY_ADD_STREAM:
		return decode_add_stream(minor, p, len, &out->u.add_stream, err);
	case SONDE_RELAY_ROTATE_STREAMS:
		return decode_rotate(p, len, out, err);
	case SONDE_RELAY_CREATE_TRACE_CHUNK:
		return decode_create_chunk(p, len, out, err);
	case SONDE_RELAY_START_DATA:
	case SONDE_RELAY_STREAMS_SENT:
		return 0;
	case SONDE_RELAY_VERSION:
	case SONDE_RELAY_QUIESCENT_CONTROL:
	case SONDE_RELAY_BEGIN_DATA_PENDING:
	case SONDE_RELAY_END_DATA_PENDING:
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
	case SONDE_RELAY_GET_CONFIGURATION:
		want = 8;
		break;
	case SONDE_RELAY_SEND_METADATA:
		want = SONDE_RELAY_METADATA_FIXED_SIZE;
		break;
	case SONDE_RELAY_CLOSE_STREAM:
	case SONDE_RELAY_DATA_PENDING:
	case SONDE_RELAY_RESET_METADATA:
		want = 16;
		break;
	case SONDE_RELAY_SEND_INDEX:
		want = index_size(minor);
		break;
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		want = 21;
		break;
	default:
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "relay command %u (%s) not supported", cmd,
				       sonde_relay_cmd_name(cmd));
	}
	if (len < want)
		return short_payload(cmd, len, want, err);
	switch (cmd) {
	case SONDE_RELAY_VERSION:
		out->u.version.major = be_get32(p);
		out->u.version.minor = be_get32(p + 4);
		break;
	case SONDE_RELAY_SEND_METADATA:
		out->u.metadata.stream_id = be_get64(p);
		out->u.metadata.padding_size = be_get32(p + 8);
		out->u.metadata.len = len - want;
		out->u.metadata.data = len > want ? p + want : NULL;
		break;
	case SONDE_RELAY_SEND_INDEX:
		decode_index(minor, p, &out->u.index);
		break;
	case SONDE_RELAY_CLOSE_STREAM:
	case SONDE_RELAY_DATA_PENDING:
		out->u.stream_seq.stream_id = be_get64(p);
		out->u.stream_seq.last_net_seq_num = be_get64(p + 8);
		break;
	case SONDE_RELAY_RESET_METADATA:
		out->u.reset_metadata.stream_id = be_get64(p);
		out->u.reset_metadata.version = be_get64(p + 8);
		break;
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		out->u.close_chunk.chunk_id = be_get64(p);
		out->u.close_chunk.close_time = be_get64(p + 8);
		if (p[16] > 1)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay close-trace-chunk: boolean byte not 0 or 1");
		out->u.close_chunk.has_command = p[16];
		out->u.close_chunk.command = p[16] ? be_get32(p + 17) : 0;
		if (out->u.close_chunk.command > SONDE_RELAY_CHUNK_DELETE)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay close-trace-chunk: unknown close command %u",
					       out->u.close_chunk.command);
		break;
	default:
		out->u.id = be_get64(p);
		break;
	}
	return 0;
}

void sonde_relay_rotate_position(const struct sonde_relay_request *rotate,
				 uint32_t i, uint64_t *stream_id,
				 uint64_t *rotate_at_seq_num)
{
	const uint8_t *p = rotate->u.rotate.positions +
			   (size_t)i * SONDE_RELAY_ROTATE_POSITION_SIZE;

	*stream_id = be_get64(p);
	*rotate_at_seq_num = be_get64(p + 8);
}

void sonde_relay_rotate_position_encode(uint64_t stream_id,
					uint64_t rotate_at_seq_num,
					uint8_t *buf)
{
	be_put64(buf, stream_id);
	be_put64(buf + 8, rotate_at_seq_num);
}

/* Replies ------------------------------------------------------------------- */

static size_t reply_fixed_size(uint32_t minor, uint32_t cmd)
{
	switch (cmd) {
	case SONDE_RELAY_SEND_METADATA:
		return 0;
	case SONDE_RELAY_VERSION:
		return 8;
	case SONDE_RELAY_CREATE_SESSION:
		return minor < SONDE_RELAY_MINOR_CHUNKS ? 12 : 16;
	case SONDE_RELAY_ADD_STREAM:
	case SONDE_RELAY_GET_CONFIGURATION:
		return 12;
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		return 8;
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
		return 5;
	default:
		return 4;
	}
}

/* The path length a path-carrying reply announces, 0 if it has none. */
static uint32_t reply_path_len(uint32_t minor, uint32_t cmd, const uint8_t *buf)
{
	if (cmd == SONDE_RELAY_CREATE_SESSION && minor >= SONDE_RELAY_MINOR_CHUNKS)
		return be_get32(buf + 12);
	if (cmd == SONDE_RELAY_CLOSE_TRACE_CHUNK &&
	    be_get32(buf) == SONDE_RELAY_RET_OK)
		return be_get32(buf + 4);
	return 0;
}

size_t sonde_relay_reply_wire_size(uint32_t minor, uint32_t cmd,
				   const uint8_t *buf, size_t len)
{
	size_t fixed = reply_fixed_size(minor, cmd);
	uint32_t path;

	if (len < fixed)
		return fixed;
	path = reply_path_len(minor, cmd, buf);
	/* An oversized length is left for the decoder to refuse, rather
	 * than read. */
	return path > SONDE_RELAY_PATH_MAX ? fixed : fixed + path;
}

size_t sonde_relay_generic_encode(uint32_t ret_code, uint8_t *buf)
{
	be_put32(buf, ret_code);
	return 4;
}

size_t sonde_relay_reply_encode(uint32_t minor, uint32_t cmd,
				const struct sonde_relay_reply *r, uint8_t *buf)
{
	size_t path;

	switch (cmd) {
	case SONDE_RELAY_SEND_METADATA:
		return 0;
	case SONDE_RELAY_VERSION:
		be_put32(buf, r->major);
		be_put32(buf + 4, r->minor);
		return 8;
	case SONDE_RELAY_CREATE_SESSION:
		be_put64(buf, r->id);
		be_put32(buf + 8, r->ret_code);
		if (minor < SONDE_RELAY_MINOR_CHUNKS)
			return 12;
		if (r->ret_code != SONDE_RELAY_RET_OK) {
			be_put32(buf + 12, 0);
			return 16;
		}
		path = strnlen(r->path, SONDE_RELAY_PATH_MAX - 1);
		be_put32(buf + 12, (uint32_t)path + 1);
		memcpy(buf + 16, r->path, path);
		buf[16 + path] = '\0';
		return 16 + path + 1;
	case SONDE_RELAY_ADD_STREAM:
		be_put64(buf, r->id);
		be_put32(buf + 8, r->ret_code);
		return 12;
	case SONDE_RELAY_GET_CONFIGURATION:
		be_put32(buf, r->ret_code);
		be_put64(buf + 4, r->flags);
		return 12;
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		be_put32(buf, r->ret_code);
		if (r->ret_code != SONDE_RELAY_RET_OK) {
			be_put32(buf + 4, 0);
			return 8;
		}
		path = strnlen(r->path, SONDE_RELAY_PATH_MAX - 1);
		be_put32(buf + 4, (uint32_t)path + 1);
		memcpy(buf + 8, r->path, path);
		buf[8 + path] = '\0';
		return 8 + path + 1;
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
		be_put32(buf, r->ret_code);
		buf[4] = r->exists;
		return 5;
	default:
		return sonde_relay_generic_encode(r->ret_code, buf);
	}
}

int sonde_relay_reply_decode(uint32_t minor, uint32_t cmd, const uint8_t *buf,
			     size_t len, struct sonde_relay_reply *out,
			     struct sonde_error *err)
{
	size_t fixed = reply_fixed_size(minor, cmd);
	uint32_t path;

	memset(out, 0, sizeof(*out));
	if (fixed == 0 || len < fixed)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s reply: %zu bytes, %zu expected",
				       sonde_relay_cmd_name(cmd), len, fixed);
	path = reply_path_len(minor, cmd, buf);
	if (path > SONDE_RELAY_PATH_MAX || len != fixed + path)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s reply: %zu bytes for a %u-byte path",
				       sonde_relay_cmd_name(cmd), len, path);
	switch (cmd) {
	case SONDE_RELAY_VERSION:
		out->major = be_get32(buf);
		out->minor = be_get32(buf + 4);
		return 0;
	case SONDE_RELAY_CREATE_SESSION:
	case SONDE_RELAY_ADD_STREAM:
		out->id = be_get64(buf);
		out->ret_code = be_get32(buf + 8);
		break;
	case SONDE_RELAY_GET_CONFIGURATION:
		out->ret_code = be_get32(buf);
		out->flags = be_get64(buf + 4);
		return 0;
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
		out->ret_code = be_get32(buf);
		if (buf[4] > 1)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay trace-chunk-exists reply: boolean byte not 0 or 1");
		out->exists = buf[4];
		return 0;
	default:
		out->ret_code = be_get32(buf);
		break;
	}
	if (path)
		return get_name("reply path", out->path, buf + fixed, path,
				SONDE_RELAY_PATH_MAX, err);
	return 0;
}
