/*
 * A kernel tracing session on a private ftrace instance (see kernel.h and
 * docs/internals/kernel.md).
 *
 * Threads: the caller's (create, enable, start, stop, snapshot, destroy)
 * and, between start and stop, one consumer per CPU.  They share:
 *   - the event table, indexed by ftrace event id: an entry is filled in
 *     completely (compiled map, CTF id) before its pointer is published
 *     with a release store, and consumers load it with acquire;
 *   - per consumer, a request word (stop, snapshot flush) and an eventfd
 *     that wakes it from poll(); snapshot requests are acknowledged under
 *     the session mutex.
 * Everything else belongs to one thread at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/stream-file.h"
#include "kernel/bpf/kbpf.h"
#include "kernel/kernel-internal.h"
#include "kernel/kernel.h"

#define KERNEL_MAX_EVENT_ID 65536u
#define DEFAULT_SUBBUF_SIZE (256u * 1024u)
#define DEFAULT_NUM_SUBBUF 8u
#define FTRACE_SUBBUF_MAX (64u * 1024u)
#define POLL_MS_MAX 200

struct kevent {
	struct kmap_event *map;
	struct kswitch_repair *repair; /* sched:sched_switch only */
	uint32_t ctf_id;
	char system[KFMT_NAME_MAX];
	char name[KFMT_NAME_MAX];
};

/* Consumer-side trackers (uid, gid, cgroup); `lock` makes the consumers
 * read a set the session's thread is not changing. */
#define PROC_SETS 3 /* UID, GID, CGROUP */
struct proc_track {
	pthread_mutex_t lock;
	bool on[PROC_SETS];
	size_t n[PROC_SETS];
	uint64_t ids[PROC_SETS][SONDE_KERNEL_TRACK_MAX];
	char cgroup_root[512];
};

/* A consumer's cache of which tasks are in the sets: /proc is read once
 * per task, per set change and per second (a tid may be reused). */
#define VERDICTS 1024u /* power of two */
#define VERDICT_NS 1000000000u
struct proc_verdict {
	int32_t tid;
	uint32_t gen;
	uint64_t ts;
	bool in;
};

struct consumer {
	struct sonde_kernel_session *s;
	unsigned int cpu;
	pthread_t thread;
	bool started;
	int pipe_fd, stats_fd, wake_fd;
	_Atomic int tid; /* its thread id, for dropping our own syscalls */
	struct ksink *sink;
	uint8_t *page;
	uint64_t kernel_lost; /* overrun + dropped seen so far */
	struct proc_verdict *verdicts; /* [VERDICTS]: tasks in proc_track */
	int32_t current_tid;  /* per sched_switch; -1 unknown */
	uint64_t idle_ts;     /* last record while idle */
	_Atomic uint64_t switches_repaired; /* read live by get_stats */
	_Atomic unsigned int stop;
	_Atomic uint64_t flush_req; /* snapshot generation asked */
	uint64_t flush_done;	    /* under s->lock */
	int error;
	struct sonde_error err;
};

struct sonde_kernel_session {
	char *name;
	char *output_dir;
	bool snapshot_mode;
	struct sonde_kernel_channel_config ch;
	char tracefs[256];
	char instance[512];
	int free_buffer_fd;
	unsigned int ncpus;
	size_t ftrace_subbuf;

	_Atomic(struct kevent *) *events; /* [KERNEL_MAX_EVENT_ID] */
	_Atomic(struct kevent *) sched_switch; /* published after events[] */
	struct kevent **declared;	  /* in CTF id order */
	size_t ndeclared, cap_declared;

	struct sonde_ctfw_trace_class *tc;
	size_t metadata_written;
	int metadata_fd;
	char kernel_dir[600];
	uint32_t sd_first_id;

	struct sonde_kernel_output_hook hook;  /* all NULL: none */
	struct consumer *consumers;
	bool started;
	bool stopped;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t flush_gen;

	struct kbpf *bpf;     /* NULL: ftrace records everything */
	char bpf_why[SONDE_ERROR_MSG_MAX]; /* why not, for sonde status */

	/* the trackers' ftrace side: sets that hold nothing, and the event
	 * filter of the process-name set ("" for every name) */
	bool track_none[SONDE_KERNEL_TRACK_COUNT];
	char *comm_filter, *comm_switch_filter;
	/* the uid, gid and cgroup sets ftrace cannot filter: its consumers
	 * do, from /proc; proc_gen changes with them, 0 when none is on */
	struct proc_track *proc;
	_Atomic uint32_t proc_gen;
	uint32_t proc_gens;
};

static uint64_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* tracefs files ------------------------------------------------------------ */

static int io_error(struct sonde_error *err, const char *path, const char *op,
		    int e)
{
	if (e == EACCES || e == EPERM)
		return sonde_error_set(err, SONDE_EIO,
				       "%s: %s: permission denied (kernel "
				       "tracing needs root)", path, op);
	return sonde_error_set(err, SONDE_EIO, "%s: %s: %s", path, op,
			       strerror(e));
}

static int write_file(const char *path, const char *value,
		      struct sonde_error *err)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	size_t n = strlen(value);
	ssize_t w;
	int e;

	if (fd < 0)
		return io_error(err, path, "open", errno);
	w = write(fd, value, n);
	e = errno;
	close(fd);
	if (w != (ssize_t)n)
		return io_error(err, path, "write", w < 0 ? e : EIO);
	return 0;
}

static int writef(struct sonde_kernel_session *s, const char *rel,
		  const char *value, struct sonde_error *err)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", s->instance, rel);
	return write_file(path, value, err);
}

/* Whole file into a malloc'd NUL-terminated buffer. */
static int read_file(const char *path, char **out, size_t *len,
		     struct sonde_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	char *buf;

	*out = NULL;
	if (fd < 0)
		return io_error(err, path, "open", errno);
	buf = malloc(cap);
	while (buf) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = cap > (64u << 20) ? NULL :
						       realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return io_error(err, path, "read", e);
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
				       path);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The tracefs mount point, mounting it on /sys/kernel/tracing if needed. */
static int find_tracefs(const char *hint, char *out, size_t size,
			struct sonde_error *err)
{
	static const char *const candidates[] = {
		"/sys/kernel/tracing",
		"/sys/kernel/debug/tracing",
	};
	char probe[512];
	size_t i;

	if (hint) {
		snprintf(probe, sizeof(probe), "%s/instances", hint);
		if (!is_dir(probe))
			return sonde_error_set(err, SONDE_ENOENT,
					       "%s: not a tracefs mount (no "
					       "instances/)", hint);
		snprintf(out, size, "%s", hint);
		return 0;
	}
	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		snprintf(probe, sizeof(probe), "%s/instances", candidates[i]);
		if (is_dir(probe)) {
			snprintf(out, size, "%s", candidates[i]);
			return 0;
		}
	}
	if (mount("nodev", candidates[0], "tracefs", 0, NULL) < 0) {
		int e = errno;

		return sonde_error_set(err, SONDE_EIO,
				       "tracefs is not mounted and mounting "
				       "it on %s failed: %s%s", candidates[0],
				       strerror(e),
				       e == EPERM || e == EACCES ?
					       " (kernel tracing needs root)" :
					       "");
	}
	snprintf(out, size, "%s", candidates[0]);
	return 0;
}

/* Removes instances/sonde-*-<pid> left by sessions whose process died. */
static void remove_stale_instances(const char *tracefs)
{
	char dir[512], path[1024];
	DIR *d;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/instances", tracefs);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *dash = strrchr(de->d_name, '-');
		char *end;
		long pid;

		if (strncmp(de->d_name, "sonde-", 6) != 0 || !dash)
			continue;
		pid = strtol(dash + 1, &end, 10);
		if (*end || pid <= 0 || (kill((pid_t)pid, 0) < 0 &&
					 errno != ESRCH) ||
		    kill((pid_t)pid, 0) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/tracing_on", dir,
			 de->d_name);
		write_file(path, "0", NULL);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rmdir(path);
	}
	closedir(d);
}

static bool valid_name(const char *n)
{
	if (!n || !*n || strlen(n) > 100)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '_' || *n == '.' ||
		      *n == '-'))
			return false;
	return true;
}

static unsigned int count_cpus(const char *instance)
{
	char path[1024];
	unsigned int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%u", instance, n);
		if (!is_dir(path))
			return n;
		n++;
	}
}

/* Session lifecycle --------------------------------------------------------- */

/* The eBPF fast path when it loads (or is asked for), else ftrace; the
 * reason it is not used is kept for sonde status. */
static int choose_backend(struct sonde_kernel_session *s,
			  const struct sonde_kernel_config *cfg,
			  struct sonde_error *err)
{
	struct kbpf_config bc = { 0 };
	struct sonde_error why = { 0 };
	enum sonde_kernel_backend want = cfg->channel.backend;

	if (want == SONDE_KERNEL_BACKEND_FTRACE) {
		s->bpf_why[0] = '\0';
		return 0;
	}
	if (s->snapshot_mode || s->ch.overwrite) {
		if (want == SONDE_KERNEL_BACKEND_EBPF)
			return sonde_error_set(err, SONDE_EINVAL,
					       "session %s: the eBPF backend "
					       "cannot overwrite (snapshot and "
					       "--overwrite need ftrace)",
					       s->name);
		snprintf(s->bpf_why, sizeof(s->bpf_why),
			 "overwrite mode needs the ftrace ring buffer");
		return 0;
	}
	bc.ring_bytes = s->ch.subbuf_size * s->ch.num_subbuf;
	bc.own_tgid = (uint32_t)getpid();
	if (kbpf_create(&bc, &s->bpf, &why) == 0)
		return 0;
	if (want == SONDE_KERNEL_BACKEND_EBPF)
		return sonde_error_set(err, why.status, "session %s: %s",
				       s->name, why.msg);
	snprintf(s->bpf_why, sizeof(s->bpf_why), "%s", why.msg);
	return 0;
}

const char *sonde_kernel_backend_name(const struct sonde_kernel_session *s,
				      const char **why)
{
	if (why)
		*why = s->bpf ? "" : s->bpf_why;
	return s->bpf ? "ebpf" : "ftrace";
}

int sonde_kernel_session_create(const struct sonde_kernel_config *cfg,
				struct sonde_kernel_session **out,
				struct sonde_error *err)
{
	struct sonde_kernel_session *s;
	char value[64];
	int ret;

	*out = NULL;
	if (!cfg || !valid_name(cfg->session_name))
		return sonde_error_set(err, SONDE_EINVAL,
				       "session name '%s': use letters, "
				       "digits, '_', '.' and '-'",
				       cfg && cfg->session_name ?
					       cfg->session_name :
					       "");
	if (!cfg->output_dir && !cfg->snapshot_mode)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session %s: no output directory",
				       cfg->session_name);
	if (cfg->channel.subbuf_size &&
	    (cfg->channel.subbuf_size & (cfg->channel.subbuf_size - 1) ||
	     cfg->channel.subbuf_size < 4096 ||
	     cfg->channel.subbuf_size > (64u << 20)))
		return sonde_error_set(err, SONDE_EINVAL,
				       "sub-buffer size %llu: a power of two "
				       "from 4 KiB to 64 MiB",
				       (unsigned long long)
					       cfg->channel.subbuf_size);
	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->free_buffer_fd = -1;
	s->metadata_fd = -1;
	if (cfg->hook)
		s->hook = *cfg->hook;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->name = strdup(cfg->session_name);
	s->output_dir = cfg->output_dir ? strdup(cfg->output_dir) : NULL;
	s->snapshot_mode = cfg->snapshot_mode;
	s->ch = cfg->channel;
	if (!s->ch.subbuf_size)
		s->ch.subbuf_size = DEFAULT_SUBBUF_SIZE;
	if (!s->ch.num_subbuf)
		s->ch.num_subbuf = DEFAULT_NUM_SUBBUF;
	s->events = calloc(KERNEL_MAX_EVENT_ID, sizeof(*s->events));
	if (!s->name || (cfg->output_dir && !s->output_dir) || !s->events) {
		ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		goto fail;
	}
	ret = find_tracefs(cfg->tracefs, s->tracefs, sizeof(s->tracefs), err);
	if (ret)
		goto fail;
	remove_stale_instances(s->tracefs);
	snprintf(s->instance, sizeof(s->instance), "%s/instances/sonde-%s-%d",
		 s->tracefs, s->name, (int)getpid());
	if (mkdir(s->instance, 0700) < 0) {
		ret = io_error(err, s->instance, "mkdir", errno);
		s->instance[0] = '\0';
		goto fail;
	}
	s->ncpus = count_cpus(s->instance);
	if (!s->ncpus) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: no per_cpu buffers",
				      s->instance);
		goto fail;
	}
	/* A new instance records at once; nothing until start. */
	ret = writef(s, "tracing_on", "0", err);
	if (!ret)
		ret = writef(s, "trace_clock", "mono", err);
	if (ret)
		goto fail;
	s->ftrace_subbuf = s->ch.subbuf_size < FTRACE_SUBBUF_MAX ?
				   s->ch.subbuf_size :
				   FTRACE_SUBBUF_MAX;
	snprintf(value, sizeof(value), "%zu", s->ftrace_subbuf / 1024);
	if (writef(s, "buffer_subbuf_size_kb", value, NULL))
		s->ftrace_subbuf = 4096; /* before Linux 6.8: pages */
	snprintf(value, sizeof(value), "%llu",
		 (unsigned long long)(s->ch.subbuf_size * s->ch.num_subbuf /
				      1024));
	ret = writef(s, "buffer_size_kb", value, err);
	if (!ret)
		ret = writef(s, "options/overwrite",
			     s->ch.overwrite || s->snapshot_mode ? "1" : "0",
			     err);
	if (!ret)
		ret = writef(s, "buffer_percent", "25", err);
	if (ret)
		goto fail;
	/* Crash safety: if this process dies, closing free_buffer stops
	 * tracing and frees the buffer; the next create removes the dir. */
	if (!writef(s, "options/disable_on_free", "1", NULL)) {
		char path[1024];

		snprintf(path, sizeof(path), "%s/free_buffer", s->instance);
		s->free_buffer_fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	ret = choose_backend(s, cfg, err);
	if (ret)
		goto fail;
	*out = s;
	return 0;
fail:
	sonde_kernel_session_destroy(s);
	return ret;
}

static void free_event(struct kevent *e)
{
	if (e) {
		kmap_free(e->map);
		kswitch_repair_free(e->repair);
		free(e);
	}
}

void sonde_kernel_session_destroy(struct sonde_kernel_session *s)
{
	unsigned int i;

	if (!s)
		return;
	if (s->started && !s->stopped)
		sonde_kernel_stop(s, NULL);
	kbpf_free(s->bpf);
	if (s->consumers) {
		for (i = 0; i < s->ncpus; i++)
			ksink_free(s->consumers[i].sink);
		free(s->consumers);
	}
	if (s->free_buffer_fd >= 0)
		close(s->free_buffer_fd);
	if (s->instance[0]) {
		writef(s, "tracing_on", "0", NULL);
		writef(s, "events/enable", "0", NULL);
		if (rmdir(s->instance) < 0) {
			/* EBUSY while the kernel still releases the readers'
			 * files; on a loaded machine that took over 0.5 s, so
			 * allow up to 5 s before leaving the instance behind
			 * (the next session removes stale instances). */
			for (i = 0; i < 500 && errno == EBUSY &&
				    rmdir(s->instance) < 0;
			     i++)
				usleep(10000);
		}
	}
	if (s->metadata_fd >= 0)
		close(s->metadata_fd);
	if (s->events) {
		for (i = 0; i < KERNEL_MAX_EVENT_ID; i++)
			free_event(atomic_load(&s->events[i]));
		free(s->events);
	}
	free(s->declared);
	sonde_ctfw_trace_class_free(s->tc);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->comm_filter);
	free(s->comm_switch_filter);
	if (s->proc)
		pthread_mutex_destroy(&s->proc->lock);
	free(s->proc);
	free(s->name);
	free(s->output_dir);
	free(s);
}

/* Metadata ------------------------------------------------------------------ */

static int declare_event(struct sonde_kernel_session *s, struct kevent *e,
			 struct sonde_error *err)
{
	const struct sonde_ctfw_field *fields;
	size_t count;
	int ret;

	fields = kmap_fields(e->map, &count);
	ret = sonde_ctfw_event_class_add(s->tc, 0, kmap_name(e->map), -1,
					 fields, count, &e->ctf_id, err);
	if (ret)
		return sonde_error_prefix(err, "event %s:%s", e->system,
					  e->name);
	return 0;
}

/* Appends the metadata text not yet in the file, in 4 KiB packets
 * written up to 16 at a time: a kernel session's first flush is some 45
 * packets, one write() each before. */
static int flush_metadata_fd(struct sonde_kernel_session *s, int fd,
			     size_t *written, struct sonde_error *err)
{
	enum { PKT = SONDE_CTFW_METADATA_PACKET_SIZE, BATCH = 16 };
	size_t len, i, n, upto, taken;
	uint8_t *buf;
	int ret = 0;

	sonde_ctfw_metadata_text(s->tc, &len);
	if (*written >= len)
		return 0;
	buf = malloc(PKT * BATCH);
	if (!buf)
		return sonde_error_set(err, SONDE_ENOMEM,
				       "metadata: out of memory");
	while (!ret && *written < len) {
		for (n = 0, upto = *written;
		     n < BATCH && (taken = sonde_ctfw_metadata_packet(
					   s->tc, upto, buf + n * PKT));
		     n++)
			upto += taken;
		if (!n)
			break;
		ret = sonde_write_all(fd, buf, n * PKT, "metadata", err);
		if (ret)
			break;
		*written = upto;
		if (fd == s->metadata_fd && s->hook.metadata)
			for (i = 0; i < n; i++)
				s->hook.metadata(s->hook.arg, buf + i * PKT,
						 PKT);
	}
	free(buf);
	return ret;
}

static bool name_taken(const struct sonde_kernel_session *s, const char *n)
{
	size_t i;

	for (i = 0; i < s->ndeclared; i++)
		if (strcmp(kmap_name(s->declared[i]->map), n) == 0)
			return true;
	return false;
}

/* Event enabling ------------------------------------------------------------ */

static int load_event(struct sonde_kernel_session *s, const char *system,
		      const char *event, struct kevent **out,
		      struct sonde_error *err)
{
	char path[1024], *text;
	size_t len;
	struct kfmt_event fmt;
	struct kevent *e;
	int ret;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", s->instance,
		 system, event);
	ret = read_file(path, &text, &len, err);
	if (ret)
		return ret;
	ret = kfmt_parse(text, len, system, path, &fmt, err);
	free(text);
	if (ret)
		return ret;
	if (fmt.id >= KERNEL_MAX_EVENT_ID) {
		kfmt_event_release(&fmt);
		return sonde_error_set(err, SONDE_EFORMAT, "%s: id too large",
				       path);
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		kfmt_event_release(&fmt);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	snprintf(e->system, sizeof(e->system), "%s", system);
	snprintf(e->name, sizeof(e->name), "%s", event);
	ret = kmap_compile(&fmt, &e->map, err);
	if (!ret && kbpf_handles(s->bpf, system, event))
		kbpf_prepare(s->bpf, &fmt, e->map);
	else if (!ret && strcmp(system, "sched") == 0 &&
		 strcmp(event, "sched_switch") == 0)
		ret = kswitch_repair_create(&fmt, s->tracefs, &e->repair,
					    err);
	if (!ret && name_taken(s, kmap_name(e->map))) {
		char alt[160];

		snprintf(alt, sizeof(alt), "%s_%s", system, kmap_name(e->map));
		kmap_rename(e->map, alt);
	}
	*out = e;
	ret = ret ? ret : (int)fmt.id;
	kfmt_event_release(&fmt);
	if (ret < 0) {
		free_event(e);
		*out = NULL;
	}
	return ret;
}

/*
 * The interrupts that wake an idle CPU, enabled with sched_switch but kept
 * out of the trace unless asked for: they date the switches out of idle
 * that some kernels omit (see switch-repair.c).  Measured on the test VM:
 * every one of 180 exits from idle on the CPU without switches followed
 * one of these.  Whichever this architecture has; none is required.
 */
static void enable_idle_exit_markers(struct sonde_kernel_session *s)
{
	static const char *const markers[] = {
		"irq_vectors/local_timer_entry",
		"irq_vectors/reschedule_entry",
		"irq_vectors/call_function_entry",
		"irq_vectors/call_function_single_entry",
		"irq/irq_handler_entry",
		"ipi/ipi_entry",
	};
	char path[1024];
	size_t i;

	for (i = 0; i < sizeof(markers) / sizeof(markers[0]); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/enable",
			 s->instance, markers[i]);
		if (access(path, W_OK) == 0)
			write_file(path, "1", NULL);
	}
}

/* Enables one ftrace event (declaring it if tracing already started). */
static int enable_one(struct sonde_kernel_session *s, const char *system,
		      const char *event, struct sonde_error *err)
{
	char rel[512];
	struct kevent *e = NULL;
	int id, ret;
	size_t i;

	for (i = 0; i < s->ndeclared; i++)
		if (strcmp(s->declared[i]->system, system) == 0 &&
		    strcmp(s->declared[i]->name, event) == 0) {
			e = s->declared[i];
			goto enable;
		}
	id = load_event(s, system, event, &e, err);
	if (id < 0)
		return id;
	if (atomic_load(&s->events[id])) { /* same id, already known */
		free_event(e);
		e = atomic_load(&s->events[id]);
		goto enable;
	}
	if (s->ndeclared == s->cap_declared) {
		size_t ncap = s->cap_declared ? s->cap_declared * 2 : 64;
		struct kevent **nd = realloc(s->declared, ncap * sizeof(*nd));

		if (!nd) {
			free_event(e);
			return sonde_error_set(err, SONDE_ENOMEM,
					       "out of memory");
		}
		s->declared = nd;
		s->cap_declared = ncap;
	}
	if (s->tc) {
		ret = declare_event(s, e, err);
		if (!ret && s->metadata_fd >= 0)
			ret = flush_metadata_fd(s, s->metadata_fd,
						&s->metadata_written, err);
		if (ret) {
			free_event(e);
			return ret;
		}
	}
	s->declared[s->ndeclared++] = e;
	atomic_store_explicit(&s->events[id], e, memory_order_release);
	if (e->repair)
		atomic_store_explicit(&s->sched_switch, e,
				      memory_order_release);
enable:
	if (kbpf_handles(s->bpf, system, event))
		return kbpf_enable(s->bpf, system, event, e->map, &e->ctf_id,
				   true, err);
	if (strcmp(system, "sched") == 0 && strcmp(event, "sched_switch") == 0)
		enable_idle_exit_markers(s);
	snprintf(rel, sizeof(rel), "events/%s/%s/enable", system, event);
	return writef(s, rel, "1", err);
}

/* Calls `fn` for every "system:event" of available_events under `root`. */
static int for_each_available(const char *root,
			      int (*fn)(const char *system, const char *event,
					void *arg),
			      void *arg, struct sonde_error *err)
{
	char path[1024], *text, *line, *save = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/available_events", root);
	ret = read_file(path, &text, NULL, err);
	if (ret)
		return ret;
	for (line = strtok_r(text, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		ret = fn(line, colon + 1, arg);
	}
	free(text);
	return ret;
}

struct match_ctx {
	struct sonde_kernel_session *s;
	const char *pattern;
	bool enable; /* else disable */
	unsigned int matched;
	int error;
	struct sonde_error *err;
};

static bool pattern_matches(const char *pattern, const char *system,
			    const char *event)
{
	const char *colon = strchr(pattern, ':');
	char lttng[160];

	if (colon) {
		char sys[KFMT_NAME_MAX];
		size_t n = (size_t)(colon - pattern);

		if (n >= sizeof(sys))
			return false;
		memcpy(sys, pattern, n);
		sys[n] = '\0';
		return fnmatch(sys, system, 0) == 0 &&
		       fnmatch(colon + 1, event, 0) == 0;
	}
	if (fnmatch(pattern, event, 0) == 0)
		return true;
	kmap_lttng_name(system, event, lttng, sizeof(lttng));
	return fnmatch(pattern, lttng, 0) == 0;
}

static int disable_bpf(struct sonde_kernel_session *s, const char *system,
		       const char *event, struct sonde_error *err)
{
	size_t i;

	for (i = 0; i < s->ndeclared; i++)
		if (strcmp(s->declared[i]->system, system) == 0 &&
		    strcmp(s->declared[i]->name, event) == 0)
			return kbpf_enable(s->bpf, system, event,
					   s->declared[i]->map,
					   &s->declared[i]->ctf_id, false,
					   err);
	return 0;
}

static int match_visit(const char *system, const char *event, void *arg)
{
	struct match_ctx *m = arg;

	if (!pattern_matches(m->pattern, system, event))
		return 0;
	m->matched++;
	if (m->enable) {
		m->error = enable_one(m->s, system, event, m->err);
	} else if (kbpf_handles(m->s->bpf, system, event)) {
		m->error = disable_bpf(m->s, system, event, m->err);
	} else {
		char rel[512];

		snprintf(rel, sizeof(rel), "events/%s/%s/enable", system,
			 event);
		m->error = writef(m->s, rel, "0", m->err);
	}
	return m->error;
}

static int apply_pattern(struct sonde_kernel_session *s, const char *name,
			 bool enable, struct sonde_error *err)
{
	struct match_ctx m = { s, name, enable, 0, 0, err };
	int ret;

	if (!name || !*name || strlen(name) > 200)
		return sonde_error_set(err, SONDE_EINVAL, "empty event name");
	ret = for_each_available(s->tracefs, match_visit, &m, err);
	if (ret)
		return m.error ? m.error : ret;
	if (!m.matched)
		return sonde_error_set(err, SONDE_ENOENT,
				       "%s: no such kernel event", name);
	return 0;
}

int sonde_kernel_enable_event(struct sonde_kernel_session *s, const char *name,
			      struct sonde_error *err)
{
	return apply_pattern(s, name, true, err);
}

int sonde_kernel_disable_event(struct sonde_kernel_session *s,
			       const char *name, struct sonde_error *err)
{
	return apply_pattern(s, name, false, err);
}

int sonde_kernel_enable_syscall(struct sonde_kernel_session *s,
				const char *name, struct sonde_error *err)
{
	char pattern[160];
	int ret;

	if (!name)
		return apply_pattern(s, "syscalls:sys_*", true, err);
	if (!valid_name(name))
		return sonde_error_set(err, SONDE_EINVAL,
				       "syscall name '%s'", name);
	snprintf(pattern, sizeof(pattern), "syscalls:sys_enter_%s", name);
	ret = apply_pattern(s, pattern, true, err);
	if (ret == SONDE_ENOENT)
		return sonde_error_set(err, SONDE_ENOENT,
				       "%s: no such system call", name);
	if (ret)
		return ret;
	snprintf(pattern, sizeof(pattern), "syscalls:sys_exit_%s", name);
	return apply_pattern(s, pattern, true, err);
}

/* Consumer ------------------------------------------------------------------- */

static bool own_thread(const struct sonde_kernel_session *s, int32_t pid)
{
	unsigned int i;

	for (i = 0; i < s->ncpus; i++)
		if (atomic_load_explicit(&s->consumers[i].tid,
					 memory_order_relaxed) == pid)
			return true;
	return false;
}

/* Kernel-side losses from per_cpu/cpuN/stats: overrun + dropped events. */
static void account_kernel_losses(struct consumer *c)
{
	char buf[1024];
	ssize_t n;
	uint64_t total = 0;
	char *p;

	if (c->stats_fd < 0)
		return;
	n = pread(c->stats_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((p = strstr(buf, "overrun:")))
		total += strtoull(p + 8, NULL, 10);
	if ((p = strstr(buf, "dropped events:")))
		total += strtoull(p + 15, NULL, 10);
	if (total > c->kernel_lost) {
		ksink_discard(c->sink, total - c->kernel_lost);
		c->kernel_lost = total;
	}
}

/* The first number after `key` in /proc/TID/`file`, or (`key` "0::") the
 * inode of the cgroup v2 directory named there. */
static bool proc_number(int32_t tid, const char *file, const char *key,
			const char *cgroup_root, uint64_t *out)
{
	char path[600], buf[4096], *p, *end;
	unsigned long long v;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf + 1, sizeof(buf) - 2);
	close(fd);
	if (n <= 0)
		return false;
	buf[0] = '\n'; /* the key at the start of a line, the first too */
	buf[n + 1] = '\0';
	p = strstr(buf, key);
	if (!p)
		return false;
	p += strlen(key);
	if (strcmp(key, "\n0::") == 0) {
		end = strchr(p, '\n');
		if (end)
			*end = '\0';
		snprintf(path, sizeof(path), "%s%s", cgroup_root, p);
		if (stat(path, &st) < 0)
			return false;
		*out = (uint64_t)st.st_ino;
		return true;
	}
	if (sscanf(p, "%llu", &v) != 1)
		return false;
	*out = v;
	return true;
}

/* Whether task `tid` is in every consumer-side set (a task gone: no). */
static bool proc_task_in(struct proc_track *pt, int32_t tid)
{
	static const char *const file[PROC_SETS] = { "status", "status",
						     "cgroup" };
	static const char *const key[PROC_SETS] = { "\nUid:", "\nGid:",
						    "\n0::" };
	bool in = tid > 0;
	uint64_t id;
	size_t j;

	pthread_mutex_lock(&pt->lock);
	for (int i = 0; in && i < PROC_SETS; i++) {
		if (!pt->on[i])
			continue;
		in = proc_number(tid, file[i], key[i], pt->cgroup_root, &id);
		for (j = 0; in && j < pt->n[i] && pt->ids[i][j] != id; j++)
			;
		in = in && j < pt->n[i];
	}
	pthread_mutex_unlock(&pt->lock);
	return in;
}

static bool task_in(struct consumer *c, int32_t tid, uint64_t ts,
		    uint32_t gen)
{
	struct proc_verdict *v = &c->verdicts[(uint32_t)tid & (VERDICTS - 1)];

	if (v->tid != tid || v->gen != gen || ts - v->ts > VERDICT_NS) {
		v->tid = tid;
		v->gen = gen;
		v->ts = ts;
		v->in = proc_task_in(c->s->proc, tid);
	}
	return v->in;
}

/*
 * Follows the thread current on this CPU and inserts the switches the
 * kernel left out (see switch-repair.c).  `e` is NULL for records the trace
 * does not keep (the interrupt entries enabled as idle-exit markers).  A
 * switch out of idle is stamped with the last record written in idle, the
 * interrupt that woke the CPU when markers are on: the switch followed it,
 * before anything the thread did.  A switch out of a thread whose own
 * records the kernel hides has no earlier bound than the record that
 * reveals it.
 */
static void follow_current(struct consumer *c, const struct kevent *e,
			   const struct kpage_event *ev, int32_t pid,
			   uint32_t gen)
{
	const struct kevent *sw;
	struct sonde_ctfw_cursor *cur;
	uint8_t rec[256];
	uint32_t size;

	/* a sched_switch record is written by its prev thread: it too shows
	 * a thread that was switched in unseen */
	if (c->current_tid >= 0 && pid != c->current_tid &&
	    /* as for recorded switches: one side tracked (gen: sets on) */
	    (!gen || task_in(c, c->current_tid, ev->ts, gen) ||
	     task_in(c, pid, ev->ts, gen)) &&
	    (sw = atomic_load_explicit(&c->s->sched_switch,
				       memory_order_acquire)) &&
	    (size = kswitch_repair_build(sw->repair, c->cpu, c->current_tid,
					 pid, rec, sizeof(rec)))) {
		cur = ksink_event_begin(c->sink, sw->ctf_id,
					c->current_tid ? ev->ts : c->idle_ts,
					kmap_payload_max(sw->map, size),
					&c->err);
		if (cur) {
			kmap_encode(sw->map, rec, size, cur);
			ksink_event_commit(c->sink, &c->err);
			atomic_fetch_add_explicit(&c->switches_repaired, 1,
						  memory_order_relaxed);
		} else {
			ksink_discard(c->sink, 1);
		}
	}
	if (e && e->repair)
		c->current_tid = kswitch_repair_learn(e->repair, ev->payload,
						      ev->len);
	else
		c->current_tid = pid;
	if (c->current_tid == 0)
		c->idle_ts = ev->ts;
}

static int consume_page(struct consumer *c, size_t len, uint32_t *commit)
{
	struct sonde_kernel_session *s = c->s;
	uint32_t gen = atomic_load_explicit(&s->proc_gen, memory_order_acquire);
	struct kpage_iter it;
	struct kpage_event ev;
	int r;

	*commit = 0;
	if (kpage_iter_init(&it, c->page, len, &c->err))
		return -1;
	*commit = it.commit;
	if (it.missed) /* the switches in the gap are unknown */
		c->current_tid = -1;
	if (it.missed && (s->ch.overwrite || s->snapshot_mode))
		ksink_lose_packets(c->sink, 1, it.ts);
	while ((r = kpage_iter_next(&it, &ev, &c->err)) == 1) {
		struct sonde_ctfw_cursor *cur;
		const struct kevent *e;
		uint16_t type;
		int32_t pid;

		if (ev.len < 8)
			continue;
		memcpy(&type, ev.payload, 2);
		e = atomic_load_explicit(&s->events[type],
					 memory_order_acquire);
		memcpy(&pid, ev.payload + 4, 4);
		follow_current(c, e, &ev, pid, gen);
		if (!e)
			continue;
		if (kmap_is_syscall(e->map) && own_thread(s, pid))
			continue;
		/* a switch (to current_tid now) from or to a tracked task */
		if (gen && !task_in(c, pid, ev.ts, gen) &&
		    !(e->repair && task_in(c, c->current_tid, ev.ts, gen)))
			continue;
		cur = ksink_event_begin(c->sink, e->ctf_id, ev.ts,
					kmap_payload_max(e->map, ev.len),
					&c->err);
		if (!cur) {
			ksink_discard(c->sink, 1);
			continue;
		}
		kmap_encode(e->map, ev.payload, ev.len, cur);
		ksink_event_commit(c->sink, &c->err);
	}
	return r < 0 ? -1 : 0;
}

/*
 * Reads sub-buffers until EAGAIN or, unless `to_empty`, until one comes
 * back partly filled: the consumer has caught up with the writer.  Never
 * chasing the writer matters when syscalls are traced: each read() of ours
 * adds two events to this very buffer, so "until EAGAIN" would not end
 * while tracing is on.  0, or -1 on a fatal error.
 */
static int drain(struct consumer *c, bool to_empty)
{
	size_t data = c->s->ftrace_subbuf - KPAGE_HEADER_SIZE;
	unsigned int n;

	for (n = 0; to_empty || n < 4096; n++) {
		ssize_t r = read(c->pipe_fd, c->page, c->s->ftrace_subbuf);
		uint32_t commit;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0) {
			io_error(&c->err, "trace_pipe_raw", "read", errno);
			return -1;
		}
		if (r == 0)
			break;
		if (consume_page(c, (size_t)r, &commit) < 0) {
			/* a malformed page: counted, not fatal */
			ksink_discard(c->sink, 1);
		}
		/* a full sub-buffer ends at most one large event early */
		if (!to_empty && commit + 512 < data)
			break;
	}
	account_kernel_losses(c);
	return 0;
}

/*
 * Events committed before a drain started were read by it, except for a
 * writer still between reserving and committing its event: a margin
 * covers that.  Never before the stream's last event (already sent).
 */
#define IDLE_MARGIN_NS 1000000u

static void idle_beacon(struct consumer *c, uint64_t drained_at)
{
	uint64_t ts = drained_at > IDLE_MARGIN_NS ? drained_at - IDLE_MARGIN_NS : 0;

	if (ts < ksink_last_ts(c->sink))
		ts = ksink_last_ts(c->sink);
	c->s->hook.idle(c->s->hook.arg, c->cpu, ts);
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	struct sonde_kernel_session *s = c->s;
	uint64_t last_flush = now_mono(), drained_at = 0;
	int timeout = POLL_MS_MAX;

	atomic_store(&c->tid, (int)syscall(SYS_gettid));

	if (s->ch.switch_timer_us &&
	    s->ch.switch_timer_us / 1000 < (uint64_t)timeout)
		timeout = (int)(s->ch.switch_timer_us / 1000) ?
				  (int)(s->ch.switch_timer_us / 1000) :
				  1;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->pipe_fd, .events = POLLIN },
			{ .fd = c->wake_fd, .events = POLLIN },
		};
		uint64_t req;

		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			uint64_t v;

			if (read(c->wake_fd, &v, sizeof(v)) < 0)
				v = 0;
		}
		if (atomic_load(&c->stop)) {
			c->error = drain(c, true);
			break;
		}
		drained_at = now_mono();
		if (drain(c, false) < 0) {
			c->error = -1;
			break;
		}
		req = atomic_load(&c->flush_req);
		if (s->ch.switch_timer_us &&
		    now_mono() - last_flush >= s->ch.switch_timer_us * 1000) {
			uint64_t packets = ksink_packets(c->sink);

			/* end = last event: later events may still sit in
			 * the kernel buffer with earlier times than now */
			ksink_flush(c->sink, ksink_last_ts(c->sink), &c->err);
			if (s->hook.idle && packets == ksink_packets(c->sink))
				idle_beacon(c, drained_at);
			last_flush = now_mono();
		}
		pthread_mutex_lock(&s->lock);
		if (req != c->flush_done) {
			pthread_mutex_unlock(&s->lock);
			drain(c, false);
			ksink_flush(c->sink, ksink_last_ts(c->sink), &c->err);
			pthread_mutex_lock(&s->lock);
			c->flush_done = req;
			pthread_cond_broadcast(&s->cond);
		}
		pthread_mutex_unlock(&s->lock);
	}
	ksink_flush(c->sink, now_mono(), &c->err);
	return NULL;
}

/* Start ----------------------------------------------------------------------- */

static int open_stream(unsigned int cpu, const char *dir, int *stream_fd,
		       int *index_fd, struct sonde_error *err)
{
	char path[1400];

	snprintf(path, sizeof(path), "%s/channel0_%u", dir, cpu);
	*stream_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*stream_fd < 0)
		return io_error(err, path, "open", errno);
	snprintf(path, sizeof(path), "%s/index/channel0_%u.idx", dir, cpu);
	*index_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (*index_fd < 0) {
		int e = errno;

		close(*stream_fd);
		return io_error(err, path, "open", e);
	}
	return 0;
}

static int make_dirs(const char *path, struct sonde_error *err)
{
	char tmp[1400];
	char *p;

	if (strlen(path) >= sizeof(tmp))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
				       path);
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return io_error(err, tmp, "mkdir", errno);
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return io_error(err, tmp, "mkdir", errno);
	return 0;
}

/* Creates dir/kernel/{,index/}, refusing a directory that holds a trace. */
static int make_kernel_dir(const char *dir, char *out, size_t size,
			   struct sonde_error *err)
{
	char path[1200];
	int ret;

	snprintf(out, size, "%s/kernel", dir);
	snprintf(path, sizeof(path), "%s/metadata", out);
	if (access(path, F_OK) == 0)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: already holds a trace", out);
	snprintf(path, sizeof(path), "%s/index", out);
	ret = make_dirs(path, err);
	return ret;
}

static int build_trace_class(struct sonde_kernel_session *s,
			     struct sonde_error *err)
{
	const struct kstatedump_class *sd;
	struct sonde_ctfw_trace_opts opts = { 0 };
	size_t nsd, i;
	int ret;

	opts.byte_order = SONDE_CTFW_HOST_ORDER;
	ret = sonde_ctfw_trace_class_create(&opts, &s->tc, err);
	if (!ret)
		ret = sonde_ctfw_env_add_lttng_kernel(s->tc, s->name, err);
	if (!ret)
		ret = sonde_ctfw_stream_class_add(
			s->tc,
			s->ndeclared + 8 < 31 ? SONDE_CTFW_HEADER_COMPACT :
						SONDE_CTFW_HEADER_LARGE,
			NULL, 0, NULL, err);
	if (ret)
		return ret;
	sd = kstatedump_classes(&nsd);
	for (i = 0; i < nsd && !ret; i++) {
		uint32_t id;

		ret = sonde_ctfw_event_class_add(s->tc, 0, sd[i].name, -1,
						 sd[i].fields, sd[i].count,
						 &id, err);
		if (i == 0)
			s->sd_first_id = id;
	}
	for (i = 0; i < s->ndeclared && !ret; i++)
		ret = declare_event(s, s->declared[i], err);
	return ret;
}

struct sd_ctx {
	struct ksink *sink;
	uint32_t first_id;
	struct sonde_error *err;
};

static int statedump_emit(void *arg, size_t cls,
			  const struct kstatedump_value *v)
{
	struct sd_ctx *x = arg;
	struct sonde_ctfw_cursor *c;

	c = ksink_event_begin(x->sink, x->first_id + (uint32_t)cls, now_mono(),
			      kstatedump_size(cls, v), x->err);
	if (!c)
		return 0; /* an oversized string: skip that one */
	kstatedump_encode(cls, v, c);
	return ksink_event_commit(x->sink, x->err);
}

/* First start: the trace class, the output directory and metadata, and
 * one packet sink per CPU.  They live until destroy, across restarts. */
static int setup_output(struct sonde_kernel_session *s, struct sonde_error *err)
{
	enum sonde_ctfw_header_type htype;
	unsigned int i;
	int ret;

	if (!s->tc) {
		ret = build_trace_class(s, err);
		if (ret)
			return ret;
	}
	sonde_ctfw_trace_class_header_type(s->tc, 0, &htype);
	if (s->output_dir && !s->snapshot_mode && s->metadata_fd < 0) {
		char path[1200];

		ret = make_kernel_dir(s->output_dir, s->kernel_dir,
				      sizeof(s->kernel_dir), err);
		if (ret)
			return ret;
		snprintf(path, sizeof(path), "%s/metadata", s->kernel_dir);
		s->metadata_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
						    O_CLOEXEC,
				      0644);
		if (s->metadata_fd < 0)
			return io_error(err, path, "open", errno);
		s->metadata_written = 0;
		ret = flush_metadata_fd(s, s->metadata_fd,
					&s->metadata_written, err);
		if (ret)
			return ret;
	}
	s->consumers = calloc(s->ncpus, sizeof(*s->consumers));
	if (!s->consumers)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];
		struct ksink_opts o = { 0 };

		c->s = s;
		c->cpu = i;
		c->pipe_fd = c->stats_fd = c->wake_fd = -1;
		o.uuid = sonde_ctfw_trace_class_uuid(s->tc);
		o.bo = sonde_ctfw_trace_class_byte_order(s->tc);
		o.header = htype;
		o.cpu = i;
		o.packet_size = (size_t)s->ch.subbuf_size;
		o.stream_fd = o.index_fd = -1;
		o.ring_packets = (size_t)s->ch.num_subbuf;
		o.hook = &s->hook;
		if (!s->snapshot_mode) {
			ret = open_stream(i, s->kernel_dir, &o.stream_fd,
					  &o.index_fd, err);
			if (ret)
				goto fail;
		}
		ret = ksink_create(&o, &c->sink, err);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	for (i = 0; i < s->ncpus; i++)
		ksink_free(s->consumers[i].sink);
	free(s->consumers);
	s->consumers = NULL;
	return ret;
}

static void close_capture(struct consumer *c)
{
	if (c->pipe_fd >= 0)
		close(c->pipe_fd);
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	c->pipe_fd = c->stats_fd = c->wake_fd = -1;
	free(c->page);
	c->page = NULL;
	free(c->verdicts);
	c->verdicts = NULL;
}

static int start_bpf(struct sonde_kernel_session *s, struct sonde_error *err)
{
	struct kbpf_output o = { 0 };

	o.dir = s->kernel_dir;
	o.uuid = sonde_ctfw_trace_class_uuid(s->tc);
	o.bo = sonde_ctfw_trace_class_byte_order(s->tc);
	sonde_ctfw_trace_class_header_type(s->tc, 0, &o.header);
	o.packet_size = (size_t)s->ch.subbuf_size;
	o.instance_base = s->ncpus;
	o.switch_timer_us = s->ch.switch_timer_us;
	o.hook = &s->hook;
	return kbpf_start(s->bpf, &o, err);
}

/* Start, or restart after a stop: the trace goes on in the same files. */
int sonde_kernel_start(struct sonde_kernel_session *s, struct sonde_error *err)
{
	unsigned int i;
	int ret;

	if (s->started && !s->stopped)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session %s: already started", s->name);
	if (!s->consumers) {
		ret = setup_output(s, err);
		if (ret)
			return ret;
	}
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];
		char path[1024];

		atomic_store(&c->stop, 0);
		c->error = 0;
		c->current_tid = -1;
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%u/trace_pipe_raw",
			 s->instance, i);
		c->pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->pipe_fd < 0) {
			ret = io_error(err, path, "open", errno);
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%u/stats",
			 s->instance, i);
		c->stats_fd = open(path, O_RDONLY | O_CLOEXEC);
		c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		c->page = malloc(s->ftrace_subbuf);
		c->verdicts = calloc(VERDICTS, sizeof(*c->verdicts));
		if (c->wake_fd < 0 || !c->page || !c->verdicts) {
			ret = sonde_error_set(err, SONDE_ENOMEM,
					      "consumer %u: out of resources",
					      i);
			goto fail;
		}
	}
	{
		struct sd_ctx x = { s->consumers[0].sink, s->sd_first_id, err };

		ret = kstatedump_run(statedump_emit, &x, err);
		if (ret)
			goto fail;
	}
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];

		if (pthread_create(&c->thread, NULL, consumer_main, c)) {
			ret = sonde_error_set(err, SONDE_EIO,
					      "consumer %u: cannot start a "
					      "thread", i);
			goto fail;
		}
		c->started = true;
	}
	s->started = true;
	s->stopped = false;
	if (s->bpf) {
		ret = start_bpf(s, err);
		if (ret) {
			sonde_kernel_stop(s, NULL);
			return ret;
		}
	}
	ret = writef(s, "tracing_on", "1", err);
	if (ret) {
		sonde_kernel_stop(s, NULL);
		return ret;
	}
	return 0;
fail:
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];

		if (c->started) {
			atomic_store(&c->stop, 1);
			eventfd_write(c->wake_fd, 1);
			pthread_join(c->thread, NULL);
			c->started = false;
		}
		close_capture(c);
	}
	return ret;
}

int sonde_kernel_stop(struct sonde_kernel_session *s, struct sonde_error *err)
{
	unsigned int i;
	int ret = 0;

	if (!s->started || s->stopped)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session %s: not started", s->name);
	writef(s, "tracing_on", "0", NULL);
	if (s->bpf)
		ret = kbpf_stop(s->bpf, now_mono(), err);
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];

		atomic_store(&c->stop, 1);
		eventfd_write(c->wake_fd, 1);
	}
	for (i = 0; i < s->ncpus; i++) {
		struct consumer *c = &s->consumers[i];

		pthread_join(c->thread, NULL);
		c->started = false;
		close_capture(c);
		if (c->error && !ret) {
			ret = SONDE_EIO;
			if (err)
				*err = c->err;
		}
	}
	s->stopped = true;
	if (!s->snapshot_mode) {
		uint64_t end = now_mono();

		for (i = 0; i < s->ncpus; i++) {
			struct consumer *c = &s->consumers[i];
			int r = ksink_close(c->sink, end, err);

			if (r && !ret)
				ret = r;
		}
		if (s->metadata_fd >= 0) {
			int r = flush_metadata_fd(s, s->metadata_fd,
						  &s->metadata_written, err);

			if (r && !ret)
				ret = r;
		}
	}
	return ret;
}

/* Snapshot --------------------------------------------------------------------- */

int sonde_kernel_snapshot_record(struct sonde_kernel_session *s,
				 const char *dir, struct sonde_error *err)
{
	char kdir[1200], path[1300];
	size_t written = 0;
	unsigned int i;
	int fd, ret;

	if (!s->snapshot_mode)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session %s: not in snapshot mode",
				       s->name);
	if (!s->started)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session %s: not started", s->name);
	if (!s->stopped) {
		struct timespec deadline;
		uint64_t gen;
		bool done = false;

		pthread_mutex_lock(&s->lock);
		gen = ++s->flush_gen;
		for (i = 0; i < s->ncpus; i++) {
			atomic_store(&s->consumers[i].flush_req, gen);
			eventfd_write(s->consumers[i].wake_fd, 1);
		}
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 5;
		while (!done) {
			done = true;
			for (i = 0; i < s->ncpus; i++)
				if (s->consumers[i].flush_done != gen)
					done = false;
			if (!done && pthread_cond_timedwait(&s->cond, &s->lock,
							    &deadline))
				break;
		}
		pthread_mutex_unlock(&s->lock);
	}
	ret = make_kernel_dir(dir, kdir, sizeof(kdir), err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/metadata", kdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return io_error(err, path, "open", errno);
	ret = flush_metadata_fd(s, fd, &written, err);
	close(fd);
	for (i = 0; i < s->ncpus && !ret; i++) {
		int sfd, ifd;

		ret = open_stream(i, kdir, &sfd, &ifd, err);
		if (ret)
			break;
		ret = ksink_ring_write(s->consumers[i].sink, sfd, ifd, err);
		close(sfd);
		close(ifd);
	}
	return ret;
}

/* Stats and listing ------------------------------------------------------------ */

void sonde_kernel_get_stats(const struct sonde_kernel_session *s,
			    struct sonde_kernel_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (!s || !s->consumers)
		return;
	for (i = 0; i < s->ncpus; i++) {
		struct ksink_stats k;

		ksink_get_stats(s->consumers[i].sink, &k);
		st->events_recorded += k.events;
		st->events_discarded += k.discarded;
		st->packets_lost += k.packets_lost;
		st->bytes_written += k.bytes;
		st->switches_repaired += atomic_load_explicit(
			&s->consumers[i].switches_repaired,
			memory_order_relaxed);
	}
	kbpf_add_stats(s->bpf, st);
}

struct list_ctx {
	int (*cb)(const char *name, void *arg);
	void *arg;
};

static int list_visit(const char *system, const char *event, void *arg)
{
	struct list_ctx *l = arg;
	char name[160];

	kmap_lttng_name(system, event, name, sizeof(name));
	return l->cb(name, l->arg);
}

int sonde_kernel_list_events(const char *tracefs,
			     int (*cb)(const char *name, void *arg), void *arg,
			     struct sonde_error *err)
{
	char root[256];
	struct list_ctx l = { cb, arg };
	int ret;

	ret = find_tracefs(tracefs, root, sizeof(root), err);
	if (ret)
		return ret;
	ret = for_each_available(root, list_visit, &l, err);
	return ret < 0 ? ret : 0;
}

/* Trackers ------------------------------------------------------------------ */

/* ftrace takes an event filter in one write of less than a page. */
#define FILTER_MAX 4095

struct pid_list {
	char *buf;
	size_t len, cap;
};

static bool pid_list_add(struct pid_list *l, const char *pid)
{
	size_t n = strlen(pid);

	if (l->len + n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		char *p;

		while (l->len + n + 2 > cap)
			cap *= 2;
		p = realloc(l->buf, cap);
		if (!p)
			return false;
		l->buf = p;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, pid, n);
	l->len += n;
	l->buf[l->len++] = ' ';
	l->buf[l->len] = '\0';
	return true;
}

/* The instance's pids: every thread of each process, and the threads and
 * children they make from now on (options/event-fork). */
static int ftrace_track_pids(struct sonde_kernel_session *s, bool all,
			     const uint64_t *ids, size_t n,
			     struct sonde_error *err)
{
	struct pid_list l = { calloc(1, 4096), 0, 4096 };
	char path[64], pid[24];
	bool ok = l.buf != NULL; /* an empty list clears set_event_pid */
	size_t i;
	int ret;

	for (i = 0; ok && !all && i < n; i++) {
		struct dirent *de;
		DIR *d;

		snprintf(pid, sizeof(pid), "%llu", (unsigned long long)ids[i]);
		snprintf(path, sizeof(path), "/proc/%s/task", pid);
		d = opendir(path);
		if (!d) { /* not running (yet): tracked by number */
			ok = pid_list_add(&l, pid);
			continue;
		}
		while (ok && (de = readdir(d)))
			if (de->d_name[0] != '.')
				ok = pid_list_add(&l, de->d_name);
		closedir(d);
	}
	if (!ok) {
		free(l.buf);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	ret = writef(s, "options/event-fork", all ? "0" : "1", err);
	if (!ret)
		ret = writef(s, "set_event_pid", l.buf, err);
	free(l.buf);
	return ret;
}

/* `fmt` for each name, joined by " || ", into a malloc'd string. */
static char *join_names(const char *const *names, size_t n, const char *fmt)
{
	char *out = calloc(1, FILTER_MAX + 1), one[96];
	size_t len = 0, i;

	for (i = 0; out && i < n; i++) {
		int w = snprintf(one, sizeof(one), fmt, i ? " || " : "",
				 names[i], names[i]);

		if (w < 0 || len + (size_t)w > FILTER_MAX) {
			free(out);
			return NULL;
		}
		memcpy(out + len, one, (size_t)w + 1);
		len += (size_t)w;
	}
	return out;
}

static int ftrace_track_names(struct sonde_kernel_session *s, bool all,
			      const char *const *names, size_t n,
			      struct sonde_error *err)
{
	char *f = NULL, *sw = NULL;
	size_t i;

	for (i = 0; !all && i < n; i++)
		if (strpbrk(names[i], "\"\\"))
			return sonde_error_set(err, SONDE_EINVAL,
					       "process name '%s': ftrace's "
					       "event filters take no quote "
					       "or backslash",
					       names[i]);
	if (!all && n) {
		f = join_names(names, n, "%scomm == \"%s\"");
		sw = join_names(names, n,
				"%sprev_comm == \"%s\" || next_comm == \"%s\"");
		if (!f || !sw) {
			free(f);
			free(sw);
			return sonde_error_set(err, SONDE_EINVAL,
					       "%zu process names: over the "
					       "%d bytes of an ftrace event "
					       "filter",
					       n, FILTER_MAX);
		}
	}
	free(s->comm_filter);
	free(s->comm_switch_filter);
	s->comm_filter = f;
	s->comm_switch_filter = sw;
	return 0;
}

/* Every subsystem's filter, then sched_switch's own: "nothing" when a set
 * is empty, else the names (of either task for a switch), else none. */
static int ftrace_write_filters(struct sonde_kernel_session *s,
				struct sonde_error *err)
{
	const char *f = "0", *sw = "0";
	char path[1024];
	struct dirent *de;
	bool none = false;
	size_t i;
	DIR *d;

	for (i = 0; i < SONDE_KERNEL_TRACK_COUNT; i++)
		none = none || s->track_none[i];
	if (none)
		f = sw = "common_pid < 0";
	else if (s->comm_filter)
		f = s->comm_filter, sw = s->comm_switch_filter;
	snprintf(path, sizeof(path), "%s/events", s->instance);
	d = opendir(path);
	if (!d)
		return io_error(err, path, "opendir", errno);
	/* the ftrace subsystem's internal events take no filter */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, "ftrace") &&
		    de->d_type == DT_DIR) {
			snprintf(path, sizeof(path), "%s/events/%s/filter",
				 s->instance, de->d_name);
			write_file(path, f, NULL);
		}
	closedir(d);
	return writef(s, "events/sched/sched_switch/filter", sw, err);
}

static int proc_track_set(struct sonde_kernel_session *s,
			  enum sonde_kernel_tracker attr, bool off,
			  const uint64_t *ids, size_t n,
			  struct sonde_error *err)
{
	unsigned int i = attr == SONDE_KERNEL_TRACK_UID ? 0 :
			 attr == SONDE_KERNEL_TRACK_GID ? 1 : 2;
	struct proc_track *pt = s->proc;
	bool any = false;

	if (!pt && off)
		return 0;
	if (!pt) {
		pt = calloc(1, sizeof(*pt));
		if (!pt)
			return sonde_error_set(err, SONDE_ENOMEM,
					       "out of memory");
		/* without cgroup2 no cgroup id can have been given */
		if (sonde_kernel_cgroup2_root(pt->cgroup_root,
					      sizeof(pt->cgroup_root), NULL))
			pt->cgroup_root[0] = '\0';
		pthread_mutex_init(&pt->lock, NULL);
		s->proc = pt;
	}
	pthread_mutex_lock(&pt->lock);
	pt->on[i] = !off;
	pt->n[i] = off ? 0 : n;
	if (!off)
		memcpy(pt->ids[i], ids, n * sizeof(*ids));
	for (unsigned int j = 0; j < PROC_SETS; j++)
		any = any || pt->on[j];
	pthread_mutex_unlock(&pt->lock);
	/* never 0 while a set is on: the consumers' caches start over */
	if (++s->proc_gens == 0)
		s->proc_gens = 1;
	atomic_store_explicit(&s->proc_gen, any ? s->proc_gens : 0,
			      memory_order_release);
	return 0;
}

int sonde_kernel_cgroup2_root(char *out, size_t size, struct sonde_error *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	bool found = false;

	if (!f)
		return io_error(err, "/proc/self/mountinfo", "open", errno);
	while (!found && fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 &&
		    strlen(mnt) < size) {
			snprintf(out, size, "%s", mnt);
			found = true;
		}
	fclose(f);
	if (!found)
		return sonde_error_set(err, SONDE_ENOENT,
				       "no cgroup v2 hierarchy is mounted");
	return 0;
}

int sonde_kernel_track(struct sonde_kernel_session *s,
		       enum sonde_kernel_tracker attr, bool all,
		       const uint64_t *ids, const char *const *names, size_t n,
		       struct sonde_error *err)
{
	int ret = 0;

	if ((unsigned int)attr >= SONDE_KERNEL_TRACK_COUNT ||
	    n > SONDE_KERNEL_TRACK_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "tracker %d: %zu values", (int)attr, n);
	/* An emptied set stops the events before set_event_pid is cleared,
	 * a filled one starts them after it is written: no event of an
	 * untracked task slips through in between. */
	s->track_none[attr] = !all && !n;
	if (s->track_none[attr])
		ret = ftrace_write_filters(s, err);
	if (!ret && attr == SONDE_KERNEL_TRACK_PID)
		ret = ftrace_track_pids(s, all || !n, ids, n, err);
	else if (!ret && attr == SONDE_KERNEL_TRACK_PROCNAME)
		ret = ftrace_track_names(s, all || !n, names, n, err);
	else if (!ret)
		ret = proc_track_set(s, attr, all || !n, ids, n, err);
	if (!ret)
		ret = ftrace_write_filters(s, err);
	if (!ret && s->bpf)
		ret = kbpf_track(s->bpf, attr, all, ids, names, n, err);
	return ret;
}
