/* The UST consumer: ring-buffer packets to an lttng-ust-shaped trace. */
#include "ust/trace.h"

#include "ust/ust-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/stream-file.h"
#include "sonde/ctf-writer.h"

struct ust_stream {
	int fd, index_fd;
	uint64_t offset; /* bytes written to the stream file */
	uint64_t last_seq;
	uint64_t last_ts_end;
	uint64_t reported_discarded;
	/* Packets the consumer wrote itself (discards reported at a stop):
	 * the ring's later packets are numbered that much higher, so that
	 * no packet_seq_num repeats after a restart. */
	uint64_t seq_bias;
	bool any;
	bool sent; /* a packet went to the hook since the last tick */
};

struct sonde_ust_trace {
	pthread_mutex_t lock; /* metadata: event classes added by app threads */
	char *dir;
	char channel[64];
	struct sonde_ctfw_trace_class *tc;
	struct sonde_ctfw_writer *w;
	uint32_t stream_class;
	struct sonde_rb *rb;
	struct sonde_rb_reader *reader;
	char **names; /* event class id -> name */
	uint32_t name_count, name_cap;
	struct sonde_ust_stats stats;
	uint64_t packets_unwritten; /* drained after a write error */
	bool snapshot; /* buffers read only by sonde_ust_trace_snapshot() */
	bool remote_writers;
	int write_error; /* first failure writing the streams, sticky */
	struct sonde_error write_err;
	struct sonde_ust_output_hook hook;
	size_t metadata_sent; /* bytes of metadata text given to the hook */
	struct ust_stream streams[];
};

/* LTTng's context fields, in the stream event context. */
static void context_field(enum sonde_ust_context c, struct sonde_ctfw_field *f)
{
	static const struct sonde_ctfw_field vpid = SONDE_CTFW_INTEGER("vpid", 32, true);
	static const struct sonde_ctfw_field vtid = SONDE_CTFW_INTEGER("vtid", 32, true);
	static const struct sonde_ctfw_field procname = SONDE_CTFW_ARRAY_TEXT("procname", 17);
	static const struct sonde_ctfw_field pthread_id =
		SONDE_CTFW_INTEGER_HEX("pthread_id", 64, false);

	switch (c) {
	case SONDE_UST_CTX_VPID:
		*f = vpid;
		break;
	case SONDE_UST_CTX_VTID:
		*f = vtid;
		break;
	case SONDE_UST_CTX_PROCNAME:
		*f = procname;
		break;
	default:
		*f = pthread_id;
		break;
	}
}

/* Appends the new metadata to the file, and gives the hook the same
 * packets. */
static int flush_metadata(struct sonde_ust_trace *t, struct sonde_error *err)
{
	uint8_t pkt[SONDE_CTFW_METADATA_PACKET_SIZE];
	size_t len, taken;
	/* Snapshot traces have no writer: snapshots write their own. */
	int rc = t->w ? sonde_ctfw_writer_flush_metadata(t->w, err) : 0;

	if (rc || !t->hook.metadata)
		return rc;
	sonde_ctfw_metadata_text(t->tc, &len);
	while (t->metadata_sent < len &&
	       (taken = sonde_ctfw_metadata_packet(t->tc, t->metadata_sent,
						   pkt))) {
		t->hook.metadata(t->hook.arg, pkt, sizeof(pkt));
		t->metadata_sent += taken;
	}
	return 0;
}

int sonde_ust_trace_create(const struct sonde_ust_trace_config *cfg,
			   struct sonde_ust_trace **out,
			   struct sonde_error *err)
{
	struct sonde_ctfw_trace_opts topts = { .byte_order = SONDE_CTFW_HOST_ORDER };
	struct sonde_ctfw_writer_opts wopts = { 0 };
	struct sonde_ctfw_field ctx[SONDE_UST_MAX_CONTEXTS];
	struct sonde_rb_config rbc = cfg->rb;
	struct sonde_ust_trace *t;
	uint8_t uuid[16];
	uint32_t ncpu, i;
	int rc;

	if (cfg->context_count > SONDE_UST_MAX_CONTEXTS)
		return sonde_error_set(err, SONDE_EINVAL,
				       "ust: more than %d contexts",
				       SONDE_UST_MAX_CONTEXTS);
	for (i = 0; i < cfg->context_count; i++) {
		if (cfg->contexts[i] < SONDE_UST_CTX_VPID ||
		    cfg->contexts[i] > SONDE_UST_CTX_PTHREAD_ID)
			return sonde_error_set(err, SONDE_EINVAL,
					       "ust: unknown context %d",
					       (int)cfg->contexts[i]);
		context_field(cfg->contexts[i], &ctx[i]);
	}
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return sonde_error_set(err, SONDE_EIO, "ust: getrandom: %s",
				       strerror(errno));
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	ncpu = rbc.ncpu ? rbc.ncpu : (uint32_t)sysconf(_SC_NPROCESSORS_CONF);
	rbc.ncpu = ncpu;
	rbc.uuid = uuid;
	t = calloc(1, sizeof(*t) + ncpu * sizeof(t->streams[0]));
	if (!t)
		return sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
	pthread_mutex_init(&t->lock, NULL);
	if (cfg->hook)
		t->hook = *cfg->hook;
	for (i = 0; i < ncpu; i++)
		t->streams[i].fd = t->streams[i].index_fd = -1;
	snprintf(t->channel, sizeof(t->channel), "%s",
		 cfg->channel_name ? cfg->channel_name : "channel0");
	t->dir = strdup(cfg->dir);
	if (!t->dir) {
		rc = sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
		goto fail;
	}
	topts.uuid = uuid;
	rc = sonde_ctfw_trace_class_create(&topts, &t->tc, err);
	if (rc)
		goto fail;
	rc = cfg->pid > 0 ? sonde_ctfw_env_add_lttng_ust_pid(
				    t->tc, cfg->trace_name, cfg->pid,
				    cfg->procname ? cfg->procname : "", NULL,
				    err) :
			    sonde_ctfw_env_add_lttng_ust(t->tc, cfg->trace_name,
							 err);
	if (rc)
		goto fail;
	rc = sonde_ctfw_stream_class_add(t->tc, SONDE_RB_HEADER,
					 cfg->context_count ? ctx : NULL,
					 cfg->context_count, &t->stream_class,
					 err);
	if (rc)
		goto fail;
	t->snapshot = cfg->snapshot;
	t->remote_writers = cfg->remote_writers;
	if (cfg->snapshot) {
		/* Nothing goes to `dir` until a snapshot is taken, and the
		 * writers overwrite the oldest packets meanwhile. */
		rbc.mode = SONDE_RB_OVERWRITE;
	} else {
		if (t->hook.streams)
			t->hook.streams(t->hook.arg, ncpu);
		rc = sonde_ctfw_writer_open(cfg->dir, t->tc, &wopts, &t->w,
					    err);
		if (!rc)
			rc = flush_metadata(t, err);
		if (rc)
			goto fail;
	}
	rbc.stream_id = t->stream_class;
	rc = sonde_rb_create(cfg->shm_path, &rbc, &t->rb, NULL, err);
	if (rc)
		goto fail;
	rc = sonde_rb_reader_create(t->rb, &t->reader, err);
	if (rc)
		goto fail;
	*out = t;
	return 0;
fail:
	sonde_ust_trace_free(t);
	return rc;
}

struct sonde_rb *sonde_ust_trace_rb(struct sonde_ust_trace *t)
{
	return t->rb;
}

int sonde_ust_trace_event_id(struct sonde_ust_trace *t,
			     const struct sonde_tp_event *ev, uint32_t *id,
			     struct sonde_error *err)
{
	uint32_t i;
	int rc;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->name_count; i++)
		if (!strcmp(t->names[i], ev->name)) {
			*id = i;
			pthread_mutex_unlock(&t->lock);
			return 0;
		}
	/* Programs (maybe hostile) choose the names: bound the metadata. */
	if (t->name_count >= SONDE_UST_MAX_EVENT_CLASSES) {
		rc = sonde_error_set(err, SONDE_EINVAL,
				     "ust: more than %d event classes in one trace",
				     SONDE_UST_MAX_EVENT_CLASSES);
		goto out;
	}
	if (t->name_count == t->name_cap) {
		uint32_t cap = t->name_cap ? 2 * t->name_cap : 32;
		char **n = realloc(t->names, cap * sizeof(*n));

		if (!n) {
			rc = sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
			goto out;
		}
		t->names = n;
		t->name_cap = cap;
	}
	t->names[t->name_count] = strdup(ev->name);
	if (!t->names[t->name_count]) {
		rc = sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
		goto out;
	}
	rc = sonde_ctfw_event_class_add(t->tc, t->stream_class, ev->name,
					ev->loglevel, ev->fields,
					ev->field_count, id, err);
	if (rc) {
		free(t->names[t->name_count]);
		goto out;
	}
	t->name_count++;
	rc = flush_metadata(t, err);
out:
	pthread_mutex_unlock(&t->lock);
	return rc;
}

static int open_stream(const char *dir, const char *channel, uint32_t cpu,
		       struct ust_stream *s, struct sonde_error *err)
{
	uint8_t hdr[SONDE_CTFW_INDEX_HEADER_SIZE];
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s_%u", dir, channel, cpu);
	s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (s->fd < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	snprintf(path, sizeof(path), "%s/index", dir);
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	snprintf(path, sizeof(path), "%s/index/%s_%u.idx", dir, channel, cpu);
	s->index_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (s->index_fd < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	sonde_ctfw_index_header(hdr);
	if (write(s->index_fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	s->any = true;
	return 0;
}

/* Appends a packet to a stream file of `dir` and its index entry. */
static int stream_write(const char *dir, const char *channel, uint32_t cpu,
			struct ust_stream *s, const uint8_t *data,
			const struct sonde_ctfw_packet_info *info,
			struct sonde_error *err)
{
	uint8_t entry[SONDE_CTFW_INDEX_ENTRY_SIZE];
	int rc;

	if (!s->any) {
		rc = open_stream(dir, channel, cpu, s, err);
		if (rc)
			return rc;
	}
	rc = sonde_write_all(s->fd, data, info->packet_size, "ust stream", err);
	if (rc)
		return rc;
	sonde_ctfw_index_entry(entry, s->offset, info);
	rc = sonde_write_all(s->index_fd, entry, sizeof(entry), "ust index", err);
	if (rc)
		return rc;
	s->offset += info->packet_size;
	s->last_seq = info->packet_seq_num;
	s->last_ts_end = info->timestamp_end;
	s->reported_discarded = info->events_discarded;
	return 0;
}

static int write_packet(struct sonde_ust_trace *t, uint32_t cpu,
			const uint8_t *data, const struct sonde_ctfw_packet_info *info,
			struct sonde_error *err)
{
	int rc = stream_write(t->dir, t->channel, cpu, &t->streams[cpu], data,
			      info, err);

	if (rc)
		return rc;
	if (t->hook.packet) {
		t->hook.packet(t->hook.arg, cpu, data, info);
		t->streams[cpu].sent = true;
	}
	t->stats.packets++;
	t->stats.bytes += info->packet_size;
	return 0;
}

/* A ring packet's index entry; its number moved past the packets the
 * consumer inserted (see seq_bias), in its header too. */
static struct sonde_ctfw_packet_info packet_info(const struct sonde_ust_trace *t,
						 uint32_t cpu,
						 const struct sonde_rb_packet *pkt)
{
	uint64_t bias = t->streams[cpu].seq_bias;

	if (bias)
		sonde_ctfw_store_u64((uint8_t *)pkt->data +
					     SONDE_CTFW_PKT_SEQ_NUM,
				     pkt->seq + bias, SONDE_CTFW_HOST_ORDER);
	return (struct sonde_ctfw_packet_info){
		.stream_id = t->stream_class,
		.stream_instance_id = cpu,
		.cpu_id = cpu,
		.timestamp_begin = pkt->ts_begin,
		.timestamp_end = pkt->ts_end,
		.content_size = pkt->content_size,
		.packet_size = pkt->packet_size,
		.packet_seq_num = pkt->seq + bias,
		.events_discarded = pkt->events_discarded,
	};
}

int sonde_ust_trace_consume(struct sonde_ust_trace *t, struct sonde_error *err)
{
	struct sonde_rb_packet pkt;
	uint32_t cpu;
	int n = 0;

	if (t->snapshot)
		return 0;
	for (cpu = 0; cpu < t->rb->ncpu; cpu++) {
		while (sonde_rb_get(t->reader, cpu, &pkt)) {
			struct sonde_ctfw_packet_info info =
				packet_info(t, cpu, &pkt);

			/* A write error is kept and reported at the end; the
			 * buffers keep being drained so the program is not
			 * stalled, and the loss is counted. */
			if (!t->write_error) {
				t->write_error = write_packet(t, cpu, pkt.data,
							      &info,
							      &t->write_err);
			}
			if (t->write_error)
				t->packets_unwritten++;
			sonde_rb_put(t->reader, cpu);
			n++;
		}
	}
	if (t->write_error) {
		if (err)
			*err = t->write_err;
		return t->write_error;
	}
	return n;
}

void sonde_ust_trace_flush(struct sonde_ust_trace *t)
{
	uint32_t cpu;

	for (cpu = 0; cpu < t->rb->ncpu; cpu++)
		sonde_rb_flush(t->rb, cpu);
}

/* An empty packet carrying discards no packet reported yet. */
static int report_discards(struct sonde_ust_trace *t, uint32_t cpu,
			   uint64_t discarded, struct sonde_error *err)
{
	struct ust_stream *s = &t->streams[cpu];
	uint8_t buf[SONDE_CTFW_PAGE_SIZE];
	struct sonde_ctfw_cursor c;
	uint64_t ts = s->any ? s->last_ts_end :
			       sonde_clock_now(&t->rb->hdr->clock);
	struct sonde_ctfw_packet_info info = {
		.stream_id = t->stream_class,
		.stream_instance_id = cpu,
		.cpu_id = cpu,
		.timestamp_begin = ts,
		.timestamp_end = ts,
		.packet_size = sizeof(buf),
		.packet_seq_num = s->any ? s->last_seq + 1 : 0,
		.events_discarded = discarded,
	};
	int rc;

	sonde_ctfw_cursor_init(&c, buf, sizeof(buf), SONDE_CTFW_HOST_ORDER);
	sonde_ctfw_packet_begin(&c, t->rb->uuid, &info);
	rc = sonde_ctfw_packet_finish(&c, &info, err);
	if (rc)
		return rc;
	info.content_size = SONDE_CTFW_PKT_HEADER_SIZE;
	rc = write_packet(t, cpu, buf, &info, err);
	if (!rc)
		s->seq_bias++;
	return rc;
}

int sonde_ust_trace_snapshot(struct sonde_ust_trace *t, const char *dir,
			     struct sonde_error *err)
{
	struct sonde_ctfw_writer *w = NULL;
	struct sonde_rb_reader *reader = NULL;
	struct sonde_rb_packet pkt;
	uint32_t cpu;
	int rc;

	if (!t->snapshot)
		return sonde_error_set(err, SONDE_EINVAL,
				       "ust: not a snapshot trace");
	rc = sonde_rb_reader_create_peek(t->rb, &reader, err);
	if (rc)
		return rc;
	/* The metadata as it is now (event classes added under the lock),
	 * written whole into the snapshot's own directory. */
	pthread_mutex_lock(&t->lock);
	rc = sonde_ctfw_writer_open(dir, t->tc, NULL, &w, err);
	if (!rc)
		rc = sonde_ctfw_writer_flush_metadata(w, err);
	pthread_mutex_unlock(&t->lock);
	for (cpu = 0; !rc && cpu < t->rb->ncpu; cpu++) {
		struct ust_stream s = { .fd = -1, .index_fd = -1 };

		/* The newest events too: close the open packet (the writers
		 * go on in the next one). */
		sonde_rb_flush(t->rb, cpu);
		while (!rc && sonde_rb_get(reader, cpu, &pkt)) {
			struct sonde_ctfw_packet_info info =
				packet_info(t, cpu, &pkt);

			rc = stream_write(dir, t->channel, cpu, &s, pkt.data,
					  &info, err);
			sonde_rb_put(reader, cpu);
		}
		if (s.fd >= 0)
			close(s.fd);
		if (s.index_fd >= 0)
			close(s.index_fd);
	}
	if (w && sonde_ctfw_writer_close(w, rc ? NULL : err) && !rc)
		rc = err ? err->status : SONDE_EIO;
	sonde_rb_reader_free(reader);
	return rc;
}

int sonde_ust_trace_finish(struct sonde_ust_trace *t, bool writers_dead,
			   struct sonde_ust_stats *stats,
			   struct sonde_error *err)
{
	uint32_t cpu;
	int rc = 0;

	for (cpu = 0; cpu < t->rb->ncpu; cpu++) {
		if (writers_dead)
			sonde_rb_salvage(t->reader, cpu);
		else
			sonde_rb_flush(t->rb, cpu);
	}
	if (t->snapshot) {
		/* The packets stay for the snapshots; the last one is
		 * closed so that a snapshot after the stop holds it. */
		if (stats)
			*stats = t->stats;
		return 0;
	}
	rc = sonde_ust_trace_consume(t, err);
	if (rc < 0)
		goto out;
	rc = 0;
	/* The buffers' and the reader's counts run over the whole trace,
	 * restarts included: totals, not increments. */
	t->stats.events_discarded = 0;
	t->stats.packets_lost = t->packets_unwritten;
	for (cpu = 0; cpu < t->rb->ncpu; cpu++) {
		uint64_t d = sonde_rb_discarded(t->rb, cpu);
		struct sonde_rb_reader_stats st;

		t->stats.events_discarded += d;
		sonde_rb_reader_stats(t->reader, cpu, &st);
		t->stats.packets_lost += st.packets_lost + st.packets_corrupt;
		if (d > t->streams[cpu].reported_discarded && !rc)
			rc = report_discards(t, cpu, d, err);
	}
	if (!rc)
		rc = flush_metadata(t, err);
out:
	if (stats)
		*stats = t->stats;
	return rc;
}

/* At a switch timer tick, after the flush and the drain: a beacon for each
 * CPU that sent nothing since the previous tick and has nothing pending. */
static void send_beacons(struct sonde_ust_trace *t)
{
	uint32_t cpu;
	int empty = 0;

	for (cpu = 0; t->hook.idle && cpu < t->rb->ncpu; cpu++) {
		uint64_t ts;

		if (t->streams[cpu].sent) {
			t->streams[cpu].sent = false;
			continue;
		}
		/* lttng-relayd 2.13 ignores the beacons of a stream that
		 * never sent a packet, and its viewers then wait for it:
		 * the first one is an empty packet (in the local trace too,
		 * so that both copies stay the same). */
		if (!t->streams[cpu].any) {
			empty += sonde_rb_empty_packet(t->rb, cpu);
			continue;
		}
		ts = sonde_rb_reader_idle(t->reader, cpu);
		if (ts)
			t->hook.idle(t->hook.arg, cpu, ts);
	}
	if (empty)
		sonde_ust_trace_consume(t, NULL);
}

struct sonde_ust_consumer {
	struct sonde_ust_trace *trace;
	pthread_t thread;
	int stop; /* atomic */
	uint64_t read_timer_ns, switch_timer_ns;
	int error;
	struct sonde_error err;
};

#define CLOCK_UPDATE_NS 1000000000ull

static void *consumer_main(void *arg)
{
	struct sonde_ust_consumer *c = arg;
	struct sonde_rb *rb = c->trace->rb;
	uint64_t now = sonde_clock_gettime_ns();
	uint64_t next_switch = c->switch_timer_ns ? now + c->switch_timer_ns : 0;
	uint64_t next_clock = now + CLOCK_UPDATE_NS;
	uint32_t seq = 0;
	bool tick;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		uint64_t wait = c->read_timer_ns;

		now = sonde_clock_gettime_ns();
		if (next_switch && next_switch > now && next_switch - now < wait)
			wait = next_switch - now;
		sonde_rb_wait(rb, &seq, wait);
		now = sonde_clock_gettime_ns();
		tick = next_switch && now >= next_switch;
		if (tick) {
			sonde_ust_trace_flush(c->trace);
			next_switch = now + c->switch_timer_ns;
		}
		if (now >= next_clock) {
			sonde_rb_clock_update(rb);
			next_clock = now + CLOCK_UPDATE_NS;
		}
		if (sonde_ust_trace_consume(c->trace, &c->err) < 0 && !c->error)
			c->error = c->err.status;
		else if (tick)
			send_beacons(c->trace);
	}
	return NULL;
}

int sonde_ust_consumer_start(struct sonde_ust_trace *t, uint64_t read_timer_ns,
			     uint64_t switch_timer_ns,
			     struct sonde_ust_consumer **out,
			     struct sonde_error *err)
{
	struct sonde_ust_consumer *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
	c->trace = t;
	c->read_timer_ns = read_timer_ns ? read_timer_ns : 200000000u;
	c->switch_timer_ns = switch_timer_ns;
	rc = pthread_create(&c->thread, NULL, consumer_main, c);
	if (rc) {
		free(c);
		return sonde_error_set(err, SONDE_EIO, "ust: consumer thread: %s",
				       strerror(rc));
	}
	*out = c;
	return 0;
}

int sonde_ust_consumer_stop(struct sonde_ust_consumer *c,
			    struct sonde_error *err)
{
	int rc;

	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
	sonde_rb_wake_consumer(c->trace->rb);
	pthread_join(c->thread, NULL);
	rc = c->error;
	if (rc && err)
		*err = c->err;
	free(c);
	return rc;
}

void sonde_ust_trace_free(struct sonde_ust_trace *t)
{
	uint32_t i;

	if (!t)
		return;
	if (t->rb)
		for (i = 0; i < t->rb->ncpu; i++) {
			if (t->streams[i].fd >= 0)
				close(t->streams[i].fd);
			if (t->streams[i].index_fd >= 0)
				close(t->streams[i].index_fd);
		}
	sonde_rb_reader_free(t->reader);
	if (t->remote_writers)
		sonde_rb_unmap(t->rb);
	else
		sonde_rb_retire(t->rb);
	if (t->w)
		sonde_ctfw_writer_close(t->w, NULL);
	sonde_ctfw_trace_class_free(t->tc);
	for (i = 0; i < t->name_count; i++)
		free(t->names[i]);
	free(t->names);
	free(t->dir);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
