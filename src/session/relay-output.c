/*
 * A session's domain -> relay (relay-output.h).  Hook calls come from the
 * consumer threads and the daemon's thread: one lock around the
 * producer, which is not thread-safe.
 */
#include "session/relay-output.h"
#include "producer/producer.h"
#include "session/snapshot-send.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Stream handles of CPUs above this are refused (more than any machine
 * the backends run on). */
#define RELAY_OUTPUT_CPUS_MAX 4096
/* A failed connection is every waiting request's answer; requests that
 * come this long after it connect anew. */
#define RELAY_OUTPUT_RETRY_S 1

/* One trace of the domain: a directory with its metadata and streams. */
struct relay_trace {
	struct relay_output *r;
	char path[256];
	char channel[64];
	bool has_metadata;
	uint64_t metadata;
	uint64_t stream_class; /* of its packets; beacons carry it */
	uint64_t *cpus;	       /* handle + 1 per CPU; 0: not announced */
	struct sonde_ust_output_hook ust_hook;
	struct relay_trace *next;
};

struct relay_output {
	pthread_mutex_t lock;
	struct sonde_producer *p;
	/* relay_output_start(): the connecting thread's state. */
	struct sonde_producer_opts opts;
	char *relay, *session_name;
	int notify_fd;
	bool connecting, abandoned;
	int connect_status;
	struct sonde_error connect_err;
	struct timespec done_at; /* CLOCK_MONOTONIC */
	struct sonde_kernel_output_hook hook;
	struct relay_trace *kernel;
	struct relay_trace *traces;
	struct sonde_error first_error;
	bool failed;
};

/* Called with the lock held: keeps the first error, stops streaming. */
static void fail(struct relay_output *r, const struct sonde_error *err)
{
	if (r->failed)
		return;
	r->failed = true;
	r->first_error = *err;
}

static struct relay_trace *trace_new(struct relay_output *r, const char *path,
				     const char *channel,
				     struct sonde_error *err)
{
	struct relay_trace *tr = calloc(1, sizeof(*tr));

	if (tr)
		tr->cpus = calloc(RELAY_OUTPUT_CPUS_MAX, sizeof(*tr->cpus));
	if (!tr || !tr->cpus) {
		free(tr);
		sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		return NULL;
	}
	if ((size_t)snprintf(tr->path, sizeof(tr->path), "%s", path) >=
		    sizeof(tr->path) ||
	    (size_t)snprintf(tr->channel, sizeof(tr->channel), "%s", channel) >=
		    sizeof(tr->channel)) {
		free(tr->cpus);
		free(tr);
		sonde_error_set(err, SONDE_EINVAL,
				"relay stream path %s/%s too long", path,
				channel);
		return NULL;
	}
	tr->r = r;
	pthread_mutex_lock(&r->lock);
	tr->next = r->traces;
	r->traces = tr;
	pthread_mutex_unlock(&r->lock);
	return tr;
}

/* Adds the stream of a CPU if new; the caller sends STREAMS_SENT. */
static int add_cpu_stream(struct relay_trace *tr, uint32_t cpu,
			  uint64_t *handle, bool *added, struct sonde_error *err)
{
	char name[96];
	int ret;

	*added = false;
	if (cpu >= RELAY_OUTPUT_CPUS_MAX)
		return sonde_error_set(err, SONDE_EINVAL, "CPU %u", cpu);
	if (tr->cpus[cpu]) {
		*handle = tr->cpus[cpu] - 1;
		return 0;
	}
	/* The local stream file's name: <channel>_N (N: the CPU, or past
	 * the CPUs for the kernel's eBPF streams). */
	snprintf(name, sizeof(name), "%s_%u", tr->channel, cpu);
	ret = sonde_producer_add_stream(tr->r->p, tr->path, name, handle, err);
	if (!ret)
		tr->cpus[cpu] = *handle + 1;
	*added = !ret;
	return ret;
}

static int cpu_stream(struct relay_trace *tr, uint32_t cpu, uint64_t *handle,
		      struct sonde_error *err)
{
	bool added;
	int ret = add_cpu_stream(tr, cpu, handle, &added, err);

	if (!ret && added)
		ret = sonde_producer_streams_sent(tr->r->p, err);
	return ret;
}

/*
 * A live user-space trace's streams, announced together before its
 * metadata as LTTng's consumer does when a program registers:
 * babeltrace2 2.0 drops a trace it sees with no data stream, and then
 * spins on the data streams that come later.  (Not without live: a
 * stream that never gets a packet would keep the final data pending
 * waiting; live streams get an empty first packet at the first tick.)
 */
static void trace_streams(void *arg, uint32_t ncpu)
{
	struct relay_trace *tr = arg;
	struct relay_output *r = tr->r;
	struct sonde_error err = { 0 };
	uint64_t handle;
	bool added;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!r->failed && !tr->has_metadata) {
		ret = sonde_producer_add_stream(r->p, tr->path, "metadata",
						&tr->metadata, &err);
		tr->has_metadata = !ret;
	}
	for (uint32_t cpu = 0; r->opts.live_timer_us && !r->failed && !ret &&
			       cpu < ncpu; cpu++)
		ret = add_cpu_stream(tr, cpu, &handle, &added, &err);
	if (!r->failed && !ret)
		ret = sonde_producer_streams_sent(r->p, &err);
	if (ret)
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void trace_metadata(void *arg, const uint8_t *bytes, size_t len)
{
	struct relay_trace *tr = arg;
	struct relay_output *r = tr->r;
	struct sonde_error err = { 0 };
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!r->failed && !tr->has_metadata) {
		ret = sonde_producer_add_stream(r->p, tr->path, "metadata",
						&tr->metadata, &err);
		if (!ret)
			ret = sonde_producer_streams_sent(r->p, &err);
		tr->has_metadata = !ret;
	}
	if (!r->failed && !ret)
		ret = sonde_producer_send_metadata(r->p, tr->metadata, bytes,
						   len, &err);
	if (ret)
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void trace_packet(struct relay_trace *tr, uint32_t cpu,
			 const uint8_t *data,
			 const struct sonde_producer_packet *pkt)
{
	struct relay_output *r = tr->r;
	struct sonde_error err = { 0 };
	uint64_t handle;

	pthread_mutex_lock(&r->lock);
	tr->stream_class = pkt->stream_class_id;
	if (!r->failed &&
	    (cpu_stream(tr, cpu, &handle, &err) ||
	     sonde_producer_send_packet(r->p, handle, data, pkt, &err)))
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void trace_idle(void *arg, uint32_t cpu, uint64_t timestamp)
{
	struct relay_trace *tr = arg;
	struct relay_output *r = tr->r;
	struct sonde_error err = { 0 };
	uint64_t handle;

	pthread_mutex_lock(&r->lock);
	if (!r->failed && (cpu_stream(tr, cpu, &handle, &err) ||
			   sonde_producer_send_beacon(r->p, handle, timestamp,
						      tr->stream_class, &err)))
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void kernel_packet(void *arg, uint32_t cpu, const uint8_t *data,
			  const struct sonde_kernel_packet *kp)
{
	struct sonde_producer_packet pkt = {
		.packet_size = kp->packet_size,
		.content_size = kp->content_size,
		.timestamp_begin = kp->timestamp_begin,
		.timestamp_end = kp->timestamp_end,
		.events_discarded = kp->events_discarded,
		.stream_class_id = kp->stream_class_id,
		.stream_instance_id = kp->stream_instance_id,
		.packet_seq_num = kp->packet_seq_num,
	};

	trace_packet(arg, cpu, data, &pkt);
}

static void ust_packet(void *arg, uint32_t cpu, const uint8_t *data,
		       const struct sonde_ctfw_packet_info *info)
{
	struct sonde_producer_packet pkt = {
		.packet_size = info->packet_size * 8,
		.content_size = info->content_size * 8,
		.timestamp_begin = info->timestamp_begin,
		.timestamp_end = info->timestamp_end,
		.events_discarded = info->events_discarded,
		.stream_class_id = info->stream_id,
		.stream_instance_id = info->stream_instance_id,
		.packet_seq_num = info->packet_seq_num,
	};

	trace_packet(arg, cpu, data, &pkt);
}

static void output_free(struct relay_output *r)
{
	while (r->traces) {
		struct relay_trace *tr = r->traces;

		r->traces = tr->next;
		free(tr->cpus);
		free(tr);
	}
	sonde_producer_free(r->p);
	pthread_mutex_destroy(&r->lock);
	free(r->relay);
	free(r->session_name);
	free(r);
}

static struct relay_output *output_new(const struct relay_output_config *cfg,
				       struct sonde_error *err)
{
	struct relay_output *r = calloc(1, sizeof(*r));

	if (!r)
		goto nomem;
	pthread_mutex_init(&r->lock, NULL);
	r->notify_fd = -1;
	r->relay = strdup(cfg->relay);
	r->session_name = strdup(cfg->session_name);
	if (!r->relay || !r->session_name) {
		output_free(r);
		goto nomem;
	}
	r->opts.relay = r->relay;
	r->opts.control_port = cfg->control_port;
	r->opts.data_port = cfg->data_port;
	r->opts.session_name = r->session_name;
	r->opts.live_timer_us = cfg->live_timer_us;
	r->opts.creation_time = (uint64_t)cfg->created;
	r->opts.snapshot = cfg->snapshot;
	return r;
nomem:
	sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	return NULL;
}

int relay_output_open(const struct relay_output_config *cfg,
		      struct relay_output **out, struct sonde_error *err)
{
	struct relay_output *r = output_new(cfg, err);
	int ret;

	if (!r)
		return SONDE_ENOMEM;
	ret = sonde_producer_open(&r->opts, &r->p, err);
	if (ret) {
		output_free(r);
		return ret;
	}
	*out = r;
	return 0;
}

static void *connect_main(void *arg)
{
	struct relay_output *r = arg;
	struct sonde_producer *p = NULL;
	struct sonde_error err = { 0 };
	int ret = sonde_producer_open(&r->opts, &p, &err);
	bool abandoned;
	ssize_t n;
	int fd;

	pthread_mutex_lock(&r->lock);
	r->p = p;
	r->connect_status = ret;
	r->connect_err = err;
	r->connecting = false;
	clock_gettime(CLOCK_MONOTONIC, &r->done_at);
	abandoned = r->abandoned;
	fd = r->notify_fd;
	r->notify_fd = -1;
	pthread_mutex_unlock(&r->lock);
	/* Wakes the daemon's loop, which asks again (a full eventfd has
	 * woken it already). */
	n = write(fd, &(uint64_t){ 1 }, 8);
	(void)n;
	close(fd);
	if (abandoned)
		output_free(r);
	return NULL;
}

int relay_output_start(const struct relay_output_config *cfg, int notify_fd,
		       struct relay_output **out, struct sonde_error *err)
{
	struct relay_output *r = output_new(cfg, err);
	pthread_attr_t attr;
	pthread_t thread;
	int ret;

	if (!r)
		return SONDE_ENOMEM;
	r->notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 0);
	if (r->notify_fd < 0) {
		ret = sonde_error_set(err, SONDE_EIO, "relay: dup: %s",
				      strerror(errno));
		output_free(r);
		return ret;
	}
	r->connecting = true;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(&thread, &attr, connect_main, r);
	pthread_attr_destroy(&attr);
	if (ret) {
		close(r->notify_fd);
		output_free(r);
		return sonde_error_set(err, SONDE_EIO, "relay: thread: %s",
				       strerror(ret));
	}
	*out = r;
	return 0;
}

int relay_output_ready(struct relay_output *r, struct sonde_error *err)
{
	int ret;

	pthread_mutex_lock(&r->lock);
	ret = r->connecting ? RELAY_OUTPUT_PENDING : r->connect_status;
	if (ret < 0 && err)
		*err = r->connect_err;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

bool relay_output_failed_long_ago(struct relay_output *r)
{
	struct timespec now;
	bool old;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&r->lock);
	old = !r->connecting && r->connect_status < 0 &&
	      now.tv_sec - r->done_at.tv_sec >= RELAY_OUTPUT_RETRY_S;
	pthread_mutex_unlock(&r->lock);
	return old;
}

const struct sonde_kernel_output_hook *relay_output_hook(struct relay_output *r)
{
	if (!r->kernel) {
		/* The kernel domain's one trace, made before any hook call. */
		r->kernel = trace_new(r, "kernel", "channel0", NULL);
		if (!r->kernel)
			return NULL;
		r->hook.metadata = trace_metadata;
		r->hook.packet = kernel_packet;
		r->hook.idle = trace_idle;
		r->hook.arg = r->kernel;
	}
	return &r->hook;
}

int relay_output_ust_trace(struct relay_output *r, const char *path,
			   const char *channel,
			   const struct sonde_ust_output_hook **hook,
			   struct sonde_error *err)
{
	struct relay_trace *tr = trace_new(r, path, channel, err);

	if (!tr)
		return err ? err->status : SONDE_ENOMEM;
	tr->ust_hook.streams = trace_streams;
	tr->ust_hook.metadata = trace_metadata;
	tr->ust_hook.packet = ust_packet;
	tr->ust_hook.idle = trace_idle;
	tr->ust_hook.arg = tr;
	*hook = &tr->ust_hook;
	return 0;
}

int relay_output_send_snapshot(struct relay_output *r, uint64_t chunk_id,
			       const char *name, const char *dir,
			       char *relay_path, size_t size,
			       struct sonde_error *err)
{
	int ret;

	if (!r->p || r->failed)
		return sonde_error_set(err, SONDE_EINVAL,
				       "relay %s: not connected", r->relay);
	ret = sonde_producer_snapshot_chunk(r->p, chunk_id, name, err);
	if (!ret)
		ret = snapshot_send_dir(r->p, dir, err);
	if (!ret)
		ret = sonde_producer_close(r->p, err);
	if (!ret)
		snprintf(relay_path, size, "%s", sonde_producer_relay_path(r->p));
	sonde_producer_free(r->p);
	r->p = NULL;
	return ret;
}

int relay_output_ust_trace_end(struct relay_output *r,
			       const struct sonde_ust_output_hook *hook,
			       struct sonde_error *err)
{
	struct relay_trace *tr = hook->arg, **pp;
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	for (pp = &r->traces; *pp; pp = &(*pp)->next)
		if (*pp == tr) {
			*pp = tr->next;
			break;
		}
	/* The data streams first: the metadata they need is all sent. */
	for (uint32_t cpu = 0; !r->failed && r->p && !ret &&
			       cpu < RELAY_OUTPUT_CPUS_MAX; cpu++)
		if (tr->cpus[cpu])
			ret = sonde_producer_close_stream(r->p, tr->cpus[cpu] - 1,
							  err);
	if (!r->failed && r->p && !ret && tr->has_metadata)
		ret = sonde_producer_close_stream(r->p, tr->metadata, err);
	if (ret)
		fail(r, err);
	pthread_mutex_unlock(&r->lock);
	free(tr->cpus);
	free(tr);
	return ret;
}

int relay_output_close(struct relay_output *r, struct sonde_error *err)
{
	int ret = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	if (r->connecting) {
		r->abandoned = true;
		pthread_mutex_unlock(&r->lock);
		return 0;
	}
	pthread_mutex_unlock(&r->lock);
	if (r->failed)
		ret = sonde_error_set(
			err,
			r->first_error.status ? r->first_error.status
					      : SONDE_EIO,
			"streaming stopped: %s", r->first_error.msg);
	else if (r->p)
		ret = sonde_producer_close(r->p, err);
	output_free(r);
	return ret;
}
