/*
 * libsonde-ringbuf under contention: writer threads (and writer processes)
 * sharing per-CPU buffers with a consumer reading and flushing at the same
 * time.  Accounting must be exact: events read + events discarded ==
 * events attempted, no event twice, framing and timestamps consistent.
 * Also built with -fsanitize=thread (test `ringbuf-stress-tsan`).
 * argv[1]: events per writer (default 200000).
 */
#include <pthread.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../helpers/tap.h"
#include "ringbuf-walk.h"

#define NCPU 2u
#define WRITERS 4u
#define PAYLOAD 24u

static uint32_t events_per_writer = 200000;

struct run {
	struct sonde_rb *rb;
	struct sonde_rb_reader *reader;
	int writers_done; /* atomic */
	uint32_t *last_seq;   /* per writer: last seen + 1 */
	uint64_t unknown_writer;
	unsigned int cur_cpu;
	uint32_t last_writer[NCPU], last_seq_read[NCPU];
	struct walk_state walk[NCPU];
	uint64_t max_reported[NCPU];
};

static void on_event(void *arg, uint32_t writer, uint32_t seq)
{
	struct run *run = arg;

	run->last_writer[run->cur_cpu] = writer;
	run->last_seq_read[run->cur_cpu] = seq;
	if (writer > WRITERS) {
		run->unknown_writer++;
		return;
	}
	/* A writer's events land on both CPU buffers, so they are not read
	 * in order; duplicates show in the totals. */
	if (writer < WRITERS && seq + 1 > run->last_seq[writer])
		run->last_seq[writer] = seq + 1;
}

static void drain_all(struct run *run)
{
	struct sonde_rb_packet pkt;
	unsigned int cpu;

	for (cpu = 0; cpu < NCPU; cpu++)
		while (sonde_rb_get(run->reader, cpu, &pkt)) {
			run->cur_cpu = cpu;
			walk_packet(&run->walk[cpu], &pkt);
			run->max_reported[cpu] = pkt.events_discarded;
			sonde_rb_put(run->reader, cpu);
		}
}

static void *consumer(void *arg)
{
	struct run *run = arg;
	uint32_t seq = 0;
	unsigned int round = 0;

	while (!__atomic_load_n(&run->writers_done, __ATOMIC_ACQUIRE)) {
		sonde_rb_wait(run->rb, &seq, 1000000);
		if (++round % 8 == 0) /* a switch timer */
			for (unsigned int cpu = 0; cpu < NCPU; cpu++)
				sonde_rb_flush(run->rb, cpu);
		drain_all(run);
	}
	return NULL;
}

static void writer_loop(struct sonde_rb *rb, uint32_t id, uint64_t *written)
{
	uint32_t i;

	*written = 0;
	for (i = 0; i < events_per_writer; i++)
		/* Both writers of a CPU buffer and the switches between
		 * buffers contend as migrations and preemption would. */
		if (write_event(rb, (id + i / 64) % NCPU, PAYLOAD, id, i) == 0) {
			(*written)++;
		}
}

struct writer_arg {
	struct sonde_rb *rb;
	uint32_t id;
	uint64_t written;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;

	writer_loop(a->rb, a->id, &a->written);
	return NULL;
}

static void setup(struct run *run, enum sonde_rb_mode mode)
{
	struct sonde_rb_config cfg = { .ncpu = NCPU, .subbuf_size = 16384,
				       .num_subbuf = 4, .mode = mode };
	unsigned int cpu;

	memset(run, 0, sizeof(*run));
	if (sonde_rb_create(NULL, &cfg, &run->rb, NULL, NULL) ||
	    sonde_rb_reader_create(run->rb, &run->reader, NULL))
		exit(1);
	run->last_seq = calloc(WRITERS, sizeof(uint32_t));
	for (cpu = 0; cpu < NCPU; cpu++) {
		run->walk[cpu].payload = PAYLOAD;
		run->walk[cpu].on_event = on_event;
		run->walk[cpu].arg = run;
	}
}

static void finish(struct run *run, const char *what, uint64_t attempted,
		   uint64_t written_by_writers)
{
	uint64_t read = 0, discarded = 0, bad = 0, lost = 0, corrupt = 0;
	char msg[200];
	unsigned int cpu;

	/* Last, a known tail on each buffer (writer id WRITERS), which
	 * overwrite mode must keep. */
	for (cpu = 0; cpu < NCPU; cpu++)
		for (uint32_t i = 0; i < 10; i++) {
			attempted++;
			if (write_event(run->rb, cpu, PAYLOAD, WRITERS, i) == 0)
				written_by_writers++;
		}
	for (cpu = 0; cpu < NCPU; cpu++)
		sonde_rb_flush(run->rb, cpu);
	drain_all(run);
	for (cpu = 0; cpu < NCPU; cpu++) {
		struct sonde_rb_reader_stats st;

		sonde_rb_reader_stats(run->reader, cpu, &st);
		read += run->walk[cpu].events;
		bad += run->walk[cpu].bad;
		discarded += sonde_rb_discarded(run->rb, cpu);
		lost += st.packets_lost;
		corrupt += st.packets_corrupt;
		if (run->max_reported[cpu] > sonde_rb_discarded(run->rb, cpu))
			bad++;
	}
	printf("# walk errors %llu, corrupt %llu\n", (unsigned long long)bad,
	       (unsigned long long)corrupt);
	printf("# %s: attempted %llu, read %llu, discarded %llu, packets lost %llu\n",
	       what, (unsigned long long)attempted, (unsigned long long)read,
	       (unsigned long long)discarded, (unsigned long long)lost);
	if (run->rb->mode == SONDE_RB_DISCARD) {
		snprintf(msg, sizeof(msg),
			 "%s: read + discarded == attempted", what);
		is_int(read + discarded, attempted, msg);
		snprintf(msg, sizeof(msg),
			 "%s: read == what the writers stored", what);
		is_int(read, written_by_writers, msg);
	} else {
		snprintf(msg, sizeof(msg),
			 "%s: overwrite keeps the newest events", what);
		ok(read > 0 && read <= written_by_writers && lost > 0, msg);
		for (cpu = 0; cpu < NCPU; cpu++)
			if (run->last_writer[cpu] != WRITERS ||
			    run->last_seq_read[cpu] != 9)
				bad++;
	}
	snprintf(msg, sizeof(msg),
		 "%s: framing, timestamps, reported discards consistent", what);
	is_int(bad + corrupt + run->unknown_writer, 0, msg);
	sonde_rb_reader_free(run->reader);
	sonde_rb_unmap(run->rb);
	free(run->last_seq);
}

static void stress_threads(enum sonde_rb_mode mode, const char *what)
{
	struct writer_arg args[WRITERS];
	pthread_t th[WRITERS], cons;
	uint64_t written = 0;
	struct run run;
	uint32_t i;

	setup(&run, mode);
	pthread_create(&cons, NULL, consumer, &run);
	for (i = 0; i < WRITERS; i++) {
		args[i] = (struct writer_arg){ .rb = run.rb, .id = i };
		pthread_create(&th[i], NULL, writer_thread, &args[i]);
	}
	for (i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		written += args[i].written;
	}
	__atomic_store_n(&run.writers_done, 1, __ATOMIC_RELEASE);
	pthread_join(cons, NULL);
	finish(&run, what, (uint64_t)WRITERS * events_per_writer, written);
}

#ifndef __SANITIZE_THREAD__
/* ThreadSanitizer does not follow fork() of a threaded process. */
static void stress_processes(void)
{
	uint64_t *written = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t total = 0;
	pthread_t cons;
	struct run run;
	pid_t pids[WRITERS];
	uint32_t i;

	setup(&run, SONDE_RB_DISCARD);
	pthread_create(&cons, NULL, consumer, &run);
	for (i = 0; i < WRITERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			writer_loop(run.rb, i, &written[i]);
			_exit(0);
		}
	}
	for (i = 0; i < WRITERS; i++) {
		waitpid(pids[i], NULL, 0);
		total += written[i];
	}
	__atomic_store_n(&run.writers_done, 1, __ATOMIC_RELEASE);
	pthread_join(cons, NULL);
	finish(&run, "4 processes, discard", (uint64_t)WRITERS * events_per_writer,
	       total);
	munmap(written, 4096);
}
#endif

int main(int argc, char **argv)
{
	if (argc > 1)
		events_per_writer = (uint32_t)strtoul(argv[1], NULL, 10);
	stress_threads(SONDE_RB_DISCARD, "4 threads, discard");
	stress_threads(SONDE_RB_OVERWRITE, "4 threads, overwrite");
#ifndef __SANITIZE_THREAD__
	stress_processes();
#endif
	return tap_done();
}
