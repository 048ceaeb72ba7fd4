/*
 * The eBPF fast path: loading and attaching the programs of kbpf.bpf.c,
 * their per-syscall configuration, and the consumer that turns the
 * records of the per-CPU buffers into CTF packets (see kbpf.h and
 * docs/internals/ebpf.md).
 *
 * Threads: the session's (create, enable, start, stop, free) and, between
 * start and stop, one consumer for every CPU's buffer.  They share only the
 * sinks' statistics (relaxed atomics in sink.c) and the stop word.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <linux/types.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/bpf/kbpf-abi.h"
#include "kernel/bpf/kbpf.h"
#include "kernel/bpf/kbpf.skel.h"

struct kbpf_syscall_nr {
	const char *name;
	int nr;
};

#include "kernel/bpf/syscall-nr.h"

#define RING_MIN (64u * 1024u)
/* The programs' offsets into an element stay under the verifier's limit on
 * variable offsets (512 MiB); a kernel that will not allocate that much
 * fails the load, and the session falls back to ftrace, saying why. */
#define RING_MAX (256u << 20)
/* The consumer looks at the buffers every POLL_MS_BUSY ms while they fill
 * by more than an eighth between looks, else every POLL_MS_IDLE ms or when
 * a program wakes it (a buffer a quarter full).  At 4 M events/s of ~28
 * bytes, 2 ms is 220 KiB. */
#define POLL_MS_BUSY 2
#define POLL_MS_IDLE 50

struct kbpf_cpu {
	struct kbpf_buf *buf; /* in the mapping */
	struct ksink *sink;
	uint64_t lost_seen;
};

struct syscall_slot {
	struct kbpf_syscall cfg; /* ids filled in when pushed */
	const uint32_t *entry_id, *exit_id;
};

struct kbpf {
	struct kbpf_bpf *skel;
	unsigned int ncpus;
	uint64_t ring_bytes;
	size_t elem_size, map_size;
	uint8_t *map; /* the bufs array, mapped */
	struct kbpf_cpu *cpus;
	int wake_fd;		  /* stop requests */
	struct ring_buffer *wake; /* the programs' wake-ups */

	struct syscall_slot sys[KBPF_MAX_SYSCALLS];
	const uint32_t *switch_id;
	bool switch_on;
	struct bpf_link *enter_link, *exit_link, *switch_link;

	bool streams_open, started;
	uint64_t switch_timer_us;
	const struct sonde_kernel_output_hook *hook;
	uint32_t instance_base;
	pthread_t thread;
	_Atomic bool stop;
	int thread_error;
	struct sonde_error thread_err;
};

static uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* libbpf's messages (verifier logs) would go to the daemon's stderr; the
 * reason of a failure reaches `sonde status` through errno instead. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int load_error(struct sonde_error *err, const char *what, int e)
{
	if (e == EPERM)
		return sonde_error_set(err, SONDE_EIO,
				       "%s: permission denied (eBPF needs "
				       "root, or CAP_BPF and CAP_PERFMON)",
				       what);
	if (e == EACCES) /* the verifier's answer */
		return sonde_error_set(err, SONDE_EIO,
				       "%s: refused by this kernel's verifier",
				       what);
	return sonde_error_set(err, SONDE_EIO, "%s: %s", what, strerror(e));
}

static uint64_t ring_size(uint64_t bytes)
{
	uint64_t n = RING_MIN;

	while (n < bytes && n < RING_MAX)
		n <<= 1;
	return n;
}

static uint64_t consume_cpu(struct kbpf *b, struct kbpf_cpu *c)
{
	return kbpf_consume(c->buf, b->ring_bytes, c->sink, &c->lost_seen);
}

static int ignore_wake(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

int kbpf_create(const struct kbpf_config *cfg, struct kbpf **out,
		struct sonde_error *err)
{
	struct kbpf *b;
	unsigned int i;
	int n, ret;

	*out = NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
		return sonde_error_set(err, SONDE_EIO, "no kernel BTF (%s)",
				       "/sys/kernel/btf/vmlinux");
	if (cfg->ring_bytes > RING_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "the channel's %" PRIu64 " bytes per CPU "
				       "are over the %u eBPF takes",
				       cfg->ring_bytes, RING_MAX);
	n = libbpf_num_possible_cpus();
	if (n <= 0)
		return sonde_error_set(err, SONDE_EIO,
				       "cannot count the possible CPUs");
	b = calloc(1, sizeof(*b));
	if (!b)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	b->wake_fd = -1;
	b->ncpus = (unsigned int)n;
	b->ring_bytes = ring_size(cfg->ring_bytes);
	b->elem_size = sizeof(struct kbpf_buf) + b->ring_bytes + KBPF_REC_MAX;
	b->cpus = calloc(b->ncpus, sizeof(*b->cpus));
	if (!b->cpus) {
		ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		goto fail;
	}

	libbpf_set_print(libbpf_quiet);
	b->skel = kbpf_bpf__open();
	if (!b->skel) {
		ret = load_error(err, "eBPF programs: open", errno);
		goto fail;
	}
	b->skel->rodata->own_tgid = cfg->own_tgid;
	b->skel->rodata->ring_size = b->ring_bytes;
	b->skel->rodata->wake_mark = b->ring_bytes / 4;
	if (bpf_map__set_max_entries(b->skel->maps.bufs, b->ncpus) ||
	    bpf_map__set_value_size(b->skel->maps.bufs,
				    (uint32_t)b->elem_size)) {
		ret = load_error(err, "eBPF buffers", errno);
		goto fail;
	}
	if (kbpf_bpf__load(b->skel)) {
		ret = load_error(err, "eBPF programs: load", errno);
		goto fail;
	}
	/* array elements are 8-byte aligned, the mapping page-rounded */
	b->elem_size = (b->elem_size + 7) & ~(size_t)7;
	b->map_size = (b->elem_size * b->ncpus + (size_t)getpagesize() - 1) &
		      ~((size_t)getpagesize() - 1);
	b->map = mmap(NULL, b->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(b->skel->maps.bufs), 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		ret = load_error(err, "eBPF buffers: mmap", errno);
		goto fail;
	}
	for (i = 0; i < b->ncpus; i++)
		b->cpus[i].buf = (struct kbpf_buf *)(b->map + i * b->elem_size);
	b->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b->wake = ring_buffer__new(bpf_map__fd(b->skel->maps.wake), ignore_wake,
				   NULL, NULL);
	if (b->wake_fd < 0 || !b->wake) {
		ret = load_error(err, "eBPF consumer", errno);
		goto fail;
	}
	*out = b;
	return 0;
fail:
	kbpf_free(b);
	return ret;
}

static void detach(struct bpf_link **l)
{
	if (*l) {
		bpf_link__destroy(*l);
		*l = NULL;
	}
}

void kbpf_free(struct kbpf *b)
{
	unsigned int i;

	if (!b)
		return;
	if (b->started)
		kbpf_stop(b, now_mono(), NULL);
	detach(&b->enter_link);
	detach(&b->exit_link);
	detach(&b->switch_link);
	for (i = 0; b->cpus && i < b->ncpus; i++)
		ksink_free(b->cpus[i].sink);
	ring_buffer__free(b->wake);
	if (b->map)
		munmap(b->map, b->map_size);
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	kbpf_bpf__destroy(b->skel);
	free(b->cpus);
	free(b);
}

/* Events ------------------------------------------------------------------- */

/* The syscall number of a syscalls:sys_enter_X / sys_exit_X event, -1 if
 * this build does not know it (the event then goes through ftrace). */
static int syscall_nr(const char *name)
{
	static const char *const aliases[][2] = {
		{ "umount", "umount2" },
		{ "sendfile64", "sendfile" },
	};
	size_t i;

	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(name, aliases[i][0]) == 0)
			name = aliases[i][1];
	for (i = 0; i < sizeof(kbpf_syscall_nrs) / sizeof(kbpf_syscall_nrs[0]);
	     i++)
		if (strcmp(kbpf_syscall_nrs[i].name, name) == 0)
			return kbpf_syscall_nrs[i].nr < KBPF_MAX_SYSCALLS
				       ? kbpf_syscall_nrs[i].nr
				       : -1;
	/* SYSCALL_DEFINE(newstat...) is __NR_stat */
	if (strncmp(name, "new", 3) == 0)
		return syscall_nr(name + 3);
	return -1;
}

/* -1: not a syscall event; else the number, *entry set. */
static int syscall_of(const char *system, const char *event, bool *entry)
{
	if (strcmp(system, "syscalls") != 0)
		return -1;
	if (strncmp(event, "sys_enter_", 10) == 0) {
		*entry = true;
		return syscall_nr(event + 10);
	}
	if (strncmp(event, "sys_exit_", 9) == 0) {
		*entry = false;
		return syscall_nr(event + 9);
	}
	return -1;
}

bool kbpf_handles(const struct kbpf *b, const char *system, const char *event)
{
	bool entry;

	if (!b)
		return false;
	if (strcmp(system, "sched") == 0 && strcmp(event, "sched_switch") == 0)
		return true;
	return syscall_of(system, event, &entry) >= 0;
}

/* lttng-modules records these `char *` arguments as user strings. */
static bool is_user_string(const struct kfmt_field *f)
{
	static const char *const names[] = {
		"filename", "pathname",	   "oldname",	"newname",  "path",
		"name",	    "specialfile", "library",	"dev_name", "dir_name",
		"type",	    "uname",	   "name_user",
	};
	size_t i;

	if (strcmp(f->type, "const char *") != 0 &&
	    strcmp(f->type, "char *") != 0)
		return false;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(f->name, names[i]) == 0)
			return true;
	return false;
}

void kbpf_prepare(const struct kbpf *b, const struct kfmt_event *fmt,
		  struct kmap_event *m)
{
	unsigned int strings = 0;
	size_t out = 0;
	uint32_t i;
	bool entry;

	if (!b || syscall_of(fmt->system, fmt->name, &entry) < 0 || !entry)
		return;
	/* map.c keeps every argument in order and drops __syscall_nr */
	for (i = 0; i < fmt->nr_fields; i++) {
		const struct kfmt_field *f = &fmt->fields[i];

		if (strcmp(f->name, "__syscall_nr") == 0)
			continue;
		if (is_user_string(f) && strings < KBPF_MAX_STRINGS) {
			kmap_set_string(m, out);
			strings++;
		}
		out++;
	}
}

static struct kbpf_syscall syscall_entry(const struct kbpf *b,
					  unsigned int nr)
{
	const struct syscall_slot *s = &b->sys[nr];
	struct kbpf_syscall v = s->cfg;

	v.entry_id = s->entry_id ? *s->entry_id : 0;
	v.exit_id = s->exit_id ? *s->exit_id : 0;
	return v;
}

static int push_syscall(struct kbpf *b, unsigned int nr,
			struct sonde_error *err)
{
	struct kbpf_syscall v = syscall_entry(b, nr);
	__u32 key = nr;

	if (bpf_map_update_elem(bpf_map__fd(b->skel->maps.syscalls), &key, &v,
				BPF_ANY))
		return load_error(err, "eBPF syscall table", errno);
	return 0;
}

/* The whole table, in one call where the kernel takes batches: one bpf()
 * per syscall was a third of a millisecond of every start.  Entries off
 * are written too, so that none stays on from an earlier start. */
static int push_syscalls(struct kbpf *b, struct sonde_error *err)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct kbpf_syscall v[KBPF_MAX_SYSCALLS];
	__u32 keys[KBPF_MAX_SYSCALLS], n = KBPF_MAX_SYSCALLS, i;
	int ret;

	for (i = 0; i < KBPF_MAX_SYSCALLS; i++) {
		keys[i] = i;
		v[i] = syscall_entry(b, i);
	}
	if (bpf_map_update_batch(bpf_map__fd(b->skel->maps.syscalls), keys, v,
				 &n, &opts) == 0)
		return 0;
	for (i = 0; i < KBPF_MAX_SYSCALLS; i++) {
		ret = push_syscall(b, i, err);
		if (ret)
			return ret;
	}
	return 0;
}

static int attach(struct bpf_program *p, struct bpf_link **l,
		  struct sonde_error *err)
{
	if (*l)
		return 0;
	*l = bpf_program__attach(p);
	if (!*l)
		return load_error(err, bpf_program__name(p), errno);
	return 0;
}

static bool any_syscall(const struct kbpf *b)
{
	unsigned int i;

	for (i = 0; i < KBPF_MAX_SYSCALLS; i++)
		if (b->sys[i].cfg.entry_on || b->sys[i].cfg.exit_on)
			return true;
	return false;
}

/* Attaches what the enabled events need, detaches the rest: an unused
 * syscall tracepoint would still slow every syscall of the machine. */
static int attach_needed(struct kbpf *b, struct sonde_error *err)
{
	int ret = 0;

	if (b->switch_on && b->switch_id) {
		b->skel->bss->sched_switch_id = *b->switch_id;
		b->skel->bss->sched_switch_on = true;
		ret = attach(b->skel->progs.kbpf_sched_switch, &b->switch_link,
			     err);
	} else {
		b->skel->bss->sched_switch_on = false;
		detach(&b->switch_link);
	}
	if (!ret && any_syscall(b)) {
		ret = attach(b->skel->progs.kbpf_sys_enter, &b->enter_link,
			     err);
		if (!ret)
			ret = attach(b->skel->progs.kbpf_sys_exit,
				     &b->exit_link, err);
	} else if (!ret) {
		detach(&b->enter_link);
		detach(&b->exit_link);
	}
	return ret;
}

int kbpf_enable(struct kbpf *b, const char *system, const char *event,
		const struct kmap_event *m, const uint32_t *ctf_id, bool on,
		struct sonde_error *err)
{
	struct syscall_slot *s;
	bool entry;
	int nr, ret;

	if (strcmp(system, "sched") == 0 &&
	    strcmp(event, "sched_switch") == 0) {
		b->switch_id = ctf_id;
		b->switch_on = on;
		return b->started ? attach_needed(b, err) : 0;
	}
	nr = syscall_of(system, event, &entry);
	if (nr < 0)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s:%s: not an eBPF event", system,
				       event);
	s = &b->sys[nr];
	if (entry) {
		const struct sonde_ctfw_field *f;
		size_t count, i;

		f = kmap_fields(m, &count);
		if (count > KBPF_MAX_ARGS)
			return sonde_error_set(err, SONDE_EINVAL,
					       "%s: %zu arguments", event,
					       count);
		s->cfg.nargs = (uint8_t)count;
		s->cfg.strings = 0;
		for (i = 0; i < count; i++) {
			if (f[i].kind == SONDE_CTFW_FIELD_STRING) {
				s->cfg.size[i] = KBPF_ARG_STRING;
				s->cfg.strings = 1;
			} else {
				s->cfg.size[i] = f[i].integer.size / 8;
			}
		}
		s->entry_id = ctf_id;
		s->cfg.entry_on = on;
	} else {
		s->exit_id = ctf_id;
		s->cfg.exit_on = on;
	}
	if (!b->started)
		return 0;
	ret = push_syscall(b, (unsigned int)nr, err);
	return ret ? ret : attach_needed(b, err);
}

/* Trackers ----------------------------------------------------------------- */

union track_key {
	__u32 id32;
	__u64 id64;
	struct kbpf_comm comm;
};

static struct bpf_map *track_map(struct kbpf *b, enum sonde_kernel_tracker a)
{
	switch (a) {
	case SONDE_KERNEL_TRACK_PID:
		return b->skel->maps.track_pid;
	case SONDE_KERNEL_TRACK_UID:
		return b->skel->maps.track_uid;
	case SONDE_KERNEL_TRACK_GID:
		return b->skel->maps.track_gid;
	case SONDE_KERNEL_TRACK_PROCNAME:
		return b->skel->maps.track_comm;
	default:
		return b->skel->maps.track_cgroup;
	}
}

static void track_key(enum sonde_kernel_tracker a, const uint64_t *ids,
		      const char *const *names, size_t i, union track_key *k)
{
	memset(k, 0, sizeof(*k));
	if (a == SONDE_KERNEL_TRACK_PROCNAME)
		strncpy(k->comm.name, names[i], sizeof(k->comm.name) - 1);
	else if (a == SONDE_KERNEL_TRACK_CGROUP)
		k->id64 = ids[i];
	else
		k->id32 = (__u32)ids[i];
}

int kbpf_track(struct kbpf *b, enum sonde_kernel_tracker attr, bool all,
	       const uint64_t *ids, const char *const *names, size_t n,
	       struct sonde_error *err)
{
	int fd = bpf_map__fd(track_map(b, attr));
	size_t ksize = bpf_map__key_size(track_map(b, attr)), nold = 0, i, j;
	union track_key k, next, *old;
	__u32 bit = 1u << attr;
	bool first = true;
	__u8 one = 1;
	int ret = 0;

	if (n > KBPF_TRACK_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%zu values in a set, over %d", n,
				       KBPF_TRACK_MAX);
	/* The new values go in before the old ones leave, and the bit is
	 * cleared before the map empties: events of values in both sets are
	 * recorded throughout. */
	if (all)
		__atomic_fetch_and(&b->skel->bss->track_on, ~bit,
				   __ATOMIC_SEQ_CST);
	for (i = 0; !all && i < n; i++) {
		track_key(attr, ids, names, i, &k);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY))
			return load_error(err, "eBPF tracker map", errno);
	}
	old = calloc(KBPF_TRACK_MAX, sizeof(*old));
	if (!old)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	memset(&k, 0, sizeof(k));
	memset(&next, 0, sizeof(next));
	while (nold < KBPF_TRACK_MAX &&
	       bpf_map_get_next_key(fd, first ? NULL : &k, &next) == 0) {
		bool keep = false;

		first = false;
		for (j = 0; !all && j < n && !keep; j++) {
			union track_key want;

			track_key(attr, ids, names, j, &want);
			keep = memcmp(&want, &next, ksize) == 0;
		}
		if (!keep)
			old[nold++] = next;
		k = next;
	}
	for (i = 0; i < nold; i++)
		if (bpf_map_delete_elem(fd, &old[i]) && errno != ENOENT) {
			ret = load_error(err, "eBPF tracker map", errno);
			break;
		}
	free(old);
	if (!ret && !all)
		__atomic_fetch_or(&b->skel->bss->track_on, bit,
				  __ATOMIC_SEQ_CST);
	return ret;
}

/* Consumer ------------------------------------------------------------------ */

/*
 * Closes the CPU's open packet; a CPU that had no packet to close tells
 * live viewers up to when it has nothing (as the ftrace consumer does):
 * the time of the pass, less a margin for a program still between
 * reserving and committing, never before the stream's last event.
 */
static void switch_timer_tick(struct kbpf *b, struct kbpf_cpu *c,
			      uint64_t drained_at)
{
	uint64_t packets = ksink_packets(c->sink), ts;

	ksink_flush(c->sink, ksink_last_ts(c->sink), NULL);
	if (!b->hook || !b->hook->idle || packets != ksink_packets(c->sink))
		return;
	ts = drained_at > 1000000u ? drained_at - 1000000u : 0;
	if (ts < ksink_last_ts(c->sink))
		ts = ksink_last_ts(c->sink);
	b->hook->idle(b->hook->arg, b->instance_base + (uint32_t)(c - b->cpus),
		      ts);
}

static void *consumer_main(void *arg)
{
	struct kbpf *b = arg;
	uint64_t last_flush = now_mono(), drained_at;
	unsigned int i;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = b->wake_fd, .events = POLLIN },
			{ .fd = ring_buffer__epoll_fd(b->wake),
			  .events = POLLIN },
		};
		bool stop = atomic_load(&b->stop), busy = false;
		int timeout;

		ring_buffer__consume(b->wake);
		drained_at = now_mono();
		for (i = 0; i < b->ncpus; i++)
			if (consume_cpu(b, &b->cpus[i]) > b->ring_bytes / 8)
				busy = true;
		if (stop)
			break;
		if (b->switch_timer_us &&
		    now_mono() - last_flush >= b->switch_timer_us * 1000) {
			for (i = 0; i < b->ncpus; i++)
				switch_timer_tick(b, &b->cpus[i], drained_at);
			last_flush = now_mono();
		}
		timeout = busy ? POLL_MS_BUSY : POLL_MS_IDLE;
		if (b->switch_timer_us &&
		    b->switch_timer_us / 1000 < (uint64_t)timeout)
			timeout = (int)(b->switch_timer_us / 1000) + 1;
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			b->thread_error = load_error(
				&b->thread_err, "eBPF consumer: poll", errno);
			break;
		}
	}
	return NULL;
}

/* Start and stop -------------------------------------------------------------- */

static int open_streams(struct kbpf *b, const struct kbpf_output *o,
			struct sonde_error *err)
{
	char path[1400];
	unsigned int i;
	int ret;

	for (i = 0; i < b->ncpus; i++) {
		struct ksink_opts so = { 0 };

		so.uuid = o->uuid;
		so.bo = o->bo;
		so.header = o->header;
		so.cpu = i;
		so.instance_base = o->instance_base;
		so.packet_size = o->packet_size;
		so.hook = o->hook;
		snprintf(path, sizeof(path), "%s/ebpf_%u", o->dir, i);
		so.stream_fd = open(
			path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (so.stream_fd < 0)
			return load_error(err, path, errno);
		snprintf(path, sizeof(path), "%s/index/ebpf_%u.idx", o->dir, i);
		so.index_fd = open(
			path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (so.index_fd < 0) {
			ret = load_error(err, path, errno);
			close(so.stream_fd);
			return ret;
		}
		ret = ksink_create(&so, &b->cpus[i].sink, err);
		if (ret)
			return ret;
	}
	b->streams_open = true;
	return 0;
}

int kbpf_start(struct kbpf *b, const struct kbpf_output *o,
	       struct sonde_error *err)
{
	unsigned int i;
	int ret;

	if (b->started)
		return 0;
	if (!b->streams_open) {
		ret = open_streams(b, o, err);
		if (ret)
			return ret;
	}
	b->switch_timer_us = o->switch_timer_us;
	b->hook = o->hook;
	b->instance_base = o->instance_base;
	for (i = 0; i < b->ncpus; i++)
		b->cpus[i].buf->current = 0; /* unknown until a switch */
	ret = push_syscalls(b, err);
	if (ret)
		return ret;
	atomic_store(&b->stop, false);
	b->thread_error = 0;
	if (pthread_create(&b->thread, NULL, consumer_main, b))
		return sonde_error_set(err, SONDE_EIO,
				       "eBPF consumer: cannot start a thread");
	b->started = true;
	ret = attach_needed(b, err);
	if (ret)
		kbpf_stop(b, now_mono(), NULL);
	return ret;
}

int kbpf_stop(struct kbpf *b, uint64_t end, struct sonde_error *err)
{
	unsigned int i;
	int ret = 0;

	if (!b->started)
		return 0;
	detach(&b->enter_link);
	detach(&b->exit_link);
	detach(&b->switch_link);
	atomic_store(&b->stop, true);
	eventfd_write(b->wake_fd, 1);
	pthread_join(b->thread, NULL);
	eventfd_read(b->wake_fd, &(eventfd_t){ 0 });
	b->started = false;
	if (b->thread_error) {
		ret = b->thread_error;
		if (err)
			*err = b->thread_err;
	}
	for (i = 0; i < b->ncpus; i++) {
		int r = ksink_close(b->cpus[i].sink, end, err);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

void kbpf_add_stats(const struct kbpf *b, struct sonde_kernel_stats *st)
{
	unsigned int i;

	for (i = 0; b && i < b->ncpus; i++) {
		struct ksink_stats k;

		if (!b->cpus[i].sink)
			continue;
		ksink_get_stats(b->cpus[i].sink, &k);
		st->events_recorded += k.events;
		st->events_discarded += k.discarded;
		st->packets_lost += k.packets_lost;
		st->bytes_written += k.bytes;
		st->switches_repaired += b->cpus[i].buf->repaired;
	}
}
