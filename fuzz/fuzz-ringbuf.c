/*
 * Fuzzes the consumer's reading of ring-buffer shared memory, which a
 * traced program (maybe broken, maybe hostile) writes: the input is laid
 * over one CPU's control block (write position, consumed position,
 * commit counters) and its sub-buffers (packet headers, events), then the
 * consumer flushes, salvages and reads packets as it would.  Delivered
 * packets must have sane sizes; nothing may crash or loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ringbuf/ringbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_rb_config cfg = { .ncpu = 1, .subbuf_size = 4096,
				       .num_subbuf = 4, .no_tsc = true };
	struct sonde_rb *rb = NULL;
	struct sonde_rb_reader *r = NULL;
	struct sonde_rb_packet pkt;
	struct sonde_rb_cpu_ctl *ctl;
	size_t ctl_bytes = sizeof(*ctl) + 4 * sizeof(uint64_t), n;
	unsigned int i;

	if (size < 1)
		return 0;
	cfg.mode = data[0] & 1 ? SONDE_RB_OVERWRITE : SONDE_RB_DISCARD;
	data++;
	size--;
	if (sonde_rb_create(NULL, &cfg, &rb, NULL, NULL))
		abort();
	ctl = sonde_rb_ctl(rb, 0);
	n = size < ctl_bytes ? size : ctl_bytes;
	memcpy(ctl, data, n);
	if (size > n) {
		size_t dn = size - n;

		if (dn > rb->buf_mask + 1)
			dn = rb->buf_mask + 1;
		memcpy(sonde_rb_data(rb, 0), data + n, dn);
	}
	if (sonde_rb_reader_create(rb, &r, NULL))
		abort();
	for (i = 0; i < 3; i++) {
		unsigned int k = 0;

		if (i == 1)
			sonde_rb_flush(rb, 0);
		if (i == 2)
			sonde_rb_salvage(r, 0);
		while (k++ < 16 && sonde_rb_get(r, 0, &pkt)) {
			if (pkt.content_size < SONDE_RB_PACKET_HEADER_SIZE ||
			    pkt.content_size > pkt.packet_size ||
			    pkt.packet_size > 4096)
				abort();
			sonde_rb_put(r, 0);
		}
	}
	sonde_rb_reader_free(r);
	sonde_rb_unmap(rb);
	return 0;
}
