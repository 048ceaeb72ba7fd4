/*
 * Per-CPU CTF packet builder.  Events are serialized straight into the
 * current packet (room for the largest possible encoding is checked before
 * the header is written, so an event never straddles packets); a full
 * packet goes either to the stream file and its index, or, in snapshot
 * mode, into a bounded ring of finished packets that a snapshot copies out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/stream-file.h"
#include "kernel/kernel-internal.h"

struct ring_slot {
	struct sonde_ctfw_packet_info info;
	uint8_t *data;
};

struct ksink {
	struct ksink_opts o;
	uint8_t uuid[16];
	uint8_t *buf;
	struct sonde_ctfw_cursor cur;
	struct sonde_ctfw_packet_info info;
	bool open;
	bool ever_written;
	uint64_t created_ts; /* CLOCK_MONOTONIC, the traces' clock */
	size_t event_start;
	uint64_t last_ts, prev_last_ts;
	uint64_t seq;
	uint64_t pending_lost; /* packets lost since the last one closed */
	struct sonde_stream_file stream; /* when o.stream_fd >= 0 */
	/* Written by the consumer thread only, read live by get_stats from
	 * another: relaxed atomics, which compile to plain moves. */
	_Atomic uint64_t events, packets, bytes, discarded, packets_lost;
	/* ring mode */
	pthread_mutex_t lock;
	struct ring_slot *ring;
	size_t ring_head, ring_count;
};

static void bump(_Atomic uint64_t *a, uint64_t n)
{
	atomic_store_explicit(a, atomic_load_explicit(a, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

int ksink_create(const struct ksink_opts *o, struct ksink **out,
		 struct sonde_error *err)
{
	struct ksink *k = calloc(1, sizeof(*k));
	struct timespec now;
	size_t i;

	*out = NULL;
	if (!k)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	k->o = *o;
	k->stream.fd = o->stream_fd;
	memcpy(k->uuid, o->uuid, 16);
	clock_gettime(CLOCK_MONOTONIC, &now);
	k->created_ts = (uint64_t)now.tv_sec * 1000000000u +
			(uint64_t)now.tv_nsec;
	k->o.packet_size = sonde_ctfw_page_round(o->packet_size ?
							 o->packet_size :
							 256 * 1024);
	k->buf = malloc(k->o.packet_size);
	pthread_mutex_init(&k->lock, NULL);
	if (!k->buf)
		goto nomem;
	if (o->stream_fd < 0) {
		if (!o->ring_packets)
			k->o.ring_packets = 4;
		k->ring = calloc(k->o.ring_packets, sizeof(*k->ring));
		if (!k->ring)
			goto nomem;
		for (i = 0; i < k->o.ring_packets; i++) {
			k->ring[i].data = malloc(k->o.packet_size);
			if (!k->ring[i].data)
				goto nomem;
		}
	} else if (o->index_fd >= 0) {
		uint8_t hdr[SONDE_CTFW_INDEX_HEADER_SIZE];

		sonde_ctfw_index_header(hdr);
		if (sonde_write_all(o->index_fd, hdr, sizeof(hdr), "index", err)) {
			ksink_free(k);
			return err ? err->status : SONDE_EIO;
		}
	}
	*out = k;
	return 0;
nomem:
	ksink_free(k);
	return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
}

static void packet_open(struct ksink *k, uint64_t ts)
{
	/* Lost packets show as a packet_seq_num gap between two packets;
	 * before the stream's first packet no reader would see one (the
	 * events are in events_discarded all the same). */
	if (k->pending_lost && k->ever_written) {
		k->seq += k->pending_lost;
		bump(&k->packets_lost, k->pending_lost);
	}
	k->pending_lost = 0;
	memset(&k->info, 0, sizeof(k->info));
	k->info.stream_id = 0;
	k->info.stream_instance_id = k->o.instance_base + k->o.cpu;
	k->info.cpu_id = k->o.cpu;
	k->info.timestamp_begin = ts;
	k->info.timestamp_end = ts;
	k->info.packet_size = k->o.packet_size;
	k->info.packet_seq_num = k->seq;
	k->info.events_discarded = get(&k->discarded);
	sonde_ctfw_cursor_init(&k->cur, k->buf, k->o.packet_size, k->o.bo);
	sonde_ctfw_packet_begin(&k->cur, k->uuid, &k->info);
	k->last_ts = ts;
	k->open = true;
}

static int deliver(struct ksink *k, struct sonde_error *err)
{
	size_t size = (size_t)k->info.packet_size;

	if (k->o.stream_fd >= 0) {
		uint8_t idx[SONDE_CTFW_INDEX_ENTRY_SIZE];
		uint64_t offset = k->stream.size;
		int ret = sonde_stream_file_append(&k->stream, k->buf, size,
						   "stream", err);

		if (ret)
			return ret;
		if (k->o.index_fd >= 0) {
			sonde_ctfw_index_entry(idx, offset, &k->info);
			ret = sonde_write_all(k->o.index_fd, idx, sizeof(idx),
					"index", err);
			if (ret)
				return ret;
		}
		if (k->o.hook && k->o.hook->packet) {
			struct sonde_kernel_packet pkt = {
				.packet_size = k->info.packet_size * 8,
				.content_size = k->info.content_size * 8,
				.timestamp_begin = k->info.timestamp_begin,
				.timestamp_end = k->info.timestamp_end,
				.events_discarded = k->info.events_discarded,
				.stream_class_id = k->info.stream_id,
				.stream_instance_id = k->info.stream_instance_id,
				.packet_seq_num = k->info.packet_seq_num,
			};

			k->o.hook->packet(k->o.hook->arg,
					  k->o.instance_base + k->o.cpu,
					  k->buf, &pkt);
		}
	} else {
		struct ring_slot *slot;

		pthread_mutex_lock(&k->lock);
		if (k->ring_count == k->o.ring_packets) {
			k->ring_head = (k->ring_head + 1) % k->o.ring_packets;
			k->ring_count--;
		}
		slot = &k->ring[(k->ring_head + k->ring_count) %
				k->o.ring_packets];
		memcpy(slot->data, k->buf, size);
		slot->info = k->info;
		k->ring_count++;
		pthread_mutex_unlock(&k->lock);
	}
	bump(&k->packets, 1);
	bump(&k->bytes, size);
	return 0;
}

static int packet_close(struct ksink *k, uint64_t ts_end,
			struct sonde_error *err)
{
	int ret;

	if (!k->open)
		return 0;
	k->open = false;
	k->info.timestamp_end = ts_end > k->last_ts ? ts_end : k->last_ts;
	if (k->info.timestamp_end < k->info.timestamp_begin)
		k->info.timestamp_end = k->info.timestamp_begin;
	k->last_ts = k->info.timestamp_end;
	k->info.content_size = 0;
	k->info.packet_size = sonde_ctfw_page_round(k->cur.pos);
	k->info.packet_seq_num = k->seq++;
	k->info.events_discarded = get(&k->discarded);
	ret = sonde_ctfw_packet_finish(&k->cur, &k->info, err);
	if (ret)
		return ret;
	k->info.content_size = k->cur.pos; /* for the index entry */
	k->ever_written = true;
	return deliver(k, err);
}

struct sonde_ctfw_cursor *ksink_event_begin(struct ksink *k, uint32_t id,
					    uint64_t ts, size_t payload_max,
					    struct sonde_error *err)
{
	size_t need = SONDE_CTFW_EVENT_HEADER_MAX + payload_max;

	if (need > k->o.packet_size - SONDE_CTFW_PKT_HEADER_SIZE) {
		sonde_error_set(err, SONDE_EINVAL,
				"cpu %u: event of %zu bytes larger than a "
				"packet", k->o.cpu, payload_max);
		return NULL;
	}
	if (ts < k->last_ts)
		ts = k->last_ts; /* never backwards, not even across packets */
	if (k->open && k->cur.pos + need > k->o.packet_size) {
		if (packet_close(k, ts, err))
			return NULL;
	}
	if (!k->open)
		packet_open(k, ts);
	k->event_start = k->cur.pos;
	k->prev_last_ts = k->last_ts;
	sonde_ctfw_put_event_header(&k->cur, k->o.header, id, ts, &k->last_ts);
	return &k->cur;
}

int ksink_event_commit(struct ksink *k, struct sonde_error *err)
{
	if (k->cur.overflow) {
		k->cur.overflow = false;
		k->cur.pos = k->event_start;
		k->last_ts = k->prev_last_ts;
		bump(&k->discarded, 1);
		return sonde_error_set(err, SONDE_EINVAL,
				       "cpu %u: event overflowed its packet",
				       k->o.cpu);
	}
	bump(&k->events, 1);
	return 0;
}

int ksink_put_encoded(struct ksink *k, uint32_t id, uint64_t ts,
		      const void *payload, size_t len)
{
	struct sonde_ctfw_cursor *c = ksink_event_begin(k, id, ts, len, NULL);

	if (!c) {
		bump(&k->discarded, 1);
		return SONDE_EINVAL;
	}
	sonde_ctfw_put_bytes(c, payload, len);
	return ksink_event_commit(k, NULL);
}

struct ksink_run ksink_run_begin(struct ksink *k)
{
	struct ksink_run run = { 0 };

	/* ksink_run_put() stores host-order values as little-endian ones */
	if (!k->open || k->cur.byte_order != SONDE_CTF_LE ||
	    SONDE_CTFW_HOST_ORDER != SONDE_CTF_LE)
		return run;
	run.pos = k->cur.packet + k->cur.pos;
	run.end = k->cur.packet + k->o.packet_size;
	run.last_ts = k->last_ts;
	run.large = k->o.header == SONDE_CTFW_HEADER_LARGE;
	run.max_compact_id = run.large ? 65534u : 30u;
	return run;
}

void ksink_run_end(struct ksink *k, struct ksink_run run)
{
	if (!run.pos)
		return;
	k->cur.pos = (size_t)(run.pos - k->cur.packet);
	k->last_ts = run.last_ts;
	bump(&k->events, run.events);
}

int ksink_flush(struct ksink *k, uint64_t ts, struct sonde_error *err)
{
	if (!k->open || k->cur.pos == SONDE_CTFW_PKT_HEADER_SIZE)
		return 0;
	return packet_close(k, ts, err);
}

void ksink_discard(struct ksink *k, uint64_t n)
{
	bump(&k->discarded, n);
}

void ksink_lose_packets(struct ksink *k, uint64_t n, uint64_t ts)
{
	packet_close(k, ts, NULL);
	k->pending_lost += n;
}

uint64_t ksink_packets(const struct ksink *k)
{
	return get(&k->packets);
}

uint64_t ksink_last_ts(const struct ksink *k)
{
	return k->last_ts;
}

void ksink_get_stats(const struct ksink *k, struct ksink_stats *st)
{
	st->events = get(&k->events);
	st->packets = get(&k->packets);
	st->bytes = get(&k->bytes);
	st->discarded = get(&k->discarded);
	st->packets_lost = get(&k->packets_lost);
}

int ksink_close(struct ksink *k, uint64_t ts_end, struct sonde_error *err)
{
	int ret = 0;

	if (k->open)
		ret = packet_close(k, ts_end, err);
	if (!ret && k->pending_lost && k->ever_written) {
		/* an empty packet after the gap, so that readers see it */
		packet_open(k, ts_end);
		ret = packet_close(k, ts_end, err);
	}
	if (!ret && !k->ever_written && k->o.stream_fd >= 0) {
		/* An empty stream still gets one packet, as LTTng's flush
		 * does, so readers see the CPU.  On disk it spans the whole
		 * recording: lttng-analyses reads only where every stream has
		 * data, and a packet reduced to the end time leaves no such
		 * time.  Streamed, it cannot: live readers have gone past its
		 * start already. */
		bool span = !(k->o.hook && k->o.hook->packet) &&
			    k->created_ts < ts_end;

		packet_open(k, span ? k->created_ts : ts_end);
		ret = packet_close(k, ts_end, err);
	}
	if (k->o.stream_fd >= 0)
		sonde_stream_file_trim(&k->stream);
	return ret;
}

void ksink_free(struct ksink *k)
{
	size_t i;

	if (!k)
		return;
	if (k->ring) {
		for (i = 0; i < k->o.ring_packets; i++)
			free(k->ring[i].data);
		free(k->ring);
	}
	if (k->o.stream_fd >= 0) {
		sonde_stream_file_trim(&k->stream);
		close(k->o.stream_fd);
	}
	if (k->o.index_fd >= 0)
		close(k->o.index_fd);
	pthread_mutex_destroy(&k->lock);
	free(k->buf);
	free(k);
}

int ksink_ring_write(const struct ksink *k, int fd, int index_fd,
		     struct sonde_error *err)
{
	struct ksink *mk = (struct ksink *)k; /* the lock only */
	uint64_t offset = 0;
	size_t i;
	int ret = 0;

	if (index_fd >= 0) {
		uint8_t hdr[SONDE_CTFW_INDEX_HEADER_SIZE];

		sonde_ctfw_index_header(hdr);
		ret = sonde_write_all(index_fd, hdr, sizeof(hdr), "index", err);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&mk->lock);
	for (i = 0; i < k->ring_count && !ret; i++) {
		const struct ring_slot *s =
			&k->ring[(k->ring_head + i) % k->o.ring_packets];
		uint8_t idx[SONDE_CTFW_INDEX_ENTRY_SIZE];

		ret = sonde_write_all(fd, s->data, (size_t)s->info.packet_size,
				"snapshot stream", err);
		if (!ret && index_fd >= 0) {
			sonde_ctfw_index_entry(idx, offset, &s->info);
			ret = sonde_write_all(index_fd, idx, sizeof(idx),
					"snapshot index", err);
		}
		offset += s->info.packet_size;
	}
	pthread_mutex_unlock(&mk->lock);
	return ret;
}
