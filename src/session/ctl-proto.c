/*
 * Control protocol: framing, field encoding and a strict decoder.
 *
 * The decoder walks untrusted bytes: every length is checked against what
 * is left before it is used, each record is counted before its fields are
 * stored, and nesting is bounded, so no input can make it read out of
 * bounds, recurse without end or allocate more than the payload justifies.
 */
#include "session/ctl-proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FIELD_HEADER_SIZE 6

struct tag_info {
	enum sonde_ctl_kind kind;
	bool repeats;
};

static const struct tag_info tags[SONDE_CTL_TAG_END] = {
	[SONDE_CTL_T_STATUS] = { SONDE_CTL_KIND_I64, false },
	[SONDE_CTL_T_MESSAGE] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_SESSION] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_OUTPUT] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_SNAPSHOT] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_CHANNEL] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_EVENT] = { SONDE_CTL_KIND_STR, true },
	[SONDE_CTL_T_SYSCALL] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_ALL] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_SUBBUF_SIZE] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_NUM_SUBBUF] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_OVERWRITE] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_SWITCH_TIMER] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_STATE] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_CREATED] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_EVENTS_RECORDED] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_EVENTS_DISCARDED] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_PACKETS_LOST] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_BYTES_WRITTEN] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_SNAPSHOT_NAME] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_PATH] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_ENABLED] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_SESSION_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_CHANNEL_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_EVENT_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_NAME] = { SONDE_CTL_KIND_STR, true },
	[SONDE_CTL_T_SWITCHES_REPAIRED] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_BACKEND] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_BACKEND_WHY] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_RELAY] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_CONTROL_PORT] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_DATA_PORT] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_LIVE_TIMER] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_USERSPACE] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_LOGLEVEL] = { SONDE_CTL_KIND_I64, false },
	[SONDE_CTL_T_LOGLEVEL_MATCH] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_CONTEXT] = { SONDE_CTL_KIND_STR, true },
	[SONDE_CTL_T_PID] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_UID] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_PROCNAME] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_GENERATION] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_SHM_PATH] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_ENABLER_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_FIELD_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_KIND] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_INT_TYPE] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_LENGTH_TYPE] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_COUNT] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_FLOAT_BITS] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_ENUM_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_LABEL] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_LO] = { SONDE_CTL_KIND_I64, false },
	[SONDE_CTL_T_HI] = { SONDE_CTL_KIND_I64, false },
	[SONDE_CTL_T_ID] = { SONDE_CTL_KIND_U64, false },
	[SONDE_CTL_T_BUFFERS_PID] = { SONDE_CTL_KIND_BOOL, false },
	[SONDE_CTL_T_FILTER] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_FILTER_CODE] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_TRACKER_REC] = { SONDE_CTL_KIND_RECORD, true },
	[SONDE_CTL_T_TRACKER] = { SONDE_CTL_KIND_STR, false },
	[SONDE_CTL_T_VALUE] = { SONDE_CTL_KIND_STR, true },
};

static const char *const type_names[SONDE_CTL_TYPE_END] = {
	[SONDE_CTL_REPLY] = "reply",
	[SONDE_CTL_CREATE] = "create",
	[SONDE_CTL_DESTROY] = "destroy",
	[SONDE_CTL_ENABLE_CHANNEL] = "enable-channel",
	[SONDE_CTL_ENABLE_EVENT] = "enable-event",
	[SONDE_CTL_DISABLE_EVENT] = "disable-event",
	[SONDE_CTL_START] = "start",
	[SONDE_CTL_STOP] = "stop",
	[SONDE_CTL_LIST_SESSIONS] = "list-sessions",
	[SONDE_CTL_SESSION_INFO] = "session-info",
	[SONDE_CTL_LIST_KERNEL_EVENTS] = "list-kernel-events",
	[SONDE_CTL_SNAPSHOT_RECORD] = "snapshot-record",
	[SONDE_CTL_ADD_CONTEXT] = "add-context",
	[SONDE_CTL_APP_HELLO] = "app-hello",
	[SONDE_CTL_APP_POLL] = "app-poll",
	[SONDE_CTL_APP_EVENT] = "app-event",
	[SONDE_CTL_TRACK] = "track",
};

enum sonde_ctl_kind sonde_ctl_tag_kind(unsigned int tag)
{
	return tag < SONDE_CTL_TAG_END ? tags[tag].kind : 0;
}

const char *sonde_ctl_type_name(unsigned int type)
{
	return type < SONDE_CTL_TYPE_END && type_names[type] ?
		type_names[type] : "unknown";
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

int sonde_ctl_header_parse(const uint8_t *hdr, size_t len, uint16_t *type,
			   uint32_t *payload_len, struct sonde_error *err)
{
	uint16_t version;

	if (len < SONDE_CTL_HEADER_SIZE)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: %zu bytes, shorter than its %d-byte header",
				       len, SONDE_CTL_HEADER_SIZE);
	if (get32(hdr) != SONDE_CTL_MAGIC)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: bad magic 0x%08x (not a sonde peer?)",
				       get32(hdr));
	version = get16(hdr + 4);
	if (version != SONDE_CTL_VERSION)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "control message: protocol version %u, this side speaks %d (mixed sonde installations?)",
				       version, SONDE_CTL_VERSION);
	*type = get16(hdr + 6);
	if (*type == 0 || *type >= SONDE_CTL_TYPE_END)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: unknown type %u", *type);
	*payload_len = get32(hdr + 8);
	if (*payload_len > SONDE_CTL_PAYLOAD_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: payload of %u bytes, over the %u-byte limit",
				       *payload_len, SONDE_CTL_PAYLOAD_MAX);
	return 0;
}

/* Counts the fields of one record and checks their framing (not values). */
static int count_fields(const uint8_t *p, size_t len, size_t *count,
			struct sonde_error *err)
{
	size_t off = 0, n = 0;

	while (off < len) {
		uint32_t flen;

		if (len - off < FIELD_HEADER_SIZE)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "control message: truncated field header at offset %zu",
					       off);
		flen = get32(p + off + 2);
		if (flen > len - off - FIELD_HEADER_SIZE)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "control message: field %u at offset %zu claims %u bytes, %zu remain",
					       get16(p + off), off, flen,
					       len - off - FIELD_HEADER_SIZE);
		off += FIELD_HEADER_SIZE + flen;
		n++;
	}
	*count = n;
	return 0;
}

static int decode_rec(struct sonde_arena *arena, const uint8_t *p, size_t len,
		      int depth, struct sonde_ctl_rec *rec,
		      struct sonde_error *err)
{
	struct sonde_ctl_field *fields;
	size_t count = 0, off = 0;
	int ret;

	if (depth > SONDE_CTL_DEPTH_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: records nested deeper than %d",
				       SONDE_CTL_DEPTH_MAX);
	ret = count_fields(p, len, &count, err);
	if (ret)
		return ret;
	rec->count = count;
	rec->fields = NULL;
	if (!count)
		return 0;
	fields = sonde_arena_alloc(arena, count * sizeof(*fields));
	if (!fields)
		return sonde_error_set(err, SONDE_ENOMEM, "control message: out of memory");
	for (size_t i = 0; i < count; i++) {
		uint16_t tag = get16(p + off);
		uint32_t flen = get32(p + off + 2);
		const uint8_t *v = p + off + FIELD_HEADER_SIZE;
		struct sonde_ctl_field *f = &fields[i];
		struct sonde_ctl_rec *sub;

		off += FIELD_HEADER_SIZE + flen;
		f->tag = tag;
		f->kind = sonde_ctl_tag_kind(tag);
		if (!f->kind)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "control message: unknown field tag %u", tag);
		if (!tags[tag].repeats)
			for (size_t j = 0; j < i; j++)
				if (fields[j].tag == tag)
					return sonde_error_set(err, SONDE_EFORMAT,
							       "control message: field %u repeated",
							       tag);
		switch (f->kind) {
		case SONDE_CTL_KIND_STR:
			if (flen > SONDE_CTL_STRING_MAX)
				return sonde_error_set(err, SONDE_EFORMAT,
						       "control message: string field %u of %u bytes, over %d",
						       tag, flen, SONDE_CTL_STRING_MAX);
			if (memchr(v, '\0', flen))
				return sonde_error_set(err, SONDE_EFORMAT,
						       "control message: string field %u holds a NUL byte",
						       tag);
			f->v.str = sonde_arena_strndup(arena, (const char *)v, flen);
			if (!f->v.str)
				return sonde_error_set(err, SONDE_ENOMEM,
						       "control message: out of memory");
			break;
		case SONDE_CTL_KIND_U64:
		case SONDE_CTL_KIND_I64:
			if (flen != 8)
				return sonde_error_set(err, SONDE_EFORMAT,
						       "control message: integer field %u of %u bytes, not 8",
						       tag, flen);
			f->v.u64 = get64(v);
			break;
		case SONDE_CTL_KIND_BOOL:
			if (flen != 1 || v[0] > 1)
				return sonde_error_set(err, SONDE_EFORMAT,
						       "control message: boolean field %u is not one byte 0 or 1",
						       tag);
			f->v.b = v[0];
			break;
		case SONDE_CTL_KIND_RECORD:
			sub = sonde_arena_alloc(arena, sizeof(*sub));
			if (!sub)
				return sonde_error_set(err, SONDE_ENOMEM,
						       "control message: out of memory");
			ret = decode_rec(arena, v, flen, depth + 1, sub, err);
			if (ret)
				return ret;
			f->v.rec = sub;
			break;
		}
	}
	rec->fields = fields;
	return 0;
}

int sonde_ctl_decode(const uint8_t *buf, size_t len, struct sonde_ctl_msg **out,
		     struct sonde_error *err)
{
	struct sonde_ctl_msg *msg;
	uint32_t payload_len;
	uint16_t type;
	int ret;

	*out = NULL;
	ret = sonde_ctl_header_parse(buf, len, &type, &payload_len, err);
	if (ret)
		return ret;
	if (len - SONDE_CTL_HEADER_SIZE != payload_len)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "control message: header announces %u payload bytes, got %zu",
				       payload_len, len - SONDE_CTL_HEADER_SIZE);
	msg = calloc(1, sizeof(*msg));
	if (!msg)
		return sonde_error_set(err, SONDE_ENOMEM, "control message: out of memory");
	/* Decoded fields never take more than a small multiple of the payload. */
	sonde_arena_init(&msg->arena, 0);
	msg->type = type;
	ret = decode_rec(&msg->arena, buf + SONDE_CTL_HEADER_SIZE, payload_len, 1,
			 &msg->root, err);
	if (ret) {
		sonde_ctl_msg_free(msg);
		return ret;
	}
	*out = msg;
	return 0;
}

void sonde_ctl_msg_free(struct sonde_ctl_msg *msg)
{
	if (!msg)
		return;
	sonde_arena_release(&msg->arena);
	free(msg);
}

static const struct sonde_ctl_field *find(const struct sonde_ctl_rec *rec,
					  unsigned int tag)
{
	for (size_t i = 0; rec && i < rec->count; i++)
		if (rec->fields[i].tag == tag)
			return &rec->fields[i];
	return NULL;
}

const char *sonde_ctl_get_str(const struct sonde_ctl_rec *rec, unsigned int tag)
{
	const struct sonde_ctl_field *f = find(rec, tag);

	return f && f->kind == SONDE_CTL_KIND_STR ? f->v.str : NULL;
}

bool sonde_ctl_get_u64(const struct sonde_ctl_rec *rec, unsigned int tag,
		       uint64_t *out)
{
	const struct sonde_ctl_field *f = find(rec, tag);

	if (!f || f->kind != SONDE_CTL_KIND_U64)
		return false;
	*out = f->v.u64;
	return true;
}

bool sonde_ctl_get_i64(const struct sonde_ctl_rec *rec, unsigned int tag,
		       int64_t *out)
{
	const struct sonde_ctl_field *f = find(rec, tag);

	if (!f || f->kind != SONDE_CTL_KIND_I64)
		return false;
	*out = (int64_t)f->v.u64;
	return true;
}

bool sonde_ctl_get_bool(const struct sonde_ctl_rec *rec, unsigned int tag,
			bool dflt)
{
	const struct sonde_ctl_field *f = find(rec, tag);

	return f && f->kind == SONDE_CTL_KIND_BOOL ? f->v.b : dflt;
}

/* Encoder */

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *reserve(struct sonde_ctl_writer *w, size_t n)
{
	uint8_t *p;

	if (w->status)
		return NULL;
	if (n > SONDE_CTL_HEADER_SIZE + SONDE_CTL_PAYLOAD_MAX - w->len) {
		w->status = SONDE_EINVAL;
		return NULL;
	}
	if (w->cap - w->len < n) {
		size_t cap = w->cap ? w->cap : 256;

		while (cap - w->len < n)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p) {
			w->status = SONDE_ENOMEM;
			return NULL;
		}
		w->buf = p;
		w->cap = cap;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

void sonde_ctl_writer_init(struct sonde_ctl_writer *w, enum sonde_ctl_type type)
{
	uint8_t *hdr;

	memset(w, 0, sizeof(*w));
	hdr = reserve(w, SONDE_CTL_HEADER_SIZE);
	if (!hdr)
		return;
	put_le(hdr, SONDE_CTL_MAGIC, 4);
	put_le(hdr + 4, SONDE_CTL_VERSION, 2);
	put_le(hdr + 6, type, 2);
	put_le(hdr + 8, 0, 4);
}

static void put_field(struct sonde_ctl_writer *w, unsigned int tag,
		      enum sonde_ctl_kind kind, const void *v, size_t len)
{
	uint8_t *p;

	if (w->status)
		return;
	if (sonde_ctl_tag_kind(tag) != kind ||
	    (kind == SONDE_CTL_KIND_STR && len > SONDE_CTL_STRING_MAX)) {
		w->status = SONDE_EINVAL;
		return;
	}
	p = reserve(w, FIELD_HEADER_SIZE + len);
	if (!p)
		return;
	put_le(p, tag, 2);
	put_le(p + 2, len, 4);
	if (len)
		memcpy(p + FIELD_HEADER_SIZE, v, len);
}

void sonde_ctl_put_str(struct sonde_ctl_writer *w, unsigned int tag, const char *s)
{
	put_field(w, tag, SONDE_CTL_KIND_STR, s, strlen(s));
}

void sonde_ctl_put_u64(struct sonde_ctl_writer *w, unsigned int tag, uint64_t v)
{
	uint8_t b[8];

	put_le(b, v, 8);
	put_field(w, tag, SONDE_CTL_KIND_U64, b, 8);
}

void sonde_ctl_put_i64(struct sonde_ctl_writer *w, unsigned int tag, int64_t v)
{
	uint8_t b[8];

	put_le(b, (uint64_t)v, 8);
	put_field(w, tag, SONDE_CTL_KIND_I64, b, 8);
}

void sonde_ctl_put_bool(struct sonde_ctl_writer *w, unsigned int tag, bool v)
{
	uint8_t b = v;

	put_field(w, tag, SONDE_CTL_KIND_BOOL, &b, 1);
}

void sonde_ctl_rec_begin(struct sonde_ctl_writer *w, unsigned int tag)
{
	uint8_t *p;

	if (w->status)
		return;
	if (sonde_ctl_tag_kind(tag) != SONDE_CTL_KIND_RECORD ||
	    w->depth + 1 >= SONDE_CTL_DEPTH_MAX) { /* the message is level 1 */
		w->status = SONDE_EINVAL;
		return;
	}
	p = reserve(w, FIELD_HEADER_SIZE);
	if (!p)
		return;
	put_le(p, tag, 2);
	w->open[w->depth++] = w->len;
}

void sonde_ctl_rec_end(struct sonde_ctl_writer *w)
{
	size_t start;

	if (w->status)
		return;
	if (!w->depth) {
		w->status = SONDE_EINVAL;
		return;
	}
	start = w->open[--w->depth];
	put_le(w->buf + start - 4, w->len - start, 4);
}

int sonde_ctl_writer_finish(struct sonde_ctl_writer *w, uint8_t **buf,
			    size_t *len, struct sonde_error *err)
{
	if (!w->status && w->depth)
		w->status = SONDE_EINVAL;
	if (w->status) {
		int status = w->status;

		sonde_ctl_writer_release(w);
		return sonde_error_set(err, status, status == SONDE_ENOMEM ?
				       "control message: out of memory" :
				       "control message: too large or malformed by its writer");
	}
	put_le(w->buf + 8, w->len - SONDE_CTL_HEADER_SIZE, 4);
	*buf = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return 0;
}

void sonde_ctl_writer_release(struct sonde_ctl_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/* Blocking I/O */

int sonde_ctl_write_all(int fd, const uint8_t *buf, size_t len,
			struct sonde_error *err)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sonde_error_set(err, SONDE_EIO,
					       "control socket: send: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_exact(int fd, uint8_t *buf, size_t len, struct sonde_error *err)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sonde_error_set(err, SONDE_EIO,
					       "control socket: read: %s", strerror(errno));
		if (n == 0)
			return sonde_error_set(err, SONDE_EIO,
					       "control socket: the session daemon closed the connection");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int sonde_ctl_read_msg(int fd, struct sonde_ctl_msg **out, struct sonde_error *err)
{
	uint8_t hdr[SONDE_CTL_HEADER_SIZE];
	uint32_t payload_len;
	uint16_t type;
	uint8_t *buf;
	int ret;

	*out = NULL;
	ret = read_exact(fd, hdr, sizeof(hdr), err);
	if (ret)
		return ret;
	ret = sonde_ctl_header_parse(hdr, sizeof(hdr), &type, &payload_len, err);
	if (ret)
		return ret;
	buf = malloc(SONDE_CTL_HEADER_SIZE + (size_t)payload_len);
	if (!buf)
		return sonde_error_set(err, SONDE_ENOMEM, "control message: out of memory");
	memcpy(buf, hdr, sizeof(hdr));
	ret = read_exact(fd, buf + SONDE_CTL_HEADER_SIZE, payload_len, err);
	if (!ret)
		ret = sonde_ctl_decode(buf, SONDE_CTL_HEADER_SIZE + payload_len, out, err);
	free(buf);
	return ret;
}
