/*
 * The live client (include/sonde/live.h): the viewer side of the live
 * protocol (protocols.md §2.8), over a relay connection (conn.h).
 *
 * Per data stream, a small state machine: NEED_INDEX (ask the relay for
 * the next packet), HAS_MSG (a decoded message waits to be merged),
 * INACTIVE (a beacon said "nothing before T"), ENDED (HUP).  The merge
 * returns the earliest waiting message once no stream could still come up
 * with an earlier one: every stream has a message, or a beacon at or
 * after that message, or has ended.
 */
#include "sonde/live.h"
#include "live/conn.h"
#include "live/live-proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* babeltrace2's MAX_QUERY_SIZE: relays may cap GET_PACKET there. */
#define PACKET_CHUNK (256u * 1024)
#define DEFAULT_IO_TIMEOUT_MS 10000
/* What a relay may make us hold at once: far above real sessions (a
 * stream per CPU and domain, a trace per application instance). */
#define TRACES_MAX 4096
#define STREAMS_MAX 65536
/* Calls that find the merge blocked between two GET_NEW_STREAMS (sonde
 * view sleeps 20 ms after each: about 0.5 s). */
#define NEW_STREAMS_POLL 25

struct live_session {
	uint64_t id;
	bool need_new_streams;
	bool hup;
};

struct live_trace {
	uint64_t ctf_trace_id;
	uint64_t metadata_id;
	bool has_metadata_stream;
	bool metadata_closed;
	bool metadata_wanted;    /* ask the relay for more */
	uint8_t *metadata;
	size_t metadata_len, metadata_cap;
	size_t parsed_len;       /* bytes the current classes come from */
	struct sonde_ctf_trace *trace;   /* NULL until the metadata parses */
	char path[SONDE_LIVE_PATH_FIELD + 1100];
};

enum stream_state {
	NEED_INDEX,
	HAS_MSG,
	INACTIVE,
	ENDED,
};

struct live_stream {
	uint64_t id;
	struct live_trace *trace;
	struct sonde_ctf_stream *s;      /* NULL until the trace has classes */
	char channel[SONDE_LIVE_CHANNEL_FIELD];
	enum stream_state state;
	const struct sonde_ctf_msg *msg;
	int64_t key;             /* merge key of msg */
	int64_t last_key;        /* keys never go back within a stream */
	bool has_last;
	int64_t inactive_ns;     /* INACTIVE: nothing up to this time */
	bool has_index;          /* an index whose packet is not fetched yet */
	struct sonde_live_index index;
	uint8_t *packet;
	size_t packet_cap;
	uint64_t order;          /* tie break: order of announcement */
};

struct sonde_live_client {
	struct relay_conn conn;
	struct sonde_live_url url;
	struct live_session *sessions;
	size_t session_count;
	struct live_trace **traces;
	size_t trace_count;
	struct live_stream **streams;
	size_t stream_count;
	unsigned int blocked_calls;
	uint64_t next_order;
	struct sonde_ctf_trace_set *set;
	uint64_t generation;
	struct live_stream *emitted;     /* its message was returned */
	bool refresh;                    /* new streams or metadata announced */
};

/* URLs ---------------------------------------------------------------------- */

static const char *url_body(const char *text)
{
	static const char *const schemes[] = { "net://", "net4://", "net6://" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncmp(text, schemes[i], strlen(schemes[i])))
			return text + strlen(schemes[i]);
	return NULL;
}

bool sonde_live_is_url(const char *text)
{
	return url_body(text) != NULL;
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len,
		     const char *what, const char *url,
		     struct sonde_error *err)
{
	if (!len || len >= cap || memchr(src, '\0', len))
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: invalid %s in live URL", url, what);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int sonde_live_url_parse(const char *text, struct sonde_live_url *out,
			 struct sonde_error *err)
{
	const char *p = url_body(text), *end, *slash;
	int ret;

	memset(out, 0, sizeof(*out));
	out->port = SONDE_LIVE_PORT;
	if (!p)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: a live URL starts with net://", text);
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (!close)
			return sonde_error_set(err, SONDE_EINVAL,
					       "%s: unclosed '[' in live URL", text);
		ret = copy_part(out->relay, sizeof(out->relay), p + 1,
				(size_t)(close - p - 1), "relay address", text,
				err);
		p = close + 1;
	} else {
		const char *colon = memchr(p, ':', (size_t)(end - p));

		ret = copy_part(out->relay, sizeof(out->relay), p,
				(size_t)((colon ? colon : end) - p),
				"relay host", text, err);
		p = colon ? colon : end;
	}
	if (ret)
		return ret;
	if (*p == ':') {
		char *stop;
		unsigned long port = strtoul(p + 1, &stop, 10);

		if (stop == p + 1 || stop != end || !port || port > 65535)
			return sonde_error_set(err, SONDE_EINVAL,
					       "%s: invalid port in live URL", text);
		out->port = (uint16_t)port;
	} else if (p != end) {
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: unexpected text after the relay host",
				       text);
	}
	if (!slash || !slash[1])
		return 0;
	if (strncmp(slash, "/host/", 6))
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: expected net://RELAY[:PORT]/host/HOSTNAME/SESSION",
				       text);
	p = slash + 6;
	slash = strchr(p, '/');
	if (!slash)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: missing session name in live URL",
				       text);
	ret = copy_part(out->hostname, sizeof(out->hostname), p,
			(size_t)(slash - p), "host name", text, err);
	if (!ret)
		ret = copy_part(out->session, sizeof(out->session), slash + 1,
				strlen(slash + 1), "session name", text, err);
	if (!ret && strchr(out->session, '/'))
		ret = sonde_error_set(err, SONDE_EINVAL,
				      "%s: '/' in the session name", text);
	return ret;
}

/* Live protocol over the connection ----------------------------------------- */

static int conn_request(struct relay_conn *c, const struct sonde_live_request *req,
			struct sonde_error *err)
{
	uint8_t buf[SONDE_LIVE_REQUEST_MAX];

	return relay_conn_send(c, buf, sonde_live_request_encode(req, buf), err);
}

/* Prefixes a decoding failure with the relay's name. */
static int relay_error(struct relay_conn *c, int ret, struct sonde_error *err)
{
	if (ret)
		sonde_error_prefix(err, "relay %s", c->name);
	return ret;
}

static int conn_handshake(struct relay_conn *c, struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_CONNECT };
	struct sonde_live_connect reply;
	uint8_t buf[SONDE_LIVE_CONNECT_SIZE];
	int ret;

	req.u.connect.viewer_session_id = UINT64_MAX;
	req.u.connect.major = SONDE_LIVE_MAJOR;
	req.u.connect.minor = SONDE_LIVE_VIEWER_MINOR;
	req.u.connect.type = SONDE_LIVE_CLIENT_COMMAND;
	ret = conn_request(c, &req, err);
	if (!ret)
		ret = relay_conn_recv(c, buf, sizeof(buf), err);
	if (!ret)
		ret = relay_error(c, sonde_live_connect_decode(buf, sizeof(buf),
							       &reply, err), err);
	if (ret)
		return ret;
	if (reply.major != SONDE_LIVE_MAJOR)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "relay %s speaks live protocol %u.%u, not %u.x",
				       c->name, reply.major, reply.minor,
				       SONDE_LIVE_MAJOR);
	return 0;
}

/* Reads a LIST_SESSIONS reply; we announce minor 4, so 2.4 entries. */
static int conn_list(struct relay_conn *c, struct sonde_live_session **out,
		     size_t *count, struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_LIST_SESSIONS };
	uint8_t buf[SONDE_LIVE_SESSION_2_4_SIZE];
	struct sonde_live_session *list = NULL;
	uint32_t n;
	int ret;

	*out = NULL;
	*count = 0;
	ret = conn_request(c, &req, err);
	if (!ret)
		ret = relay_conn_recv(c, buf, SONDE_LIVE_COUNT_SIZE, err);
	if (!ret)
		ret = relay_error(c, sonde_live_count_decode(buf, 4, &n, err), err);
	if (ret)
		return ret;
	list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		ret = relay_conn_recv(c, buf, sizeof(buf), err);
		if (!ret)
			ret = relay_error(c, sonde_live_session_decode(
				SONDE_LIVE_VIEWER_MINOR, buf, sizeof(buf),
				&list[i], err), err);
		if (ret) {
			free(list);
			return ret;
		}
	}
	*out = list;
	*count = n;
	return 0;
}

/* Listing ------------------------------------------------------------------- */

int sonde_live_list(const struct sonde_live_url *url,
		    struct sonde_live_session_info **out, size_t *count,
		    struct sonde_error *err)
{
	struct relay_conn c;
	struct sonde_live_session *list = NULL;
	struct sonde_live_session_info *info = NULL;
	size_t n = 0, merged = 0;
	int ret;

	*out = NULL;
	*count = 0;
	ret = relay_conn_open(&c, url->relay, url->port, DEFAULT_IO_TIMEOUT_MS, err);
	if (ret)
		return ret;
	ret = conn_handshake(&c, err);
	if (!ret)
		ret = conn_list(&c, &list, &n, err);
	relay_conn_close(&c);
	if (ret)
		return ret;
	info = calloc(n ? n : 1, sizeof(*info));
	if (!info) {
		free(list);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < merged; k++)
			if (!strcmp(info[k].hostname, list[i].hostname) &&
			    !strcmp(info[k].name, list[i].session_name))
				break;
		if (k == merged) {
			snprintf(info[k].hostname, sizeof(info[k].hostname), "%s",
				 list[i].hostname);
			snprintf(info[k].name, sizeof(info[k].name), "%s",
				 list[i].session_name);
			info[k].live_timer = list[i].live_timer;
			merged++;
		}
		info[k].streams += list[i].streams;
		if (list[i].clients > info[k].clients)
			info[k].clients = list[i].clients;
	}
	free(list);
	*out = info;
	*count = merged;
	return 0;
}

/* Streams and traces -------------------------------------------------------- */

static struct live_trace *find_trace(struct sonde_live_client *c, uint64_t id)
{
	for (size_t i = 0; i < c->trace_count; i++)
		if (c->traces[i]->ctf_trace_id == id)
			return c->traces[i];
	return NULL;
}

static int add_trace(struct sonde_live_client *c, uint64_t id,
		     const char *path_name, struct live_trace **out,
		     struct sonde_error *err)
{
	struct live_trace **traces, *t;

	if (c->trace_count >= TRACES_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s announced more than %d traces",
				       c->conn.name, TRACES_MAX);
	traces = realloc(c->traces, (c->trace_count + 1) * sizeof(*traces));
	if (!traces)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	c->traces = traces;
	t = calloc(1, sizeof(*t));
	if (!t)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	t->ctf_trace_id = id;
	snprintf(t->path, sizeof(t->path), "net://%s/host/%s/%s/%s",
		 c->conn.name, c->url.hostname, c->url.session, path_name);
	c->traces[c->trace_count++] = t;
	*out = t;
	return 0;
}

/* The decoder side of a stream, once its trace has classes. */
static int attach_decoder(struct live_stream *s, struct sonde_error *err)
{
	struct live_trace *t = s->trace;
	char path[sizeof(t->path) + SONDE_LIVE_CHANNEL_FIELD + 1];

	if (s->s || !t->trace)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", t->path, s->channel);
	return sonde_ctf_live_stream_add(t->trace, path, &s->s, err);
}

/* A stream record from ATTACH or GET_NEW_STREAMS. */
static int add_stream(struct sonde_live_client *c,
		      const struct sonde_live_stream *rec,
		      struct sonde_error *err)
{
	struct live_trace *t = find_trace(c, rec->ctf_trace_id);
	struct live_stream **streams, *s;
	int ret;

	if (!t) {
		ret = add_trace(c, rec->ctf_trace_id, rec->path_name, &t, err);
		if (ret)
			return ret;
	}
	if (rec->metadata) {
		t->metadata_id = rec->id;
		t->has_metadata_stream = true;
		t->metadata_wanted = true;
		c->refresh = true;
		return 0;
	}
	for (size_t i = 0; i < c->stream_count; i++)
		if (c->streams[i]->id == rec->id)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay %s announced stream %llu twice",
					       c->conn.name,
					       (unsigned long long)rec->id);
	if (c->stream_count >= STREAMS_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s announced more than %d live streams",
				       c->conn.name, STREAMS_MAX);
	streams = realloc(c->streams, (c->stream_count + 1) * sizeof(*streams));
	if (!streams)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	c->streams = streams;
	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->id = rec->id;
	s->trace = t;
	s->state = NEED_INDEX;
	s->order = c->next_order++;
	snprintf(s->channel, sizeof(s->channel), "%s", rec->channel_name);
	c->streams[c->stream_count++] = s;
	/* Streams may come after their trace's metadata. */
	return attach_decoder(s, err);
}

static void free_stream(struct live_stream *s)
{
	free(s->packet);
	free(s);
}

/* Reads `count` stream records that follow an ATTACH/GET_NEW_STREAMS reply. */
static int read_streams(struct sonde_live_client *c, uint32_t count,
			struct sonde_error *err)
{
	struct sonde_live_stream rec;
	uint8_t *buf = malloc(SONDE_LIVE_STREAM_SIZE);
	int ret = 0;

	if (!buf)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	for (uint32_t i = 0; i < count && !ret; i++) {
		ret = relay_conn_recv(&c->conn, buf, SONDE_LIVE_STREAM_SIZE, err);
		if (!ret)
			ret = relay_error(&c->conn, sonde_live_stream_decode(
				buf, SONDE_LIVE_STREAM_SIZE, &rec, err), err);
		if (!ret)
			ret = add_stream(c, &rec, err);
	}
	free(buf);
	return ret;
}

static int get_new_streams(struct sonde_live_client *c,
			   struct live_session *ls, struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_GET_NEW_STREAMS };
	struct sonde_live_streams_reply reply;
	uint8_t buf[SONDE_LIVE_STREAMS_SIZE];
	int ret;

	req.u.id = ls->id;
	ls->need_new_streams = false;
	ret = conn_request(&c->conn, &req, err);
	if (!ret)
		ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
	if (!ret)
		ret = relay_error(&c->conn, sonde_live_new_streams_reply_decode(
			buf, sizeof(buf), &reply, err), err);
	if (ret)
		return ret;
	switch (reply.status) {
	case SONDE_LIVE_NEW_STREAMS_OK:
		return read_streams(c, reply.count, err);
	case SONDE_LIVE_NEW_STREAMS_HUP:
		ls->hup = true;
		return 0;
	case SONDE_LIVE_NEW_STREAMS_NO_NEW:
		return 0;
	default:
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s: session %llu is no longer attached",
				       c->conn.name, (unsigned long long)ls->id);
	}
}

/* Parses what metadata arrived; incomplete TSDL waits for more bytes. */
static int load_metadata(struct sonde_live_client *c, struct live_trace *t,
			 struct sonde_error *err)
{
	struct sonde_error parse_err = { 0 };
	int ret;

	if (t->parsed_len == t->metadata_len)
		return 0;
	if (!t->trace)
		ret = sonde_ctf_live_trace_add(c->set, t->path, t->metadata,
					       t->metadata_len, &t->trace,
					       &parse_err);
	else
		ret = sonde_ctf_live_trace_update(t->trace, t->metadata,
						  t->metadata_len, &parse_err);
	if (ret == SONDE_ENOMEM)
		return sonde_error_set(err, ret, "%s", parse_err.msg);
	if (ret) {
		/* Packets may split a declaration: ask again.  If the
		 * relay has no more, decoding will say what is missing. */
		t->metadata_wanted = !t->metadata_closed;
		return 0;
	}
	t->parsed_len = t->metadata_len;
	c->generation++;
	for (size_t i = 0; i < c->stream_count; i++) {
		if (c->streams[i]->trace != t)
			continue;
		ret = attach_decoder(c->streams[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

static int get_metadata(struct sonde_live_client *c, struct live_trace *t,
			struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_GET_METADATA };
	struct sonde_live_metadata_reply reply;
	uint8_t buf[SONDE_LIVE_METADATA_SIZE];
	int ret;

	t->metadata_wanted = false;
	if (!t->has_metadata_stream || t->metadata_closed)
		return load_metadata(c, t, err);
	req.u.id = t->metadata_id;
	for (;;) {
		ret = conn_request(&c->conn, &req, err);
		if (!ret)
			ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
		if (!ret)
			ret = relay_error(&c->conn, sonde_live_metadata_reply_decode(
				buf, sizeof(buf), &reply, err), err);
		if (ret)
			return ret;
		if (reply.status == SONDE_LIVE_METADATA_ERR) {
			t->metadata_closed = true;
			break;
		}
		if (reply.status == SONDE_LIVE_METADATA_NO_NEW)
			break;
		if (!reply.len) {
			t->metadata_wanted = true;   /* relay busy: retry */
			break;
		}
		if (reply.len > SONDE_LIVE_METADATA_MAX - t->metadata_len)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "relay %s: metadata of %s over %u bytes",
					       c->conn.name, t->path,
					       SONDE_LIVE_METADATA_MAX);
		if (t->metadata_len + reply.len > t->metadata_cap) {
			size_t cap = (t->metadata_len + (size_t)reply.len) * 2;
			uint8_t *m = realloc(t->metadata, cap);

			if (!m)
				return sonde_error_set(err, SONDE_ENOMEM,
						       "out of memory");
			t->metadata = m;
			t->metadata_cap = cap;
		}
		ret = relay_conn_recv(&c->conn, t->metadata + t->metadata_len,
				(size_t)reply.len, err);
		if (ret)
			return ret;
		t->metadata_len += (size_t)reply.len;
	}
	return load_metadata(c, t, err);
}

/* New streams and metadata the relay announced, before any merging. */
static int refresh(struct sonde_live_client *c, struct sonde_error *err)
{
	int ret;

	c->refresh = false;
	for (size_t i = 0; i < c->session_count; i++) {
		if (!c->sessions[i].need_new_streams || c->sessions[i].hup)
			continue;
		ret = get_new_streams(c, &c->sessions[i], err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < c->trace_count; i++) {
		if (!c->traces[i]->metadata_wanted)
			continue;
		ret = get_metadata(c, c->traces[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

static void note_flags(struct sonde_live_client *c, struct live_trace *t,
		       uint32_t flags)
{
	if (flags & SONDE_LIVE_FLAG_NEW_STREAM) {
		for (size_t i = 0; i < c->session_count; i++)
			c->sessions[i].need_new_streams = true;
		c->refresh = true;
	}
	if (flags & SONDE_LIVE_FLAG_NEW_METADATA) {
		t->metadata_wanted = true;
		c->refresh = true;
	}
}

/* Merge key of a message: its time, never before the stream's last one. */
static void set_msg(struct live_stream *s, const struct sonde_ctf_msg *m)
{
	int64_t key;
	bool known;

	if (m->kind == SONDE_CTF_MSG_EVENT) {
		known = m->event->has_timestamp;
		key = m->event->ns;
	} else {
		known = m->has_range;
		key = m->begin_ns;
	}
	if (!known || (s->has_last && key < s->last_key))
		key = s->has_last ? s->last_key : INT64_MIN;
	s->msg = m;
	s->key = key;
	s->last_key = key;
	s->has_last = true;
	s->state = HAS_MSG;
}

/* Decodes the stream's next message: HAS_MSG, or NEED_INDEX when its
 * packet is used up. */
static int advance(struct live_stream *s, struct sonde_error *err)
{
	const struct sonde_ctf_msg *m;
	int ret = sonde_ctf_stream_next(s->s, &m, err);

	if (ret < 0)
		return ret;
	if (ret > 0)
		set_msg(s, m);
	else
		s->state = NEED_INDEX;
	return 0;
}

/* Fetches the packet of s->index; returns 1 when it could not be had yet. */
static int fetch_packet(struct sonde_live_client *c, struct live_stream *s,
			struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_GET_PACKET };
	struct sonde_live_packet_reply reply;
	uint8_t buf[SONDE_LIVE_PACKET_SIZE];
	size_t len = (size_t)(s->index.packet_size / 8), got = 0;
	int ret;

	if (len > s->packet_cap) {
		uint8_t *p = realloc(s->packet, len);

		if (!p)
			return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		s->packet = p;
		s->packet_cap = len;
	}
	while (got < len) {
		size_t want = len - got < PACKET_CHUNK ? len - got : PACKET_CHUNK;

		req.u.get_packet.stream_id = s->id;
		req.u.get_packet.offset = s->index.offset + got;
		req.u.get_packet.len = (uint32_t)want;
		ret = conn_request(&c->conn, &req, err);
		if (!ret)
			ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
		if (!ret)
			ret = relay_error(&c->conn, sonde_live_packet_reply_decode(
				buf, sizeof(buf), &reply, err), err);
		if (ret)
			return ret;
		note_flags(c, s->trace, reply.flags);
		if (reply.status == SONDE_LIVE_PACKET_OK) {
			if (reply.len != want)
				return sonde_error_set(err, SONDE_EFORMAT,
						       "relay %s: %u bytes of packet instead of %zu",
						       c->conn.name, reply.len,
						       want);
			ret = relay_conn_recv(&c->conn, s->packet + got, want, err);
			if (ret)
				return ret;
			got += want;
			continue;
		}
		/* Old relays answer ERR with a flag: refresh, then retry. */
		if (reply.status == SONDE_LIVE_PACKET_RETRY ||
		    (reply.status == SONDE_LIVE_PACKET_ERR && reply.flags))
			return 1;
		if (reply.status == SONDE_LIVE_PACKET_EOF) {
			s->has_index = false;
			s->state = ENDED;
			return 0;
		}
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s: cannot get a packet of %s/%s",
				       c->conn.name, s->trace->path, s->channel);
	}
	s->has_index = false;
	ret = sonde_ctf_live_stream_feed(s->s, s->packet, len, err);
	return ret ? ret : advance(s, err);
}

/* Beacon time in ns, with the clock of the stream class it names. */
static bool beacon_ns(const struct live_stream *s, uint64_t stream_class,
		      uint64_t cycles, int64_t *ns)
{
	const struct sonde_ctf_trace_class *tc;
	const struct sonde_ctf_stream_class *sc;

	if (!s->trace->trace)
		return false;
	tc = sonde_ctf_trace_get_class(s->trace->trace);
	sc = sonde_ctf_trace_class_find_stream_class(tc, stream_class);
	if (!sc && tc->stream_class_count == 1)
		sc = tc->stream_classes[0];
	if (!sc || !sc->clock)
		return false;
	return sonde_ctf_clock_to_ns(sc->clock, cycles, ns) == 0;
}

/* GET_NEXT_INDEX: sets has_index, or moves the stream to INACTIVE or
 * ENDED, or leaves it waiting (RETRY). */
static int get_next_index(struct sonde_live_client *c, struct live_stream *s,
			  struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_GET_NEXT_INDEX };
	uint8_t buf[SONDE_LIVE_INDEX_SIZE];
	int64_t ns;
	int ret;

	req.u.id = s->id;
	ret = conn_request(&c->conn, &req, err);
	if (!ret)
		ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
	if (!ret)
		ret = relay_error(&c->conn, sonde_live_index_decode(
			buf, sizeof(buf), &s->index, err), err);
	if (ret)
		return ret;
	note_flags(c, s->trace, s->index.flags);
	switch (s->index.status) {
	case SONDE_LIVE_INDEX_OK:
		s->has_index = true;
		return 0;
	case SONDE_LIVE_INDEX_RETRY:
		return 0;
	case SONDE_LIVE_INDEX_INACTIVE:
		if (beacon_ns(s, s->index.stream_id, s->index.timestamp_end,
			      &ns)) {
			s->state = INACTIVE;
			s->inactive_ns = ns;
		}
		return 0;
	case SONDE_LIVE_INDEX_HUP:
	case SONDE_LIVE_INDEX_EOF:
		s->state = ENDED;
		return 0;
	default:
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s: error on stream %s/%s",
				       c->conn.name, s->trace->path, s->channel);
	}
}

/* Asks for the stream's next packet and decodes its first message;
 * packets without events are skipped. */
static int query_stream(struct sonde_live_client *c, struct live_stream *s,
			struct sonde_error *err)
{
	int ret;

	if (!s->s && s->trace->metadata_closed)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "relay %s: the metadata of %s ended unreadable",
				       c->conn.name, s->trace->path);
	if (!s->s)
		return 0;   /* no classes yet: wait for the metadata */
	for (;;) {
		if (!s->has_index) {
			ret = get_next_index(c, s, err);
			if (ret || !s->has_index)
				return ret;
			/* The packet may use classes only the newest
			 * metadata declares. */
			if (s->index.flags & SONDE_LIVE_FLAG_NEW_METADATA) {
				ret = get_metadata(c, s->trace, err);
				if (ret)
					return ret;
			}
		}
		ret = fetch_packet(c, s, err);
		if (ret)
			return ret < 0 ? ret : 0;
		if (s->state != NEED_INDEX)
			return 0;
	}
}

/* Whether a stream still could produce a message before `key`. */
static bool blocks(const struct live_stream *s, bool have_best, int64_t key)
{
	switch (s->state) {
	case NEED_INDEX:
		return true;
	case INACTIVE:
		return !have_best || s->inactive_ns < key;
	default:
		return false;
	}
}

/* Ties go as in babeltrace2's muxer: trace, stream class id, stream
 * instance id (the CPU), then the order the relay announced them in. */
static bool before(const struct live_stream *a, const struct live_stream *b)
{
	const struct sonde_ctf_stream_class *ca, *cb;
	uint64_t ia, ib;

	if (a->key != b->key)
		return a->key < b->key;
	if (a->trace != b->trace)
		return a->trace->ctf_trace_id < b->trace->ctf_trace_id;
	ca = sonde_ctf_stream_class(a->s);
	cb = sonde_ctf_stream_class(b->s);
	if (ca && cb && ca->id != cb->id)
		return ca->id < cb->id;
	ia = sonde_ctf_stream_instance_id(a->s);
	ib = sonde_ctf_stream_instance_id(b->s);
	if (ia != ib)
		return ia < ib;
	return a->order < b->order;
}

static struct live_stream *earliest(struct sonde_live_client *c)
{
	struct live_stream *best = NULL;

	for (size_t i = 0; i < c->stream_count; i++) {
		struct live_stream *s = c->streams[i];

		if (s->state == HAS_MSG && (!best || before(s, best)))
			best = s;
	}
	return best;
}

static bool all_sessions_hup(const struct sonde_live_client *c)
{
	for (size_t i = 0; i < c->session_count; i++)
		if (!c->sessions[i].hup)
			return false;
	return true;
}

/* Streams that ended are dropped (their decoder stays with its trace):
 * sessions with short-lived applications keep announcing new ones. */
static void forget_ended(struct sonde_live_client *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < c->stream_count; i++) {
		if (c->streams[i]->state == ENDED)
			free_stream(c->streams[i]);
		else
			c->streams[kept++] = c->streams[i];
	}
	c->stream_count = kept;
}

int sonde_live_next(struct sonde_live_client *c,
		    const struct sonde_ctf_msg **msg, struct sonde_error *err)
{
	struct live_stream *best;
	bool blocked, active;
	int ret;

	if (c->emitted) {
		ret = advance(c->emitted, err);
		c->emitted = NULL;
		if (ret)
			return ret;
	}
	forget_ended(c);
	/* A trace's first metadata may come after its streams (the relay
	 * then has 0 bytes for it); no index can say so: poll for it. */
	for (size_t i = 0; i < c->trace_count; i++) {
		struct live_trace *t = c->traces[i];

		if (!t->trace && t->has_metadata_stream && !t->metadata_closed) {
			t->metadata_wanted = true;
			c->refresh = true;
		}
	}
	for (;;) {
		if (c->refresh) {
			ret = refresh(c, err);
			if (ret)
				return ret;
		}
		best = earliest(c);
		for (size_t i = 0; i < c->stream_count && !c->refresh; i++) {
			struct live_stream *s = c->streams[i];

			if (!blocks(s, best != NULL, best ? best->key : 0))
				continue;
			ret = query_stream(c, s, err);
			if (ret)
				return ret;
			if (s->state == HAS_MSG && (!best || before(s, best)))
				best = s;
		}
		if (c->refresh)
			continue;
		blocked = false;
		active = false;
		for (size_t i = 0; i < c->stream_count; i++) {
			struct live_stream *s = c->streams[i];

			active |= s->state != ENDED;
			blocked |= blocks(s, best != NULL, best ? best->key : 0);
		}
		/* lttng-relayd 2.13 flags new streams on OK replies only:
		 * while every stream is idle (a new per-PID application's
		 * trace), it never says so.  Ask now and then. */
		if (blocked && ++c->blocked_calls % NEW_STREAMS_POLL == 0) {
			for (size_t i = 0; i < c->session_count; i++)
				c->sessions[i].need_new_streams =
					!c->sessions[i].hup;
			c->refresh = true;
			continue;
		}
		if (blocked)
			return SONDE_LIVE_AGAIN;
		if (best) {
			*msg = best->msg;
			c->emitted = best;
			return 1;
		}
		if (!active && all_sessions_hup(c))
			return 0;
		/* Every stream ended (or none yet): does the session go on? */
		for (size_t i = 0; i < c->session_count; i++)
			c->sessions[i].need_new_streams = !c->sessions[i].hup;
		ret = refresh(c, err);
		if (ret)
			return ret;
		if (c->refresh)
			continue;
		if (all_sessions_hup(c) && !active)
			return 0;
		return SONDE_LIVE_AGAIN;
	}
}

/* Opening ------------------------------------------------------------------- */

static int attach(struct sonde_live_client *c, uint64_t id, bool from_now,
		  struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_ATTACH_SESSION };
	struct sonde_live_streams_reply reply;
	struct live_session *sessions;
	uint8_t buf[SONDE_LIVE_STREAMS_SIZE];
	const char *why;
	int ret;

	req.u.attach.session_id = id;
	req.u.attach.seek = from_now ? SONDE_LIVE_SEEK_LAST :
				       SONDE_LIVE_SEEK_BEGINNING;
	ret = conn_request(&c->conn, &req, err);
	if (!ret)
		ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
	if (!ret)
		ret = relay_error(&c->conn, sonde_live_attach_reply_decode(
			buf, sizeof(buf), &reply, err), err);
	if (ret)
		return ret;
	switch (reply.status) {
	case SONDE_LIVE_ATTACH_OK:
		why = NULL;
		break;
	case SONDE_LIVE_ATTACH_ALREADY:
		why = "another viewer is attached to it";
		break;
	case SONDE_LIVE_ATTACH_NOT_LIVE:
		why = "it is not a live session";
		break;
	case SONDE_LIVE_ATTACH_UNK:
		why = "it is gone";
		break;
	default:
		why = "the relay refused";
		break;
	}
	if (why)
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s: cannot attach to session %s/%s: %s",
				       c->conn.name, c->url.hostname,
				       c->url.session, why);
	sessions = realloc(c->sessions,
			   (c->session_count + 1) * sizeof(*sessions));
	if (!sessions)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	c->sessions = sessions;
	memset(&sessions[c->session_count], 0, sizeof(*sessions));
	sessions[c->session_count++].id = id;
	return read_streams(c, reply.count, err);
}

int sonde_live_open(const struct sonde_live_url *url,
		    const struct sonde_live_opts *opts,
		    struct sonde_live_client **out, struct sonde_error *err)
{
	struct sonde_live_request req = { .cmd = SONDE_LIVE_CMD_CREATE_SESSION };
	struct sonde_live_client *c;
	struct sonde_live_session *list = NULL;
	uint8_t buf[SONDE_LIVE_STATUS_SIZE];
	size_t n = 0;
	uint32_t status;
	int ret;

	if (!url->hostname[0])
		return sonde_error_set(err, SONDE_EINVAL,
				       "live URL names no session (net://RELAY/host/HOSTNAME/SESSION)");
	c = calloc(1, sizeof(*c));
	if (!c)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	c->conn.fd = -1;
	c->url = *url;
	ret = sonde_ctf_trace_set_create(&c->set, err);
	if (!ret)
		ret = relay_conn_open(&c->conn, url->relay, url->port,
				opts && opts->io_timeout_ms > 0 ?
				opts->io_timeout_ms : DEFAULT_IO_TIMEOUT_MS, err);
	if (!ret)
		ret = conn_handshake(&c->conn, err);
	if (!ret)
		ret = conn_request(&c->conn, &req, err);
	if (!ret)
		ret = relay_conn_recv(&c->conn, buf, sizeof(buf), err);
	if (!ret)
		ret = relay_error(&c->conn, sonde_live_create_status_decode(
			buf, sizeof(buf), &status, err), err);
	if (!ret && status != SONDE_LIVE_CREATE_OK)
		ret = sonde_error_set(err, SONDE_EIO,
				      "relay %s cannot create a viewer session",
				      c->conn.name);
	if (!ret)
		ret = conn_list(&c->conn, &list, &n, err);
	for (size_t i = 0; !ret && i < n; i++) {
		/* Every domain of the session is its own relay session. */
		if (strcmp(list[i].hostname, url->hostname) ||
		    strcmp(list[i].session_name, url->session))
			continue;
		ret = attach(c, list[i].id, opts && opts->from_now, err);
	}
	free(list);
	if (!ret && !c->session_count)
		ret = sonde_error_set(err, SONDE_ENOENT,
				      "relay %s has no session %s/%s",
				      c->conn.name, url->hostname, url->session);
	if (ret) {
		sonde_live_close(c);
		return ret;
	}
	c->refresh = true;
	*out = c;
	return 0;
}

struct sonde_ctf_trace_set *sonde_live_trace_set(struct sonde_live_client *c)
{
	return c->set;
}

uint64_t sonde_live_generation(const struct sonde_live_client *c)
{
	return c->generation;
}

void sonde_live_close(struct sonde_live_client *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->conn.fd >= 0 && i < c->session_count; i++) {
		struct sonde_live_request req = {
			.cmd = SONDE_LIVE_CMD_DETACH_SESSION,
			.u.id = c->sessions[i].id,
		};
		uint8_t buf[SONDE_LIVE_STATUS_SIZE];
		struct sonde_error ignored;

		/* Old relays lack DETACH; a closed socket detaches too. */
		c->conn.timeout_ms = 1000;
		if (conn_request(&c->conn, &req, &ignored) ||
		    relay_conn_recv(&c->conn, buf, sizeof(buf), &ignored))
			break;
	}
	relay_conn_close(&c->conn);
	for (size_t i = 0; i < c->stream_count; i++)
		free_stream(c->streams[i]);
	free(c->streams);
	for (size_t i = 0; i < c->trace_count; i++) {
		free(c->traces[i]->metadata);
		free(c->traces[i]);
	}
	free(c->traces);
	free(c->sessions);
	sonde_ctf_trace_set_free(c->set);
	free(c);
}
