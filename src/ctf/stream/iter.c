/*
 * The merge iterator: a binary min-heap of streams keyed by the timestamp of
 * each stream's next message.  Only one message per stream is ever in the
 * heap, so the full babeltrace2 tie-break (trace UUID, trace name, stream
 * class id, stream id, message type, event class ...; ctf.md §1.9) reduces
 * to a precomputed per-stream rank: messages of one stream keep their
 * stream order.
 *
 * Decoding is lazy: the returned message stays valid until the next call,
 * which is when its stream decodes its next message and the heap top is
 * sifted down in place (no pop + push).
 */
#include "ctf/stream/stream.h"

#include <stdlib.h>
#include <string.h>

struct heap_entry {
	int64_t ns;
	uint32_t rank;
	struct sonde_ctf_stream *s;
	const struct sonde_ctf_msg *msg;
};

struct iter_stream {
	struct sonde_ctf_stream *s;
	const struct sonde_ctf_msg *first;
	int64_t last_ns;             /* key of the stream's previous message */
	bool has_last;
};

struct sonde_ctf_iter {
	struct sonde_ctf_trace_set *set;
	size_t stream_count;
	struct iter_stream *streams;
	struct heap_entry *heap;
	size_t heap_len;
	bool primed;
	bool advance_top;            /* the top was returned: advance it first */
	bool finished;
};

static inline bool entry_less(const struct heap_entry *a,
			      const struct heap_entry *b)
{
	return a->ns < b->ns || (a->ns == b->ns && a->rank < b->rank);
}

static void sift_down(struct heap_entry *h, size_t len, size_t i)
{
	struct heap_entry x = h[i];

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

void sonde_ctf_iter_free(struct sonde_ctf_iter *it)
{
	if (!it)
		return;
	free(it->streams);
	free(it->heap);
	free(it);
}

static int cmp_trace(const struct sonde_ctf_trace *a,
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

static int cmp_stream_order(const void *pa, const void *pb)
{
	const struct sonde_ctf_stream *a = ((const struct iter_stream *)pa)->s;
	const struct sonde_ctf_stream *b = ((const struct iter_stream *)pb)->s;
	uint64_t sca, scb;
	int c;

	if (a->trace != b->trace) {
		c = cmp_trace(a->trace, b->trace);
		if (c)
			return c;
	}
	sca = a->dsc ? a->dsc->sc->id : UINT64_MAX;
	scb = b->dsc ? b->dsc->sc->id : UINT64_MAX;
	if (sca != scb)
		return sca < scb ? -1 : 1;
	if (a->instance_id != b->instance_id)
		return a->instance_id < b->instance_id ? -1 : 1;
	if (a->ordinal != b->ordinal)
		return a->ordinal < b->ordinal ? -1 : 1;
	return 0;
}

/* Reads every stream's first message (which reveals its stream class and
 * instance id), ranks the streams and builds the heap. */
static int prime(struct sonde_ctf_iter *it, struct sonde_error *err)
{
	size_t i;
	int ret;

	it->primed = true;
	for (i = 0; i < it->stream_count; i++) {
		ret = stream_next(it->streams[i].s, &it->streams[i].first, err);
		if (ret < 0)
			return ret;
		if (!ret)
			it->streams[i].first = NULL;
	}
	qsort(it->streams, it->stream_count, sizeof(*it->streams),
	      cmp_stream_order);
	it->heap_len = 0;
	for (i = 0; i < it->stream_count; i++) {
		struct iter_stream *is = &it->streams[i];
		struct heap_entry *e;

		if (!is->first)
			continue; /* nothing in this stream */
		e = &it->heap[it->heap_len++];
		e->s = is->s;
		e->rank = (uint32_t)i;
		e->msg = is->first;
		e->ns = msg_key(is, is->first);
	}
	for (i = it->heap_len / 2; i-- > 0;)
		sift_down(it->heap, it->heap_len, i);
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
		struct heap_entry *top = &it->heap[0];
		const struct sonde_ctf_msg *m;

		ret = stream_next(top->s, &m, err);
		if (ret < 0)
			goto fail;
		if (ret) {
			top->msg = m;
			top->ns = msg_key(&it->streams[top->rank], m);
		} else {
			it->heap[0] = it->heap[--it->heap_len];
		}
		if (it->heap_len > 1)
			sift_down(it->heap, it->heap_len, 0);
	}
	if (!it->heap_len) {
		it->finished = true;
		return 0;
	}
	*msg = it->heap[0].msg;
	it->advance_top = true;
	return 1;
fail:
	it->finished = true;
	return ret;
}
