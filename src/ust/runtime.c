/*
 * libsonde-ust runtime, in every traced program: the registry of
 * tracepoint events and the probes' reserve/commit into the attached
 * sink's ring buffers.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <unistd.h>

#include "ust/filter.h"
#include "ust/ust-internal.h"

/* The process-wide tracer state: one registry per process. */
static struct sonde_ust_registry {
	pthread_mutex_t lock;
	struct sonde_tp_event **events;
	size_t count, cap;
	struct sonde_ust_sink *sink; /* read by writers without the lock */
	struct sonde_ust_sink *retired; /* detached sinks, kept for late probes */
	int32_t pid; /* cached vpid, reset in fork children */
	bool atfork_done;
	/* A fork child that dropped its parent's sink: probes wait for its
	 * own (fork_wait), and the next sink's ids replace the parent's. */
	int fork_pending; /* atomic */
	bool ids_stale;
} registry = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Per thread: cached ids for the contexts. */
static __thread int32_t thread_tid;
static __thread char thread_name[17];

/*
 * fork(): the registry and the client are locked across it, so that the
 * child never inherits them half-updated by another thread (lock order:
 * registry, then client, as the sink's callbacks take them).
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&registry.lock);
	sonde_ust_client_fork_prepare();
}

static void fork_parent(void)
{
	sonde_ust_client_fork_parent();
	pthread_mutex_unlock(&registry.lock);
}

static void fork_child(void)
{
	registry.pid = 0;
	thread_tid = 0;
	sonde_ust_client_fork_child();
	pthread_mutex_unlock(&registry.lock);
	/* Outside our locks: it detaches (which takes the registry lock)
	 * and registers the child as a program of its own. */
	sonde_ust_client_after_fork_child();
}

SONDE_TP_EXPORT enum sonde_ust_context sonde_ust_context_from_name(const char *name)
{
	if (!strcmp(name, "vpid"))
		return SONDE_UST_CTX_VPID;
	if (!strcmp(name, "vtid"))
		return SONDE_UST_CTX_VTID;
	if (!strcmp(name, "procname"))
		return SONDE_UST_CTX_PROCNAME;
	if (!strcmp(name, "pthread_id"))
		return SONDE_UST_CTX_PTHREAD_ID;
	return 0;
}

SONDE_TP_EXPORT bool sonde_ust_enabler_match(const struct sonde_ust_enabler *en,
			     const char *event_name, int event_loglevel)
{
	if (fnmatch(en->pattern, event_name, 0) != 0)
		return false;
	switch (en->match) {
	case SONDE_UST_LOGLEVEL_RANGE:
		return event_loglevel <= en->loglevel;
	case SONDE_UST_LOGLEVEL_SINGLE:
		return event_loglevel == en->loglevel;
	default:
		return true;
	}
}

uint32_t sonde_ust_context_size(const enum sonde_ust_context *ctx,
				uint32_t count)
{
	uint32_t size = 0, i;

	for (i = 0; i < count; i++)
		switch (ctx[i]) {
		case SONDE_UST_CTX_VPID:
		case SONDE_UST_CTX_VTID:
			size += 4;
			break;
		case SONDE_UST_CTX_PROCNAME:
			size += 17;
			break;
		case SONDE_UST_CTX_PTHREAD_ID:
			size += 8;
			break;
		}
	return size;
}

/* Enables the event if `sink` records it; with `refresh`, also disables
 * it if the sink does not any more. */
static void apply_sink(struct sonde_ust_sink *sink, struct sonde_tp_event *ev,
		       bool refresh)
{
	struct sonde_ust_event_filter *filter = NULL;
	uint32_t id;

	if (sink && sink->enable(sink->arg, ev, &id) == 1 &&
	    (!sink->filter || sink->filter(sink->arg, ev, &filter) == 0)) {
		/* Ids go by name: an event enabled already keeps its id
		 * (but not one enabled for a fork parent's trace). */
		if (!__atomic_load_n(&ev->enabled, __ATOMIC_RELAXED) ||
		    registry.ids_stale)
			ev->id = id;
		__atomic_store_n(&ev->filter, filter, __ATOMIC_RELEASE);
		__atomic_store_n(&ev->enabled, 1, __ATOMIC_RELEASE);
	} else if (refresh) {
		__atomic_store_n(&ev->enabled, 0, __ATOMIC_RELEASE);
	}
}

SONDE_TP_EXPORT void sonde_tp_register(struct sonde_tp_event *ev)
{
	/* Before taking the lock: registering waits for the daemon's first
	 * answer, whose handling attaches a sink (which takes it). */
	sonde_ust_client_start();
	pthread_mutex_lock(&registry.lock);
	if (!registry.atfork_done) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		registry.atfork_done = true;
	}
	if (registry.count == registry.cap) {
		size_t cap = registry.cap ? 2 * registry.cap : 64;
		struct sonde_tp_event **e =
			realloc(registry.events, cap * sizeof(*e));

		if (!e) {
			/* Without memory the event just stays disabled. */
			pthread_mutex_unlock(&registry.lock);
			return;
		}
		registry.events = e;
		registry.cap = cap;
	}
	registry.events[registry.count++] = ev;
	apply_sink(registry.sink, ev, false);
	pthread_mutex_unlock(&registry.lock);
}

SONDE_TP_EXPORT void sonde_tp_unregister(struct sonde_tp_event *ev)
{
	size_t i;

	pthread_mutex_lock(&registry.lock);
	__atomic_store_n(&ev->enabled, 0, __ATOMIC_RELEASE);
	for (i = 0; i < registry.count; i++)
		if (registry.events[i] == ev) {
			registry.events[i] = registry.events[--registry.count];
			break;
		}
	pthread_mutex_unlock(&registry.lock);
}

SONDE_TP_EXPORT int sonde_ust_attach(struct sonde_ust_sink *sink,
				     struct sonde_error *err)
{
	size_t i;

	pthread_mutex_lock(&registry.lock);
	if (registry.sink) {
		pthread_mutex_unlock(&registry.lock);
		return sonde_error_set(err, SONDE_EINVAL,
				       "ust: this program is recorded already");
	}
	sink->context_size =
		sonde_ust_context_size(sink->contexts, sink->context_count);
	/* Ids first: in a fork child, events may be enabled already (with
	 * the parent's ids), and probes write as soon as the sink shows. */
	for (i = 0; i < registry.count; i++)
		apply_sink(sink, registry.events[i], registry.ids_stale);
	registry.ids_stale = false;
	__atomic_store_n(&registry.sink, sink, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&registry.lock);
	return 0;
}

SONDE_TP_EXPORT void sonde_ust_refresh(void (*update)(void *arg), void *arg)
{
	size_t i;

	pthread_mutex_lock(&registry.lock);
	update(arg);
	for (i = 0; registry.sink && i < registry.count; i++)
		apply_sink(registry.sink, registry.events[i], true);
	pthread_mutex_unlock(&registry.lock);
}

void sonde_ust_fork_detach(void)
{
	pthread_mutex_lock(&registry.lock);
	if (registry.sink) {
		registry.sink->retired_next = registry.retired;
		registry.retired = registry.sink;
	}
	registry.ids_stale = true;
	__atomic_store_n(&registry.fork_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&registry.sink, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&registry.lock);
}

/* A probe of a fork child whose sink is pending: waits for the child's
 * registration (out of fork(), where waiting could block on locks that
 * interposers such as ASan release only after the atfork handlers). */
static struct sonde_ust_sink *fork_wait(void)
{
	struct sonde_ust_sink *sink;

	if (!__atomic_load_n(&registry.fork_pending, __ATOMIC_RELAXED))
		return NULL;
	sonde_ust_client_wait_registered();
	__atomic_store_n(&registry.fork_pending, 0, __ATOMIC_RELAXED);
	sink = __atomic_load_n(&registry.sink, __ATOMIC_ACQUIRE);
	if (!sink)
		sonde_ust_detach(); /* no session for us: the events go off */
	return sink;
}

SONDE_TP_EXPORT void sonde_ust_detach(void)
{
	size_t i;

	pthread_mutex_lock(&registry.lock);
	for (i = 0; i < registry.count; i++)
		__atomic_store_n(&registry.events[i]->enabled, 0,
				 __ATOMIC_RELEASE);
	if (registry.sink) {
		registry.sink->retired_next = registry.retired;
		registry.retired = registry.sink;
	}
	__atomic_store_n(&registry.sink, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&registry.lock);
}

/* The current CPU from the rseq area glibc registers (a load), else a
 * system call's worth of sched_getcpu(). */
static inline unsigned int current_cpu(void)
{
#ifdef RSEQ_SIG
	if (__builtin_expect(__rseq_size != 0, 1)) {
		const struct rseq *rs =
			(const struct rseq *)(void *)((char *)__builtin_thread_pointer() +
						      __rseq_offset);
		int32_t cpu = (int32_t)__atomic_load_n(&rs->cpu_id,
						       __ATOMIC_RELAXED);

		if (cpu >= 0)
			return (unsigned int)cpu;
	}
#endif
	{
		int cpu = sched_getcpu();

		return cpu < 0 ? 0 : (unsigned int)cpu;
	}
}

static int32_t current_vpid(void)
{
	int32_t pid = __atomic_load_n(&registry.pid, __ATOMIC_RELAXED);

	if (!pid) {
		pid = (int32_t)getpid();
		__atomic_store_n(&registry.pid, pid, __ATOMIC_RELAXED);
	}
	return pid;
}

static int32_t current_vtid(void)
{
	if (!thread_tid)
		thread_tid = (int32_t)gettid();
	return thread_tid;
}

static const char *current_procname(void)
{
	if (!thread_name[0])
		prctl(PR_GET_NAME, thread_name);
	return thread_name;
}

static uint8_t *write_contexts(const struct sonde_ust_sink *sink, uint8_t *p)
{
	uint32_t i;

	for (i = 0; i < sink->context_count; i++)
		switch (sink->contexts[i]) {
		case SONDE_UST_CTX_VPID: {
			int32_t pid = current_vpid();

			memcpy(p, &pid, 4);
			p += 4;
			break;
		}
		case SONDE_UST_CTX_VTID: {
			int32_t tid = current_vtid();

			memcpy(p, &tid, 4);
			p += 4;
			break;
		}
		case SONDE_UST_CTX_PROCNAME:
			memcpy(p, current_procname(), 17);
			p[16] = 0;
			p += 17;
			break;
		case SONDE_UST_CTX_PTHREAD_ID: {
			uint64_t id = (uint64_t)pthread_self();

			memcpy(p, &id, 8);
			p += 8;
			break;
		}
		}
	return p;
}

SONDE_TP_EXPORT uint8_t *sonde_tp_reserve(const struct sonde_tp_event *ev,
					  size_t size, struct sonde_tp_ctx *ctx)
{
	struct sonde_ust_sink *sink =
		__atomic_load_n(&registry.sink, __ATOMIC_ACQUIRE);
	struct sonde_rb_slot slot;
	unsigned int cpu;
	uint8_t *p;

	if (__builtin_expect(!sink, 0))
		sink = fork_wait();
	if (__builtin_expect(!sink || !__atomic_load_n(&ev->enabled,
						       __ATOMIC_ACQUIRE) ||
				     __atomic_load_n(&sink->rb->hdr->writers_stop,
						     __ATOMIC_RELAXED),
			     0))
		return NULL;
	if (size > UINT32_MAX / 2)
		return NULL;
	cpu = current_cpu();
	if (__builtin_expect(cpu >= sink->rb->ncpu, 0))
		cpu %= sink->rb->ncpu;
	if (sonde_rb_reserve(sink->rb, cpu, ev->id,
			     sink->context_size + (uint32_t)size, &slot))
		return NULL;
	p = slot.payload;
	if (sink->context_count)
		p = write_contexts(sink, p);
	ctx->payload = p;
	ctx->commit = slot.commit;
	ctx->commit_end = slot.gen_end;
	ctx->size = slot.size;
	ctx->buffers = sink->rb;
	return p;
}

SONDE_TP_EXPORT void sonde_tp_packet_full(struct sonde_tp_ctx *ctx)
{
	sonde_rb_wake_consumer(ctx->buffers);
}

static int64_t filter_ctx_integer(int ctx)
{
	switch (ctx) {
	case SONDE_UST_CTX_VPID:
		return current_vpid();
	case SONDE_UST_CTX_VTID:
		return current_vtid();
	default:
		return (int64_t)(uint64_t)pthread_self();
	}
}

static const char *filter_ctx_string(int ctx)
{
	(void)ctx; /* procname is the only string context */
	return current_procname();
}

SONDE_TP_EXPORT void sonde_tp_record_filtered(const struct sonde_tp_event *ev,
					      const uint8_t *payload, size_t size)
{
	static const struct sonde_ust_filter_ctx ctx = { filter_ctx_integer,
							 filter_ctx_string };
	const struct sonde_ust_event_filter *set =
		__atomic_load_n((struct sonde_ust_event_filter *const *)&ev->filter,
				__ATOMIC_ACQUIRE);
	struct sonde_tp_ctx tp;
	bool pass = !set;
	uint32_t i;
	uint8_t *p;

	for (i = 0; set && i < set->count && !pass; i++)
		pass = sonde_ust_filter_eval(set->bound[i], payload, size, &ctx);
	if (!pass)
		return;
	p = sonde_tp_reserve(ev, size, &tp);
	if (!p)
		return;
	memcpy(p, payload, size);
	sonde_tp_commit(&tp);
}
