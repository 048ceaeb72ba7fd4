/*
 * The merge iterator: a binary heap of streams keyed by the timestamp of
 * each stream's next message.  Decoding is lazy: the returned message stays
 * valid until the next call, which is when its stream decodes its next
 * message and the heap top is sifted down in place (no pop + push).
 *
 * Two tie orders (see enum sonde_ctf_merge_order):
 *
 * - BABELTRACE2: only one message per stream is ever in the heap, so
 *   babeltrace2's tie-break (trace UUID, trace name, stream class id,
 *   stream id, message type, ...; ctf.md §1.9) reduces to a precomputed
 *   per-stream rank; a stream's messages keep their stream order.
 *
 * - BABELTRACE1: babeltrace 1.5 keeps a max-heap (CLRS) of file streams
 *   whose "greater than" is "earlier timestamp, or same timestamp and a
 *   different stream", so a tie always favours the element being compared
 *   against its position: children win over their parent when sifting down,
 *   the right child over the left, and an inserted stream climbs over equal
 *   parents.  Streams are inserted trace by trace (in the order the trace
 *   directories were found), by stream class id, then in the order readdir
 *   listed the files.  Only events are in the heap; discarded-data notices
 *   are returned as soon as a stream reveals them, as babeltrace 1.5 prints
 *   its warnings while reading.
 */
#include "ctf/stream/stream-inline.h"

#include <stdlib.h>
#include <string.h>

/* 16 bytes: the stream and its message are found through `rank`. */
struct heap_entry {
	int64_t ns;
	uint32_t rank;           /* index in sonde_ctf_iter.streams */
};

struct iter_stream {
	struct sonde_ctf_stream *s;
	const struct sonde_ctf_msg *first;
	const struct sonde_ctf_msg *msg;     /* current message */
	int64_t last_ns;             /* key of the stream's previous message */
	bool has_last;
};

struct sonde_ctf_iter {
	struct sonde_ctf_trace_set *set;
	enum sonde_ctf_merge_order order;
	size_t stream_count;
	struct iter_stream *streams;
	struct heap_entry *heap;
	size_t heap_len;
	/* BABELTRACE1: notices waiting to be returned, oldest first */
	struct sonde_ctf_msg *notices;
	size_t notice_count, notice_next, notice_cap;
	bool primed;
	bool advance_top;            /* the top was returned: advance it first */
	bool finished;
};

static inline bool entry_less(const struct heap_entry *a,
			      const struct heap_entry *b)
{
	return a->ns < b->ns || (a->ns == b->ns && a->rank < b->rank);
}

/* Places `x` at `i` and moves it down to its place. */
static void sift_down(struct heap_entry *h, size_t len, size_t i,
		      struct heap_entry x)
{
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= len)
			break;
		if (c + 1 < len && entry_less(&h[c + 1], &h[c]))
			c++;
		if (!entry_less(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

/* babeltrace 1.5's heap: "a above b" when a->ns <= b->ns (distinct streams).
 * The moving entry is kept aside (a hole moves down) instead of swapped,
 * and the child is chosen with selects rather than branches: which stream
 * comes next is data, and mispredicted branches dominated the merge. */
static void bt1_sift_down(struct heap_entry *h, size_t len, size_t i,
			  struct heap_entry x)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, top;
		int64_t l_ns, r_ns, top_ns;
		bool take_l, take_r;

		if (l >= len)
			break;
		l_ns = h[l].ns;
		r_ns = r < len ? h[r].ns : INT64_MAX;
		take_l = l_ns <= x.ns;
		top = take_l ? l : i;
		top_ns = take_l ? l_ns : x.ns;
		take_r = r < len && r_ns <= top_ns;
		top = take_r ? r : top;
		if (top == i)
			break;
		h[i] = h[top];
		i = top;
	}
	h[i] = x;
}

static void bt1_insert(struct heap_entry *h, size_t *len,
		       const struct heap_entry *e)
{
	size_t pos = (*len)++;

	while (pos > 0 && e->ns <= h[(pos - 1) / 2].ns) {
		h[pos] = h[(pos - 1) / 2];
		pos = (pos - 1) / 2;
	}
	h[pos] = *e;
}

/* Merge key of a message: its time, never earlier than the stream's
 * previous message so that a stream's order is kept. */
static int64_t msg_key(struct iter_stream *is, const struct sonde_ctf_msg *m)
{
	int64_t ns;
	bool known;

	if (m->kind == SONDE_CTF_MSG_EVENT) {
		known = m->event->has_timestamp;
		ns = m->event->ns;
	} else {
		known = m->has_range;
		ns = m->begin_ns;
	}
	if (!known)
		ns = is->has_last ? is->last_ns : INT64_MIN;
	else if (is->has_last && ns < is->last_ns)
		ns = is->last_ns;
	is->last_ns = ns;
	is->has_last = true;
	return ns;
}

int sonde_ctf_iter_create(struct sonde_ctf_trace_set *set,
			  struct sonde_ctf_iter **out, struct sonde_error *err)
{
	struct sonde_ctf_iter *it;
	size_t n = 0, i, j, k = 0;

	for (i = 0; i < set->trace_count; i++)
		n += set->traces[i]->stream_count;
	it = calloc(1, sizeof(*it));
	if (!it)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	it->set = set;
	it->order = SONDE_CTF_ORDER_BABELTRACE1;
	it->stream_count = n;
	it->streams = calloc(n ? n : 1, sizeof(*it->streams));
	it->heap = calloc(n ? n : 1, sizeof(*it->heap));
	if (!it->streams || !it->heap) {
		sonde_ctf_iter_free(it);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	for (i = 0; i < set->trace_count; i++)
		for (j = 0; j < set->traces[i]->stream_count; j++)
			it->streams[k++].s = set->traces[i]->streams[j];
	*out = it;
	return 0;
}

int sonde_ctf_iter_set_order(struct sonde_ctf_iter *it,
			     enum sonde_ctf_merge_order order)
{
	if (it->primed || (order != SONDE_CTF_ORDER_BABELTRACE1 &&
			   order != SONDE_CTF_ORDER_BABELTRACE2))
		return SONDE_EINVAL;
	it->order = order;
	return 0;
}

void sonde_ctf_iter_free(struct sonde_ctf_iter *it)
{
	if (!it)
		return;
	free(it->streams);
	free(it->heap);
	free(it->notices);
	free(it);
}

static int cmp_trace_bt2(const struct sonde_ctf_trace *a,
			 const struct sonde_ctf_trace *b)
{
	int c;

	/* babeltrace2: traces with a UUID first, then by UUID, then name. */
	if (a->tc->has_uuid != b->tc->has_uuid)
		return a->tc->has_uuid ? -1 : 1;
	if (a->tc->has_uuid) {
		c = memcmp(a->tc->uuid, b->tc->uuid, 16);
		if (c)
			return c;
	}
	c = strcmp(a->path, b->path);
	if (c)
		return c;
	return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

static int cmp_trace_bt1(const struct sonde_ctf_trace *a,
			 const struct sonde_ctf_trace *b)
{
	unsigned i;

	if (a->arg_index != b->arg_index)
		return a->arg_index < b->arg_index ? -1 : 1;
	for (i = 0; i < a->dir_depth && i < b->dir_depth; i++)
		if (a->dir_key[i] != b->dir_key[i])
			return a->dir_key[i] < b->dir_key[i] ? -1 : 1;
	if (a->dir_depth != b->dir_depth)
		return a->dir_depth < b->dir_depth ? -1 : 1;
	return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

static uint64_t sc_id(const struct sonde_ctf_stream *s)
{
	return s->dsc ? s->dsc->sc->id : UINT64_MAX;
}

static int cmp_stream_bt2(const void *pa, const void *pb)
{
	const struct sonde_ctf_stream *a = ((const struct iter_stream *)pa)->s;
	const struct sonde_ctf_stream *b = ((const struct iter_stream *)pb)->s;
	int c;

	if (a->trace != b->trace) {
		c = cmp_trace_bt2(a->trace, b->trace);
		if (c)
			return c;
	}
	if (sc_id(a) != sc_id(b))
		return sc_id(a) < sc_id(b) ? -1 : 1;
	if (a->instance_id != b->instance_id)
		return a->instance_id < b->instance_id ? -1 : 1;
	if (a->ordinal != b->ordinal)
		return a->ordinal < b->ordinal ? -1 : 1;
	return 0;
}

static int cmp_stream_bt1(const void *pa, const void *pb)
{
	const struct sonde_ctf_stream *a = ((const struct iter_stream *)pa)->s;
	const struct sonde_ctf_stream *b = ((const struct iter_stream *)pb)->s;
	int c;

	if (a->trace != b->trace) {
		c = cmp_trace_bt1(a->trace, b->trace);
		if (c)
			return c;
	}
	if (sc_id(a) != sc_id(b))
		return sc_id(a) < sc_id(b) ? -1 : 1;
	if (a->dir_order != b->dir_order)
		return a->dir_order < b->dir_order ? -1 : 1;
	return a->ordinal < b->ordinal ? -1 : a->ordinal > b->ordinal;
}

__attribute__((noinline, cold))
static int queue_notice(struct sonde_ctf_iter *it, const struct sonde_ctf_msg *m,
			struct sonde_error *err)
{
	if (it->notice_next == it->notice_count)
		it->notice_next = it->notice_count = 0;
	if (it->notice_count == it->notice_cap) {
		size_t cap = it->notice_cap ? it->notice_cap * 2 : 8;
		struct sonde_ctf_msg *n = realloc(it->notices, cap * sizeof(*n));

		if (!n)
			return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		it->notices = n;
		it->notice_cap = cap;
	}
	it->notices[it->notice_count++] = *m;
	return 0;
}

/* BABELTRACE1: the stream's next event, queueing the notices before it. */
static inline __attribute__((always_inline))
int next_event(struct sonde_ctf_iter *it, struct sonde_ctf_stream *s,
		      const struct sonde_ctf_msg **msg, struct sonde_error *err)
{
	int ret;

	for (;;) {
		ret = stream_next_inline(s, msg, err);
		if (ret <= 0 || (*msg)->kind == SONDE_CTF_MSG_EVENT)
			return ret;
		ret = queue_notice(it, *msg, err);
		if (ret)
			return ret;
	}
}

/* Reads every stream's first message (which reveals its stream class and
 * instance id), orders the streams and builds the heap. */
__attribute__((noinline, cold))
static int prime(struct sonde_ctf_iter *it, struct sonde_error *err)
{
	bool bt1 = it->order == SONDE_CTF_ORDER_BABELTRACE1;
	size_t i;
	int ret;

	it->primed = true;
	if (bt1) {
		/* Read the first packets in babeltrace 1.5's file order, which
		 * is also the order of the notices they reveal. */
		qsort(it->streams, it->stream_count, sizeof(*it->streams),
		      cmp_stream_bt1);
	}
	for (i = 0; i < it->stream_count; i++) {
		struct iter_stream *is = &it->streams[i];

		ret = bt1 ? next_event(it, is->s, &is->first, err) :
			    stream_next(is->s, &is->first, err);
		if (ret < 0)
			return ret;
		if (!ret)
			is->first = NULL;
	}
	if (bt1) {
		/* The stream class of a stream is known only now. */
		qsort(it->streams, it->stream_count, sizeof(*it->streams),
		      cmp_stream_bt1);
	} else {
		qsort(it->streams, it->stream_count, sizeof(*it->streams),
		      cmp_stream_bt2);
	}
	it->heap_len = 0;
	for (i = 0; i < it->stream_count; i++) {
		struct iter_stream *is = &it->streams[i];
		struct heap_entry e;

		if (!is->first)
			continue; /* nothing in this stream */
		e.rank = (uint32_t)i;
		is->msg = is->first;
		e.ns = msg_key(is, is->first);
		if (bt1)
			bt1_insert(it->heap, &it->heap_len, &e);
		else
			it->heap[it->heap_len++] = e;
	}
	if (!bt1)
		for (i = it->heap_len / 2; i-- > 0;)
			sift_down(it->heap, it->heap_len, i, it->heap[i]);
	return 0;
}

static inline __attribute__((always_inline))
int advance_top(struct sonde_ctf_iter *it, struct sonde_error *err)
{
	bool bt1 = it->order == SONDE_CTF_ORDER_BABELTRACE1;
	struct heap_entry x = it->heap[0];
	struct iter_stream *is = &it->streams[x.rank];
	const struct sonde_ctf_msg *m = NULL;
	int ret;

	ret = bt1 ? next_event(it, is->s, &m, err) :
		    stream_next_inline(is->s, &m, err);
	if (ret < 0)
		return ret;
	if (ret) {
		/* The new entry is sifted from registers: writing it to the
		 * top and reading it back stalls on store forwarding. */
		is->msg = m;
		x.ns = msg_key(is, m);
	} else {
		x = it->heap[--it->heap_len];
	}
	if (bt1)
		bt1_sift_down(it->heap, it->heap_len, 0, x);
	else
		sift_down(it->heap, it->heap_len, 0, x);
	return 0;
}

int sonde_ctf_iter_next(struct sonde_ctf_iter *it,
			const struct sonde_ctf_msg **msg,
			struct sonde_error *err)
{
	int ret;

	if (it->finished)
		return 0;
	if (!it->primed) {
		ret = prime(it, err);
		if (ret)
			goto fail;
	} else if (it->advance_top) {
		it->advance_top = false;
		ret = advance_top(it, err);
		if (ret)
			goto fail;
	}
	if (it->notice_next < it->notice_count) {
		*msg = &it->notices[it->notice_next++];
		return 1;
	}
	if (!it->heap_len) {
		it->finished = true;
		return 0;
	}
	*msg = it->streams[it->heap[0].rank].msg;
	it->advance_top = true;
	return 1;
fail:
	it->finished = true;
	return ret;
}
