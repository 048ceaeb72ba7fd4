/*
 * sonde-gen: writes a synthetic LTTng-kernel-like CTF trace.
 *
 * The trace looks like lttng-modules 2.13 output (env, event names and field
 * lists of ctf.md §2.5) so that babeltrace and Trace Compass treat it as a
 * kernel trace, and exercises every field kind the writer supports.  Events
 * go to random CPUs along one global clock, so timestamps are unique across
 * streams (no tie-break ambiguity when comparing readers) and occasional
 * gaps longer than 2^27 ns force extended event headers.
 */
#include "sonde/ctf-writer.h"
#include "ctf/writer/lttng-kernel.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_STREAMS 1024

struct gen_opts {
	const char *output;
	uint64_t events;
	uint32_t streams;
	uint32_t channels;
	uint64_t seed;
	bool big_endian;
	bool plain_metadata;
	bool no_index;
	bool lost;
	bool lost_mixed;
	bool large_header;
	bool append_metadata;
	bool context;
	bool ust;
	bool ust_pid;
	bool force;
	uint64_t packet_kib;
	uint64_t big_gap_every;
	bool quiet;
};

/* xorshift64*: fast, deterministic for a given --seed. */
struct rng {
	uint64_t s;
};

static inline uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 2685821657736338717ull;
}

static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* Event classes ------------------------------------------------------------ */

/* Ids: sonde_lttng_kernel_events[] in its order, then the system calls. */
enum ev {
	EV_SCHED_SWITCH,
	EV_SCHED_WAKING,
	EV_SCHED_WAKEUP,
	EV_SCHED_PROCESS_FORK,
	EV_IRQ_HANDLER_ENTRY,
	EV_IRQ_HANDLER_EXIT,
	EV_IRQ_SOFTIRQ_ENTRY,
	EV_IRQ_SOFTIRQ_EXIT,
	EV_STATEDUMP_NETIF,
	EV_STATEDUMP_FD,
	EV_SYSCALLS, /* then entry/exit pairs, see syscalls[], then
	                       EV_TEST_EVENT */
};

static const struct sonde_ctfw_enum_entry test_enum_entries[] = {
	{ .label = "AUTO: EXPECT 0", .automatic = true },
	{ .label = "VALUE: 23", .lo = 23, .hi = 23 },
	{ .label = "VALUE: 27", .lo = 27, .hi = 27 },
	{ .label = "AUTO: EXPECT 28", .automatic = true },
	{ .label = "RANGE: 101 TO 303", .lo = 101, .hi = 303 },
	{ .label = "AUTO: EXPECT 304", .automatic = true },
};

static const struct sonde_ctfw_field test_nested[] = {
	SONDE_CTFW_INTEGER("a", 16, false),
	SONDE_CTFW_INTEGER_HEX("b", 8, false),
};

/* Every field kind, after the lttng-test module's lttng_test_filter_event. */
static const struct sonde_ctfw_field f_test_event[] = {
	SONDE_CTFW_INTEGER("intfield", 32, true),
	SONDE_CTFW_INTEGER_HEX("intfield2", 32, true),
	SONDE_CTFW_INTEGER("longfield", 64, true),
	SONDE_CTFW_INTEGER_NETWORK("netintfield", 32, true),
	SONDE_CTFW_INTEGER_NETWORK_HEX("netintfieldhex", 32, true),
	SONDE_CTFW_INTEGER_NETWORK("netshort", 16, false),
	SONDE_CTFW_INTEGER_NETWORK_HEX("netlong", 64, false),
	SONDE_CTFW_ARRAY("arrfield1", 64, false, 3),
	SONDE_CTFW_ARRAY_TEXT("arrfield2", 10),
	{ .name = "arrfield3",
	  .kind = SONDE_CTFW_FIELD_ARRAY,
	  .count = 3,
	  .integer = SONDE_CTFW_INT_T(32, false, 10, SONDE_CTFW_ORDER_BE,
				      SONDE_CTF_ENC_NONE) },
	SONDE_CTFW_SEQUENCE("seqfield1", 8, true, 64),
	SONDE_CTFW_SEQUENCE_TEXT("seqfield2", 64),
	SONDE_CTFW_SEQUENCE("seqfield4", 64, true, 32),
	SONDE_CTFW_STRING("stringfield"),
	SONDE_CTFW_ENUM("enumfield", 32, true, test_enum_entries, 6),
	SONDE_CTFW_FLOAT("floatfield"),
	SONDE_CTFW_DOUBLE("doublefield"),
	SONDE_CTFW_STRUCT("nested", test_nested, 2),
	SONDE_CTFW_INTEGER("u16field", 16, false),
	SONDE_CTFW_INTEGER("s8field", 8, true),
};

static const struct sonde_ctfw_field kernel_context[] = {
	SONDE_CTFW_INTEGER("pid", 32, true),
	SONDE_CTFW_INTEGER("tid", 32, true),
	SONDE_CTFW_ARRAY_TEXT("procname", 16),
};

/* lttng-ust 2.11-2.14 declares its procname context 17 bytes long. */
static const struct sonde_ctfw_field ust_context[] = {
	SONDE_CTFW_INTEGER("vpid", 32, true),
	SONDE_CTFW_INTEGER("vtid", 32, true),
	SONDE_CTFW_ARRAY_TEXT("procname", 17),
};

/* System calls: entry arguments and exit (ret + outputs). */
struct syscall_desc {
	const char *name;
	const struct sonde_ctfw_field *in;
	size_t in_count;
	const struct sonde_ctfw_field *out;
	size_t out_count;
	unsigned int weight;
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SC(n, i, o, w)                                 \
	{                                              \
		n, i, ARRAY_LEN(i), o, ARRAY_LEN(o), w \
	}

static const struct sonde_ctfw_field sc_fd[] = { SONDE_CTFW_INTEGER("fd", 32,
								    false) };
static const struct sonde_ctfw_field sc_ret[] = { SONDE_CTFW_INTEGER("ret", 64,
								     true) };
static const struct sonde_ctfw_field sc_read_in[] = {
	SONDE_CTFW_INTEGER("fd", 32, false),
	SONDE_CTFW_INTEGER("count", 64, false)
};
static const struct sonde_ctfw_field sc_read_out[] = {
	SONDE_CTFW_INTEGER("ret", 64, true),
	SONDE_CTFW_INTEGER_HEX("buf", 64, false)
};
static const struct sonde_ctfw_field sc_write_in[] = {
	SONDE_CTFW_INTEGER("fd", 32, false),
	SONDE_CTFW_INTEGER_HEX("buf", 64, false),
	SONDE_CTFW_INTEGER("count", 64, false)
};
static const struct sonde_ctfw_field sc_openat_in[] = {
	SONDE_CTFW_INTEGER("dfd", 32, true), SONDE_CTFW_STRING("filename"),
	SONDE_CTFW_INTEGER("flags", 32, true),
	SONDE_CTFW_INTEGER("mode", 16, false)
};
static const struct sonde_ctfw_field sc_clone_in[] = {
	SONDE_CTFW_INTEGER_HEX("clone_flags", 64, false),
	SONDE_CTFW_INTEGER_HEX("newsp", 64, false),
	SONDE_CTFW_INTEGER_HEX("parent_tid", 64, false),
	SONDE_CTFW_INTEGER_HEX("child_tid", 64, false)
};
static const struct sonde_ctfw_field sc_execve_in[] = {
	SONDE_CTFW_STRING("filename"),
	SONDE_CTFW_INTEGER_HEX("argv", 64, false),
	SONDE_CTFW_INTEGER_HEX("envp", 64, false)
};
static const struct sonde_ctfw_field sc_mmap_in[] = {
	SONDE_CTFW_INTEGER_HEX("addr", 64, false),
	SONDE_CTFW_INTEGER("len", 64, false),
	SONDE_CTFW_INTEGER("prot", 64, false),
	SONDE_CTFW_INTEGER("flags", 64, false),
	SONDE_CTFW_INTEGER("fd", 64, false),
	SONDE_CTFW_INTEGER("offset", 64, false)
};
static const struct sonde_ctfw_field sc_munmap_in[] = {
	SONDE_CTFW_INTEGER_HEX("addr", 64, false),
	SONDE_CTFW_INTEGER("len", 64, false)
};
static const struct sonde_ctfw_field sc_futex_in[] = {
	SONDE_CTFW_INTEGER_HEX("uaddr", 64, false),
	SONDE_CTFW_INTEGER("op", 32, true),
	SONDE_CTFW_INTEGER("val", 32, false),
	SONDE_CTFW_INTEGER_HEX("utime", 64, false),
	SONDE_CTFW_INTEGER_HEX("uaddr2", 64, false),
	SONDE_CTFW_INTEGER("val3", 32, false)
};
static const struct sonde_ctfw_field sc_futex_out[] = {
	SONDE_CTFW_INTEGER("ret", 64, true),
	SONDE_CTFW_INTEGER_HEX("uaddr", 64, false),
	SONDE_CTFW_INTEGER_HEX("uaddr2", 64, false)
};
static const struct sonde_ctfw_field sc_ioctl_in[] = {
	SONDE_CTFW_INTEGER("fd", 32, false),
	SONDE_CTFW_INTEGER("cmd", 32, false),
	SONDE_CTFW_INTEGER("arg", 64, false)
};
static const struct sonde_ctfw_field sc_poll_in[] = {
	SONDE_CTFW_INTEGER("nfds", 32, false),
	SONDE_CTFW_INTEGER("timeout_msecs", 32, true)
};
static const struct sonde_ctfw_field sc_poll_out[] = {
	SONDE_CTFW_INTEGER("ret", 64, true),
	SONDE_CTFW_INTEGER_HEX("ufds", 64, false)
};
static const struct sonde_ctfw_field sc_lseek_in[] = {
	SONDE_CTFW_INTEGER("fd", 32, false),
	SONDE_CTFW_INTEGER("offset", 64, true),
	SONDE_CTFW_INTEGER("whence", 32, false)
};
static const struct sonde_ctfw_field sc_none[] = { SONDE_CTFW_INTEGER_HEX(
	"unused", 64, false) };
static const struct sonde_ctfw_field sc_srl_in[] = {
	SONDE_CTFW_INTEGER_HEX("head", 64, false),
	SONDE_CTFW_INTEGER("len", 64, false)
};

static const struct syscall_desc syscalls[] = {
	SC("read", sc_read_in, sc_read_out, 20),
	SC("write", sc_write_in, sc_ret, 20),
	SC("openat", sc_openat_in, sc_ret, 6),
	SC("close", sc_fd, sc_ret, 8),
	SC("clone", sc_clone_in, sc_ret, 1),
	SC("execve", sc_execve_in, sc_ret, 1),
	SC("mmap", sc_mmap_in, sc_ret, 4),
	SC("munmap", sc_munmap_in, sc_ret, 3),
	SC("futex", sc_futex_in, sc_futex_out, 10),
	SC("ioctl", sc_ioctl_in, sc_ret, 5),
	SC("poll", sc_poll_in, sc_poll_out, 5),
	SC("lseek", sc_lseek_in, sc_ret, 3),
	SC("set_robust_list", sc_srl_in, sc_ret, 1),
	SC("getpid", sc_none, sc_ret, 2),
	SC("fstat", sc_fd, sc_ret, 4),
	SC("sched_yield", sc_none, sc_ret, 2),
};

#define SYSCALL_COUNT ARRAY_LEN(syscalls)
/* Last, so that --append-metadata can declare it mid-trace. */
#define EV_TEST_EVENT (EV_SYSCALLS + 2 * SYSCALL_COUNT)

static const char *const comms[] = {
	"swapper/0", "systemd",	  "kworker/u16:2", "lttng-consumerd",
	"bash",	     "sshd",	  "postgres",	   "nginx",
	"java",	     "rcu_sched", "ksoftirqd/1",   "Xorg",
	"firefox",   "gcc",	  "make",
};

static const char *const filenames[] = {
	"/etc/ld.so.cache",    "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/proc/self/stat",     "/dev/null",
	"/tmp/sonde.tmp",      "/var/log/syslog",
	"/home/user/data.bin",
};

static const char *const irq_names[] = { "timer", "eth0", "ahci[0000:00:1f.2]",
					 "i915", "xhci_hcd" };

/* Payload writers ------------------------------------------------------------ */

static void put_comm_n(struct sonde_ctfw_cursor *c, struct rng *r, size_t n)
{
	sonde_ctfw_put_text_array(c, comms[rng_below(r, ARRAY_LEN(comms))], n);
}

static void put_comm(struct sonde_ctfw_cursor *c, struct rng *r)
{
	put_comm_n(c, r, 16);
}

static uint32_t tid(struct rng *r)
{
	return 1 + rng_below(r, 32768);
}

/* Values for syscall arguments, by name and base, so that outputs look
 * plausible (fds small, pointers like user addresses). */
static void put_syscall_fields(struct sonde_ctfw_cursor *c, struct rng *r,
			       const struct sonde_ctfw_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v;

		if (f[i].kind == SONDE_CTFW_FIELD_STRING) {
			sonde_ctfw_put_string(
				c,
				filenames[rng_below(r, ARRAY_LEN(filenames))]);
			continue;
		}
		if (f[i].integer.base == 16)
			v = 0x7f0000000000ull | (rng_next(r) & 0xffffffff0ull);
		else if (!strcmp(f[i].name, "ret"))
			v = (uint64_t)((int64_t)rng_below(r, 4200) - 100);
		else if (strstr(f[i].name, "fd"))
			v = rng_below(r, 64);
		else if (f[i].integer.is_signed)
			v = (uint64_t)((int64_t)rng_below(r, 2000) - 1000);
		else
			v = rng_below(r, 1u << 20);
		sonde_ctfw_put_int(c, v, f[i].integer.size / 8, c->byte_order);
	}
}

static void put_test_event(struct sonde_ctfw_cursor *c, struct rng *r)
{
	static const char text[] = "test-text-payload";
	uint64_t arr1[3] = { rng_next(r), 2, 3 };
	int8_t seq1[8];
	int64_t seq4[4];
	/*
	 * No empty string or empty text sequence: babeltrace2 2.0.4 sometimes
	 * prints the previous value of such a field instead of "" (checked
	 * against the bytes; babeltrace 1.5 is right), and the conformance
	 * test compares the two tools.  The unit tests cover empty fields.
	 */
	uint32_t seqlen = rng_below(r, 9), i;
	uint32_t textlen = 1 + rng_below(r, 8);
	uint32_t seq4len = rng_below(r, 5);
	int32_t enum_values[] = { 0, 23, 27, 28, 150, 304 };

	sonde_ctfw_put_u32(c,
			   (uint32_t)(int32_t) - (int32_t)rng_below(r, 1000));
	sonde_ctfw_put_u32(c, (uint32_t)-1);
	sonde_ctfw_put_u64(c, (uint64_t)INT64_MIN + rng_below(r, 10));
	sonde_ctfw_put_be32(c, 1);
	sonde_ctfw_put_be32(c, 0xdeadbeef);
	sonde_ctfw_put_be16(c, 443);
	sonde_ctfw_put_be64(c, 0x0102030405060708ull);
	sonde_ctfw_put_int_array(c, arr1, 3, 8, c->byte_order);
	sonde_ctfw_put_text_array(c, "test", 10);
	for (i = 0; i < 3; i++)
		sonde_ctfw_put_be32(c, 1000 * (i + 1));
	for (i = 0; i < seqlen; i++)
		seq1[i] = (int8_t)(i * 37 - 100);
	sonde_ctfw_put_u64(c, seqlen);
	sonde_ctfw_put_int_array(c, seq1, seqlen, 1, c->byte_order);
	sonde_ctfw_put_u64(c, textlen);
	sonde_ctfw_put_bytes(c, text, textlen);
	for (i = 0; i < seq4len; i++)
		seq4[i] = (int64_t)rng_next(r);
	sonde_ctfw_put_u32(c, seq4len);
	sonde_ctfw_put_int_array(c, seq4, seq4len, 8, c->byte_order);
	sonde_ctfw_put_string(c, filenames[rng_below(r, ARRAY_LEN(filenames))]);
	sonde_ctfw_put_u32(
		c, (uint32_t)enum_values[rng_below(r, ARRAY_LEN(enum_values))]);
	sonde_ctfw_put_float(c, (float)rng_below(r, 1000) / 4.0f);
	sonde_ctfw_put_double(c,
			      (double)rng_below(r, 1000000) / 1024.0 - 100.0);
	sonde_ctfw_put_u16(c, (uint16_t)rng_below(r, 65536));
	sonde_ctfw_put_u8(c, (uint8_t)rng_below(r, 256));
	sonde_ctfw_put_u16(c, (uint16_t)rng_next(r));
	sonde_ctfw_put_u8(c, (uint8_t)(int8_t) - (int8_t)rng_below(r, 128));
}

static void put_payload(struct sonde_ctfw_cursor *c, struct rng *r, uint32_t id,
			uint32_t cpu, uint32_t ncpu)
{
	uint32_t i, n;

	switch (id) {
	case EV_SCHED_SWITCH:
		put_comm(c, r);
		sonde_ctfw_put_u32(c, tid(r));
		sonde_ctfw_put_u32(c, 20);
		sonde_ctfw_put_u64(c, rng_below(r, 3) ? 0 : 1);
		put_comm(c, r);
		sonde_ctfw_put_u32(c, tid(r));
		sonde_ctfw_put_u32(
			c,
			(uint32_t)(int32_t)(rng_below(r, 40) - 20 + 120) - 100);
		return;
	case EV_SCHED_WAKING:
	case EV_SCHED_WAKEUP:
		put_comm(c, r);
		sonde_ctfw_put_u32(c, tid(r));
		sonde_ctfw_put_u32(c, 20);
		sonde_ctfw_put_u32(c, rng_below(r, ncpu));
		return;
	case EV_SCHED_PROCESS_FORK:
		put_comm(c, r);
		i = tid(r);
		sonde_ctfw_put_u32(c, i);
		sonde_ctfw_put_u32(c, i);
		sonde_ctfw_put_u32(c, 4026531836u);
		put_comm(c, r);
		i = tid(r);
		sonde_ctfw_put_u32(c, i);
		n = 1 + rng_below(r, 3);
		sonde_ctfw_put_u8(c, (uint8_t)n);
		for (; n; n--)
			sonde_ctfw_put_u32(c, i / n);
		sonde_ctfw_put_u32(c, i);
		sonde_ctfw_put_u32(c, 4026531836u);
		return;
	case EV_IRQ_HANDLER_ENTRY:
		i = rng_below(r, ARRAY_LEN(irq_names));
		sonde_ctfw_put_u32(c, 16 + i);
		sonde_ctfw_put_string(c, irq_names[i]);
		return;
	case EV_IRQ_HANDLER_EXIT:
		sonde_ctfw_put_u32(c, 16 + rng_below(r, ARRAY_LEN(irq_names)));
		sonde_ctfw_put_u32(c, 1);
		return;
	case EV_IRQ_SOFTIRQ_ENTRY:
	case EV_IRQ_SOFTIRQ_EXIT:
		sonde_ctfw_put_u32(c, rng_below(r, 10));
		return;
	case EV_STATEDUMP_NETIF:
		sonde_ctfw_put_string(c, cpu & 1 ? "eth0" : "lo");
		sonde_ctfw_put_be32(c, cpu & 1 ? 0xC0A80102u : 0x7F000001u);
		return;
	case EV_STATEDUMP_FD:
		sonde_ctfw_put_u64(c, 0xffff888000000000ull |
					      (rng_next(r) & 0xfffff000));
		sonde_ctfw_put_u32(c, rng_below(r, 256));
		sonde_ctfw_put_u32(c, 0100002);
		sonde_ctfw_put_u32(c, 0x1F);
		sonde_ctfw_put_string(
			c, filenames[rng_below(r, ARRAY_LEN(filenames))]);
		return;
	case EV_TEST_EVENT:
		put_test_event(c, r);
		return;
	default:
		i = (id - EV_SYSCALLS) / 2;
		if ((id - EV_SYSCALLS) % 2 == 0)
			put_syscall_fields(c, r, syscalls[i].in,
					   syscalls[i].in_count);
		else
			put_syscall_fields(c, r, syscalls[i].out,
					   syscalls[i].out_count);
		return;
	}
}

/* Event choice: a weighted table flattened into 1024 slots. */
struct weight {
	uint32_t id, weight;
};

struct mix {
	uint32_t slot[1024];
};

static void build_mix(struct mix *m)
{
	struct weight w[64];
	uint32_t n = 0, total = 0, i, j, k = 0;

	w[n++] = (struct weight){ EV_SCHED_SWITCH, 150 };
	w[n++] = (struct weight){ EV_SCHED_WAKING, 50 };
	w[n++] = (struct weight){ EV_SCHED_WAKEUP, 50 };
	w[n++] = (struct weight){ EV_SCHED_PROCESS_FORK, 8 };
	w[n++] = (struct weight){ EV_IRQ_HANDLER_ENTRY, 40 };
	w[n++] = (struct weight){ EV_IRQ_HANDLER_EXIT, 40 };
	w[n++] = (struct weight){ EV_IRQ_SOFTIRQ_ENTRY, 30 };
	w[n++] = (struct weight){ EV_IRQ_SOFTIRQ_EXIT, 30 };
	w[n++] = (struct weight){ EV_STATEDUMP_NETIF, 4 };
	w[n++] = (struct weight){ EV_STATEDUMP_FD, 6 };
	w[n++] = (struct weight){ EV_TEST_EVENT, 20 };
	for (i = 0; i < SYSCALL_COUNT; i++) {
		w[n++] = (struct weight){ EV_SYSCALLS + 2 * i,
					  syscalls[i].weight * 6 };
		w[n++] = (struct weight){ EV_SYSCALLS + 2 * i + 1,
					  syscalls[i].weight * 6 };
	}
	for (i = 0; i < n; i++)
		total += w[i].weight;
	for (i = 0; i < n; i++) {
		uint32_t slots =
			(uint32_t)((uint64_t)w[i].weight * 1024 / total);

		for (j = 0; j < slots && k < 1024; j++)
			m->slot[k++] = w[i].id;
	}
	while (k < 1024)
		m->slot[k++] = EV_SCHED_SWITCH;
}

/* UST event names carry their provider; UST events have a log level
 * (13 = TRACE_DEBUG_LINE, the default). */
static int add_class(struct sonde_ctfw_trace_class *tc, uint32_t sc, bool ust,
		     const char *name, const struct sonde_ctfw_field *fields,
		     size_t count, struct sonde_error *err)
{
	char full[96];

	snprintf(full, sizeof(full), "%s%s", ust ? "sonde_gen:" : "", name);
	return sonde_ctfw_event_class_add(tc, sc, full, ust ? 13 : -1, fields,
					  count, NULL, err);
}

/* Every event class but the test event, in id order, on stream class sc. */
static int add_event_classes(struct sonde_ctfw_trace_class *tc, uint32_t sc,
			     bool ust, struct sonde_error *err)
{
	char name[64];
	size_t i;
	int rc;

	for (i = 0; i < sonde_lttng_kernel_event_count; i++) {
		const struct sonde_lttng_kernel_event *ev =
			&sonde_lttng_kernel_events[i];

		rc = add_class(tc, sc, ust, ev->name, ev->fields,
			       ev->field_count, err);
		if (rc)
			return rc;
	}
	for (i = 0; i < SYSCALL_COUNT; i++) {
		snprintf(name, sizeof(name), "syscall_entry_%s",
			 syscalls[i].name);
		rc = add_class(tc, sc, ust, name, syscalls[i].in,
			       syscalls[i].in_count, err);
		if (rc)
			return rc;
		snprintf(name, sizeof(name), "syscall_exit_%s",
			 syscalls[i].name);
		rc = add_class(tc, sc, ust, name, syscalls[i].out,
			       syscalls[i].out_count, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int add_test_event_class(struct sonde_ctfw_trace_class *tc, uint32_t sc,
				bool ust, struct sonde_error *err)
{
	return add_class(tc, sc, ust, "lttng_test_filter_event", f_test_event,
			 ARRAY_LEN(f_test_event), err);
}

/* Fixed values (not this machine's) so that a seed always gives the same
 * bytes; the shapes are ctf.md §2.2 (kernel) and §3.1 (UST, per-UID). */
struct env_entry {
	const char *key;
	const char *str; /* NULL: integer */
	int64_t num;
};

static const struct env_entry kernel_env[] = {
	{ "hostname", "sonde-gen", 0 },
	{ "domain", "kernel", 0 },
	{ "sysname", "Linux", 0 },
	{ "kernel_release", "6.1.0-sonde", 0 },
	{ "kernel_version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.0", 0 },
	{ "tracer_name", "lttng-modules", 0 },
	{ "tracer_major", NULL, 2 },
	{ "tracer_minor", NULL, 13 },
	{ "tracer_patchlevel", NULL, 0 },
	{ "trace_buffering_scheme", "global", 0 },
	{ "trace_name", "sonde-gen", 0 },
	{ "trace_creation_datetime", "20261122T030000+0000", 0 },
};

static const struct env_entry ust_env[] = {
	{ "domain", "ust", 0 },
	{ "tracer_name", "lttng-ust", 0 },
	{ "tracer_major", NULL, 2 },
	{ "tracer_minor", NULL, 13 },
	{ "tracer_buffering_scheme", "uid", 0 },
	{ "tracer_buffering_id", NULL, 1000 },
	{ "architecture_bit_width", NULL, 64 },
	{ "trace_name", "sonde-gen", 0 },
	{ "trace_creation_datetime", "20261122T030000+0000", 0 },
	{ "hostname", "sonde-gen", 0 },
};

/* Per-PID buffers add the process to the env (readers print it). */
static const struct env_entry ust_pid_env[] = {
	{ "domain", "ust", 0 },
	{ "tracer_name", "lttng-ust", 0 },
	{ "tracer_major", NULL, 2 },
	{ "tracer_minor", NULL, 13 },
	{ "tracer_buffering_scheme", "pid", 0 },
	{ "tracer_buffering_id", NULL, 4242 },
	{ "architecture_bit_width", NULL, 64 },
	{ "trace_name", "sonde-gen", 0 },
	{ "trace_creation_datetime", "20261122T030000+0000", 0 },
	{ "hostname", "sonde-gen", 0 },
	{ "tracer_patchlevel", NULL, 5 },
	{ "vpid", NULL, 4242 },
	{ "procname", "sonde-app", 0 },
	{ "vpid_datetime", "20261122T030001+0000", 0 },
};

static int add_env(struct sonde_ctfw_trace_class *tc, bool ust, bool per_pid,
		   struct sonde_error *err)
{
	const struct env_entry *e = kernel_env;
	size_t n = ARRAY_LEN(kernel_env), i;
	int rc = 0;

	if (per_pid) {
		e = ust_pid_env;
		n = ARRAY_LEN(ust_pid_env);
	} else if (ust) {
		e = ust_env;
		n = ARRAY_LEN(ust_env);
	}
	for (i = 0; i < n && !rc; i++)
		rc = e[i].str ? sonde_ctfw_env_add_string(tc, e[i].key,
							  e[i].str, err)
			      : sonde_ctfw_env_add_int(tc, e[i].key, e[i].num,
						       err);
	return rc;
}

static int define_classes(const struct gen_opts *o,
			  struct sonde_ctfw_trace_class *tc,
			  struct sonde_error *err)
{
	/* lttng-tools >= 2.11 always gives UST channels large headers. */
	enum sonde_ctfw_header_type header =
		o->large_header || o->ust ? SONDE_CTFW_HEADER_LARGE
					  : SONDE_CTFW_HEADER_COMPACT;
	const struct sonde_ctfw_field *context = NULL;
	size_t context_count = 0;
	uint32_t sc;
	int rc;

	if (o->context) {
		context = o->ust ? ust_context : kernel_context;
		context_count = 3;
	}
	rc = add_env(tc, o->ust, o->ust_pid, err);
	/* One stream class per channel, all with the same events. */
	for (sc = 0; !rc && sc < o->channels; sc++)
		rc = sonde_ctfw_stream_class_add(tc, header, context,
						 context_count, NULL, err);
	for (sc = 0; !rc && sc < o->channels; sc++) {
		rc = add_event_classes(tc, sc, o->ust, err);
		if (!rc && !o->append_metadata)
			rc = add_test_event_class(tc, sc, o->ust, err);
	}
	return rc;
}

/* `channel<digits>_<digits>` (then `suffix`): a stream file sonde-gen names. */
static bool is_stream_name(const char *name, const char *suffix)
{
	const char *p = name + strlen("channel");
	int part;

	if (strncmp(name, "channel", strlen("channel")))
		return false;
	for (part = 0; part < 2; part++) {
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (part == 0 && *p++ != '_')
			return false;
	}
	return strcmp(p, suffix) == 0;
}

/* Deletes what an earlier run left in `dir` -- the files sonde-gen names,
 * nothing else -- so that stale streams do not join the new trace. */
static int remove_previous_trace(const char *dir, const char *sub,
				 const char *suffix, struct sonde_error *err)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s%s", dir, sub);
	d = opendir(path);
	if (!d)
		return errno == ENOENT
			       ? 0
			       : sonde_error_set(err, SONDE_EIO, "%s: %s", path,
						 strerror(errno));
	while (!rc && (e = readdir(d))) {
		char file[8192];

		if (!is_stream_name(e->d_name, suffix) &&
		    !(!*sub && !strcmp(e->d_name, "metadata")))
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (unlink(file) != 0)
			rc = sonde_error_set(err, SONDE_EIO, "%s: %s", file,
					     strerror(errno));
	}
	closedir(d);
	return rc;
}

/* Generation ------------------------------------------------------------------ */

struct totals {
	uint64_t events, discarded, packets_lost, packets, bytes;
};

static int generate(const struct gen_opts *o, struct totals *t,
		    struct sonde_error *err)
{
	struct sonde_ctfw_trace_opts topts = {
		.byte_order = o->big_endian ? SONDE_CTF_BE : SONDE_CTF_LE,
	};
	struct sonde_ctfw_writer_opts wopts = {
		.plain_metadata = o->plain_metadata,
		.no_index = o->no_index,
		.allow_existing = o->force,
	};
	struct sonde_ctfw_trace_class *tc = NULL;
	struct sonde_ctfw_writer *w = NULL;
	struct sonde_ctfw_stream **streams = NULL;
	uint8_t uuid[16], clock_uuid[16];
	struct rng r = { o->seed * 0x9E3779B97F4A7C15ull +
			 0x2545F4914F6CDD1Dull };
	struct mix *mix = NULL;
	uint64_t ts = 1000000000ull + rng_below(&r, 1u << 30);
	uint64_t i;
	uint32_t s, nstreams = 0;
	int rc = 0, rc2;

	/* Deterministic ids: same seed, same bytes (offset too). */
	for (s = 0; s < 16; s++) {
		uuid[s] = (uint8_t)rng_next(&r);
		clock_uuid[s] = (uint8_t)rng_next(&r);
	}
	uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
	topts.uuid = uuid;
	topts.clock_uuid = clock_uuid;
	topts.has_clock_offset = true;
	topts.clock_offset = 1700000000000000000ll +
			     (int64_t)(rng_next(&r) % 1000000000000ull);

	if (o->force) {
		rc = remove_previous_trace(o->output, "", "", err);
		if (!rc)
			rc = remove_previous_trace(o->output, "/index", ".idx",
						   err);
		if (rc)
			return rc;
	}
	rc = sonde_ctfw_trace_class_create(&topts, &tc, err);
	if (rc)
		return rc;
	rc = define_classes(o, tc, err);
	rc = rc ? rc : sonde_ctfw_writer_open(o->output, tc, &wopts, &w, err);
	rc = rc ? rc : sonde_ctfw_writer_flush_metadata(w, err);
	if (rc)
		goto out;
	nstreams = o->channels * o->streams;
	streams = calloc(nstreams, sizeof(*streams));
	mix = malloc(sizeof(*mix));
	if (!streams || !mix) {
		rc = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		goto out;
	}
	build_mix(mix);
	for (s = 0; s < nstreams; s++) {
		char channel[32];
		struct sonde_ctfw_stream_opts sopts = {
			.stream_class_id = s / o->streams,
			.cpu_id = s % o->streams,
			.packet_size = o->packet_kib * 1024,
			.channel_name = channel,
		};

		snprintf(channel, sizeof(channel), "channel%" PRIu32,
			 s / o->streams);
		rc = sonde_ctfw_stream_open(w, &sopts, &streams[s], err);
		if (rc)
			goto out;
	}
	for (i = 0; i < o->events; i++) {
		struct sonde_ctfw_cursor *c;
		uint64_t x = rng_next(&r);
		uint32_t cpu = (uint32_t)(((x >> 32) * o->streams) >> 32);
		uint32_t id = mix->slot[x & 1023];
		uint32_t ch = o->channels > 1 ? rng_below(&r, o->channels) : 0;
		struct sonde_ctfw_stream *st = streams[ch * o->streams + cpu];

		/* Like an event enabled while tracing: its class is appended
		 * to the metadata halfway. */
		if (o->append_metadata && i == o->events / 2) {
			for (s = 0; !rc && s < o->channels; s++)
				rc = add_test_event_class(tc, s, o->ust, err);
			rc = rc ? rc : sonde_ctfw_writer_flush_metadata(w, err);
			if (rc)
				goto out;
		}
		if (o->append_metadata && i < o->events / 2 &&
		    id == EV_TEST_EVENT)
			id = EV_SCHED_SWITCH;

		if (o->big_gap_every &&
		    (x >> 10 & 0x3fffff) % o->big_gap_every == 0)
			ts += (1ull << 27) + rng_below(&r, 200000000);
		else
			ts += 50 + ((x >> 12) & 0xfff);
		if (o->lost && ((x >> 24) & 0x3ff) == 0) {
			struct sonde_ctfw_stream_stats stats;

			/*
			 * As with LTTng channels, a discard-mode buffer (even
			 * CPUs here) loses events and an overwrite-mode one
			 * (odd CPUs) loses whole packets, never both: readers
			 * report only one of the two for a packet (babeltrace
			 * 1.5).  Never before the stream's first packet is
			 * closed: the count would be unknown to readers.
			 */
			sonde_ctfw_stream_stats(st, &stats);
			if (stats.packets &&
			    (o->lost_mixed ? ((x >> 40) & 3) != 0
					   : cpu % 2 == 0)) {
				sonde_ctfw_stream_discard_events(
					st, 1 + ((x >> 44) & 127));
			} else if (stats.packets && ((x >> 40) & 3) == 0) {
				rc = sonde_ctfw_stream_lose_packets(
					st, 1 + ((x >> 44) & 3), err);
				if (rc)
					goto out;
			}
		}
		rc = sonde_ctfw_stream_event_begin(st, id, ts, &c, err);
		if (rc)
			goto out;
		if (o->context) {
			/* The task running on this CPU, from the same
			 * random stream as the payload. */
			uint32_t task = tid(&r);

			sonde_ctfw_put_u32(c, task / 4 * 4);
			sonde_ctfw_put_u32(c, task);
			put_comm_n(c, &r, o->ust ? 17 : 16);
		}
		put_payload(c, &r, id, cpu, o->streams);
		rc = sonde_ctfw_stream_event_commit(st, err);
		if (rc)
			goto out;
	}
	t->events = o->events;
out:
	for (s = 0; streams && s < nstreams; s++) {
		struct sonde_ctfw_stream_stats stats;

		if (!streams[s])
			continue;
		rc2 = sonde_ctfw_stream_close(streams[s], ts + 1, &stats,
					      rc ? NULL : err);
		rc = rc ? rc : rc2;
		t->discarded += stats.events_discarded;
		t->packets_lost += stats.packets_lost;
		t->packets += stats.packets;
		t->bytes += stats.bytes;
	}
	rc2 = sonde_ctfw_writer_close(w, rc ? NULL : err);
	rc = rc ? rc : rc2;
	free(streams);
	free(mix);
	sonde_ctfw_trace_class_free(tc);
	return rc;
}

/* Command line ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: sonde-gen -o DIR [options]\n"
	      "Writes a synthetic LTTng-kernel-like CTF 1.8 trace into DIR.\n"
	      "\n"
	      "  -o, --output DIR        trace directory (created if needed)\n"
	      "  -n, --events N          number of events (default 10000)\n"
	      "  -s, --streams K         number of streams/CPUs, 1-1024 (default 4)\n"
	      "      --channels C        channels (stream classes), 1-16, each with\n"
	      "                          K stream files channel<c>_<cpu> (default 1)\n"
	      "      --seed S            random seed; same seed, same trace (default 1)\n"
	      "      --big-endian        big-endian trace (default little-endian)\n"
	      "      --plain-metadata    plain-text metadata (default packetized)\n"
	      "      --no-index          do not write index/*.idx\n"
	      "      --lost              discarded events (even CPUs) and lost packets\n"
	      "                          (odd CPUs), as discard/overwrite channels\n"
	      "      --lost-mixed        both kinds of loss on every CPU, so that a\n"
	      "                          packet can show both (babeltrace 1.5 then\n"
	      "                          reports only its discarded events)\n"
	      "      --packet-size KIB   packet size in KiB, 4-65536 (default 64)\n"
	      "      --header TYPE       event header: compact (default) or large\n"
	      "      --big-gap-every N   one gap > 2^27 ns every ~N events, 0 = never\n"
	      "                          (default 5000)\n"
	      "      --append-metadata   declare one event class halfway through and\n"
	      "                          append it to the metadata, as live tracing does\n"
	      "      --context           stream event context: pid, tid, procname\n"
	      "                          (with --ust: vpid, vtid, procname[17])\n"
	      "      --ust               an lttng-ust 2.13 per-UID trace: UST env,\n"
	      "                          large headers, 'sonde_gen:' names, loglevels\n"
	      "      --force             replace a trace sonde-gen wrote in DIR before\n"
	      "                          (DIR must otherwise be new or empty)\n"
	      "      --ust-pid           --ust with per-PID buffers (env procname,\n"
	      "                          vpid: printed after the hostname)\n"
	      "  -q, --quiet             print no summary\n"
	      "  -h, --help              show this help\n"
	      "\n"
	      "On success prints: events=N discarded_events=D lost_packets=P packets=K bytes=B\n",
	      f);
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v < min || v > max) {
		fprintf(stderr,
			"sonde-gen: error: %s: '%s' is not an integer in [%" PRIu64
			", %" PRIu64 "]\n",
			opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

enum {
	OPT_SEED = 256,
	OPT_BIG_ENDIAN,
	OPT_PLAIN,
	OPT_NO_INDEX,
	OPT_LOST,
	OPT_PACKET_SIZE,
	OPT_HEADER,
	OPT_BIG_GAP,
	OPT_APPEND_METADATA,
	OPT_CONTEXT,
	OPT_UST,
	OPT_FORCE,
	OPT_CHANNELS,
	OPT_LOST_MIXED,
	OPT_UST_PID,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'n' },
		{ "streams", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "big-endian", no_argument, NULL, OPT_BIG_ENDIAN },
		{ "plain-metadata", no_argument, NULL, OPT_PLAIN },
		{ "no-index", no_argument, NULL, OPT_NO_INDEX },
		{ "lost", no_argument, NULL, OPT_LOST },
		{ "packet-size", required_argument, NULL, OPT_PACKET_SIZE },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "big-gap-every", required_argument, NULL, OPT_BIG_GAP },
		{ "append-metadata", no_argument, NULL, OPT_APPEND_METADATA },
		{ "context", no_argument, NULL, OPT_CONTEXT },
		{ "ust", no_argument, NULL, OPT_UST },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "channels", required_argument, NULL, OPT_CHANNELS },
		{ "lost-mixed", no_argument, NULL, OPT_LOST_MIXED },
		{ "ust-pid", no_argument, NULL, OPT_UST_PID },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_opts o = {
		.events = 10000,
		.streams = 4,
		.channels = 1,
		.seed = 1,
		.packet_kib = 64,
		.big_gap_every = 5000,
	};
	struct sonde_error err = { 0 };
	struct totals t = { 0 };
	uint64_t v;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":o:n:s:qh", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'o':
			o.output = optarg;
			break;
		case 'n':
			if (parse_u64("--events", optarg, 0, UINT64_MAX / 2,
				      &o.events))
				return 2;
			break;
		case 's':
			if (parse_u64("--streams", optarg, 1, MAX_STREAMS, &v))
				return 2;
			o.streams = (uint32_t)v;
			break;
		case OPT_SEED:
			if (parse_u64("--seed", optarg, 0, UINT64_MAX, &o.seed))
				return 2;
			break;
		case OPT_BIG_ENDIAN:
			o.big_endian = true;
			break;
		case OPT_PLAIN:
			o.plain_metadata = true;
			break;
		case OPT_NO_INDEX:
			o.no_index = true;
			break;
		case OPT_LOST:
			o.lost = true;
			break;
		case OPT_PACKET_SIZE:
			if (parse_u64("--packet-size", optarg, 4, 65536,
				      &o.packet_kib))
				return 2;
			break;
		case OPT_HEADER:
			if (!strcmp(optarg, "compact")) {
				o.large_header = false;
			} else if (!strcmp(optarg, "large")) {
				o.large_header = true;
			} else {
				fprintf(stderr,
					"sonde-gen: error: --header: '%s' is not "
					"'compact' or 'large'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_BIG_GAP:
			if (parse_u64("--big-gap-every", optarg, 0, 1u << 22,
				      &o.big_gap_every))
				return 2;
			break;
		case OPT_APPEND_METADATA:
			o.append_metadata = true;
			break;
		case OPT_CONTEXT:
			o.context = true;
			break;
		case OPT_UST:
			o.ust = true;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case OPT_UST_PID:
			o.ust = o.ust_pid = true;
			break;
		case OPT_LOST_MIXED:
			o.lost = o.lost_mixed = true;
			break;
		case OPT_CHANNELS:
			if (parse_u64("--channels", optarg, 1, 16, &v))
				return 2;
			o.channels = (uint32_t)v;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr,
				"sonde-gen: error: option '%s' needs a value "
				"(try --help)\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				"sonde-gen: error: unknown option '%s' (try --help)\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"sonde-gen: error: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return 2;
	}
	if (!o.output) {
		fprintf(stderr,
			"sonde-gen: error: no output directory (use -o DIR; try --help)\n");
		return 2;
	}
	if (generate(&o, &t, &err)) {
		fprintf(stderr, "sonde-gen: error: %s\n", err.msg);
		return 1;
	}
	if (!o.quiet)
		printf("events=%" PRIu64 " discarded_events=%" PRIu64
		       " lost_packets=%" PRIu64 " packets=%" PRIu64
		       " bytes=%" PRIu64 "\n",
		       t.events, t.discarded, t.packets_lost, t.packets,
		       t.bytes);
	return 0;
}
