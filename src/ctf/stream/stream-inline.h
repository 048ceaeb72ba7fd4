/*
 * The per-event path of a stream, inlined into the merge iterator (iter.c)
 * and into stream_next() (stream.c).  Packet changes and errors are out of
 * line (stream.c).
 */
#ifndef SONDE_CTF_STREAM_STREAM_INLINE_H
#define SONDE_CTF_STREAM_STREAM_INLINE_H

#include "ctf/stream/decode-inline.h"
#include "ctf/stream/stream.h"

#define ROLE_BIT(r) (1u << (r))

__attribute__((cold))
int stream_event_error(struct sonde_ctf_stream *s, struct sonde_error *err,
		       int status, uint64_t start);
__attribute__((cold))
int stream_unknown_event(struct sonde_ctf_stream *s, struct sonde_error *err,
			 uint64_t start);
/* The slow end of an event: zero length, first clock, general ns. */
int stream_event_end(struct sonde_ctf_stream *s, struct sonde_error *err,
		     const struct dec_event_entry *e, uint64_t start);
/* Opens the next packet: 1, 0 at the end of the stream, < 0 on error. */
int stream_next_packet(struct sonde_ctf_stream *s, struct sonde_error *err);

static inline __attribute__((always_inline))
int stream_decode_event(struct sonde_ctf_stream *s,
				      struct sonde_error *err)
{
	const struct dec_stream_class *dsc = s->dsc;
	struct dec_state *st = &s->st;
	struct sonde_ctf_event *ev = &s->event;
	const struct dec_event_entry *e;
	uint64_t start = st->pos;
	int ret;

	/* Streams are read in turns: fetch this one's next bytes early. */
	__builtin_prefetch(st->buf + (start >> 3) + 512);
	st->len = 0;
	st->roles_seen &= ~ROLE_BIT(SONDE_CTF_ROLE_EVENT_ID);
	ev->header = -1;
	ev->stream_context = -1;
	ev->event_context = -1;
	ev->payload = -1;
	if (dsc->event_header >= 0) {
		ev->header = 0;
		if (dsc->lttng)
			ret = dec_lttng_header(st, dsc->lttng_header, dsc->lttng);
		else
			ret = dec_run(st, dsc->event_header);
		if (unlikely(ret))
			return stream_event_error(s, err, ret, start);
	}
	if (likely(st->roles_seen & ROLE_BIT(SONDE_CTF_ROLE_EVENT_ID)))
		e = dec_find_event(dsc, st->roles[SONDE_CTF_ROLE_EVENT_ID]);
	else if (dsc->sc->event_class_count == 1)
		e = dec_find_event(dsc, dsc->sc->event_classes[0]->id);
	else
		e = dec_find_event(dsc, 0);
	if (unlikely(!e))
		return stream_unknown_event(s, err, start);
	if (e->fixed_payload) {
		ev->payload = (int32_t)st->len;
		ret = dec_fixed_struct(st, e->fixed_payload, e->fixed_members);
		if (unlikely(ret))
			return stream_event_error(s, err, ret, start);
	} else {
		if (dsc->event_context >= 0) {
			ev->stream_context = (int32_t)st->len;
			ret = dec_run(st, dsc->event_context);
			if (unlikely(ret))
				return stream_event_error(s, err, ret, start);
		}
		if (e->context >= 0) {
			ev->event_context = (int32_t)st->len;
			ret = dec_run(st, e->context);
			if (unlikely(ret))
				return stream_event_error(s, err, ret, start);
		}
		if (e->fields >= 0) {
			ev->payload = (int32_t)st->len;
			ret = dec_run(st, e->fields);
			if (unlikely(ret))
				return stream_event_error(s, err, ret, start);
		}
	}
	ev->event_class = e->ec;
	ev->values = st->tape;
	ev->cycles = st->clock;
	ev->has_timestamp = st->clock_valid && s->clock;
	if (likely(st->pos != start && ev->has_timestamp && s->clock_fast &&
		   st->clock <= INT64_MAX &&
		   !__builtin_add_overflow(s->clock_base, (int64_t)st->clock,
					   &ev->ns)))
		return 0;
	ret = stream_event_end(s, err, e, start);
	ev->has_timestamp = st->clock_valid && s->clock;
	return ret;
}

static inline int stream_next_inline(struct sonde_ctf_stream *s,
				     const struct sonde_ctf_msg **msg,
				     struct sonde_error *err)
{
	int ret;

	for (;;) {
		if (unlikely(s->pending_next < s->pending_count)) {
			*msg = &s->pending[s->pending_next++];
			return 1;
		}
		if (likely(s->in_packet)) {
			if (likely(s->st.pos < s->content_bits))
				break;
			s->in_packet = false;
		}
		if (unlikely(s->done))
			return 0;
		ret = stream_next_packet(s, err);
		if (ret <= 0)
			return ret;
	}
	ret = stream_decode_event(s, err);
	if (unlikely(ret))
		return ret;
	s->msg.kind = SONDE_CTF_MSG_EVENT;
	s->msg.event = &s->event;
	s->msg.stream = s;
	*msg = &s->msg;
	return 1;
}

#endif
