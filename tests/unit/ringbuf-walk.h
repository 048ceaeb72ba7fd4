/*
 * Test helper: walks the events of a ring-buffer packet (LTTng large
 * headers, host byte order) whose payloads start with a u32 writer id and
 * a u32 sequence number, and checks the timestamps never go backwards.
 */
#ifndef SONDE_TESTS_RINGBUF_WALK_H
#define SONDE_TESTS_RINGBUF_WALK_H

#include <stdint.h>
#include <string.h>

#include "ringbuf/ringbuf.h"

struct walk_state {
	uint64_t events;
	uint64_t last_ts;
	uint64_t bad;	      /* framing or timestamp errors */
	uint32_t payload;     /* payload size of every event */
	void (*on_event)(void *arg, uint32_t writer, uint32_t seq);
	void *arg;
};

static inline void walk_packet(struct walk_state *w,
			       const struct sonde_rb_packet *pkt)
{
	const uint8_t *p = pkt->data;
	uint64_t off = SONDE_RB_PACKET_HEADER_SIZE, ts = pkt->ts_begin;

	if (pkt->ts_begin < w->last_ts)
		w->bad++;
	while (off < pkt->content_size) {
		uint16_t id;
		uint32_t writer, seq;

		memcpy(&id, p + off, 2);
		if (id == 65535) {
			memcpy(&ts, p + off + 6, 8);
			off += 14;
		} else {
			uint32_t low;
			uint64_t t;

			memcpy(&low, p + off + 2, 4);
			t = (ts & ~0xFFFFFFFFull) | low;
			if (t < ts)
				t += 1ull << 32;
			ts = t;
			off += 6;
		}
		if (off + w->payload > pkt->content_size) {
			w->bad++;
			return;
		}
		if (ts < w->last_ts)
			w->bad++;
		w->last_ts = ts;
		memcpy(&writer, p + off, 4);
		memcpy(&seq, p + off + 4, 4);
		if (w->on_event)
			w->on_event(w->arg, writer, seq);
		off += w->payload;
		w->events++;
	}
	if (pkt->ts_end < w->last_ts)
		w->bad++;
}

/* Writes one test event; returns 0 or -1 (discarded). */
static inline int write_event(struct sonde_rb *rb, unsigned int cpu,
			      uint32_t payload, uint32_t writer, uint32_t seq)
{
	struct sonde_rb_slot slot;

	if (sonde_rb_reserve(rb, cpu, 0, payload, &slot))
		return -1;
	memcpy(slot.payload, &writer, 4);
	memcpy(slot.payload + 4, &seq, 4);
	memset(slot.payload + 8, 0xab, payload - 8);
	sonde_rb_commit(rb, &slot);
	return 0;
}

#endif
