/*
 * kbpf_consume() on synthetic eBPF buffers: records as the programs write
 * them (padding, wrap-around), losses, and headers the programs cannot have
 * written (lengths past the head or the ring, a head too far ahead).
 */
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bpf/kbpf-abi.h"
#include "kernel/bpf/kbpf.h"
#include "tap.h"

#define RING 4096u

static struct kbpf_buf *new_buf(void)
{
	return calloc(1, sizeof(struct kbpf_buf) + RING + KBPF_REC_MAX);
}

static struct ksink *new_sink(void)
{
	static const uint8_t uuid[16];
	struct ksink_opts o = { 0 };
	struct ksink *k = NULL;

	o.uuid = uuid;
	o.bo = SONDE_CTF_LE;
	o.header = SONDE_CTFW_HEADER_LARGE;
	o.packet_size = 64 * 1024;
	o.stream_fd = o.index_fd = -1;
	o.ring_packets = 4;
	ksink_create(&o, &k, NULL);
	return k;
}

/* Writes a record as kbpf.bpf.c does, at the head; returns its size. */
static uint64_t put(struct kbpf_buf *b, uint32_t id, uint64_t ts, uint32_t len)
{
	uint64_t off = b->head & (RING - 1);
	uint64_t size = (sizeof(struct kbpf_rec) + len + 7) & ~7ull;
	struct kbpf_rec *r;

	if (off + size > RING) {
		if (RING - off >= sizeof(*r))
			((struct kbpf_rec *)(b->data + off))->id = KBPF_PAD;
		b->head += RING - off;
		off = 0;
	}
	r = (struct kbpf_rec *)(b->data + off);
	r->ts = ts;
	r->id = id;
	r->len = len;
	memset(r + 1, 0xab, len);
	b->head += size;
	return size;
}

static void stats(struct ksink *k, struct ksink_stats *st)
{
	ksink_flush(k, ksink_last_ts(k), NULL);
	ksink_get_stats(k, st);
}

int main(void)
{
	struct kbpf_buf *b = new_buf();
	struct ksink *k = new_sink();
	struct ksink_stats st;
	uint64_t lost_seen = 0, n, i, ts = 1000;

	if (!b || !k) {
		ok(0, "allocation");
		return tap_done();
	}
	/* records, then enough to wrap around with a pad, in two passes */
	for (i = 0; i < 50; i++)
		put(b, 1, ts++, 8);
	n = kbpf_consume(b, RING, k, &lost_seen);
	is_int((long long)n, (long long)b->head,
	       "first pass reads up to the head");
	is_int((long long)b->tail, (long long)b->head, "tail given back");
	for (i = 0; i < 200; i++) {
		put(b, 1, ts++, i % 3 ? 8 : 100);
		if (i % 40 == 39)
			kbpf_consume(b, RING, k, &lost_seen);
	}
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.events, 250,
	       "every record became an event, across the wrap");
	is_int((long long)st.discarded, 0, "nothing discarded");

	/* losses counted by the programs */
	b->lost = 7;
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.discarded, 7,
	       "the programs' losses are discarded events");
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.discarded, 7, "counted once");

	/* a length past the head */
	put(b, 1, ts++, 8);
	((struct kbpf_rec *)(b->data + (b->tail & (RING - 1))))->len = 64;
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.discarded, 8,
	       "length past the head: one discarded");
	is_int((long long)b->tail, (long long)b->head,
	       "and skipped to the head");

	/* a huge length */
	put(b, 1, ts++, 8);
	((struct kbpf_rec *)(b->data + (b->tail & (RING - 1))))->len =
		0xfffffff0u;
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.discarded, 9, "huge length: one discarded");

	/* a head more than a ring ahead of the tail */
	b->head = b->tail + 3 * RING;
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.discarded, 10, "head a ring ahead: one discarded");
	is_int((long long)b->tail, (long long)b->head,
	       "tail moved to the head");

	/* valid records still come through afterwards */
	put(b, 1, ts++, 16);
	kbpf_consume(b, RING, k, &lost_seen);
	stats(k, &st);
	is_int((long long)st.events, 251, "a record after the errors is read");

	ksink_free(k);
	free(b);
	return tap_done();
}
