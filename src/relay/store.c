/*
 * The producer side of the relay core: relay sessions, streams and the
 * files they write (protocols.md §3 for the commands, §4 and §5 for the
 * index files and the directory layout, both as lttng-relayd writes them).
 *
 * A packet comes in two halves on two connections: its bytes on the data
 * connection, its index on the control connection, in either order.  An
 * index entry is written once both are there; since each connection is
 * ordered, entries complete in packet order, and the .idx file is then the
 * queue live viewers read from.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/be.h"
#include "relay/relay-internal.h"

/* Half-received packets a stream may hold: a producer that sends data and
 * never its index (it crashed, or misbehaves) cannot grow this further. */
#define HALVES_MAX 4096
#define INDEX_HEADER_SIZE 16
#define INDEX_MAGIC 0xC1F1DCC1u

struct relay_producer {
	struct relay_core *core;
	bool data;
	char peer[64];
	bool versioned;
	uint32_t minor;
	struct relay_session *session;
	/* The message whose bytes are arriving (SEND_METADATA or a packet). */
	struct relay_stream *cur;
	uint64_t cur_left, cur_start, cur_seq;
	uint32_t cur_padding;
	struct sonde_relay_request req;  /* the command being decoded */
};

/* Replies ------------------------------------------------------------------- */

void relay_out_init(struct relay_out *o)
{
	memset(o, 0, sizeof(*o));
	o->file_fd = -1;
}

uint8_t *relay_out_reserve(struct relay_out *o, size_t n)
{
	if (o->cap - o->len < n) {
		size_t cap = o->cap ? o->cap : 256;
		uint8_t *buf;

		while (cap - o->len < n)
			cap *= 2;
		buf = realloc(o->buf, cap);
		if (!buf)
			return NULL;
		o->buf = buf;
		o->cap = cap;
	}
	return o->buf + o->len;
}

void relay_out_reset(struct relay_out *o)
{
	o->len = o->off = 0;
	if (o->file_fd >= 0)
		close(o->file_fd);
	o->file_fd = -1;
	o->file_len = 0;
}

void relay_out_release(struct relay_out *o)
{
	relay_out_reset(o);
	free(o->buf);
	relay_out_init(o);
}

bool relay_out_empty(const struct relay_out *o)
{
	return o->off == o->len && o->file_len == 0;
}

static int put_reply(struct relay_out *o, uint32_t minor, uint32_t cmd,
		     const struct sonde_relay_reply *r, struct sonde_error *err)
{
	uint8_t *p = relay_out_reserve(o, SONDE_RELAY_MESSAGE_MAX);

	if (!p)
		return sonde_error_set(err, SONDE_ENOMEM, "reply: out of memory");
	o->len += sonde_relay_reply_encode(minor, cmd, r, p);
	return 0;
}

static int put_ret(struct relay_out *o, uint32_t ret, struct sonde_error *err)
{
	uint8_t *p = relay_out_reserve(o, 4);

	if (!p)
		return sonde_error_set(err, SONDE_ENOMEM, "reply: out of memory");
	o->len += sonde_relay_generic_encode(ret, p);
	return 0;
}

/* Core ----------------------------------------------------------------------- */

static int mkdir_under(const char *root, const char *rel, struct sonde_error *err)
{
	char path[2 * SONDE_RELAY_PATH_MAX];
	size_t root_len = strlen(root);
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= sizeof(path))
		return sonde_error_set(err, SONDE_EINVAL, "%s/%s: path too long",
				       root, rel);
	for (char *p = path + root_len + 1; ; p++) {
		char saved = *p;

		if (saved != '/' && saved)
			continue;
		*p = '\0';
		if (mkdir(path, 0770) && errno != EEXIST)
			return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
					       strerror(errno));
		*p = saved;
		if (!saved)
			return 0;
	}
}

int relay_core_new(const struct relay_config *cfg, struct relay_core **out,
		   struct sonde_error *err)
{
	struct relay_core *core = calloc(1, sizeof(*core));
	int ret;

	*out = NULL;
	if (!core)
		return sonde_error_set(err, SONDE_ENOMEM, "relay: out of memory");
	core->cfg = *cfg;
	core->output_dir = strdup(cfg->output_dir);
	core->next_handle = core->next_session_id = 1;
	core->next_trace_id = core->next_viewer_id = 1;
	if (!core->output_dir) {
		free(core);
		return sonde_error_set(err, SONDE_ENOMEM, "relay: out of memory");
	}
	ret = mkdir_under("", core->output_dir[0] == '/' ? core->output_dir + 1 :
			  core->output_dir, err);
	if (ret) {
		relay_core_free(core);
		return ret;
	}
	*out = core;
	return 0;
}

static void stream_free(struct relay_core *core, struct relay_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
	if (s->handle < core->handles_cap)
		core->by_handle[s->handle] = NULL;
	free(s->halves);
	free(s);
}

static void session_free(struct relay_core *core, struct relay_session *sess)
{
	for (struct relay_session **pp = &core->sessions; *pp; pp = &(*pp)->next) {
		if (*pp == sess) {
			*pp = sess->next;
			break;
		}
	}
	while (sess->streams) {
		struct relay_stream *s = sess->streams;

		sess->streams = s->next;
		stream_free(core, s);
	}
	while (sess->traces) {
		struct relay_trace *t = sess->traces;

		sess->traces = t->next;
		free(t);
	}
	free(sess);
}

void relay_core_free(struct relay_core *core)
{
	if (!core)
		return;
	while (core->sessions)
		session_free(core, core->sessions);
	free(core->by_handle);
	free(core->output_dir);
	free(core);
}

struct relay_session *relay_session_find(struct relay_core *core, uint64_t id)
{
	for (struct relay_session *s = core->sessions; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void relay_session_ref(struct relay_session *s)
{
	s->refs++;
}

void relay_session_unref(struct relay_core *core, struct relay_session *s)
{
	if (--s->refs == 0)
		session_free(core, s);
}

int relay_stream_entry(const struct relay_stream *s, uint64_t k,
		       struct sonde_relay_index *out, uint64_t *offset)
{
	uint8_t e[72];
	off_t at = INDEX_HEADER_SIZE + (off_t)(k * s->entry_size);

	if (k >= s->entries || pread(s->idx_fd, e, s->entry_size, at) !=
				       (ssize_t)s->entry_size)
		return -1;
	*offset = be_get64(e);
	out->packet_size = be_get64(e + 8);
	out->content_size = be_get64(e + 16);
	out->timestamp_begin = be_get64(e + 24);
	out->timestamp_end = be_get64(e + 32);
	out->events_discarded = be_get64(e + 40);
	out->stream_id = be_get64(e + 48);
	return 0;
}

/* Producers ---------------------------------------------------------------- */

struct relay_producer *relay_producer_new(struct relay_core *core, bool data,
					  const char *peer)
{
	struct relay_producer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->core = core;
	p->data = data;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	return p;
}

/* A stream ends at its last whole packet: nothing more comes. */
static void stream_close(struct relay_stream *s)
{
	s->closed = true;
	s->nhalves = 0;
}

/*
 * The producer is gone before closing the stream: the file keeps only what
 * a reader can use, the packets that got their index (or the whole
 * metadata messages), so that its index still covers it exactly.
 */
static void stream_abort(struct relay_core *core, struct relay_stream *s)
{
	uint64_t keep = s->indexed ? s->indexed_end : s->committed;

	if (s->closed)
		return;
	if (s->written != keep) {
		if (ftruncate(s->fd, (off_t)keep))
			core->cfg.log("stream %s of session %" PRIu64 ": truncate: %s",
				      s->name, s->session->id, strerror(errno));
		else
			core->cfg.log("stream %s of session %" PRIu64 ": %" PRIu64 " bytes without their index dropped",
				      s->name, s->session->id, s->written - keep);
		s->written = s->committed = keep;
	}
	stream_close(s);
}

void relay_producer_free(struct relay_producer *p)
{
	struct relay_session *sess;

	if (!p)
		return;
	sess = p->session;
	if (sess) {
		if (!sess->closed)
			p->core->cfg.log("session %" PRIu64 " (%s/%s): producer %s gone",
					 sess->id, sess->hostname, sess->name,
					 p->peer);
		sess->closed = true;
		for (struct relay_stream *s = sess->streams; s; s = s->next)
			stream_abort(p->core, s);
		relay_session_unref(p->core, sess);
	}
	free(p);
}

static int stream_lookup(struct relay_producer *p, uint64_t handle,
			 struct relay_stream **out, struct sonde_error *err)
{
	struct relay_stream *s = handle < p->core->handles_cap ?
				 p->core->by_handle[handle] : NULL;

	if (!s || (p->session && s->session != p->session))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "stream %" PRIu64 " is not one of this producer's",
				       handle);
	*out = s;
	return 0;
}

static bool seq_reached(const struct relay_stream *s, uint64_t seq)
{
	return (int64_t)(s->seq_done - seq) >= 0;
}

static void stream_try_close(struct relay_stream *s)
{
	if (s->close_requested && !s->closed && seq_reached(s, s->close_seq))
		stream_close(s);
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t at)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, at);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

/* OUTPUT/CHUNK_DIR/TRACE_PATH/[index/]NAME[.idx] */
static int stream_file(const struct relay_core *core, const struct relay_stream *s,
		       bool index, char *buf, size_t size, struct sonde_error *err)
{
	int n = snprintf(buf, size, "%s/%s/%s/%s%s%s", core->output_dir,
			 s->session->chunk_dir, s->trace->path,
			 index ? "index/" : "", s->name, index ? ".idx" : "");

	if (n < 0 || (size_t)n >= size)
		return sonde_error_set(err, SONDE_EINVAL, "stream %s: path too long",
				       s->name);
	return 0;
}

static int open_index(struct relay_core *core, struct relay_stream *s,
		      struct sonde_error *err)
{
	char rel[2 * SONDE_RELAY_PATH_MAX], path[3 * SONDE_RELAY_PATH_MAX];
	uint8_t hdr[INDEX_HEADER_SIZE];
	int ret;

	if (snprintf(rel, sizeof(rel), "%s/%s/index", s->session->chunk_dir,
		     s->trace->path) >= (int)sizeof(rel))
		return sonde_error_set(err, SONDE_EINVAL, "stream %s: path too long",
				       s->name);
	ret = mkdir_under(core->output_dir, rel, err);
	if (!ret)
		ret = stream_file(core, s, true, path, sizeof(path), err);
	if (ret)
		return ret;
	s->idx_fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
	be_put32(hdr, INDEX_MAGIC);
	be_put32(hdr + 4, 1);
	be_put32(hdr + 8, s->entry_size == 72 ? 1 : 0);
	be_put32(hdr + 12, s->entry_size);
	if (s->idx_fd < 0 || write_all(s->idx_fd, hdr, sizeof(hdr), 0))
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	return 0;
}

/* Both halves are in: the entry goes to the .idx file, viewers see it. */
static int commit_entry(struct relay_core *core, struct relay_stream *s,
			const struct relay_half *h, struct sonde_error *err)
{
	uint8_t e[72];
	const struct sonde_relay_index *x = &h->index;

	if (s->idx_fd < 0 && open_index(core, s, err))
		return -1;
	be_put64(e, h->offset);
	be_put64(e + 8, x->packet_size);
	be_put64(e + 16, x->content_size);
	be_put64(e + 24, x->timestamp_begin);
	be_put64(e + 32, x->timestamp_end);
	be_put64(e + 40, x->events_discarded);
	be_put64(e + 48, x->stream_id);
	be_put64(e + 56, x->stream_instance_id);
	be_put64(e + 64, x->packet_seq_num);
	if (write_all(s->idx_fd, e, s->entry_size,
		      INDEX_HEADER_SIZE + (off_t)(s->entries * s->entry_size)))
		return sonde_error_set(err, SONDE_EIO, "stream %s index: %s",
				       s->name, strerror(errno));
	s->entries++;
	s->seq_done = h->seq;
	s->indexed_end = h->offset + h->bytes;
	return 0;
}

/* Records one half of packet `seq`; writes the entry when both are in. */
static int add_half(struct relay_core *core, struct relay_stream *s,
		    const struct relay_half *in, struct sonde_error *err)
{
	struct relay_half *h = NULL;
	int ret = 0;

	for (size_t i = 0; i < s->nhalves; i++)
		if (s->halves[i].seq == in->seq)
			h = &s->halves[i];
	if (!h) {
		if (s->nhalves == HALVES_MAX) {
			core->cfg.log("stream %" PRIu64 " (%s): %d packets without their other half, dropping the oldest",
				      s->handle, s->name, HALVES_MAX);
			memmove(s->halves, s->halves + 1,
				--s->nhalves * sizeof(*s->halves));
		}
		if (s->nhalves == s->halves_cap) {
			size_t cap = s->halves_cap ? 2 * s->halves_cap : 4;
			struct relay_half *n = realloc(s->halves, cap * sizeof(*n));

			if (!n)
				return sonde_error_set(err, SONDE_ENOMEM,
						       "stream %s: out of memory",
						       s->name);
			s->halves = n;
			s->halves_cap = cap;
		}
		h = &s->halves[s->nhalves++];
		memset(h, 0, sizeof(*h));
		h->seq = in->seq;
	}
	if (in->have_data) {
		h->have_data = true;
		h->offset = in->offset;
		h->bytes = in->bytes;
	}
	if (in->have_index) {
		h->have_index = true;
		h->index = in->index;
	}
	if (h->have_data && h->have_index) {
		struct relay_half done = *h;

		*h = s->halves[--s->nhalves];
		ret = commit_entry(core, s, &done, err);
	}
	return ret;
}

static int need_session(struct relay_producer *p, uint32_t cmd,
			struct sonde_error *err)
{
	if (!p->versioned)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s before version", sonde_relay_cmd_name(cmd));
	if (!p->session)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s before create-session",
				       sonde_relay_cmd_name(cmd));
	return 0;
}

static void session_dir_name(const struct sonde_relay_create_session *c,
			     char *dir, size_t size)
{
	char date[32];
	time_t t = (time_t)c->creation_time;
	struct tm tm;

	if (c->base_path[0]) {
		snprintf(dir, size, "%.255s/%.2047s", c->hostname, c->base_path);
		return;
	}
	if (c->name_contains_creation_time) {
		snprintf(dir, size, "%.255s/%.254s", c->hostname, c->session_name);
		return;
	}
	if (!t)
		t = time(NULL);
	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
	snprintf(dir, size, "%.255s/%.254s-%.20s", c->hostname, c->session_name, date);
}

static int create_session(struct relay_producer *p,
			  const struct sonde_relay_create_session *c,
			  struct relay_out *o, struct sonde_error *err)
{
	struct relay_core *core = p->core;
	struct sonde_relay_reply *r;
	struct relay_session *sess;
	int ret;

	if (!p->versioned || p->session)
		return sonde_error_set(err, SONDE_EFORMAT, p->session ?
				       "a second create-session" :
				       "create-session before version");
	sess = calloc(1, sizeof(*sess));
	r = calloc(1, sizeof(*r));
	if (!sess || !r) {
		free(sess);
		free(r);
		return sonde_error_set(err, SONDE_ENOMEM, "create-session: out of memory");
	}
	if (!relay_name_ok(c->hostname) || !relay_name_ok(c->session_name) ||
	    (c->base_path[0] && !relay_path_ok(c->base_path)))
		ret = sonde_error_set(err, SONDE_EFORMAT,
				      "create-session: unsafe name (hostname '%.64s', session '%.64s', base path '%.64s')",
				      c->hostname, c->session_name, c->base_path);
	else if (c->trace_format != SONDE_RELAY_FORMAT_CTF_1_8)
		ret = sonde_error_set(err, SONDE_EUNSUPPORTED,
				      "create-session: CTF 2 traces not supported");
	else
		ret = 0;
	if (ret) {
		r->ret_code = SONDE_RELAY_RET_FATAL;
		put_reply(o, p->minor, SONDE_RELAY_CREATE_SESSION, r, NULL);
		free(r);
		free(sess);
		return ret;
	}
	sess->id = core->next_session_id++;
	memcpy(sess->hostname, c->hostname, sizeof(sess->hostname));
	memcpy(sess->name, c->session_name, sizeof(sess->name));
	sess->live_timer = c->live_timer;
	sess->snapshot = c->snapshot;
	sess->minor = p->minor;
	sess->streams_tail = &sess->streams;
	sess->refs = 1;
	if (p->minor >= SONDE_RELAY_MINOR_CHUNKS) {
		session_dir_name(c, sess->dir, sizeof(sess->dir));
		memcpy(sess->chunk_dir, sess->dir, sizeof(sess->dir));
		ret = mkdir_under(core->output_dir, sess->dir, err);
	} else {
		/* Before 2.11, streams name their whole directory. */
		snprintf(sess->dir, sizeof(sess->dir), "%s", c->hostname);
		snprintf(sess->chunk_dir, sizeof(sess->chunk_dir), ".");
		ret = 0;
	}
	r->ret_code = ret ? SONDE_RELAY_RET_FATAL : SONDE_RELAY_RET_OK;
	r->id = sess->id;
	snprintf(r->path, sizeof(r->path), "%s", sess->dir);
	if (put_reply(o, p->minor, SONDE_RELAY_CREATE_SESSION, r, err) && !ret)
		ret = -1;
	free(r);
	if (ret) {
		free(sess);
		return ret;
	}
	sess->next = core->sessions;
	core->sessions = sess;
	p->session = sess;
	core->cfg.log("session %" PRIu64 " (%s/%s) from %s: %s, live timer %u us",
		      sess->id, sess->hostname, sess->name, p->peer, sess->dir,
		      sess->live_timer);
	return 0;
}

static struct relay_trace *trace_get(struct relay_core *core,
				     struct relay_session *sess, const char *path)
{
	struct relay_trace *t;

	for (t = sess->traces; t; t = t->next)
		if (!strcmp(t->path, path))
			return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->id = core->next_trace_id++;
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->next = sess->traces;
	sess->traces = t;
	return t;
}

static int handle_register(struct relay_core *core, struct relay_stream *s)
{
	if (s->handle >= core->handles_cap) {
		size_t cap = core->handles_cap ? 2 * core->handles_cap : 64;
		struct relay_stream **n;

		while (cap <= s->handle)
			cap *= 2;
		n = realloc(core->by_handle, cap * sizeof(*n));
		if (!n)
			return -1;
		memset(n + core->handles_cap, 0,
		       (cap - core->handles_cap) * sizeof(*n));
		core->by_handle = n;
		core->handles_cap = cap;
	}
	core->by_handle[s->handle] = s;
	return 0;
}

static int add_stream(struct relay_producer *p,
		      const struct sonde_relay_add_stream *a,
		      struct relay_out *o, struct sonde_error *err)
{
	struct relay_core *core = p->core;
	struct relay_session *sess = p->session;
	struct sonde_relay_reply r = { .id = UINT64_MAX };
	char path[3 * SONDE_RELAY_PATH_MAX], rel[2 * SONDE_RELAY_PATH_MAX];
	const char *dir = a->pathname;
	struct relay_stream *s;
	int ret;

	while (*dir == '/')
		dir++;   /* legacy producers send "/HOST/SESSION-DATE/..." */
	if (!relay_name_ok(a->channel_name) || !relay_path_ok(dir)) {
		r.ret_code = SONDE_RELAY_RET_INVALID;
		put_reply(o, p->minor, SONDE_RELAY_ADD_STREAM, &r, err);
		return sonde_error_set(err, SONDE_EFORMAT,
				       "add-stream: unsafe name (channel '%.64s', path '%.128s')",
				       a->channel_name, a->pathname);
	}
	if (a->tracefile_size) {
		core->cfg.log("session %" PRIu64 ": stream %s/%s refused: size-limited trace files (--tracefile-size) are not supported",
			      sess->id, dir, a->channel_name);
		r.ret_code = SONDE_RELAY_RET_UNKNOWN;
		return put_reply(o, p->minor, SONDE_RELAY_ADD_STREAM, &r, err);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "add-stream: out of memory");
	s->fd = s->idx_fd = -1;
	s->session = sess;
	s->seq_done = UINT64_MAX;
	s->metadata = !strcmp(a->channel_name, "metadata");
	s->indexed = !s->metadata && !sess->snapshot &&
		     p->minor >= SONDE_RELAY_MINOR_SESSION_2_4;
	s->entry_size = p->minor >= SONDE_RELAY_MINOR_INDEX_1_1 ? 72 : 56;
	snprintf(s->name, sizeof(s->name), "%s", a->channel_name);
	s->trace = trace_get(core, sess, dir);
	s->handle = core->next_handle++;
	if (!s->trace || handle_register(core, s)) {
		free(s);
		return sonde_error_set(err, SONDE_ENOMEM, "add-stream: out of memory");
	}
	snprintf(rel, sizeof(rel), "%s/%s", sess->chunk_dir, dir);
	ret = mkdir_under(core->output_dir, rel, err);
	if (!ret)
		ret = stream_file(core, s, false, path, sizeof(path), err);
	if (!ret) {
		s->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
		if (s->fd < 0)
			ret = sonde_error_set(err, SONDE_EIO, "%s: %s", path,
					      strerror(errno));
	}
	if (ret) {
		core->cfg.log("session %" PRIu64 ": %s", sess->id, err->msg);
		stream_free(core, s);
		r.ret_code = SONDE_RELAY_RET_FILE_CREATION;
		return put_reply(o, p->minor, SONDE_RELAY_ADD_STREAM, &r, err);
	}
	if (s->metadata && !s->trace->metadata)
		s->trace->metadata = s;
	*sess->streams_tail = s;
	sess->streams_tail = &s->next;
	sess->stream_count++;
	r.id = s->handle;
	r.ret_code = SONDE_RELAY_RET_OK;
	return put_reply(o, p->minor, SONDE_RELAY_ADD_STREAM, &r, err);
}

static void streams_sent(struct relay_core *core, struct relay_session *sess)
{
	bool any = false;

	for (struct relay_stream *s = sess->streams; s; s = s->next) {
		if (s->published)
			continue;
		if (!any)
			core->publish_gen++;
		any = true;
		s->published = true;
		s->publish_gen = core->publish_gen;
	}
	if (any)
		sess->publish_gen = core->publish_gen;
}

static int send_index(struct relay_producer *p, const struct sonde_relay_index *x,
		      struct sonde_error *err)
{
	struct relay_half h = { .seq = x->net_seq_num, .have_index = true,
				.index = *x };
	struct relay_stream *s;

	if (stream_lookup(p, x->relay_stream_id, &s, err))
		return -1;
	if (s->metadata)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "send-index for metadata stream %" PRIu64,
				       s->handle);
	/* The class id never changes once known: babeltrace asserts on it. */
	if (!s->class_known) {
		s->class_known = true;
		s->class_id = x->stream_id;
	}
	if (x->packet_size == 0) {
		/* A beacon vouches for "nothing until then" only if no packet
		 * is on its way. */
		if (s->nhalves == 0) {
			s->has_beacon = true;
			s->beacon_ts = x->timestamp_end;
		}
		return 0;
	}
	if (x->packet_size % 8 || x->content_size > x->packet_size)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "send-index: packet of %" PRIu64 " bits with %" PRIu64 " bits of content",
				       x->packet_size, x->content_size);
	s->has_beacon = false;
	if (s->closed)
		return 0;
	if (add_half(p->core, s, &h, err))
		return -1;
	stream_try_close(s);
	return 0;
}

static int close_chunk(struct relay_producer *p, const struct sonde_relay_request *req,
		       struct relay_out *o, struct sonde_error *err)
{
	struct relay_session *sess = p->session;
	struct sonde_relay_reply *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return sonde_error_set(err, SONDE_ENOMEM, "close-trace-chunk: out of memory");
	if (req->u.close_chunk.has_command &&
	    req->u.close_chunk.command == SONDE_RELAY_CHUNK_DELETE) {
		/* We never advertise clear, so sessiond should not ask. */
		r->ret_code = SONDE_RELAY_RET_INVALID_PROTOCOL;
	} else {
		if (sess->has_chunk && sess->chunk_id == req->u.close_chunk.chunk_id)
			sess->chunk_closed = true;
		r->ret_code = SONDE_RELAY_RET_OK;
		snprintf(r->path, sizeof(r->path), "%s", sess->chunk_dir);
	}
	ret = put_reply(o, p->minor, SONDE_RELAY_CLOSE_TRACE_CHUNK, r, err);
	free(r);
	return ret;
}

static int create_chunk(struct relay_producer *p, const struct sonde_relay_request *req,
			struct sonde_error *err)
{
	struct relay_session *sess = p->session;
	const char *name = req->u.create_chunk.override_name;

	sess->has_chunk = true;
	sess->chunk_closed = false;
	sess->chunk_id = req->u.create_chunk.chunk_id;
	/* Snapshots land in a directory of their own per chunk; rotations of
	 * other sessions keep writing to the session directory. */
	if (sess->snapshot && name[0]) {
		if (!relay_name_ok(name))
			return sonde_error_set(err, SONDE_EFORMAT,
					       "create-trace-chunk: unsafe name '%.64s'",
					       name);
		snprintf(sess->chunk_dir, sizeof(sess->chunk_dir), "%.2000s/%.255s",
			 sess->dir, name);
	}
	return 0;
}

static int data_pending(struct relay_producer *p, const struct sonde_relay_request *req,
			struct relay_out *o, struct sonde_error *err)
{
	struct relay_session *sess = p->session;
	struct relay_stream *s;
	bool pending = false;

	switch (req->cmd) {
	case SONDE_RELAY_DATA_PENDING:
		if (stream_lookup(p, req->u.stream_seq.stream_id, &s, err))
			return -1;
		s->checked = true;
		pending = !s->closed &&
			  !seq_reached(s, req->u.stream_seq.last_net_seq_num);
		return put_ret(o, pending, err);
	case SONDE_RELAY_QUIESCENT_CONTROL:
		if (stream_lookup(p, req->u.id, &s, err))
			return -1;
		s->checked = true;
		break;
	case SONDE_RELAY_BEGIN_DATA_PENDING:
		for (s = sess->streams; s; s = s->next)
			s->checked = false;
		break;
	case SONDE_RELAY_END_DATA_PENDING:
		for (s = sess->streams; s; s = s->next)
			if (!s->checked && !s->closed && s->nhalves)
				pending = true;
		return put_ret(o, pending, err);
	}
	return put_ret(o, SONDE_RELAY_RET_OK, err);
}

int relay_control_command(struct relay_producer *p, uint32_t cmd,
			  const uint8_t *payload, size_t len,
			  struct relay_out *o, struct sonde_error *err)
{
	struct sonde_relay_request *req = &p->req;
	struct sonde_relay_reply r;     /* fields set per command: no 4 KiB memset */
	struct relay_stream *s;
	int ret;

	r.ret_code = SONDE_RELAY_RET_OK;
	r.path[0] = '\0';

	ret = sonde_relay_request_decode(p->minor, cmd, payload, len, req, err);
	if (ret) {
		put_ret(o, SONDE_RELAY_RET_UNKNOWN, NULL);
		goto out;
	}
	if (cmd == SONDE_RELAY_VERSION) {
		r.major = SONDE_RELAY_MAJOR;
		r.minor = SONDE_RELAY_MINOR;
		ret = put_reply(o, p->minor, cmd, &r, err);
		if (!ret && req->u.version.major != SONDE_RELAY_MAJOR)
			ret = sonde_error_set(err, SONDE_EUNSUPPORTED,
					      "protocol version %u.%u (ours is %d.%d)",
					      req->u.version.major, req->u.version.minor,
					      SONDE_RELAY_MAJOR, SONDE_RELAY_MINOR);
		p->versioned = true;
		p->minor = req->u.version.minor < SONDE_RELAY_MINOR ?
			   req->u.version.minor : SONDE_RELAY_MINOR;
		goto out;
	}
	if (cmd == SONDE_RELAY_CREATE_SESSION) {
		ret = create_session(p, &req->u.create_session, o, err);
		goto out;
	}
	if (cmd == SONDE_RELAY_GET_CONFIGURATION && p->versioned) {
		r.ret_code = req->u.id ? SONDE_RELAY_RET_INVALID_PROTOCOL :
			     SONDE_RELAY_RET_OK;
		r.flags = 0;
		ret = put_reply(o, p->minor, cmd, &r, err);
		goto out;
	}
	ret = need_session(p, cmd, err);
	if (ret) {
		put_ret(o, SONDE_RELAY_RET_INVALID_PROTOCOL, NULL);
		goto out;
	}
	switch (cmd) {
	case SONDE_RELAY_ADD_STREAM:
		ret = add_stream(p, &req->u.add_stream, o, err);
		break;
	case SONDE_RELAY_STREAMS_SENT:
		streams_sent(p->core, p->session);
		ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		break;
	case SONDE_RELAY_START_DATA:
	case SONDE_RELAY_ROTATE_STREAMS:
		/* Rotations keep the streams in their files (see relay.md). */
		ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		break;
	case SONDE_RELAY_SEND_INDEX:
		ret = send_index(p, &req->u.index, err);
		if (!ret)
			ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		break;
	case SONDE_RELAY_CLOSE_STREAM:
		ret = stream_lookup(p, req->u.stream_seq.stream_id, &s, err);
		if (ret)
			break;
		s->close_requested = true;
		s->close_seq = req->u.stream_seq.last_net_seq_num;
		stream_try_close(s);
		ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		break;
	case SONDE_RELAY_DATA_PENDING:
	case SONDE_RELAY_QUIESCENT_CONTROL:
	case SONDE_RELAY_BEGIN_DATA_PENDING:
	case SONDE_RELAY_END_DATA_PENDING:
		ret = data_pending(p, req, o, err);
		break;
	case SONDE_RELAY_CREATE_TRACE_CHUNK:
		ret = create_chunk(p, req, err);
		if (!ret)
			ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		break;
	case SONDE_RELAY_CLOSE_TRACE_CHUNK:
		ret = close_chunk(p, req, o, err);
		break;
	case SONDE_RELAY_TRACE_CHUNK_EXISTS:
		r.exists = p->session->has_chunk && !p->session->chunk_closed &&
			   p->session->chunk_id == req->u.id;
		ret = put_reply(o, p->minor, cmd, &r, err);
		break;
	case SONDE_RELAY_RESET_METADATA:
		ret = stream_lookup(p, req->u.reset_metadata.stream_id, &s, err);
		if (ret)
			break;
		if (!s->metadata || p->session->live_timer) {
			put_ret(o, SONDE_RELAY_RET_UNKNOWN, NULL);
			ret = sonde_error_set(err, SONDE_EFORMAT,
					      "reset-metadata of %s stream %" PRIu64,
					      s->metadata ? "a live" : "a data",
					      s->handle);
			break;
		}
		if (ftruncate(s->fd, 0))
			ret = sonde_error_set(err, SONDE_EIO, "reset-metadata: %s",
					      strerror(errno));
		else
			ret = put_ret(o, SONDE_RELAY_RET_OK, err);
		s->written = s->committed = 0;
		break;
	default:
		put_ret(o, SONDE_RELAY_RET_UNKNOWN, NULL);
		ret = sonde_error_set(err, SONDE_EUNSUPPORTED, "command %u (%s)",
				      cmd, sonde_relay_cmd_name(cmd));
		break;
	}
out:
	return ret;
}

/* Payloads in pieces ----------------------------------------------------------- */

int relay_metadata_begin(struct relay_producer *p, uint64_t stream_id,
			 uint32_t padding, uint64_t len, struct sonde_error *err)
{
	struct relay_stream *s;

	if (need_session(p, SONDE_RELAY_SEND_METADATA, err) ||
	    stream_lookup(p, stream_id, &s, err))
		return -1;
	if (!s->metadata || s->closed)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "send-metadata to %s stream %" PRIu64,
				       s->metadata ? "closed" : "data", stream_id);
	p->cur = s;
	p->cur_left = len;
	p->cur_padding = padding;
	p->cur_start = s->written;
	return 0;
}

int relay_data_begin(struct relay_producer *p,
		     const struct sonde_relay_data_header *h,
		     struct sonde_error *err)
{
	struct relay_stream *s;

	if (stream_lookup(p, h->stream_id, &s, err))
		return -1;
	if (s->metadata || s->closed)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "data packet for %s stream %" PRIu64,
				       s->metadata ? "metadata" : "closed",
				       h->stream_id);
	if (!p->session) {
		p->session = s->session;
		relay_session_ref(s->session);
	}
	p->cur = s;
	p->cur_left = h->data_size;
	p->cur_padding = h->padding_size;
	p->cur_start = s->written;
	p->cur_seq = h->net_seq_num;
	return 0;
}

int relay_payload_write(struct relay_producer *p, const uint8_t *bytes,
			size_t n, struct sonde_error *err)
{
	struct relay_stream *s = p->cur;

	if (!s || n > p->cur_left)
		return sonde_error_set(err, SONDE_EINVAL, "payload: %zu bytes unexpected", n);
	/* Its control connection went away mid-packet: the file was cut
	 * back to its last indexed packet and must stay so. */
	if (s->closed)
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream %s of session %" PRIu64 " closed while a packet arrived",
				       s->name, s->session->id);
	if (write_all(s->fd, bytes, n, (off_t)s->written))
		return sonde_error_set(err, SONDE_EIO, "stream %s of session %" PRIu64 ": write: %s",
				       s->name, s->session->id, strerror(errno));
	s->written += n;
	p->cur_left -= n;
	return 0;
}

int relay_payload_end(struct relay_producer *p, struct sonde_error *err)
{
	struct relay_stream *s = p->cur;
	struct relay_half h;

	p->cur = NULL;
	if (!s || p->cur_left)
		return sonde_error_set(err, SONDE_EINVAL, "payload: ended early");
	if (s->closed)
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream %s of session %" PRIu64 " closed while a packet arrived",
				       s->name, s->session->id);
	if (p->cur_padding) {
		s->written += p->cur_padding;
		if (ftruncate(s->fd, (off_t)s->written))
			return sonde_error_set(err, SONDE_EIO, "stream %s: padding: %s",
					       s->name, strerror(errno));
	}
	s->committed = s->written;
	if (s->metadata)
		return 0;
	if (!s->indexed) {
		s->seq_done = p->cur_seq;
		stream_try_close(s);
		return 0;
	}
	h = (struct relay_half){ .seq = p->cur_seq, .have_data = true,
				 .offset = p->cur_start,
				 .bytes = s->written - p->cur_start };
	if (add_half(p->core, s, &h, err))
		return -1;
	stream_try_close(s);
	return 0;
}
