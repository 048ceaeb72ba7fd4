/* The UST consumer (src/ust/trace.h): packet numbering across stops and
 * restarts, when a stop reports discards in a packet of its own. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../helpers/tap.h"
#include "common/be.h"
#include "ust/trace.h"

#define SUBBUF 4096u

static const struct sonde_ctfw_field fields[] = {
	SONDE_CTFW_INTEGER("i", 32, true),
};

static struct sonde_tp_event event = {
	.name = "test:event",
	.fields = fields,
	.field_count = 1,
};

/* Records `count` events, closes their packet, then loses one too large
 * for a packet: a discard that only the stop can report. */
static void record(struct sonde_ust_trace *t, uint32_t id, int count)
{
	struct sonde_rb *rb = sonde_ust_trace_rb(t);
	struct sonde_rb_slot slot;
	int i;

	for (i = 0; i < count; i++) {
		if (sonde_rb_reserve(rb, 0, id, 4, &slot))
			continue;
		memcpy(slot.payload, &i, 4);
		sonde_rb_commit(rb, &slot);
	}
	sonde_ust_trace_flush(t);
	(void)sonde_rb_reserve(rb, 0, id, SUBBUF, &slot);
}

/* packet_seq_num of each index entry, and whether each matches the
 * packet header it describes. */
static size_t index_seqs(const char *dir, uint64_t *seqs, size_t max,
			 bool *headers_match)
{
	char path[512];
	uint8_t hdr[16], entry[SONDE_CTFW_INDEX_ENTRY_SIZE], pkt[128];
	size_t n = 0;
	int idx, data;

	snprintf(path, sizeof(path), "%s/index/channel0_0.idx", dir);
	idx = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "%s/channel0_0", dir);
	data = open(path, O_RDONLY);
	*headers_match = idx >= 0 && data >= 0 &&
			 read(idx, hdr, sizeof(hdr)) == sizeof(hdr);
	while (*headers_match && n < max &&
	       read(idx, entry, sizeof(entry)) == sizeof(entry)) {
		uint64_t seq;

		seqs[n] = be_get64(entry + 64);
		*headers_match &= pread(data, pkt, sizeof(pkt),
					(off_t)be_get64(entry)) == sizeof(pkt);
		memcpy(&seq, pkt + SONDE_CTFW_PKT_SEQ_NUM, 8);
		*headers_match &= seq == seqs[n];
		n++;
	}
	if (idx >= 0)
		close(idx);
	if (data >= 0)
		close(data);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/sonde-test-ust-trace-XXXXXX";
	struct sonde_ust_trace_config cfg = {
		.dir = dir,
		.trace_name = "restart",
		.rb = { .ncpu = 1, .subbuf_size = SUBBUF, .num_subbuf = 4,
			.mode = SONDE_RB_DISCARD },
	};
	struct sonde_ust_trace *t = NULL;
	struct sonde_ust_stats stats;
	struct sonde_error err = { 0 };
	uint64_t seqs[64];
	bool headers_match, increasing = true;
	size_t n, i;
	uint32_t id;
	int round;

	if (!mkdtemp(dir) || sonde_ust_trace_create(&cfg, &t, &err) ||
	    sonde_ust_trace_event_id(t, &event, &id, &err)) {
		printf("# setup: %s\n", err.msg);
		return 1;
	}
	/* Three recordings in the same files, as sonde-sessiond's stop and
	 * start do; each stop finds a discard no packet carried yet. */
	for (round = 0; round < 3; round++) {
		record(t, id, 500);
		if (sonde_ust_trace_finish(t, false, &stats, &err))
			printf("# finish: %s\n", err.msg);
	}
	ok(stats.events_discarded == 3, "three oversized events discarded");
	n = index_seqs(dir, seqs, 64, &headers_match);
	ok(n >= 6, "ring packets and the discard reports are indexed");
	for (i = 1; i < n; i++)
		increasing &= seqs[i] == seqs[i - 1] + 1;
	ok(n && seqs[0] == 0 && increasing,
	   "packet_seq_num counts 0, 1, 2... across restarts, no repeat");
	ok(headers_match, "the packet headers carry the indexed numbers");
	{
		/* Freeing a trace only retires its buffers (in-process
		 * writers may still hold them); here none does. */
		struct sonde_rb *rb = sonde_ust_trace_rb(t);

		sonde_ust_trace_free(t);
		sonde_rb_unmap(rb);
	}
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			printf("# cleanup of %s failed\n", dir);
	}
	return tap_done();
}
