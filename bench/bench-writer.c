/*
 * Cost of writing events with the CTF writer: the in-place encoders alone
 * (what a tracer's hot path pays: header + a sched_switch-sized payload
 * into packet memory) and the file writer (packet switching, write(2) to
 * SONDE_BENCH_DIR, default /tmp).  SONDE_BENCH_ITERS sets the number of
 * events (default 20 million for the encoders, a tenth of it for files).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sonde/ctf-writer.h"
#include "ctf/writer/lttng-kernel.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Task names as the kernel holds them: fixed 16-byte arrays, copied whole
 * (ctf_array_text copies the array, NULs included). */
static const char prev_comm[16] = "swapper/0";
static const char next_comm[16] = "kworker/u16:2";

/* Field by field, each write checked against the packet end. */
static void put_sched_switch(struct sonde_ctfw_cursor *c, uint64_t i)
{
	sonde_ctfw_put_bytes(c, prev_comm, 16);
	sonde_ctfw_put_u32(c, (uint32_t)i);
	sonde_ctfw_put_u32(c, 20);
	sonde_ctfw_put_u64(c, 0);
	sonde_ctfw_put_bytes(c, next_comm, 16);
	sonde_ctfw_put_u32(c, (uint32_t)i + 1);
	sonde_ctfw_put_u32(c, 20);
}

/* One reservation for the whole payload, then unchecked stores: what a
 * ring-buffer tracer does after reserving the event's slot. */
static void store_sched_switch(struct sonde_ctfw_cursor *c, uint64_t i)
{
	uint8_t *p = sonde_ctfw_reserve(c, 56);
	unsigned int bo = c->byte_order;

	if (!p)
		return;
	memcpy(p, prev_comm, 16);
	sonde_ctfw_store_u32(p + 16, (uint32_t)i, bo);
	sonde_ctfw_store_u32(p + 20, 20, bo);
	sonde_ctfw_store_u64(p + 24, 0, bo);
	memcpy(p + 32, next_comm, 16);
	sonde_ctfw_store_u32(p + 48, (uint32_t)i + 1, bo);
	sonde_ctfw_store_u32(p + 52, 20, bo);
}

/* Encoders only: packets are "switched" by resetting the cursor, as a
 * ring buffer would hand over the next sub-buffer. */
static double bench_encode(uint64_t iters, enum sonde_ctf_byte_order bo,
			   bool reserve_once, uint64_t *sink)
{
	enum { PACKET = 256 * 1024, EVENT_MAX = 128 };
	static uint8_t packet[PACKET];
	const uint8_t uuid[16] = { 1 };
	struct sonde_ctfw_packet_info info = { .timestamp_begin = 1 };
	struct sonde_ctfw_cursor c;
	uint64_t start, i, last_ts = 0, ts = 1000;

	sonde_ctfw_cursor_init(&c, packet, sizeof(packet), bo);
	sonde_ctfw_packet_begin(&c, uuid, &info);
	start = now_ns();
	for (i = 0; i < iters; i++) {
		ts += 100 + (i & 511);
		if (c.limit - c.pos < EVENT_MAX) {
			*sink += c.pos;
			sonde_ctfw_packet_begin(&c, uuid, &info);
			last_ts = ts;
		}
		sonde_ctfw_put_event_header(&c, SONDE_CTFW_HEADER_COMPACT,
					    (uint32_t)(i & 15), ts, &last_ts);
		if (reserve_once)
			store_sched_switch(&c, i);
		else
			put_sched_switch(&c, i);
	}
	*sink += c.pos + packet[100];
	return (double)(now_ns() - start) / (double)iters;
}

static double bench_file(uint64_t iters, const char *base)
{
	const struct sonde_lttng_kernel_event *sched_switch =
		sonde_lttng_kernel_event("sched_switch");
	struct sonde_ctfw_trace_opts topts = { .byte_order = SONDE_CTF_LE };
	struct sonde_ctfw_stream_opts sopts = { .packet_size = 1024 * 1024 };
	struct sonde_ctfw_trace_class *tc = NULL;
	struct sonde_ctfw_writer *w = NULL;
	struct sonde_ctfw_stream *s = NULL;
	struct sonde_ctfw_cursor *c;
	struct sonde_error err = { 0 };
	char dir[4096], path[4200];
	uint64_t start = 0, i, ts = 1000;
	double per_event = -1;
	int rc;

	snprintf(dir, sizeof(dir), "%s/sonde-bench-writer-%d", base,
		 (int)getpid());
	rc = sonde_ctfw_trace_class_create(&topts, &tc, &err);
	rc = rc ? rc
		: sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_COMPACT,
					      NULL, 0, NULL, &err);
	rc = rc ? rc
		: sonde_ctfw_event_class_add(tc, 0, "sched_switch", -1,
					     sched_switch->fields,
					     sched_switch->field_count, NULL,
					     &err);
	rc = rc ? rc : sonde_ctfw_writer_open(dir, tc, NULL, &w, &err);
	rc = rc ? rc : sonde_ctfw_stream_open(w, &sopts, &s, &err);
	if (!rc)
		start = now_ns();
	for (i = 0; !rc && i < iters; i++) {
		ts += 100 + (i & 511);
		rc = sonde_ctfw_stream_event_begin(s, 0, ts, &c, &err);
		if (rc)
			break;
		put_sched_switch(c, i);
		rc = sonde_ctfw_stream_event_commit(s, &err);
	}
	if (s) {
		int rc2 =
			sonde_ctfw_stream_close(s, ts, NULL, rc ? NULL : &err);

		rc = rc ? rc : rc2;
	}
	if (!rc)
		per_event = (double)(now_ns() - start) / (double)iters;
	if (w) {
		int rc2 = sonde_ctfw_writer_close(w, rc ? NULL : &err);

		rc = rc ? rc : rc2;
	}
	sonde_ctfw_trace_class_free(tc);
	if (rc)
		fprintf(stderr, "bench-writer: %s\n", err.msg);
	snprintf(path, sizeof(path), "%s/channel0_0", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index/channel0_0.idx", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/metadata", dir);
	unlink(path);
	rmdir(dir);
	return per_event;
}

int main(void)
{
	const char *env = getenv("SONDE_BENCH_ITERS");
	const char *dir = getenv("SONDE_BENCH_DIR");
	uint64_t iters = env ? strtoull(env, NULL, 10) : 20000000;
	uint64_t sink = 0;
	double file;

	if (!iters)
		iters = 1;
	printf("encode sched_switch, field by field (LE, 60 bytes): %.2f ns/event\n",
	       bench_encode(iters, SONDE_CTF_LE, false, &sink));
	printf("encode sched_switch, field by field (BE, 60 bytes): %.2f ns/event\n",
	       bench_encode(iters, SONDE_CTF_BE, false, &sink));
	printf("encode sched_switch, one reservation (LE, 60 bytes): %.2f ns/event\n",
	       bench_encode(iters, SONDE_CTF_LE, true, &sink));
	printf("encode sched_switch, one reservation (BE, 60 bytes): %.2f ns/event\n",
	       bench_encode(iters, SONDE_CTF_BE, true, &sink));
	file = bench_file(iters / 10 ? iters / 10 : 1, dir ? dir : "/tmp");
	if (file < 0)
		return 1;
	printf("file writer sched_switch: %.2f ns/event\n", file);
	/* Keeps the encoding loop from being optimised away. */
	fprintf(stderr, "(checksum %" PRIu64 ")\n", sink);
	return 0;
}
