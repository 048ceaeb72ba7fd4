/*
 * The kernel consumer's per-event path, without the kernel: synthetic
 * ring-buffer sub-buffers of sched_switch and syscall events (as
 * trace_pipe_raw returns them) walked, mapped to lttng-modules events and
 * encoded into CTF packets kept in memory (the snapshot ring, so no I/O).
 * The eBPF consumer's copy loop (kbpf_consume) alike, on a synthetic 2 MiB
 * buffer of the records a getppid loop makes.
 * Prints events/s and ns/event.  SONDE_BENCH_ITERS: passes (default 200).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "kernel/bpf/kbpf-abi.h"
#include "kernel/bpf/kbpf.h"
#include "kernel/kernel-internal.h"

static const char switch_fmt[] =
	"name: sched_switch\nID: 1\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n";
static const char read_fmt[] =
	"name: sys_enter_read\nID: 2\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:char * buf;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:size_t count;\toffset:32;\tsize:8;\tsigned:0;\n";
static const char exit_fmt[] =
	"name: sys_exit_read\nID: 3\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:long ret;\toffset:16;\tsize:8;\tsigned:1;\n";

#define PAGE 65536u

/* Fills one sub-buffer with events of ids 1, 2, 3 in turn; returns how
 * many. */
static unsigned int fill_page(uint8_t *page, uint64_t ts)
{
	static const uint32_t sizes[4] = { 0, 64, 40, 24 };
	uint32_t off = 0, n = 0;
	uint8_t *d = page + KPAGE_HEADER_SIZE;

	memset(page, 0, PAGE);
	memcpy(page, &ts, 8);
	for (;;) {
		uint16_t id = (uint16_t)(n % 3 + 1);
		uint32_t len = sizes[id], hdr = len / 4 | 700u << 5;
		int32_t pid = 1234, prio = 120;

		if (off + 4 + len > PAGE - KPAGE_HEADER_SIZE)
			break;
		memcpy(d + off, &hdr, 4);
		memcpy(d + off + 4, &id, 2);
		memcpy(d + off + 8, &pid, 4);
		if (id == 1) {
			memcpy(d + off + 12, "kworker/0:1", 11);
			memcpy(d + off + 32, &prio, 4);
			memcpy(d + off + 44, "bash", 4);
			memcpy(d + off + 64, &prio, 4);
		}
		off += 4 + len;
		n++;
	}
	{
		uint64_t commit = off;

		memcpy(page + 8, &commit, 8);
	}
	return n;
}

static double secs_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

#define KBPF_RING (2u << 20)

/*
 * kbpf_consume() over a full ring of getppid entry (no payload) and exit
 * (8-byte ret) records, as kbpf.bpf.c writes them: the consumer's part of
 * the eBPF path without the file writes (sink ring in memory).
 */
static int bench_kbpf(unsigned int iters, struct ksink_opts *o)
{
	struct kbpf_buf *b = calloc(1, sizeof(*b) + KBPF_RING + KBPF_REC_MAX);
	uint64_t lost_seen = 0, events = 0, ts = 1000, per_pass;
	struct ksink *k = NULL;
	struct timespec t0;
	unsigned int i;
	double secs;
	int ret = 1;

	if (!b || ksink_create(o, &k, NULL))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++) {
		per_pass = 0;
		b->head = b->tail;
		while (b->head - b->tail + 24 <= KBPF_RING) {
			uint64_t off = b->head & (KBPF_RING - 1);
			struct kbpf_rec *r = (struct kbpf_rec *)(b->data + off);
			uint32_t len = per_pass & 1 ? 8 : 0;

			if (off + sizeof(*r) + len > KBPF_RING) {
				/* as the programs do: no record wraps */
				if (KBPF_RING - off >= sizeof(*r))
					r->id = KBPF_PAD;
				b->head += KBPF_RING - off;
				continue;
			}
			r->ts = ts++;
			r->id = 1 + (uint32_t)(per_pass & 1);
			r->len = len;
			b->head += sizeof(*r) + len;
			per_pass++;
		}
		kbpf_consume(b, KBPF_RING, k, &lost_seen);
		if (b->tail != b->head)
			goto out;
		events += per_pass;
	}
	secs = secs_since(&t0);
	printf("eBPF consumer copy loop (kbpf_consume, getppid entry/exit "
	       "records, no I/O; filling the ring included): %.1f M "
	       "events/s, %.1f ns/event\n",
	       (double)events / secs / 1e6, secs * 1e9 / (double)events);
	ret = 0;
out:
	ksink_free(k);
	free(b);
	return ret;
}

int main(void)
{
	const char *const fmts[3] = { switch_fmt, read_fmt, exit_fmt };
	const char *const sys[3] = { "sched", "syscalls", "syscalls" };
	struct kmap_event *maps[4] = { 0 };
	uint32_t ids[4] = { 0, 0, 1, 2 };
	const char *it_env = getenv("SONDE_BENCH_ITERS");
	unsigned int iters = it_env ? (unsigned int)atoi(it_env) : 200;
	static uint8_t pages[16][PAGE];
	unsigned int per_page = 0, p, i;
	uint8_t uuid[16] = { 1 };
	struct ksink_opts o = { 0 };
	struct ksink *k;
	struct timespec t0, t1;
	uint64_t events = 0;
	double secs;

	for (i = 0; i < 3; i++) {
		struct kfmt_event ev;

		if (kfmt_parse(fmts[i], strlen(fmts[i]), sys[i], "bench", &ev,
			       NULL) ||
		    kmap_compile(&ev, &maps[ev.id], NULL))
			return 1;
		kfmt_event_release(&ev);
	}
	for (p = 0; p < 16; p++)
		per_page = fill_page(pages[p], 1000000000ull + p * 100000000ull);
	o.uuid = uuid;
	o.bo = SONDE_CTF_LE;
	o.header = SONDE_CTFW_HEADER_COMPACT;
	o.packet_size = 256 * 1024;
	o.stream_fd = o.index_fd = -1;
	o.ring_packets = 8;
	if (ksink_create(&o, &k, NULL))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < iters; i++) {
		for (p = 0; p < 16; p++) {
			struct kpage_iter it;
			struct kpage_event ev;

			/* page timestamps must not go back between passes */
			uint64_t ts = 1000000000ull * (i + 1) + p * 50000000ull;

			memcpy(pages[p], &ts, 8);
			kpage_iter_init(&it, pages[p], PAGE, NULL);
			while (kpage_iter_next(&it, &ev, NULL) == 1) {
				uint16_t type;
				struct sonde_ctfw_cursor *c;

				memcpy(&type, ev.payload, 2);
				c = ksink_event_begin(
					k, ids[type], ev.ts,
					kmap_payload_max(maps[type], ev.len),
					NULL);
				if (!c)
					return 1;
				kmap_encode(maps[type], ev.payload, ev.len, c);
				ksink_event_commit(k, NULL);
				events++;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("kernel consumer path (walk + map + encode, %u events per "
	       "64 KiB sub-buffer, sched_switch/sys_enter_read/sys_exit_read):"
	       " %.1f M events/s, %.1f ns/event\n",
	       per_page, (double)events / secs / 1e6, secs * 1e9 / (double)events);
	ksink_free(k);
	for (i = 1; i < 4; i++)
		kmap_free(maps[i]);
	return bench_kbpf(iters / 10 + 1, &o);
}
