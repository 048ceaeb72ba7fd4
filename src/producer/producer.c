/*
 * Relayd protocol, producer side (producer.h), on the codec of
 * src/relay/relay-proto.h.  Every command but SEND_METADATA is answered;
 * a reply other than OK ends the conversation with a one-line error
 * naming the command, as the relay closes the connection then anyway.
 */
#include "producer/producer.h"
#include "live/conn.h"
#include "relay/relay-proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_IO_TIMEOUT_MS 10000
/* Data pending rounds before giving up on a relay that never catches up. */
#define DATA_PENDING_ROUNDS 500
#define DATA_PENDING_PAUSE_US 10000

struct producer_stream {
	uint64_t handle;
	bool metadata;
	uint64_t next_net_seq;           /* packets sent so far */
	uint64_t next_packet_seq;        /* CTF packet_seq_num after the last */
};

struct sonde_producer {
	struct relay_conn control, data;
	uint32_t minor;                  /* negotiated */
	uint64_t session_id;             /* the relay's */
	bool snapshot;
	bool has_chunk;
	uint64_t chunk_id;               /* the streams' */
	char relay_path[SONDE_RELAY_PATH_MAX];
	struct producer_stream *streams;
	size_t stream_count;
	uint8_t msg[SONDE_RELAY_MESSAGE_MAX];
};

/* Sends a request and reads its reply (none for SEND_METADATA). */
static int command(struct sonde_producer *p, const struct sonde_relay_request *req,
		   struct sonde_relay_reply *reply, struct sonde_error *err)
{
	size_t len = sonde_relay_request_encode(p->minor, req, p->msg), have;
	int ret;

	if (!len)
		return sonde_error_set(err, SONDE_EINVAL,
				       "relay %s: cannot encode %s at protocol 2.%u",
				       p->control.name,
				       sonde_relay_cmd_name(req->cmd), p->minor);
	ret = relay_conn_send(&p->control, p->msg, len, err);
	if (ret || req->cmd == SONDE_RELAY_SEND_METADATA)
		return ret;
	have = 0;
	for (;;) {
		size_t want = sonde_relay_reply_wire_size(p->minor, req->cmd,
							  p->msg, have);

		if (want > sizeof(p->msg))
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay %s: %s reply of %zu bytes",
					       p->control.name,
					       sonde_relay_cmd_name(req->cmd), want);
		if (want <= have)
			break;
		ret = relay_conn_recv(&p->control, p->msg + have, want - have,
				      err);
		if (ret)
			return ret;
		have = want;
	}
	ret = sonde_relay_reply_decode(p->minor, req->cmd, p->msg, have, reply,
				       err);
	if (ret)
		return sonde_error_prefix(err, "relay %s", p->control.name);
	return 0;
}

/* command() for the commands whose reply must say OK. */
static int command_ok(struct sonde_producer *p,
		      const struct sonde_relay_request *req,
		      struct sonde_relay_reply *reply, struct sonde_error *err)
{
	int ret = command(p, req, reply, err);

	if (ret)
		return ret;
	if (reply->ret_code != SONDE_RELAY_RET_OK)
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s refused %s (error %u)",
				       p->control.name,
				       sonde_relay_cmd_name(req->cmd),
				       reply->ret_code);
	return 0;
}

static int handshake(struct sonde_producer *p,
		     const struct sonde_producer_opts *o,
		     struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_VERSION };
	struct sonde_relay_reply *reply = calloc(1, sizeof(*reply));
	struct sonde_relay_create_session *cs;
	int ret;

	if (!reply)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	/* VERSION is encoded the same at every minor. */
	p->minor = SONDE_RELAY_MINOR;
	req.u.version.major = SONDE_RELAY_MAJOR;
	req.u.version.minor = SONDE_RELAY_MINOR;
	ret = command(p, &req, reply, err);
	if (ret)
		goto out;
	if (reply->major != SONDE_RELAY_MAJOR ||
	    reply->minor < SONDE_RELAY_MINOR_CHUNKS) {
		ret = sonde_error_set(err, SONDE_EUNSUPPORTED,
				      "relay %s speaks protocol %u.%u; sonde needs 2.%u or later",
				      p->control.name, reply->major, reply->minor,
				      SONDE_RELAY_MINOR_CHUNKS);
		goto out;
	}
	if (reply->minor < p->minor)
		p->minor = reply->minor;
	if (p->minor >= SONDE_RELAY_MINOR_CONFIG) {
		memset(&req, 0, sizeof(req));
		req.cmd = SONDE_RELAY_GET_CONFIGURATION;
		ret = command_ok(p, &req, reply, err);
		if (ret)
			goto out;
	}

	memset(&req, 0, sizeof(req));
	req.cmd = SONDE_RELAY_CREATE_SESSION;
	cs = &req.u.create_session;
	snprintf(cs->session_name, sizeof(cs->session_name), "%s",
		 o->session_name);
	if (o->hostname)
		snprintf(cs->hostname, sizeof(cs->hostname), "%s", o->hostname);
	else if (gethostname(cs->hostname, sizeof(cs->hostname) - 1))
		strcpy(cs->hostname, "localhost");
	cs->live_timer = o->live_timer_us;
	cs->snapshot = o->snapshot;
	/* The relay groups the domains of one session by this pair. */
	if (getrandom(cs->sessiond_uuid, sizeof(cs->sessiond_uuid), 0) !=
	    (ssize_t)sizeof(cs->sessiond_uuid))
		memcpy(cs->sessiond_uuid, &(uint64_t){ (uint64_t)getpid() }, 8);
	cs->sessiond_uuid[0] |= 1;   /* never all zero */
	cs->session_id = (uint64_t)getpid();
	cs->creation_time = o->creation_time ? o->creation_time :
			    (uint64_t)time(NULL);
	ret = command_ok(p, &req, reply, err);
	if (ret)
		goto out;
	p->session_id = reply->id;
	memcpy(p->relay_path, reply->path, sizeof(p->relay_path));
	/* A snapshot's chunk comes with its name, once it is known. */
	if (o->snapshot)
		goto out;

	memset(&req, 0, sizeof(req));
	req.cmd = SONDE_RELAY_CREATE_TRACE_CHUNK;
	req.u.create_chunk.chunk_id = 0;
	req.u.create_chunk.creation_time = cs->creation_time;
	ret = command_ok(p, &req, reply, err);
	p->has_chunk = !ret;
out:
	free(reply);
	return ret;
}

int sonde_producer_open(const struct sonde_producer_opts *opts,
			struct sonde_producer **out, struct sonde_error *err)
{
	struct sonde_producer *p = calloc(1, sizeof(*p));
	int timeout = opts->io_timeout_ms > 0 ? opts->io_timeout_ms :
		      DEFAULT_IO_TIMEOUT_MS;
	int ret;

	if (!p)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	p->control.fd = -1;
	p->data.fd = -1;
	p->snapshot = opts->snapshot;
	ret = relay_conn_open(&p->control, opts->relay, opts->control_port ?
			      opts->control_port : SONDE_RELAY_CONTROL_PORT,
			      timeout, err);
	if (!ret)
		ret = relay_conn_open(&p->data, opts->relay, opts->data_port ?
				      opts->data_port : SONDE_RELAY_DATA_PORT,
				      timeout, err);
	if (!ret)
		ret = handshake(p, opts, err);
	if (ret) {
		sonde_producer_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

static struct producer_stream *find_stream(struct sonde_producer *p,
					   uint64_t handle,
					   struct sonde_error *err)
{
	for (size_t i = 0; i < p->stream_count; i++)
		if (p->streams[i].handle == handle)
			return &p->streams[i];
	sonde_error_set(err, SONDE_EINVAL, "relay %s: no stream %llu",
			p->control.name, (unsigned long long)handle);
	return NULL;
}

int sonde_producer_add_stream(struct sonde_producer *p, const char *pathname,
			      const char *channel, uint64_t *handle,
			      struct sonde_error *err)
{
	struct sonde_relay_request *req = calloc(1, sizeof(*req));
	struct sonde_relay_reply *reply = calloc(1, sizeof(*reply));
	struct producer_stream *streams;
	int ret;

	if (!req || !reply) {
		ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		goto out;
	}
	if (!p->has_chunk) {
		ret = sonde_error_set(err, SONDE_EINVAL,
				      "relay %s: stream %s/%s before the snapshot chunk",
				      p->control.name, pathname, channel);
		goto out;
	}
	streams = realloc(p->streams, (p->stream_count + 1) * sizeof(*streams));
	if (!streams) {
		ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		goto out;
	}
	p->streams = streams;
	req->cmd = SONDE_RELAY_ADD_STREAM;
	req->u.add_stream.trace_chunk_id = p->chunk_id;
	snprintf(req->u.add_stream.channel_name,
		 sizeof(req->u.add_stream.channel_name), "%s", channel);
	snprintf(req->u.add_stream.pathname, sizeof(req->u.add_stream.pathname),
		 "%s", pathname);
	ret = command_ok(p, req, reply, err);
	if (ret)
		goto out;
	memset(&streams[p->stream_count], 0, sizeof(*streams));
	streams[p->stream_count].handle = reply->id;
	streams[p->stream_count].metadata = !strcmp(channel, "metadata");
	p->stream_count++;
	*handle = reply->id;
out:
	free(req);
	free(reply);
	return ret;
}

/* Commands with a small payload and a generic reply that must be OK. */
static int simple_command(struct sonde_producer *p,
			  struct sonde_relay_request *req,
			  struct sonde_error *err)
{
	struct sonde_relay_reply *reply = calloc(1, sizeof(*reply));
	int ret;

	if (!reply)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	ret = command_ok(p, req, reply, err);
	free(reply);
	return ret;
}

int sonde_producer_snapshot_chunk(struct sonde_producer *p, uint64_t chunk_id,
				  const char *name, struct sonde_error *err)
{
	struct sonde_relay_request *req;
	int ret;

	if (!p->snapshot || p->has_chunk)
		return sonde_error_set(err, SONDE_EINVAL,
				       "relay %s: a snapshot chunk goes first in a snapshot session",
				       p->control.name);
	req = calloc(1, sizeof(*req));
	if (!req)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	req->cmd = SONDE_RELAY_CREATE_TRACE_CHUNK;
	req->u.create_chunk.chunk_id = chunk_id;
	req->u.create_chunk.creation_time = (uint64_t)time(NULL);
	if ((size_t)snprintf(req->u.create_chunk.override_name,
			     sizeof(req->u.create_chunk.override_name), "%s",
			     name) >= sizeof(req->u.create_chunk.override_name))
		ret = sonde_error_set(err, SONDE_EINVAL,
				      "relay %s: snapshot name '%.64s...' too long",
				      p->control.name, name);
	else
		ret = simple_command(p, req, err);
	free(req);
	if (ret)
		return ret;
	p->has_chunk = true;
	p->chunk_id = chunk_id;
	return 0;
}

const char *sonde_producer_relay_path(const struct sonde_producer *p)
{
	return p->relay_path;
}

int sonde_producer_streams_sent(struct sonde_producer *p,
				struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_STREAMS_SENT };

	return simple_command(p, &req, err);
}

int sonde_producer_send_metadata(struct sonde_producer *p, uint64_t handle,
				 const uint8_t *bytes, size_t len,
				 struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_SEND_METADATA };
	int ret;

	if (!find_stream(p, handle, err))
		return SONDE_EINVAL;
	if (!len)
		return 0;
	req.u.metadata.stream_id = handle;
	req.u.metadata.len = len;
	/* The codec frames the fixed part; the bytes follow it. */
	ret = command(p, &req, NULL, err);
	return ret ? ret : relay_conn_send(&p->control, bytes, len, err);
}

static int send_index(struct sonde_producer *p, struct producer_stream *s,
		      const struct sonde_producer_packet *pkt, bool beacon,
		      struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_SEND_INDEX };
	struct sonde_relay_index *x = &req.u.index;

	x->relay_stream_id = s->handle;
	x->net_seq_num = s->next_net_seq - 1;   /* UINT64_MAX before any */
	x->stream_id = pkt->stream_class_id;
	x->timestamp_end = pkt->timestamp_end;
	if (!beacon) {
		x->packet_size = pkt->packet_size;
		x->content_size = pkt->content_size;
		x->timestamp_begin = pkt->timestamp_begin;
		x->events_discarded = pkt->events_discarded;
		x->stream_instance_id = pkt->stream_instance_id;
		x->packet_seq_num = pkt->packet_seq_num;
	}
	return simple_command(p, &req, err);
}

int sonde_producer_send_packet(struct sonde_producer *p, uint64_t handle,
			       const uint8_t *data,
			       const struct sonde_producer_packet *pkt,
			       struct sonde_error *err)
{
	struct producer_stream *s = find_stream(p, handle, err);
	struct sonde_relay_data_header h = { 0 };
	uint8_t hdr[SONDE_RELAY_DATA_HEADER_SIZE];
	uint64_t size = pkt->packet_size / 8;
	uint64_t content = (pkt->content_size + 7) / 8;
	int ret;

	if (!s)
		return SONDE_EINVAL;
	if (s->metadata || !size || pkt->packet_size % 8 || content > size ||
	    size > SONDE_RELAY_PAYLOAD_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "relay %s: invalid packet of %llu bits for stream %llu",
				       p->control.name,
				       (unsigned long long)pkt->packet_size,
				       (unsigned long long)handle);
	h.stream_id = handle;
	h.net_seq_num = s->next_net_seq;
	h.data_size = (uint32_t)content;
	h.padding_size = (uint32_t)(size - content);
	sonde_relay_data_header_encode(&h, hdr);
	ret = relay_conn_send(&p->data, hdr, sizeof(hdr), err);
	if (!ret)
		ret = relay_conn_send(&p->data, data, (size_t)content, err);
	if (ret)
		return ret;
	s->next_net_seq++;
	s->next_packet_seq = pkt->packet_seq_num + 1;
	if (p->snapshot)
		return 0;
	/* The index after its data: the relay pairs them by sequence. */
	return send_index(p, s, pkt, false, err);
}

int sonde_producer_send_beacon(struct sonde_producer *p, uint64_t handle,
			       uint64_t timestamp, uint64_t stream_class_id,
			       struct sonde_error *err)
{
	struct producer_stream *s = find_stream(p, handle, err);
	struct sonde_producer_packet pkt = {
		.timestamp_end = timestamp,
		.stream_class_id = stream_class_id,
	};

	if (!s)
		return SONDE_EINVAL;
	return send_index(p, s, &pkt, true, err);
}

/* One data-pending round: 1 while the relay lacks packets, else 0. */
static int data_pending(struct sonde_producer *p, struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_BEGIN_DATA_PENDING };
	struct sonde_relay_reply *reply = calloc(1, sizeof(*reply));
	int ret, pending = 0;

	if (!reply)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	req.u.id = p->session_id;
	ret = command_ok(p, &req, reply, err);
	for (size_t i = 0; !ret && i < p->stream_count; i++) {
		struct producer_stream *s = &p->streams[i];

		memset(&req, 0, sizeof(req));
		if (s->metadata) {
			req.cmd = SONDE_RELAY_QUIESCENT_CONTROL;
			req.u.id = s->handle;
			ret = command_ok(p, &req, reply, err);
			continue;
		}
		req.cmd = SONDE_RELAY_DATA_PENDING;
		req.u.stream_seq.stream_id = s->handle;
		req.u.stream_seq.last_net_seq_num = s->next_net_seq - 1;
		ret = command(p, &req, reply, err);
		pending |= !ret && reply->ret_code == 1;
	}
	if (!ret) {
		memset(&req, 0, sizeof(req));
		req.cmd = SONDE_RELAY_END_DATA_PENDING;
		req.u.id = p->session_id;
		ret = command(p, &req, reply, err);
		pending |= !ret && reply->ret_code == 1;
	}
	free(reply);
	return ret ? ret : pending;
}

/*
 * What lttng-consumerd does at destroy: rotate every stream to "no chunk"
 * and close the chunk.  lttng-relayd lets viewers read a closed session's
 * last chunk to the end only then; without it, a viewer still reading
 * when the connections close loses the tail.
 */
static int close_chunk(struct sonde_producer *p, struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_ROTATE_STREAMS };
	struct sonde_relay_reply *reply = calloc(1, sizeof(*reply));
	size_t len;
	int ret, round;

	if (!reply)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	req.u.rotate.count = (uint32_t)p->stream_count;
	len = sonde_relay_request_encode(p->minor, &req, p->msg);
	ret = len ? 0 : sonde_error_set(err, SONDE_EINVAL,
					"relay %s: cannot encode a rotation",
					p->control.name);
	for (size_t i = 0; !ret && i < p->stream_count; i++) {
		if (len + SONDE_RELAY_ROTATE_POSITION_SIZE > sizeof(p->msg)) {
			ret = relay_conn_send(&p->control, p->msg, len, err);
			len = 0;
		}
		sonde_relay_rotate_position_encode(p->streams[i].handle,
						   p->streams[i].next_packet_seq,
						   p->msg + len);
		len += SONDE_RELAY_ROTATE_POSITION_SIZE;
	}
	if (!ret)
		ret = relay_conn_send(&p->control, p->msg, len, err);
	if (!ret)
		ret = relay_conn_recv(&p->control, p->msg, 4, err);
	if (!ret)
		ret = sonde_relay_reply_decode(p->minor, req.cmd, p->msg, 4,
					       reply, err);
	if (!ret && reply->ret_code != SONDE_RELAY_RET_OK)
		ret = sonde_error_set(err, SONDE_EIO,
				      "relay %s refused the final rotation (error %u)",
				      p->control.name, reply->ret_code);
	if (!ret) {
		memset(&req, 0, sizeof(req));
		req.cmd = SONDE_RELAY_CLOSE_TRACE_CHUNK;
		req.u.close_chunk.close_time = (uint64_t)time(NULL);
		req.u.close_chunk.has_command = true;
		req.u.close_chunk.command = SONDE_RELAY_CHUNK_NO_OPERATION;
		ret = command_ok(p, &req, reply, err);
	}
	for (round = 0; !ret && round < DATA_PENDING_ROUNDS; round++) {
		memset(&req, 0, sizeof(req));
		req.cmd = SONDE_RELAY_TRACE_CHUNK_EXISTS;
		ret = command_ok(p, &req, reply, err);
		if (ret || !reply->exists)
			break;
		usleep(DATA_PENDING_PAUSE_US);
	}
	free(reply);
	return ret;
}

static int send_close(struct sonde_producer *p, const struct producer_stream *s,
		      struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_CLOSE_STREAM };

	req.u.stream_seq.stream_id = s->handle;
	req.u.stream_seq.last_net_seq_num = s->next_net_seq - 1;
	return simple_command(p, &req, err);
}

int sonde_producer_close_stream(struct sonde_producer *p, uint64_t handle,
				struct sonde_error *err)
{
	struct producer_stream *s = find_stream(p, handle, err);
	struct producer_stream gone;

	if (!s)
		return SONDE_EINVAL;
	gone = *s;
	/* Forgotten at once: the session's final data pending and rotation
	 * are about the open streams only. */
	*s = p->streams[--p->stream_count];
	return send_close(p, &gone, err);
}

static int close_streams(struct sonde_producer *p, struct sonde_error *err)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < p->stream_count; i++)
		ret = send_close(p, &p->streams[i], err);
	return ret;
}

/* A snapshot's end: its streams are complete, then its chunk, whose
 * directory the relay names in its reply. */
static int close_snapshot(struct sonde_producer *p, struct sonde_error *err)
{
	struct sonde_relay_request req = { .cmd = SONDE_RELAY_CLOSE_TRACE_CHUNK };
	struct sonde_relay_reply *reply;
	int ret = close_streams(p, err);

	if (ret || !p->has_chunk)
		return ret;
	reply = calloc(1, sizeof(*reply));
	if (!reply)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	req.u.close_chunk.chunk_id = p->chunk_id;
	req.u.close_chunk.close_time = (uint64_t)time(NULL);
	req.u.close_chunk.has_command = true;
	req.u.close_chunk.command = SONDE_RELAY_CHUNK_NO_OPERATION;
	ret = command_ok(p, &req, reply, err);
	if (!ret && reply->path[0])
		memcpy(p->relay_path, reply->path, sizeof(p->relay_path));
	free(reply);
	return ret;
}

int sonde_producer_close(struct sonde_producer *p, struct sonde_error *err)
{
	int ret, round;

	for (round = 0; round < DATA_PENDING_ROUNDS; round++) {
		ret = data_pending(p, err);
		if (ret <= 0)
			break;
		usleep(DATA_PENDING_PAUSE_US);
	}
	if (ret > 0)
		ret = sonde_error_set(err, SONDE_EIO,
				      "relay %s still lacks packets after %d s",
				      p->control.name,
				      DATA_PENDING_ROUNDS * DATA_PENDING_PAUSE_US /
				      1000000);
	if (!ret && p->snapshot)
		ret = close_snapshot(p, err);
	else if (!ret)
		ret = close_chunk(p, err);
	if (!ret && !p->snapshot)
		ret = close_streams(p, err);
	relay_conn_close(&p->data);
	relay_conn_close(&p->control);
	return ret;
}

void sonde_producer_free(struct sonde_producer *p)
{
	if (!p)
		return;
	relay_conn_close(&p->data);
	relay_conn_close(&p->control);
	free(p->streams);
	free(p);
}
