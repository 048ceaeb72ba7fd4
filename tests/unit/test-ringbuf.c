/* libsonde-ringbuf: packets, discard and overwrite modes, flushes, a
 * killed writer, malformed shared memory. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers/tap.h"
#include "ringbuf-walk.h"

#define SBS 4096u
#define NSB 4u
#define PAYLOAD 100u

static struct sonde_rb *make(enum sonde_rb_mode mode, bool no_tsc)
{
	static const uint8_t uuid[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
					  9, 10, 11, 12, 13, 14, 15, 16 };
	struct sonde_rb_config cfg = {
		.ncpu = 2, .subbuf_size = SBS, .num_subbuf = NSB,
		.mode = mode, .uuid = uuid, .stream_id = 0, .no_tsc = no_tsc,
	};
	struct sonde_error err = { 0 };
	struct sonde_rb *rb = NULL;

	if (sonde_rb_create(NULL, &cfg, &rb, NULL, &err)) {
		printf("# %s\n", err.msg);
		exit(1);
	}
	return rb;
}

struct seqcheck {
	uint32_t next;
	uint32_t gaps;
};

static void check_seq(void *arg, uint32_t writer, uint32_t seq)
{
	struct seqcheck *c = arg;

	(void)writer;
	if (seq != c->next)
		c->gaps++;
	c->next = seq + 1;
}

/* Reads every ready packet of `cpu` into `w`; returns packets read. */
static unsigned int drain(struct sonde_rb_reader *r, unsigned int cpu,
			  struct walk_state *w, uint64_t *seqs, unsigned int max)
{
	struct sonde_rb_packet pkt;
	unsigned int n = 0;

	while (sonde_rb_get(r, cpu, &pkt)) {
		if (n < max && seqs)
			seqs[n] = pkt.seq;
		n++;
		walk_packet(w, &pkt);
		sonde_rb_put(r, cpu);
	}
	return n;
}

static void test_discard(bool no_tsc)
{
	struct sonde_rb *rb = make(SONDE_RB_DISCARD, no_tsc);
	struct sonde_rb_reader *r = NULL;
	struct seqcheck sc = { 0 };
	struct walk_state w = { .payload = PAYLOAD, .on_event = check_seq,
				.arg = &sc };
	struct sonde_rb_packet pkt;
	uint32_t per_packet = (SBS - 84) / (6 + PAYLOAD), i, written = 0;
	uint64_t seqs[8];

	ok(sonde_rb_reader_create(rb, &r, NULL) == 0, "reader");
	ok(sonde_rb_get(r, 0, &pkt) == 0, "empty buffer: no packet");
	for (i = 0; i < 10000; i++)
		if (write_event(rb, 0, PAYLOAD, 0, i) == 0)
			written++;
		else
			break;
	is_int(written, NSB * per_packet, "a full buffer holds N packets of events");
	is_int(sonde_rb_discarded(rb, 0), 1, "the event that did not fit is counted");
	for (i = 1; i < 5; i++)
		write_event(rb, 0, PAYLOAD, 0, written + i);
	is_int(sonde_rb_discarded(rb, 0), 5, "every refused event is counted");
	is_int(drain(r, 0, &w, seqs, 8), NSB - 1,
	       "complete packets are readable, the open one is not");
	is_int(seqs[0], 0, "first packet_seq_num 0");
	is_int(seqs[2], 2, "third packet_seq_num 2");
	is_int(w.events, (NSB - 1) * per_packet, "every event of them");
	is_int(sc.gaps, 0, "in order, none missing");
	/* Room again: the next event closes the open packet, which reports
	 * the discards. */
	ok(write_event(rb, 0, PAYLOAD, 0, 1000000) == 0, "writes resume");
	ok(sonde_rb_get(r, 0, &pkt) == 1, "the closed packet is readable");
	is_int(pkt.events_discarded, 5, "it reports events_discarded = 5");
	is_int(pkt.packet_size, SBS, "a full packet keeps the sub-buffer size");
	ok(pkt.content_size > SBS - 6 - PAYLOAD && pkt.content_size <= SBS,
	   "content ends where the next event did not fit");
	sonde_rb_put(r, 0);
	ok(sonde_rb_get(r, 0, &pkt) == 0, "nothing more before a flush");
	is_int(sonde_rb_flush(rb, 0), 1, "flush closes the partial packet");
	is_int(sonde_rb_flush(rb, 0), 0, "a second flush has nothing to close");
	ok(sonde_rb_get(r, 0, &pkt) == 1, "the flushed packet is readable");
	is_int(pkt.content_size, 84 + 6 + PAYLOAD, "holding the one event");
	is_int(pkt.packet_size, 4096, "page-rounded");
	is_int(pkt.seq, NSB, "seq continues");
	ok(pkt.ts_end >= pkt.ts_begin, "timestamp_end >= timestamp_begin");
	sonde_rb_put(r, 0);
	ok(sonde_rb_get(r, 1, &pkt) == 0, "CPU 1 untouched");
	ok(w.bad == 0, "framing and timestamps are consistent");
	{
		struct sonde_rb_slot slot;

		ok(sonde_rb_reserve(rb, 1, 0, SBS, &slot) == -1,
		   "an event larger than a packet is discarded");
		is_int(sonde_rb_discarded(rb, 1), 1, "and counted");
	}
	sonde_rb_reader_free(r);
	sonde_rb_unmap(rb);
}

static void test_overwrite(void)
{
	struct sonde_rb *rb = make(SONDE_RB_OVERWRITE, false);
	struct sonde_rb_reader *r = NULL;
	struct seqcheck sc = { 0 };
	struct walk_state w = { .payload = PAYLOAD, .on_event = check_seq,
				.arg = &sc };
	struct sonde_rb_reader_stats st;
	uint32_t per_packet = (SBS - 84) / (6 + PAYLOAD), i, n = 0;
	uint64_t seqs[8];

	sonde_rb_reader_create(rb, &r, NULL);
	for (i = 0; i < 20 * per_packet + 7; i++)
		n += write_event(rb, 0, PAYLOAD, 0, i) == 0;
	is_int(n, 20 * per_packet + 7, "overwrite mode never refuses events");
	is_int(sonde_rb_discarded(rb, 0), 0, "nothing discarded");
	sonde_rb_flush(rb, 0);
	sc.next = 20 * per_packet + 7 - (NSB - 1) * per_packet - 7;
	is_int(drain(r, 0, &w, seqs, 8), NSB - 1 + 1,
	       "the newest packets are read (N - 1 full + the flushed one)");
	is_int(seqs[0], 20 - (NSB - 1), "the oldest kept is lap-old");
	is_int(sc.gaps, 0, "the newest events, contiguous, up to the last one");
	is_int(sc.next, 20 * per_packet + 7, "ends with the last event written");
	sonde_rb_reader_stats(r, 0, &st);
	is_int(st.packets_lost, 20 - (NSB - 1), "overwritten packets counted as lost");
	ok(w.bad == 0, "framing and timestamps are consistent");
	sonde_rb_reader_free(r);
	sonde_rb_unmap(rb);
}

/* A writer killed in the middle of an event: what it committed before is
 * readable, the half-written event is not delivered. */
static void test_killed_writer(void)
{
	struct sonde_rb *rb = make(SONDE_RB_DISCARD, false);
	struct sonde_rb_reader *r = NULL;
	struct seqcheck sc = { 0 };
	struct walk_state w = { .payload = PAYLOAD, .on_event = check_seq,
				.arg = &sc };
	int pipefd[2], status;
	uint32_t done = 0;
	pid_t pid;

	sonde_rb_reader_create(rb, &r, NULL);
	if (pipe(pipefd))
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct sonde_rb_slot slot;
		uint32_t i;

		for (i = 0; i < 50; i++)
			write_event(rb, 0, PAYLOAD, 0, i);
		/* Reserved, half written, never committed. */
		sonde_rb_reserve(rb, 0, 0, PAYLOAD, &slot);
		memset(slot.payload, 0xee, PAYLOAD / 2);
		if (write(pipefd[1], &i, 4) != 4)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(pipefd[0], &done, 4) != 4)
		done = 0;
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status), "writer killed");
	sonde_rb_salvage(r, 0);
	drain(r, 0, &w, NULL, 0);
	is_int(w.events, done, "every committed event is read back");
	is_int(sc.gaps, 0, "in order");
	ok(w.bad == 0, "the uncommitted event is not delivered");
	close(pipefd[0]);
	close(pipefd[1]);
	sonde_rb_reader_free(r);
	sonde_rb_unmap(rb);
}

/* Garbage written over the control blocks and packets by a hostile or
 * broken writer: the consumer neither crashes nor loops. */
static void test_garbage(void)
{
	unsigned int round;

	srand(42);
	for (round = 0; round < 200; round++) {
		struct sonde_rb *rb = make(round & 1 ? SONDE_RB_OVERWRITE :
						       SONDE_RB_DISCARD,
					   true);
		struct sonde_rb_reader *r = NULL;
		struct walk_state w = { .payload = 8 };
		struct sonde_rb_packet pkt;
		uint8_t *ctl = (uint8_t *)sonde_rb_ctl(rb, 0);
		size_t i, span = rb->cpu_stride * rb->ncpu;

		sonde_rb_reader_create(rb, &r, NULL);
		for (i = 0; i < 300; i++)
			write_event(rb, i & 1, 8, 0, (uint32_t)i);
		for (i = 0; i < 64; i++)
			ctl[(size_t)rand() % span] = (uint8_t)rand();
		/* plausible counters: packets look complete */
		if (round % 4 == 2)
			for (i = 0; i < NSB; i++)
				sonde_rb_ctl(rb, 0)->commit[i] =
					(uint64_t)rand() % 3 * SBS;
		for (i = 0; i < 2; i++) {
			unsigned int k = 0;

			sonde_rb_flush(rb, (unsigned int)i);
			sonde_rb_salvage(r, (unsigned int)i);
			while (k++ < 64 && sonde_rb_get(r, (unsigned int)i, &pkt)) {
				if (pkt.content_size > pkt.packet_size ||
				    pkt.packet_size > SBS)
					w.bad++;
				sonde_rb_put(r, (unsigned int)i);
			}
		}
		sonde_rb_reader_free(r);
		sonde_rb_unmap(rb);
		if (w.bad) {
			ok(0, "delivered packets have sane sizes");
			return;
		}
	}
	ok(1, "200 rounds of corrupted shared memory: no crash, sane sizes");
}

static void test_map(void)
{
	char path[] = "/dev/shm/sonde-test-rb-XXXXXX";
	struct sonde_rb_config cfg = { .ncpu = 3, .subbuf_size = 8192,
				       .num_subbuf = 2 };
	struct sonde_error err = { 0 };
	struct sonde_rb *a = NULL, *b = NULL;
	struct sonde_rb_reader *r = NULL;
	struct sonde_rb_packet pkt;
	int fd = mkstemp(path);

	close(fd);
	unlink(path);
	ok(sonde_rb_create(path, &cfg, &a, NULL, &err) == 0, "create in /dev/shm");
	ok(sonde_rb_create(path, &cfg, &b, NULL, &err) == SONDE_EIO,
	   "an existing file is refused");
	ok(sonde_rb_map_path(path, &b, &err) == 0, "map it again");
	is_int(b->ncpu, 3, "geometry read back");
	write_event(b, 2, 16, 7, 9);
	sonde_rb_flush(a, 2);
	sonde_rb_reader_create(a, &r, NULL);
	ok(sonde_rb_get(r, 2, &pkt) == 1, "an event written through one mapping is read through the other");
	sonde_rb_reader_free(r);
	sonde_rb_unmap(b);
	if (truncate(path, 4096) == 0)
		ok(sonde_rb_map_path(path, &b, &err) == SONDE_EFORMAT,
		   "a truncated file is refused");
	printf("# %s\n", err.msg);
	cfg.subbuf_size = 5000;
	ok(sonde_rb_create(NULL, &cfg, &b, NULL, &err) == SONDE_EINVAL,
	   "a sub-buffer size that is not a power of two is refused");
	unlink(path);
	sonde_rb_unmap(a);
}

static void test_clock(void)
{
	struct sonde_clock_shared c = { 0 };
	struct sonde_clock_calib cal;
	uint64_t worst = 0;
	int i;

	sonde_clock_init(&c, &cal, true, 10000000);
	printf("# clock mode: %s\n", c.mode == SONDE_CLOCK_TSC ? "tsc" : "clock_gettime");
	for (i = 0; i < 1000; i++) {
		uint64_t a = sonde_clock_gettime_ns();
		uint64_t t = sonde_clock_now(&c);
		uint64_t b = sonde_clock_gettime_ns();
		uint64_t e = t < a ? a - t : t > b ? t - b : 0;

		if (e > worst)
			worst = e;
	}
	printf("# worst distance from CLOCK_MONOTONIC: %llu ns\n",
	       (unsigned long long)worst);
	ok(worst < 20000, "the tracer clock is CLOCK_MONOTONIC (within 20 us after 10 ms of calibration)");
	sonde_clock_update(&c, &cal);
	ok(sonde_clock_now(&c) - sonde_clock_gettime_ns() + 20000 < 40000,
	   "still after an update");
}

/* Live streaming: the beacon time of an idle CPU bounds the next events
 * from below; a CPU that never wrote gets a packet without events. */
static void test_idle(void)
{
	struct sonde_rb *rb = make(SONDE_RB_DISCARD, false);
	struct sonde_rb_reader *r = NULL;
	struct walk_state w = { .payload = PAYLOAD };
	struct sonde_rb_packet pkt;
	struct sonde_rb_slot slot;
	uint64_t t1, t2;

	sonde_rb_reader_create(rb, &r, NULL);
	t1 = sonde_rb_reader_idle(r, 0);
	ok(t1 > 0, "an untouched CPU is idle");
	write_event(rb, 0, PAYLOAD, 0, 0);
	is_int(sonde_rb_reader_idle(r, 0), 0, "not idle with an open packet");
	sonde_rb_flush(rb, 0);
	is_int(sonde_rb_reader_idle(r, 0), 0, "not idle with a packet unread");
	ok(sonde_rb_get(r, 0, &pkt) == 1, "the flushed packet");
	is_int(sonde_rb_reader_idle(r, 0), 0, "not idle while it is held");
	t2 = pkt.ts_end;
	sonde_rb_put(r, 0);
	t1 = sonde_rb_reader_idle(r, 0);
	ok(t1 >= t2, "idle once read, not before the packet's end");
	sonde_rb_reserve(rb, 0, 0, PAYLOAD, &slot);
	ok(slot.ts >= t1, "the next event is not before the beacon");
	sonde_rb_commit(rb, &slot);
	is_int(sonde_rb_empty_packet(rb, 0), 0, "no empty packet over an open one");

	is_int(sonde_rb_empty_packet(rb, 1), 1, "an empty packet on an idle CPU");
	ok(sonde_rb_get(r, 1, &pkt) == 1 &&
		   pkt.content_size == SONDE_RB_PACKET_HEADER_SIZE &&
		   pkt.seq == 0 && pkt.ts_begin == pkt.ts_end,
	   "it is complete, holds only its header, sequence 0");
	walk_packet(&w, &pkt);
	sonde_rb_put(r, 1);
	is_int(w.events, 0, "no event in it");
	ok(w.bad == 0, "and it is well formed");
	write_event(rb, 1, PAYLOAD, 0, 0);
	sonde_rb_flush(rb, 1);
	ok(sonde_rb_get(r, 1, &pkt) == 1 && pkt.seq == 1,
	   "the next packet follows it");
	sonde_rb_put(r, 1);
	sonde_rb_reader_free(r);
	sonde_rb_unmap(rb);
}

int main(void)
{
	test_idle();
	test_discard(true);
	test_discard(false);
	test_overwrite();
	test_killed_writer();
	test_garbage();
	test_map();
	test_clock();
	return tap_done();
}
