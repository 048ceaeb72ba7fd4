/*
 * The consumer's walk over one CPU's eBPF buffer (kbpf-abi.h): records to
 * CTF events, room given back, losses counted.  Apart from kbpf.c so that
 * it builds, and is tested on synthetic buffers, without BPF tooling.
 */
#include <linux/types.h>
#include <stdatomic.h>

#include "kernel/bpf/kbpf-abi.h"
#include "kernel/bpf/kbpf.h"

/*
 * A record header the programs cannot have written (a length past the
 * head or the ring's end) ends the pass: the rest up to the head is
 * counted as one lost event and skipped, never read out of bounds.
 */
uint64_t kbpf_consume(struct kbpf_buf *buf, uint64_t ring_bytes,
		      struct ksink *sink, uint64_t *lost_seen)
{
	uint64_t head = atomic_load_explicit((_Atomic uint64_t *)&buf->head,
					     memory_order_acquire);
	uint64_t tail = buf->tail, start = tail, lost;
	struct ksink_run run = ksink_run_begin(sink);

	if (head - tail > ring_bytes) { /* cannot be: start again at head */
		ksink_discard(sink, 1);
		tail = head;
	}
	while (tail < head) {
		uint64_t off = tail & (ring_bytes - 1);
		uint64_t room = ring_bytes - off, size;
		const struct kbpf_rec *r =
			(const struct kbpf_rec *)(buf->data + off);

		if (room < sizeof(*r) || r->id == KBPF_PAD) {
			tail += room;
			continue;
		}
		size = (sizeof(*r) + (uint64_t)r->len + KBPF_REC_ALIGN - 1) &
		       ~(uint64_t)(KBPF_REC_ALIGN - 1);
		if (r->len > KBPF_REC_MAX || size > room ||
		    size > head - tail) {
			ksink_discard(sink, 1);
			tail = head;
			break;
		}
		/* record sizes are multiples of 8: what ksink_run_put()
		 * reads past the payload is this record's */
		if (!ksink_run_put(&run, r->id, r->ts, r + 1, r->len)) {
			ksink_run_end(sink, run);
			ksink_put_encoded(sink, r->id, r->ts, r + 1, r->len);
			run = ksink_run_begin(sink);
		}
		tail += size;
	}
	ksink_run_end(sink, run);
	atomic_store_explicit((_Atomic uint64_t *)&buf->tail, tail,
			      memory_order_release);
	lost = buf->lost;
	if (lost > *lost_seen) {
		ksink_discard(sink, lost - *lost_seen);
		*lost_seen = lost;
	}
	return tail - start;
}
