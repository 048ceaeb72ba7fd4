/*
 * The viewer side of the relay core: the LTTng live protocol's commands
 * (protocols.md §2) over the sessions producers stream in.
 *
 * Unlike lttng-relayd, any number of viewers may attach to one relay
 * session: each attachment keeps its own position in every stream (the
 * next index entry, the metadata bytes sent), so one viewer's pace never
 * affects another's.  A viewer learns of streams published after it
 * attached through the NEW_STREAM flag: every STREAMS_SENT bumps the
 * session's publication generation, and an attachment remembers the last
 * generation it announced.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live/live-proto.h"
#include "relay/relay-internal.h"

/* What we announce: the 2.4 session list entries, no CTF 2. */
#define LIVE_MINOR 13
/* The largest GET_PACKET we serve (babeltrace asks for 256 KiB at most)
 * and the most metadata bytes per GET_METADATA reply (viewers repeat
 * until NO_NEW). */
#define PACKET_MAX (64u << 20)
#define METADATA_CHUNK (4u << 20)

struct viewer_stream {
	struct relay_stream *s;
	uint64_t next;                  /* data: the next index entry */
	uint64_t metadata_sent;         /* metadata: bytes sent */
	bool done;                      /* HUP sent (data) or closed (metadata) */
	struct viewer_stream *next_vs;
};

struct attachment {
	struct relay_session *session;
	uint64_t seen_gen;              /* publication generation announced */
	uint64_t attach_gen;
	struct viewer_stream *streams;
	struct attachment *next;
};

struct relay_viewer {
	struct relay_core *core;
	bool connected;
	bool has_session;               /* CREATE_SESSION done */
	uint32_t minor;
	struct attachment *attached;
};

struct relay_viewer *relay_viewer_new(struct relay_core *core)
{
	struct relay_viewer *v = calloc(1, sizeof(*v));

	if (v)
		v->core = core;
	return v;
}

static void detach(struct relay_viewer *v, struct attachment *a)
{
	for (struct attachment **pp = &v->attached; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	while (a->streams) {
		struct viewer_stream *vs = a->streams;

		a->streams = vs->next_vs;
		free(vs);
	}
	a->session->viewers--;
	relay_session_unref(v->core, a->session);
	free(a);
}

void relay_viewer_free(struct relay_viewer *v)
{
	if (!v)
		return;
	while (v->attached)
		detach(v, v->attached);
	free(v);
}

static struct attachment *find_attachment(struct relay_viewer *v, uint64_t id)
{
	for (struct attachment *a = v->attached; a; a = a->next)
		if (a->session->id == id)
			return a;
	return NULL;
}

static struct viewer_stream *find_vs(struct relay_viewer *v, uint64_t handle,
				     struct attachment **owner)
{
	for (struct attachment *a = v->attached; a; a = a->next)
		for (struct viewer_stream *vs = a->streams; vs; vs = vs->next_vs)
			if (vs->s->handle == handle) {
				if (owner)
					*owner = a;
				return vs;
			}
	return NULL;
}

static struct viewer_stream *attachment_vs(struct attachment *a,
					   const struct relay_stream *s)
{
	for (struct viewer_stream *vs = a->streams; vs; vs = vs->next_vs)
		if (vs->s == s)
			return vs;
	return NULL;
}

static uint8_t *reserve(struct relay_out *o, size_t n, struct sonde_error *err)
{
	uint8_t *p = relay_out_reserve(o, n);

	if (!p)
		sonde_error_set(err, SONDE_ENOMEM, "live reply: out of memory");
	return p;
}

static int put_status(struct relay_out *o, uint32_t status, struct sonde_error *err)
{
	uint8_t *p = reserve(o, SONDE_LIVE_STATUS_SIZE, err);

	if (!p)
		return -1;
	sonde_live_status_encode(status, p);
	o->len += SONDE_LIVE_STATUS_SIZE;
	return 0;
}

static int list_sessions(struct relay_viewer *v, struct relay_out *o,
			 struct sonde_error *err)
{
	size_t max = sonde_live_session_max_size(v->minor);
	uint32_t count = 0;
	uint8_t *p;

	for (struct relay_session *s = v->core->sessions; s; s = s->next)
		count += !s->closed;
	p = reserve(o, SONDE_LIVE_COUNT_SIZE + (size_t)count * max, err);
	if (!p)
		return -1;
	sonde_live_count_encode(count, p);
	o->len += SONDE_LIVE_COUNT_SIZE;
	for (struct relay_session *s = v->core->sessions; s; s = s->next) {
		struct sonde_live_session e = {
			.id = s->id, .live_timer = s->live_timer,
			.clients = s->viewers, .streams = s->stream_count,
		};

		if (s->closed)
			continue;
		snprintf(e.hostname, sizeof(e.hostname), "%s", s->hostname);
		snprintf(e.session_name, sizeof(e.session_name), "%s", s->name);
		o->len += sonde_live_session_encode(v->minor, &e, o->buf + o->len);
	}
	return 0;
}

/* Whether `a` may be told about stream `s` now: published, its trace's
 * metadata stream too, and not a stream that had ended before the viewer
 * attached. */
static bool announceable(const struct attachment *a, const struct relay_stream *s)
{
	const struct relay_stream *m = s->trace->metadata;

	if (!s->published || !m || !m->published)
		return false;
	return !s->closed || s->publish_gen > a->attach_gen;
}

/* Announces every stream of the session `a` has not seen, as stream
 * records after a reply header at `o`; returns the count or -1. */
static int announce(struct attachment *a, bool seek_last, struct relay_out *o,
		    struct sonde_error *err)
{
	int count = 0;

	for (struct relay_stream *s = a->session->streams; s; s = s->next) {
		struct sonde_live_stream rec = { .id = s->handle,
						 .ctf_trace_id = s->trace->id,
						 .metadata = s->metadata };
		struct viewer_stream *vs;
		uint8_t *p;

		if (!announceable(a, s) || attachment_vs(a, s))
			continue;
		vs = calloc(1, sizeof(*vs));
		p = reserve(o, SONDE_LIVE_STREAM_SIZE, err);
		if (!vs || !p) {
			free(vs);
			return sonde_error_set(err, SONDE_ENOMEM, "live: out of memory");
		}
		vs->s = s;
		if (seek_last && !s->metadata)
			vs->next = s->entries;
		vs->next_vs = a->streams;
		a->streams = vs;
		snprintf(rec.path_name, sizeof(rec.path_name), "%s", s->trace->path);
		snprintf(rec.channel_name, sizeof(rec.channel_name), "%.254s", s->name);
		sonde_live_stream_encode(&rec, p);
		o->len += SONDE_LIVE_STREAM_SIZE;
		count++;
	}
	a->seen_gen = a->session->publish_gen;
	return count;
}

static int put_streams_reply(struct relay_out *o, size_t at, uint32_t status,
			     uint32_t count)
{
	struct sonde_live_streams_reply r = { .status = status, .count = count };

	sonde_live_streams_reply_encode(&r, o->buf + at);
	return 0;
}

static int attach(struct relay_viewer *v, const struct sonde_live_request *req,
		  struct relay_out *o, struct sonde_error *err)
{
	struct relay_session *s = relay_session_find(v->core, req->u.attach.session_id);
	uint32_t status = SONDE_LIVE_ATTACH_OK;
	size_t at = o->len;
	struct attachment *a;
	int count;

	if (!reserve(o, SONDE_LIVE_STREAMS_SIZE, err))
		return -1;
	o->len += SONDE_LIVE_STREAMS_SIZE;
	if (!v->has_session)
		status = SONDE_LIVE_ATTACH_NO_SESSION;
	else if (!s || s->closed)
		status = SONDE_LIVE_ATTACH_UNK;
	else if (!s->live_timer)
		status = SONDE_LIVE_ATTACH_NOT_LIVE;
	else if (req->u.attach.seek != SONDE_LIVE_SEEK_BEGINNING &&
		 req->u.attach.seek != SONDE_LIVE_SEEK_LAST)
		status = SONDE_LIVE_ATTACH_SEEK_ERR;
	else if (find_attachment(v, s->id) ||
		 (v->core->cfg.one_viewer_per_session && s->viewers))
		status = SONDE_LIVE_ATTACH_ALREADY;
	if (status != SONDE_LIVE_ATTACH_OK)
		return put_streams_reply(o, at, status, 0);
	a = calloc(1, sizeof(*a));
	if (!a)
		return sonde_error_set(err, SONDE_ENOMEM, "attach: out of memory");
	a->session = s;
	a->attach_gen = v->core->publish_gen;
	a->next = v->attached;
	v->attached = a;
	relay_session_ref(s);
	s->viewers++;
	count = announce(a, req->u.attach.seek == SONDE_LIVE_SEEK_LAST, o, err);
	if (count < 0)
		return -1;
	v->core->cfg.log("session %" PRIu64 " (%s/%s): viewer attached, %d streams",
			 s->id, s->hostname, s->name, count);
	return put_streams_reply(o, at, SONDE_LIVE_ATTACH_OK, (uint32_t)count);
}

/* Nothing left to read in the session for this viewer. */
static bool drained(const struct attachment *a)
{
	for (const struct viewer_stream *vs = a->streams; vs; vs = vs->next_vs) {
		if (vs->done)
			continue;
		if (vs->s->metadata ? vs->metadata_sent < vs->s->committed :
				      vs->next < vs->s->entries)
			return false;
	}
	return true;
}

static int new_streams(struct relay_viewer *v, uint64_t id, struct relay_out *o,
		       struct sonde_error *err)
{
	struct attachment *a = find_attachment(v, id);
	size_t at = o->len;
	int count;

	if (!reserve(o, SONDE_LIVE_STREAMS_SIZE, err))
		return -1;
	o->len += SONDE_LIVE_STREAMS_SIZE;
	if (!a)
		return put_streams_reply(o, at, SONDE_LIVE_NEW_STREAMS_ERR, 0);
	count = announce(a, false, o, err);
	if (count < 0)
		return -1;
	if (count == 0 && a->session->closed && drained(a))
		return put_streams_reply(o, at, SONDE_LIVE_NEW_STREAMS_HUP, 0);
	return put_streams_reply(o, at, SONDE_LIVE_NEW_STREAMS_OK, (uint32_t)count);
}

static uint32_t flags_for(struct relay_viewer *v, struct attachment *a,
			  const struct relay_stream *s)
{
	const struct relay_stream *m = s->trace->metadata;
	uint32_t flags = 0;

	if (m) {
		const struct viewer_stream *mvs = attachment_vs(a, m);

		if (!mvs || mvs->metadata_sent < m->committed)
			flags |= SONDE_LIVE_FLAG_NEW_METADATA;
	}
	for (struct attachment *x = v->attached; x; x = x->next)
		if (x->seen_gen != x->session->publish_gen)
			flags |= SONDE_LIVE_FLAG_NEW_STREAM;
	return flags;
}

static int next_index(struct relay_viewer *v, uint64_t id, struct relay_out *o,
		      struct sonde_error *err)
{
	struct sonde_live_index x = { .status = SONDE_LIVE_INDEX_ERR };
	struct attachment *a = NULL;
	struct viewer_stream *vs = find_vs(v, id, &a);
	uint8_t *p = reserve(o, SONDE_LIVE_INDEX_SIZE, err);
	struct relay_stream *s;

	if (!p)
		return -1;
	if (!vs || vs->done)
		goto reply;
	s = vs->s;
	if (s->metadata) {
		x.status = SONDE_LIVE_INDEX_HUP;
		goto reply;
	}
	if ((s->closed || s->session->closed) && vs->next >= s->entries) {
		x.status = SONDE_LIVE_INDEX_HUP;
		vs->done = true;
	} else if (vs->next >= s->entries) {
		if (s->has_beacon) {
			x.status = SONDE_LIVE_INDEX_INACTIVE;
			x.timestamp_end = s->beacon_ts;
			x.stream_id = s->class_id;
		} else {
			x.status = SONDE_LIVE_INDEX_RETRY;
		}
	} else {
		struct sonde_relay_index e;
		uint64_t offset;

		if (relay_stream_entry(s, vs->next, &e, &offset)) {
			v->core->cfg.log("stream %" PRIu64 ": index entry %" PRIu64 " unreadable",
					 s->handle, vs->next);
			goto reply;
		}
		vs->next++;
		x = (struct sonde_live_index){
			.offset = offset, .packet_size = e.packet_size,
			.content_size = e.content_size,
			.timestamp_begin = e.timestamp_begin,
			.timestamp_end = e.timestamp_end,
			.events_discarded = e.events_discarded,
			.stream_id = e.stream_id, .status = SONDE_LIVE_INDEX_OK,
		};
	}
	x.flags = flags_for(v, a, s);
reply:
	sonde_live_index_encode(&x, p);
	o->len += SONDE_LIVE_INDEX_SIZE;
	return 0;
}

/* The reply's tail: `len` bytes of `fd` from `offset`, sent from the file. */
static int put_file(struct relay_out *o, int fd, uint64_t offset, uint64_t len,
		    struct sonde_error *err)
{
	o->file_fd = dup(fd);
	if (o->file_fd < 0)
		return sonde_error_set(err, SONDE_EIO, "live reply: dup: out of file descriptors");
	o->file_off = (off_t)offset;
	o->file_len = len;
	return 0;
}

static int get_packet(struct relay_viewer *v, const struct sonde_live_request *req,
		      struct relay_out *o, struct sonde_error *err)
{
	struct sonde_live_packet_reply r = { .status = SONDE_LIVE_PACKET_ERR };
	struct viewer_stream *vs = find_vs(v, req->u.get_packet.stream_id, NULL);
	uint64_t off = req->u.get_packet.offset, len = req->u.get_packet.len;
	uint8_t *p = reserve(o, SONDE_LIVE_PACKET_SIZE, err);

	if (!p)
		return -1;
	if (vs && !vs->s->metadata && len && len <= PACKET_MAX &&
	    off <= vs->s->committed && len <= vs->s->committed - off) {
		r.status = SONDE_LIVE_PACKET_OK;
		r.len = (uint32_t)len;
	}
	sonde_live_packet_reply_encode(&r, p);
	o->len += SONDE_LIVE_PACKET_SIZE;
	if (r.status == SONDE_LIVE_PACKET_OK)
		return put_file(o, vs->s->fd, off, len, err);
	return 0;
}

static int get_metadata(struct relay_viewer *v, uint64_t id, struct relay_out *o,
			struct sonde_error *err)
{
	struct sonde_live_metadata_reply r = { .status = SONDE_LIVE_METADATA_ERR };
	struct viewer_stream *vs = find_vs(v, id, NULL);
	uint8_t *p = reserve(o, SONDE_LIVE_METADATA_SIZE, err);
	uint64_t from = 0;

	if (!p)
		return -1;
	if (vs && vs->s->metadata && !vs->done) {
		struct relay_stream *s = vs->s;

		if (vs->metadata_sent >= s->committed) {
			r.status = SONDE_LIVE_METADATA_NO_NEW;
			/* A closed stream answers ERR from then on. */
			if ((s->closed || s->session->closed) && vs->metadata_sent)
				vs->done = true;
		} else {
			r.status = SONDE_LIVE_METADATA_OK;
			from = vs->metadata_sent;
			r.len = s->committed - from;
			if (r.len > METADATA_CHUNK)
				r.len = METADATA_CHUNK;
			vs->metadata_sent += r.len;
		}
	}
	sonde_live_metadata_reply_encode(&r, p);
	o->len += SONDE_LIVE_METADATA_SIZE;
	if (r.status == SONDE_LIVE_METADATA_OK)
		return put_file(o, vs->s->fd, from, r.len, err);
	return 0;
}

int relay_viewer_command(struct relay_viewer *v, uint32_t cmd,
			 const uint8_t *payload, size_t len,
			 struct relay_out *o, struct sonde_error *err)
{
	struct sonde_live_request req;
	struct attachment *a;
	uint8_t *p;

	if (sonde_live_request_decode(cmd, payload, len, &req, err))
		return -1;
	if (!v->connected && cmd != SONDE_LIVE_CMD_CONNECT)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "live %s before connect", sonde_live_cmd_name(cmd));
	switch (cmd) {
	case SONDE_LIVE_CMD_CONNECT: {
		struct sonde_live_connect c = { .major = SONDE_LIVE_MAJOR,
						.minor = LIVE_MINOR };

		if (v->connected || req.u.connect.major != SONDE_LIVE_MAJOR)
			return sonde_error_set(err, SONDE_EFORMAT,
					       v->connected ? "live: second connect" :
					       "live: viewer speaks protocol %u.%u, not 2.x",
					       req.u.connect.major, req.u.connect.minor);
		v->connected = true;
		v->minor = req.u.connect.minor < LIVE_MINOR ?
			   req.u.connect.minor : LIVE_MINOR;
		if (req.u.connect.type == SONDE_LIVE_CLIENT_COMMAND)
			c.viewer_session_id = v->core->next_viewer_id++;
		p = reserve(o, SONDE_LIVE_CONNECT_SIZE, err);
		if (!p)
			return -1;
		sonde_live_connect_encode(&c, p);
		o->len += SONDE_LIVE_CONNECT_SIZE;
		return 0;
	}
	case SONDE_LIVE_CMD_LIST_SESSIONS:
		return list_sessions(v, o, err);
	case SONDE_LIVE_CMD_CREATE_SESSION:
		v->has_session = true;
		return put_status(o, SONDE_LIVE_CREATE_OK, err);
	case SONDE_LIVE_CMD_ATTACH_SESSION:
		return attach(v, &req, o, err);
	case SONDE_LIVE_CMD_GET_NEW_STREAMS:
		return new_streams(v, req.u.id, o, err);
	case SONDE_LIVE_CMD_GET_NEXT_INDEX:
		return next_index(v, req.u.id, o, err);
	case SONDE_LIVE_CMD_GET_PACKET:
		return get_packet(v, &req, o, err);
	case SONDE_LIVE_CMD_GET_METADATA:
		return get_metadata(v, req.u.id, o, err);
	case SONDE_LIVE_CMD_DETACH_SESSION:
		a = find_attachment(v, req.u.id);
		if (a) {
			detach(v, a);
			return put_status(o, SONDE_LIVE_DETACH_OK, err);
		}
		return put_status(o, relay_session_find(v->core, req.u.id) ?
				  SONDE_LIVE_DETACH_ERR : SONDE_LIVE_DETACH_UNK, err);
	default:
		return sonde_error_set(err, SONDE_EUNSUPPORTED, "live command %u", cmd);
	}
}
