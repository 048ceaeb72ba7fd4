/*
 * libsonde-kernel decoding on synthetic input: format files, ring-buffer
 * pages (every record type, loss flags, malformed pages) and the mapping
 * of ftrace payloads to lttng-modules fields.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/kernel-internal.h"
#include "tap.h"

static const char sched_switch_fmt[] =
	"name: sched_switch\n"
	"ID: 372\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
	"\n"
	"print fmt: \"prev_comm=%s\", REC->prev_comm\n";

static const char fork_fmt[] =
	"name: sched_process_fork\n"
	"ID: 366\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;\n"
	"\tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;\n";

static const char openat_fmt[] =
	"name: sys_enter_openat\n"
	"ID: 782\n"
	"format:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n"
	"\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n"
	"\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;\n"
	"\tfield:int flags;\toffset:32;\tsize:8;\tsigned:0;\n"
	"\tfield:umode_t mode;\toffset:40;\tsize:8;\tsigned:0;\n";

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void test_format(void)
{
	struct kfmt_event ev;
	struct sonde_error err = { 0 };
	const struct kfmt_field *f;
	static const char *const bad[] = {
		"name: x\nID: 1\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:int;\toffset:8;\tsize:4;\tsigned:1;\n",
		"name: x\nID: 1\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:int a;\toffset:x;\tsize:4;\tsigned:1;\n",
		"name: x\nID: 99999999\n",
		"ID: 1\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n",
		"name: x\nID: 1\n",
		"name: x\nID: 1\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:__data_loc char[] s;\toffset:8;\tsize:8;\tsigned:0;\n",
		"name: x\nID: 1\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:char a[3];\toffset:8;\tsize:4;\tsigned:0;\n",
		"",
	};
	size_t i;

	ok(kfmt_parse(sched_switch_fmt, strlen(sched_switch_fmt), "sched",
		      "fmt", &ev, &err) == 0,
	   "sched_switch format parses");
	is_str(ev.name, "sched_switch", "name");
	is_int(ev.id, 372, "id");
	is_int(ev.nr_fields, 7, "7 fields besides common_*");
	is_int(ev.common_pid_offset, 4, "common_pid offset");
	f = kfmt_find(&ev, "prev_comm");
	ok(f && f->array_len == 16 && f->is_char && f->offset == 8,
	   "prev_comm is char[16] text at 8");
	f = kfmt_find(&ev, "prev_state");
	ok(f && f->size == 8 && f->is_signed && !f->array_len,
	   "prev_state is a signed long");
	kfmt_event_release(&ev);

	ok(kfmt_parse(fork_fmt, strlen(fork_fmt), "sched", "fmt", &ev,
		      &err) == 0,
	   "fork format parses");
	f = kfmt_find(&ev, "child_comm");
	ok(f && f->loc == KFMT_DATA_LOC && f->is_char, "__data_loc char[]");
	kfmt_event_release(&ev);

	ok(kfmt_parse(openat_fmt, strlen(openat_fmt), "syscalls", "fmt", &ev,
		      &err) == 0,
	   "syscall format parses");
	f = kfmt_find(&ev, "filename");
	ok(f && f->is_pointer && strcmp(f->type, "const char *") == 0,
	   "pointer argument");
	kfmt_event_release(&ev);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "malformed format %zu refused", i);
		ok(kfmt_parse(bad[i], strlen(bad[i]), "x", "fmt", &ev, &err) ==
				   SONDE_EFORMAT,
		   what);
	}
	ok(strstr(err.msg, "fmt") == err.msg, "error names the file first");
}

static void test_page(void)
{
	uint8_t page[4096];
	struct kpage_iter it;
	struct kpage_event ev;
	struct sonde_error err = { 0 };
	uint32_t off = 0;
	uint8_t *d = page + KPAGE_HEADER_SIZE;
	int r;

	memset(page, 0, sizeof(page));
	put64(page, 1000);
	/* small event: type_len 2 (8 bytes), delta 5 */
	put32(d + off, 2 | 5u << 5);
	put32(d + off + 4, 0xAAAA);
	put32(d + off + 8, 0xBBBB);
	off += 12;
	/* time extend: + (3 << 27) + 7 */
	put32(d + off, 30 | 7u << 5);
	put32(d + off + 4, 3);
	off += 8;
	/* large event: type_len 0, array[0] = 120 + 4 */
	put32(d + off, 0 | 1u << 5);
	put32(d + off + 4, 124);
	memset(d + off + 8, 0x11, 120);
	off += 128;
	/* discarded record (padding with a delta): delta not applied */
	put32(d + off, 29 | 100u << 5);
	put32(d + off + 4, 12);
	off += 16;
	/* absolute timestamp */
	put32(d + off, 31 | 9u << 5);
	put32(d + off + 4, 2);
	off += 8;
	put32(d + off, 1 | 0u << 5);
	put32(d + off + 4, 0x42);
	off += 8;
	/* end-of-page padding */
	put32(d + off, 29);
	off += 4;
	put64(page + 8, off | KPAGE_MISSED_EVENTS | KPAGE_MISSED_STORED);
	put64(d + off, 77);

	ok(kpage_iter_init(&it, page, sizeof(page), &err) == 0, "page header");
	ok(it.missed, "missed-events flag");
	is_int(it.missed_count, 77, "stored lost count");
	r = kpage_iter_next(&it, &ev, &err);
	ok(r == 1 && ev.ts == 1005 && ev.len == 8, "small event");
	r = kpage_iter_next(&it, &ev, &err);
	ok(r == 1 && ev.ts == 1005 + (3ull << 27) + 7 + 1 && ev.len == 120 &&
		   ev.payload[0] == 0x11,
	   "time extend then a large event");
	r = kpage_iter_next(&it, &ev, &err);
	ok(r == 1 && ev.ts == ((2ull << 27) | 9) && ev.len == 4,
	   "padding skipped without its delta; absolute timestamp");
	is_int(kpage_iter_next(&it, &ev, &err), 0, "end of page");

	/* malformed pages */
	put64(page + 8, 5000);
	ok(kpage_iter_init(&it, page, sizeof(page), &err) == SONDE_EFORMAT,
	   "commit beyond the page refused");
	ok(kpage_iter_init(&it, page, 8, &err) == SONDE_EFORMAT,
	   "short page refused");
	put64(page + 8, 8);
	put32(d, 28); /* 112-byte payload in an 8-byte commit */
	ok(kpage_iter_init(&it, page, sizeof(page), &err) == 0 &&
		   kpage_iter_next(&it, &ev, &err) == SONDE_EFORMAT,
	   "record longer than the commit refused");
	put32(d, 0);
	put32(d + 4, 0xFFFFFFF0u);
	ok(kpage_iter_init(&it, page, sizeof(page), &err) == 0 &&
		   kpage_iter_next(&it, &ev, &err) == SONDE_EFORMAT,
	   "huge large-event length refused");
	put32(d, 29 | 3u << 5);
	put32(d + 4, 2);
	ok(kpage_iter_init(&it, page, sizeof(page), &err) == 0 &&
		   kpage_iter_next(&it, &ev, &err) == SONDE_EFORMAT,
	   "short padding length refused");
}

static void test_map(void)
{
	struct kfmt_event ev;
	struct kmap_event *m;
	struct sonde_error err = { 0 };
	const struct sonde_ctfw_field *f;
	struct sonde_ctfw_cursor c;
	uint8_t payload[64], out[256];
	size_t n;
	int32_t i32;
	int64_t i64;

	kfmt_parse(sched_switch_fmt, strlen(sched_switch_fmt), "sched", "fmt",
		   &ev, &err);
	ok(kmap_compile(&ev, &m, &err) == 0, "sched_switch compiles");
	is_str(kmap_name(m), "sched_switch", "lttng name");
	f = kmap_fields(m, &n);
	is_int(n, 7, "7 lttng fields");
	is_str(f[1].name, "prev_tid", "prev_pid becomes prev_tid");
	is_int(f[3].integer.size, 64, "prev_state is 64-bit");
	memset(payload, 0, sizeof(payload));
	memcpy(payload + 8, "bash", 4);
	i32 = 1234;
	memcpy(payload + 24, &i32, 4);
	i32 = 120;
	memcpy(payload + 28, &i32, 4);
	i64 = 1;
	memcpy(payload + 32, &i64, 8);
	memcpy(payload + 40, "swapper/0", 9);
	i32 = 0;
	memcpy(payload + 56, &i32, 4);
	i32 = 120;
	memcpy(payload + 60, &i32, 4);
	sonde_ctfw_cursor_init(&c, out, sizeof(out), SONDE_CTF_LE);
	kmap_encode(m, payload, 64, &c);
	is_int(c.pos, 16 + 4 + 4 + 8 + 16 + 4 + 4, "encoded size");
	ok(memcmp(out, "bash\0", 5) == 0, "prev_comm");
	memcpy(&i32, out + 16, 4);
	is_int(i32, 1234, "prev_tid");
	memcpy(&i32, out + 20, 4);
	is_int(i32, 20, "prev_prio is prio - 100");
	ok(kmap_payload_max(m, 64) >= c.pos, "payload bound");
	/* truncated payload: no read out of bounds, zeros instead */
	sonde_ctfw_cursor_init(&c, out, sizeof(out), SONDE_CTF_LE);
	kmap_encode(m, payload, 20, &c);
	is_int(c.pos, 56, "a truncated payload still encodes every field");
	kmap_free(m);
	kfmt_event_release(&ev);

	kfmt_parse(openat_fmt, strlen(openat_fmt), "syscalls", "fmt", &ev,
		   &err);
	ok(kmap_compile(&ev, &m, &err) == 0, "sys_enter_openat compiles");
	is_str(kmap_name(m), "syscall_entry_openat", "syscall entry name");
	ok(kmap_is_syscall(m), "syscall flag");
	f = kmap_fields(m, &n);
	ok(n == 4 && f[0].integer.size == 32 && f[0].integer.is_signed,
	   "dfd is s32, __syscall_nr dropped");
	ok(f[3].integer.size == 16 && !f[3].integer.is_signed, "mode is u16");
	kmap_free(m);
	kfmt_event_release(&ev);

	kfmt_parse(fork_fmt, strlen(fork_fmt), "sched", "fmt", &ev, &err);
	ok(kmap_compile(&ev, &m, &err) == 0, "fork compiles");
	memset(payload, 0, sizeof(payload));
	put32(payload + 8, 24 | 5u << 16);
	memcpy(payload + 24, "bash", 5);
	put32(payload + 16, 29 | 0xFFu << 16); /* out of bounds */
	sonde_ctfw_cursor_init(&c, out, sizeof(out), SONDE_CTF_LE);
	kmap_encode(m, payload, 34, &c);
	ok(memcmp(out, "bash\0", 5) == 0, "__data_loc comm as a text array");
	ok(!c.overflow, "bad __data_loc encodes as empty");
	kmap_free(m);
	kfmt_event_release(&ev);
}

/* The sched_switch the consumer inserts when the kernel omitted a switch
 * out of idle: learnt comm and prio of the thread, idle as prev. */
static void test_switch_repair(void)
{
	struct kfmt_event ev;
	struct kswitch_repair *r;
	struct sonde_error err = { 0 };
	uint8_t rec[64], built[64];
	int32_t i32;
	int64_t i64;

	char tracefs[] = "/tmp/sonde-test-tracefs-XXXXXX", path[64];
	FILE *cmdlines;

	/* A tracefs whose saved_cmdlines knows a thread already gone. */
	if (!mkdtemp(tracefs))
		return;
	snprintf(path, sizeof(path), "%s/saved_cmdlines", tracefs);
	cmdlines = fopen(path, "w");
	if (cmdlines) {
		fputs("15 rcu_preempt\n2147483000 short-lived\n", cmdlines);
		fclose(cmdlines);
	}
	kfmt_parse(sched_switch_fmt, strlen(sched_switch_fmt), "sched", "fmt",
		   &ev, &err);
	ok(kswitch_repair_create(&ev, tracefs, &r, &err) == 0,
	   "repair compiles");
	memset(rec, 0, sizeof(rec));
	memcpy(rec + 8, "worker", 6);
	i32 = 4321;
	memcpy(rec + 24, &i32, 4);
	i32 = 110;
	memcpy(rec + 28, &i32, 4);
	memcpy(rec + 40, "swapper/1", 9);
	i32 = 0;
	memcpy(rec + 56, &i32, 4);
	i32 = 120;
	memcpy(rec + 60, &i32, 4);
	is_int(kswitch_repair_learn(r, rec, sizeof(rec)), 0,
	       "learn returns next_pid");
	is_int(kswitch_repair_learn(r, rec, 20), -1, "short record refused");
	is_int(kswitch_repair_build(r, 1, 0, 4321, built, 32), 0,
	       "too small a buffer refused");
	is_int(kswitch_repair_build(r, 1, 0, 4321, built, sizeof(built)), 64,
	       "record size");
	memcpy(&i32, built, 2);
	is_int(i32 & 0xffff, 372, "common_type is sched_switch's id");
	is_str((const char *)built + 8, "swapper/1", "prev is idle of cpu 1");
	memcpy(&i32, built + 24, 4);
	is_int(i32, 0, "prev_pid 0");
	memcpy(&i64, built + 32, 8);
	is_int(i64, 0, "prev_state running");
	is_str((const char *)built + 40, "worker", "next_comm learnt");
	memcpy(&i32, built + 56, 4);
	is_int(i32, 4321, "next_pid");
	memcpy(&i32, built + 60, 4);
	is_int(i32, 110, "next_prio learnt");
	is_int(kswitch_repair_build(r, 0, 4321, 0, built, sizeof(built)), 64,
	       "a hidden thread switching to idle");
	is_str((const char *)built + 8, "worker", "prev_comm learnt");
	memcpy(&i32, built + 28, 4);
	is_int(i32, 110, "prev_prio learnt");
	is_str((const char *)built + 40, "swapper/0", "next is idle of cpu 0");
	kswitch_repair_build(r, 0, 4321, 1, built, sizeof(built));
	memcpy(&i32, built + 60, 4);
	ok(built[40] != '\0', "unknown thread (pid 1): comm from /proc");
	is_int(i32, 120, "unknown thread: default prio");
	kswitch_repair_build(r, 0, 4321, 2147483000, built, sizeof(built));
	is_str((const char *)built + 40, "short-lived",
	       "a thread gone from /proc: comm from ftrace's saved_cmdlines");
	kswitch_repair_free(r);
	unlink(path);
	rmdir(tracefs);
	kfmt_event_release(&ev);

	kfmt_parse(fork_fmt, strlen(fork_fmt), "sched", "fmt", &ev, &err);
	ok(kswitch_repair_create(&ev, "/nonexistent", &r, &err) ==
			   SONDE_EFORMAT &&
		   !r,
	   "another layout is refused");
	kfmt_event_release(&ev);
}

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* One event with an 8-byte payload at ts. */
static void sink_event(struct ksink *k, uint64_t ts)
{
	struct sonde_ctfw_cursor *c = ksink_event_begin(k, 1, ts, 8, NULL);

	if (c)
		sonde_ctfw_put_u64(c, ts);
	ksink_event_commit(k, NULL);
}

/* The packet builder: sequence numbers, lost-packet gaps and discards as
 * they land in the index (entries: ..., events_discarded at 40,
 * packet_seq_num at 64, big-endian). */
static void test_sink(void)
{
	char sp[] = "/tmp/sonde-ksink-XXXXXX", ip[] = "/tmp/sonde-kidx-XXXXXX";
	struct ksink_opts o = { 0 };
	struct ksink_stats st;
	struct ksink *k;
	uint8_t uuid[16] = { 0 }, idx[16 + 8 * 72];
	ssize_t n;
	int ifd;

	o.uuid = uuid;
	o.bo = SONDE_CTF_LE;
	o.header = SONDE_CTFW_HEADER_COMPACT;
	o.packet_size = 4096;
	o.stream_fd = mkstemp(sp);
	o.index_fd = mkstemp(ip);
	ifd = open(ip, O_RDONLY);
	ok(o.stream_fd >= 0 && o.index_fd >= 0 && ifd >= 0, "temp files");
	ok(ksink_create(&o, &k, NULL) == 0, "sink created");
	ksink_lose_packets(k, 1, 10); /* before any packet: invisible */
	sink_event(k, 100);
	ksink_flush(k, 100, NULL);	 /* packet seq 0 */
	ksink_lose_packets(k, 1, 150);
	ksink_discard(k, 5);
	sink_event(k, 200);		 /* packet seq 2 */
	ksink_flush(k, 200, NULL);
	ksink_lose_packets(k, 2, 250); /* after the last packet */
	ok(ksink_close(k, 300, NULL) == 0, "sink closed");
	ksink_get_stats(k, &st);
	is_int(st.packets_lost, 3, "visible lost packets counted");
	is_int(st.discarded, 5, "discarded events counted");
	is_int(st.events, 2, "events counted");
	n = read(ifd, idx, sizeof(idx));
	is_int(n, 16 + 3 * 72, "three index entries");
	is_int(be64_at(idx + 16 + 64), 0, "first packet seq 0 (no gap before)");
	is_int(be64_at(idx + 16 + 72 + 64), 2, "gap of one packet");
	is_int(be64_at(idx + 16 + 72 + 40), 5, "events_discarded cumulative");
	is_int(be64_at(idx + 16 + 144 + 64), 5,
	       "an empty packet shows the final gap of two");
	ksink_free(k);
	close(ifd);
	unlink(sp);
	unlink(ip);
}

/* The statedump's /proc stat parser, on lines a hostile process name can
 * shape (its comm is whatever it set with prctl). */
static void test_statedump_stat(void)
{
	struct kstatedump_stat st;
	char line[512];
	static const char *const bad[] = {
		"", "42", "42 (name", "42 name) S 1", "42 (name)", "42 (name) ",
		"42 )name( S 1",
	};
	size_t i;

	snprintf(line, sizeof(line),
		 "4242 (a) b (c) R 17 4242 4242 0 -1 4194560 %s 1\n",
		 "0 0 0 0 0 0 0 0 20 0 3 0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
	ok(kstatedump_parse_stat(line, &st) == 0 &&
		   strcmp(st.comm, "a) b (c") == 0 && st.state == 'R' &&
		   st.ppid == 17 && st.flags == 4194560 && st.threads == 3 &&
		   st.cpu == 1,
	   "stat: comm with ') ' inside ends at the last ')'");
	snprintf(line, sizeof(line), "7 (%s) S 1 2", "0123456789abcdefXYZ");
	ok(kstatedump_parse_stat(line, &st) == 0 &&
		   strcmp(st.comm, "0123456789abcdef") == 0 &&
		   st.state == 'S' && st.ppid == 1 && st.flags == 0 &&
		   st.threads == 0 && st.cpu == 0,
	   "stat: long comm cut to 16, cut line leaves zeros");
	/* cut after num_threads: a thread count of 1 must not be read from
	 * a later field, nor the cpu from nothing */
	snprintf(line, sizeof(line),
		 "9 (x) S 1 9 9 0 -1 2097216 0 0 0 0 0 0 0 0 20 0 1");
	ok(kstatedump_parse_stat(line, &st) == 0 && st.threads == 1 &&
		   st.flags == 2097216 && st.cpu == 0,
	   "stat: line cut after num_threads");
	snprintf(line, sizeof(line),
		 "9 (x) S 1 9 9 0 -1 2097216 0 0 0 0 0 0 0 0 20 0");
	ok(kstatedump_parse_stat(line, &st) == 0 && st.threads == 0,
	   "stat: line cut before num_threads leaves 0 threads");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		ok(kstatedump_parse_stat(line, &st) == -1,
		   "stat: malformed line refused");
	}
}

/* What the statedump said of this process's fds: flags by fd. */
struct own_fds {
	size_t fd_class;
	long flags[64];
};

static int collect_own_fd(void *arg, size_t cls,
			  const struct kstatedump_value *v)
{
	struct own_fds *o = arg;

	if (cls == o->fd_class && v[0].i == getpid() && v[1].i >= 0 &&
	    v[1].i < 64)
		o->flags[v[1].i] = (long)v[2].i;
	return 0;
}

static long fdinfo_flags(int fd)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	return p ? strtol(p + 6, NULL, 8) : -1;
}

/* The statedump reads the daemon's own fds' flags with fcntl() rather than
 * from fdinfo: they must come out as fdinfo shows them, whatever the kind
 * of file and its open flags. */
static void test_statedump_own_fds(void)
{
	const struct kstatedump_class *classes;
	struct own_fds o;
	int fds[9], pipe_fds[2], sv[2], i, n = 0, bad = 0;
	size_t count, c;

	memset(&o, 0, sizeof(o));
	classes = kstatedump_classes(&count);
	for (c = 0; c < count; c++)
		if (strcmp(classes[c].name,
			   "lttng_statedump_file_descriptor") == 0)
			o.fd_class = c;
	fds[n++] = open("/dev/null", O_RDONLY);
	fds[n++] = open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC);
	fds[n++] = open("/dev/null", O_RDWR | O_NONBLOCK | O_SYNC);
	fds[n++] = open("/", O_PATH | O_CLOEXEC);
	fds[n++] = eventfd(0, EFD_NONBLOCK);
	if (pipe2(pipe_fds, O_CLOEXEC | O_DIRECT) == 0) {
		fds[n++] = pipe_fds[0];
		fds[n++] = pipe_fds[1];
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0) {
		fds[n++] = sv[0];
		fds[n++] = sv[1];
	}
	for (i = 0; i < 64; i++)
		o.flags[i] = -2;
	ok(kstatedump_run(collect_own_fd, &o, NULL) == 0, "statedump runs");
	for (i = 0; i < n; i++) {
		long want = fdinfo_flags(fds[i]);

		if (fds[i] < 0 || fds[i] >= 64 || want < 0 ||
		    o.flags[fds[i]] != want) {
			printf("# fd %d: statedump flags 0%lo, fdinfo 0%lo\n",
			       fds[i], (unsigned long)o.flags[fds[i] & 63],
			       (unsigned long)want);
			bad++;
		}
	}
	ok(n == 9 && bad == 0,
	   "statedump: own fds' flags are fdinfo's (files, O_PATH, eventfd, pipe, socket)");
	for (i = 0; i < n; i++)
		close(fds[i]);
}

int main(void)
{
	test_format();
	test_page();
	test_map();
	test_switch_repair();
	test_sink();
	test_statedump_stat();
	test_statedump_own_fds();
	return tap_done();
}
