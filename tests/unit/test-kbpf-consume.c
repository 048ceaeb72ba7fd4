/*
 * kbpf_consume() on synthetic eBPF buffers: records as the programs write
 * them (padding, wrap-around), losses, and headers the programs cannot have
 * written (lengths past the head or the ring, a head too far ahead), and
 * packets byte for byte as the sink's general event path writes them.
 */
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/bpf/kbpf-abi.h"
#include "kernel/bpf/kbpf.h"
#include "tap.h"

#define RING 4096u

static struct kbpf_buf *new_buf(void)
{
	return calloc(1, sizeof(struct kbpf_buf) + RING + KBPF_REC_MAX);
}

static struct ksink *sink_of(enum sonde_ctfw_header_type header,
			      size_t packet_size, size_t packets)
{
	static const uint8_t uuid[16];
	struct ksink_opts o = { 0 };
	struct ksink *k = NULL;

	o.uuid = uuid;
	o.bo = SONDE_CTF_LE;
	o.header = header;
	o.packet_size = packet_size;
	o.stream_fd = o.index_fd = -1;
	o.ring_packets = packets;
	ksink_create(&o, &k, NULL);
	return k;
}

static struct ksink *new_sink(void)
{
	return sink_of(SONDE_CTFW_HEADER_LARGE, 64 * 1024, 4);
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

/* The packets a ring-mode sink kept, as one file's bytes (malloc'd). */
static uint8_t *packets_of(struct ksink *k, size_t *size)
{
	FILE *f = tmpfile();
	uint8_t *data = NULL;
	long n;

	ksink_flush(k, ksink_last_ts(k), NULL);
	if (!f || ksink_ring_write(k, fileno(f), -1, NULL) ||
	    (n = lseek(fileno(f), 0, SEEK_END)) <= 0 || !(data = malloc((size_t)n)) ||
	    pread(fileno(f), data, (size_t)n, 0) != n) {
		free(data);
		data = NULL;
		n = 0;
	}
	if (f)
		fclose(f);
	*size = (size_t)n;
	return data;
}

/*
 * The consumer's copy loop (ksink_run_put) against the sink's general
 * path (ksink_event_begin, copy, commit) on the same records: compact
 * and extended headers (ids past the compact range, 2^27 ns jumps), time
 * going back, payloads of every length up to 40 and one of 100, across
 * packet switches.  The packets must be the same bytes.
 */
static void same_as_event_path(enum sonde_ctfw_header_type header,
			       const char *name)
{
	struct kbpf_buf *b = new_buf();
	struct ksink *fast = sink_of(header, 4096, 64);
	struct ksink *ref = sink_of(header, 4096, 64);
	uint64_t lost_seen = 0, ts = 5000, i;
	uint8_t *a = NULL, *c = NULL;
	size_t na = 0, nc = 0;
	char what[128];

	if (!b || !fast || !ref) {
		ok(0, "allocation");
		goto out;
	}
	for (i = 0; i < 600; i++) {
		uint32_t id = (uint32_t)(i % 7 == 0 ? 40 + i % 3 :
				i % 50 == 0 ? 70000 : i % 5);
		uint32_t len = (uint32_t)(i % 41 == 0 ? 100 : i % 41);
		struct sonde_ctfw_cursor *cur;
		uint64_t off, j;
		uint8_t *p;

		if (i % 97 == 0)
			ts += 1ull << 27;
		else if (i % 31 == 0)
			ts -= 3;
		else
			ts += i % 11;
		put(b, id, ts, len);
		off = (b->head - ((sizeof(struct kbpf_rec) + len + 7) & ~7ull)) &
		      (RING - 1);
		p = b->data + off + sizeof(struct kbpf_rec);
		for (j = 0; j < len; j++)
			p[j] = (uint8_t)(i + j);
		cur = ksink_event_begin(ref, id, ts, len, NULL);
		if (cur) {
			sonde_ctfw_put_bytes(cur, p, len);
			ksink_event_commit(ref, NULL);
		}
		if (i % 13 == 12)
			kbpf_consume(b, RING, fast, &lost_seen);
	}
	kbpf_consume(b, RING, fast, &lost_seen);
	a = packets_of(fast, &na);
	c = packets_of(ref, &nc);
	snprintf(what, sizeof(what), "%s headers: several packets", name);
	ok(nc > 3 * 4096, what);
	snprintf(what, sizeof(what),
		 "%s headers: the copy loop writes the event path's bytes",
		 name);
	ok(a && c && na == nc && memcmp(a, c, na) == 0, what);
out:
	free(a);
	free(c);
	ksink_free(fast);
	ksink_free(ref);
	free(b);
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
	same_as_event_path(SONDE_CTFW_HEADER_COMPACT, "compact");
	same_as_event_path(SONDE_CTFW_HEADER_LARGE, "large");
	return tap_done();
}
