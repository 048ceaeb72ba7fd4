/*
 * Kernel session output -> relay (relay-output.h).  Hook calls come from
 * the per-CPU consumer threads and the daemon's thread: one lock around
 * the producer, which is not thread-safe.
 */
#include "session/relay-output.h"
#include "producer/producer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stream handles of CPUs above this are refused (more than any machine
 * the ftrace backend runs on). */
#define RELAY_OUTPUT_CPUS_MAX 4096

struct relay_output {
	pthread_mutex_t lock;
	struct sonde_producer *p;
	struct sonde_kernel_output_hook hook;
	bool has_metadata;
	uint64_t metadata;
	uint64_t *cpus;          /* handle + 1 per CPU; 0: not announced */
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

static int cpu_stream(struct relay_output *r, uint32_t cpu, uint64_t *handle,
		      struct sonde_error *err)
{
	char name[32];
	int ret;

	if (cpu >= RELAY_OUTPUT_CPUS_MAX)
		return sonde_error_set(err, SONDE_EINVAL, "CPU %u", cpu);
	if (r->cpus[cpu]) {
		*handle = r->cpus[cpu] - 1;
		return 0;
	}
	/* The kernel writes channel0_N (N: the stream number, past the CPUs
	 * for the eBPF streams); the relay's copy has the same name. */
	snprintf(name, sizeof(name), "channel0_%u", cpu);
	ret = sonde_producer_add_stream(r->p, "kernel", name, handle, err);
	if (!ret)
		ret = sonde_producer_streams_sent(r->p, err);
	if (!ret)
		r->cpus[cpu] = *handle + 1;
	return ret;
}

static void on_metadata(void *arg, const uint8_t *bytes, size_t len)
{
	struct relay_output *r = arg;
	struct sonde_error err = { 0 };
	int ret = 0;

	pthread_mutex_lock(&r->lock);
	if (!r->failed && !r->has_metadata) {
		ret = sonde_producer_add_stream(r->p, "kernel", "metadata",
						&r->metadata, &err);
		if (!ret)
			ret = sonde_producer_streams_sent(r->p, &err);
		r->has_metadata = !ret;
	}
	if (!r->failed && !ret)
		ret = sonde_producer_send_metadata(r->p, r->metadata, bytes, len,
						   &err);
	if (ret)
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void on_packet(void *arg, uint32_t cpu, const uint8_t *data,
		      const struct sonde_kernel_packet *kp)
{
	struct relay_output *r = arg;
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
	struct sonde_error err = { 0 };
	uint64_t handle;

	pthread_mutex_lock(&r->lock);
	if (!r->failed &&
	    (cpu_stream(r, cpu, &handle, &err) ||
	     sonde_producer_send_packet(r->p, handle, data, &pkt, &err)))
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

static void on_idle(void *arg, uint32_t cpu, uint64_t timestamp)
{
	struct relay_output *r = arg;
	struct sonde_error err = { 0 };
	uint64_t handle;

	pthread_mutex_lock(&r->lock);
	/* The kernel trace has one stream class, id 0. */
	if (!r->failed &&
	    (cpu_stream(r, cpu, &handle, &err) ||
	     sonde_producer_send_beacon(r->p, handle, timestamp, 0, &err)))
		fail(r, &err);
	pthread_mutex_unlock(&r->lock);
}

int relay_output_open(const struct relay_output_config *cfg,
		      struct relay_output **out, struct sonde_error *err)
{
	struct relay_output *r = calloc(1, sizeof(*r));
	struct sonde_producer_opts o = {
		.relay = cfg->relay,
		.control_port = cfg->control_port,
		.data_port = cfg->data_port,
		.session_name = cfg->session_name,
		.live_timer_us = cfg->live_timer_us,
		.creation_time = (uint64_t)cfg->created,
	};
	int ret;

	if (!r || !(r->cpus = calloc(RELAY_OUTPUT_CPUS_MAX, sizeof(*r->cpus)))) {
		free(r);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	ret = sonde_producer_open(&o, &r->p, err);
	if (ret) {
		free(r->cpus);
		free(r);
		return ret;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->hook.metadata = on_metadata;
	r->hook.packet = on_packet;
	r->hook.idle = on_idle;
	r->hook.arg = r;
	*out = r;
	return 0;
}

const struct sonde_kernel_output_hook *relay_output_hook(struct relay_output *r)
{
	return &r->hook;
}

int relay_output_close(struct relay_output *r, struct sonde_error *err)
{
	int ret = 0;

	if (!r)
		return 0;
	if (r->failed)
		ret = sonde_error_set(err, r->first_error.status ?
				      r->first_error.status : SONDE_EIO,
				      "streaming stopped: %s", r->first_error.msg);
	else
		ret = sonde_producer_close(r->p, err);
	sonde_producer_free(r->p);
	pthread_mutex_destroy(&r->lock);
	free(r->cpus);
	free(r);
	return ret;
}
