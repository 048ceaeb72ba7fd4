/*
 * One data stream: walks its packets, decodes their header and context,
 * checks their bounds, then decodes events one at a time and derives the
 * lost-data notices (ctf.md §1.5-1.8).
 */
#include "ctf/stream/stream.h"
#include "ctf/stream/decode-inline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>


#define CTF_PACKET_MAGIC UINT64_C(0xC1FC1FC1)


static void setup_clock(struct sonde_ctf_stream *s,
			const struct sonde_ctf_clock *clock)
{
	int64_t base;

	s->clock = clock;
	s->clock_fast = false;
	if (!clock)
		return;
	if (clock->freq != 1000000000 && clock->freq != 0)
		return;
	if (__builtin_mul_overflow(clock->offset_s, INT64_C(1000000000), &base) ||
	    __builtin_add_overflow(base, clock->offset, &base))
		return;
	s->clock_base = base;
	s->clock_fast = true;
}

static int cycles_to_ns(const struct sonde_ctf_stream *s, uint64_t cycles,
			int64_t *ns)
{
	if (likely(s->clock_fast && cycles <= INT64_MAX &&
		   !__builtin_add_overflow(s->clock_base, (int64_t)cycles, ns)))
		return 0;
	return sonde_ctf_clock_to_ns(s->clock, cycles, ns);
}

#include "ctf/stream/stream-inline.h"

int stream_create(struct sonde_ctf_trace *trace, const struct dec_codec *codec,
		  const char *path, size_t ordinal, const uint8_t *data,
		  size_t size, struct sonde_ctf_stream **out,
		  struct sonde_error *err)
{
	struct sonde_ctf_stream *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->trace = trace;
	s->codec = codec;
	s->ordinal = ordinal;
	s->data = data;
	s->size = size;
	s->instance_id = ordinal;
	s->dir_order = (uint32_t)ordinal;
	s->path = strdup(path ? path : "");
	s->pkt_cap = 64;
	s->pkt_tape = malloc(s->pkt_cap * sizeof(*s->pkt_tape));
	if (!s->path || !s->pkt_tape || dec_state_init(&s->st, codec)) {
		stream_free(s);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	s->pkt_header = -1;
	s->pkt_context = -1;
	s->event.stream = s;
	s->event.values = s->st.tape;
	*out = s;
	return 0;
}

int stream_open_file(struct sonde_ctf_trace *trace,
		     const struct dec_codec *codec, const char *path,
		     size_t ordinal, struct sonde_ctf_stream **out,
		     struct sonde_error *err)
{
	struct stat sb;
	void *map = NULL;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sonde_error_set(err, errno == ENOENT ? SONDE_ENOENT : SONDE_EIO,
				       "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				      strerror(errno));
		close(fd);
		return ret;
	}
	if (sb.st_size > 0) {
		map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			ret = sonde_error_set(err, SONDE_EIO, "%s: cannot map: %s",
					      path, strerror(errno));
			close(fd);
			return ret;
		}
		madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
	}
	close(fd);
	ret = stream_create(trace, codec, path, ordinal, map, (size_t)sb.st_size,
			    out, err);
	if (ret) {
		if (map)
			munmap(map, (size_t)sb.st_size);
		return ret;
	}
	(*out)->mapped = map != NULL;
	return 0;
}

void stream_free(struct sonde_ctf_stream *s)
{
	if (!s)
		return;
	if (s->mapped)
		munmap((void *)s->data, s->size);
	stream_index_fini(&s->index);
	dec_state_fini(&s->st);
	free(s->pkt_tape);
	free(s->path);
	free(s);
}

/* Prefixes a decoding failure with where it happened. */
__attribute__((noinline, cold))
static int packet_error(struct sonde_ctf_stream *s, struct sonde_error *err,
			int status, const char *what)
{
	s->done = true;
	return sonde_error_set(err, status, "%s: packet %llu at offset %llu: %s",
			       s->path, (unsigned long long)s->pkt_index,
			       (unsigned long long)s->pkt_off, what);
}

static void swap_tapes(struct sonde_ctf_stream *s)
{
	struct sonde_ctf_value *t = s->st.tape;
	uint32_t len = s->st.len, cap = s->st.cap;

	s->st.tape = s->pkt_tape;
	s->st.len = s->pkt_len;
	s->st.cap = s->pkt_cap;
	s->pkt_tape = t;
	s->pkt_len = len;
	s->pkt_cap = cap;
}

__attribute__((noinline, cold))
static void push_notice(struct sonde_ctf_stream *s, enum sonde_ctf_msg_kind kind,
			uint64_t count, bool count_known, bool has_range,
			uint64_t begin, uint64_t end)
{
	struct sonde_ctf_msg *m = &s->pending[s->pending_count++];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->stream = s;
	m->count = count;
	m->count_known = count_known;
	m->has_range = has_range && s->clock;
	m->begin_cycles = begin;
	m->end_cycles = end;
	if (m->has_range &&
	    (cycles_to_ns(s, begin, &m->begin_ns) ||
	     cycles_to_ns(s, end, &m->end_ns)))
		m->has_range = false;
}

/* Lost-data rules of ctf.md §1.8, evaluated when a packet starts. */
__attribute__((noinline, cold))
static void derive_lost_data(struct sonde_ctf_stream *s)
{
	struct dec_state *st = &s->st;
	bool has_end = s->has_ts_end, prev_end = s->prev_has_ts_end;

	s->pending_count = 0;
	s->pending_next = 0;
	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_EVENTS_DISCARDED)) {
		uint64_t cur = st->roles[SONDE_CTF_ROLE_EVENTS_DISCARDED];
		uint32_t size = st->role_size[SONDE_CTF_ROLE_EVENTS_DISCARDED];
		uint64_t mask = size >= 64 ? UINT64_MAX :
				(UINT64_C(1) << size) - 1;

		if (!s->have_prev_disc) {
			if (cur)
				push_notice(s, SONDE_CTF_MSG_DISCARDED_EVENTS, cur,
					    true, s->has_ts_begin && has_end,
					    s->ts_begin, s->ts_end);
		} else {
			/* The counter is free-running and wraps at its size
			 * (32-bit tracers). */
			uint64_t delta = (cur - s->prev_disc) & mask;

			if (delta)
				push_notice(s, SONDE_CTF_MSG_DISCARDED_EVENTS,
					    delta, true, prev_end && has_end,
					    s->prev_ts_end, s->ts_end);
		}
		s->have_prev_disc = true;
		s->prev_disc = cur;
	}
	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_PACKET_SEQ_NUM)) {
		uint64_t cur = st->roles[SONDE_CTF_ROLE_PACKET_SEQ_NUM];

		if (s->have_prev_seq && cur > s->prev_seq + 1)
			push_notice(s, SONDE_CTF_MSG_DISCARDED_PACKETS,
				    cur - s->prev_seq - 1, true,
				    prev_end && s->has_ts_begin,
				    s->prev_ts_end, s->ts_begin);
		s->have_prev_seq = true;
		s->prev_seq = cur;
	}
}

/*
 * A live trace's metadata grew: its codec was replaced.  Between packets,
 * the stream moves to the new one, keeping its stream class (by id) and
 * its lost-data bookkeeping.
 */
__attribute__((noinline, cold))
static int adopt_trace_codec(struct sonde_ctf_stream *s, struct sonde_error *err)
{
	const struct dec_codec *codec = s->trace->codec;
	struct dec_state *st = &s->st;
	uint32_t slots = codec->tc->slot_count ? codec->tc->slot_count : 1;
	struct dec_frame *frames;
	uint64_t *slot_table;

	frames = realloc(st->frames, (codec->max_depth + 1) * sizeof(*frames));
	if (!frames)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	st->frames = frames;
	slot_table = realloc(st->slots, slots * sizeof(*slot_table));
	if (!slot_table)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	memset(slot_table, 0, slots * sizeof(*slot_table));
	st->slots = slot_table;
	st->codec = codec;
	st->clock_class = NULL;
	s->codec = codec;
	if (s->dsc) {
		s->dsc = dec_codec_stream_class(codec, s->dsc->sc->id);
		if (!s->dsc)
			return packet_error(s, err, SONDE_EFORMAT,
					    "the new metadata drops the stream's class");
	}
	setup_clock(s, s->dsc ? s->dsc->sc->clock : NULL);
	return 0;
}

__attribute__((noinline, cold))
static int open_packet(struct sonde_ctf_stream *s, struct sonde_error *err)
{
	const struct dec_codec *codec = s->codec;
	const struct sonde_ctf_trace_class *tc = codec->tc;
	struct dec_state *st = &s->st;
	const struct dec_stream_class *dsc;
	uint64_t avail_bits, pkt_bits, content_bits, header_end;
	char what[sizeof(st->what) + 64];
	int ret;

	if (s->live && s->codec != s->trace->codec) {
		ret = adopt_trace_codec(s, err);
		if (ret)
			return ret;
		codec = s->codec;
		tc = codec->tc;
	}
	s->pkt_off = s->next_off;
	avail_bits = ((uint64_t)s->size - s->pkt_off) * 8;
	st->buf = s->data + s->pkt_off;
	st->pos = 0;
	st->limit = avail_bits;
	st->readable = avail_bits;
	st->roles_seen = 0;
	st->clock_updated = false;

	swap_tapes(s);
	st->len = 0;
	s->pkt_header = -1;
	s->pkt_context = -1;
	if (codec->packet_header >= 0)
		s->pkt_header = 0;
	ret = dec_run(st, codec->packet_header);
	if (ret) {
		swap_tapes(s);
		snprintf(what, sizeof(what), "packet header: %s", st->what);
		return packet_error(s, err, ret, what);
	}
	if ((st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_MAGIC)) &&
	    st->roles[SONDE_CTF_ROLE_MAGIC] != CTF_PACKET_MAGIC) {
		swap_tapes(s);
		snprintf(what, sizeof(what), "invalid magic number 0x%llx",
			 (unsigned long long)st->roles[SONDE_CTF_ROLE_MAGIC]);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	if ((st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_TRACE_UUID)) &&
	    tc->has_uuid && st->role_size[SONDE_CTF_ROLE_TRACE_UUID] == 16 &&
	    memcmp(st->buf + st->uuid_byte_off, tc->uuid, 16) != 0) {
		swap_tapes(s);
		return packet_error(s, err, SONDE_EFORMAT,
				    "trace UUID differs from the metadata's");
	}
	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_STREAM_ID)) {
		uint64_t id = st->roles[SONDE_CTF_ROLE_STREAM_ID];

		dsc = dec_codec_stream_class(codec, id);
		if (!dsc) {
			swap_tapes(s);
			snprintf(what, sizeof(what),
				 "stream class %llu is not declared",
				 (unsigned long long)id);
			return packet_error(s, err, SONDE_EFORMAT, what);
		}
	} else if (codec->sc_count == 1) {
		dsc = &codec->scs[0];
	} else {
		dsc = dec_codec_stream_class(codec, 0);
		if (!dsc) {
			swap_tapes(s);
			return packet_error(s, err, SONDE_EFORMAT,
					    "no stream_id and no single stream class");
		}
	}
	if (s->dsc && s->dsc != dsc) {
		swap_tapes(s);
		snprintf(what, sizeof(what),
			 "stream class changes from %llu to %llu",
			 (unsigned long long)s->dsc->sc->id,
			 (unsigned long long)dsc->sc->id);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	if (!s->dsc)
		setup_clock(s, dsc->sc->clock);
	s->dsc = dsc;
	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_STREAM_INSTANCE_ID)) {
		s->has_instance_id = true;
		s->instance_id = st->roles[SONDE_CTF_ROLE_STREAM_INSTANCE_ID];
	}
	header_end = st->pos;

	if (dsc->packet_context >= 0)
		s->pkt_context = (int32_t)st->len;
	ret = dec_run(st, dsc->packet_context);
	if (ret) {
		swap_tapes(s);
		snprintf(what, sizeof(what), "packet context: %s", st->what);
		return packet_error(s, err, ret, what);
	}
	swap_tapes(s);

	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_PACKET_SIZE)) {
		pkt_bits = st->roles[SONDE_CTF_ROLE_PACKET_SIZE];
		if (pkt_bits == 0 || pkt_bits % 8) {
			snprintf(what, sizeof(what),
				 "packet size %llu bits is not a positive whole number of bytes",
				 (unsigned long long)pkt_bits);
			return packet_error(s, err, SONDE_EFORMAT, what);
		}
	} else {
		pkt_bits = avail_bits;  /* the stream is one packet */
	}
	if (st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_CONTENT_SIZE))
		content_bits = st->roles[SONDE_CTF_ROLE_CONTENT_SIZE];
	else
		content_bits = pkt_bits;  /* no padding */
	if (content_bits > pkt_bits) {
		snprintf(what, sizeof(what),
			 "content size %llu bits exceeds packet size %llu bits",
			 (unsigned long long)content_bits,
			 (unsigned long long)pkt_bits);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	if (pkt_bits > avail_bits) {
		snprintf(what, sizeof(what),
			 "packet size %llu bits exceeds the %llu bits left in the file",
			 (unsigned long long)pkt_bits,
			 (unsigned long long)avail_bits);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	if (st->pos > content_bits) {
		snprintf(what, sizeof(what),
			 "packet header and context (%llu bits) exceed content size %llu bits",
			 (unsigned long long)st->pos,
			 (unsigned long long)content_bits);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	(void)header_end;

	s->pkt_bits = pkt_bits;
	s->content_bits = content_bits;
	st->limit = content_bits;
	s->next_off = s->pkt_off + pkt_bits / 8;

	s->has_ts_begin = st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_TIMESTAMP_BEGIN);
	s->has_ts_end = st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_TIMESTAMP_END);
	s->ts_begin = st->roles[SONDE_CTF_ROLE_TIMESTAMP_BEGIN];
	s->ts_end = st->roles[SONDE_CTF_ROLE_TIMESTAMP_END];
	if (s->has_ts_begin) {
		/* Each packet restarts the clock from its full begin time. */
		st->clock = s->ts_begin;
		st->clock_valid = true;
	}
	derive_lost_data(s);
	s->have_prev = true;
	s->prev_has_ts_end = s->has_ts_end;
	s->prev_ts_end = s->ts_end;
	s->in_packet = true;
	return 0;
}

int stream_event_error(struct sonde_ctf_stream *s, struct sonde_error *err,
		       int status, uint64_t start)
{
	char what[sizeof(s->st.what) + 64];

	snprintf(what, sizeof(what), "event at bit %llu: %s",
		 (unsigned long long)start, s->st.what);
	return packet_error(s, err, status, what);
}

int stream_unknown_event(struct sonde_ctf_stream *s, struct sonde_error *err,
			 uint64_t start)
{
	char what[160];

	snprintf(what, sizeof(what),
		 "event at bit %llu: event class %llu is not declared in stream class %llu",
		 (unsigned long long)start,
		 (unsigned long long)s->st.roles[SONDE_CTF_ROLE_EVENT_ID],
		 (unsigned long long)s->dsc->sc->id);
	return packet_error(s, err, SONDE_EFORMAT, what);
}

int stream_event_end(struct sonde_ctf_stream *s, struct sonde_error *err,
		     const struct dec_event_entry *e, uint64_t start)
{
	struct dec_state *st = &s->st;
	char what[160];

	if (st->pos == start) {
		snprintf(what, sizeof(what),
			 "event '%s' at bit %llu has zero length",
			 e->ec->name ? e->ec->name : "",
			 (unsigned long long)start);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	if (!s->clock && st->clock_class)
		setup_clock(s, st->clock_class);
	s->event.ns = 0;
	if (st->clock_valid && s->clock &&
	    sonde_ctf_clock_to_ns(s->clock, st->clock, &s->event.ns)) {
		snprintf(what, sizeof(what),
			 "event at bit %llu: clock value %llu does not fit in ns since the epoch",
			 (unsigned long long)start,
			 (unsigned long long)st->clock);
		return packet_error(s, err, SONDE_EFORMAT, what);
	}
	return 0;
}

/*
 * A mapped file's pages stay resident once read, so a long trace would make
 * the reader's memory grow with the number of events.  Packets before the
 * one being left are no longer referenced (its tape is kept as the previous
 * packet's), so their pages are handed back, in batches to keep the system
 * calls rare; they are faulted in again from the file if ever touched.
 */
#define RELEASE_BATCH ((uint64_t)1 << 20)

static void release_consumed_pages(struct sonde_ctf_stream *s)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t upto = s->pkt_off & ~(page - 1);

	if (!s->mapped || upto < s->released_off + RELEASE_BATCH)
		return;
	madvise((void *)(s->data + s->released_off), upto - s->released_off,
		MADV_DONTNEED);
	s->released_off = upto;
}

int stream_next_packet(struct sonde_ctf_stream *s, struct sonde_error *err)
{
	release_consumed_pages(s);
	if (s->next_off >= s->size) {
		s->done = true;
		return 0;
	}
	if (s->have_prev)
		s->pkt_index++;
	int ret = open_packet(s, err);

	return ret ? ret : 1;
}

int stream_next(struct sonde_ctf_stream *s, const struct sonde_ctf_msg **msg,
		struct sonde_error *err)
{
	return stream_next_inline(s, msg, err);
}

/* Public accessors ---------------------------------------------------------- */

struct sonde_ctf_trace *sonde_ctf_stream_trace(const struct sonde_ctf_stream *s)
{
	return s->trace;
}

const char *sonde_ctf_stream_path(const struct sonde_ctf_stream *s)
{
	return s->path;
}

const struct sonde_ctf_stream_class *
sonde_ctf_stream_class(const struct sonde_ctf_stream *s)
{
	return s->dsc ? s->dsc->sc : NULL;
}

uint64_t sonde_ctf_stream_instance_id(const struct sonde_ctf_stream *s)
{
	return s->instance_id;
}

const struct sonde_ctf_value *
sonde_ctf_stream_packet_values(const struct sonde_ctf_stream *s,
			       int32_t *header, int32_t *context)
{
	if (header)
		*header = s->pkt_header;
	if (context)
		*context = s->pkt_context;
	return s->pkt_tape;
}
