/*
 * Registration of a traced program with sonde-sessiond.
 *
 * At the first tracepoint registration a thread connects to the daemon's
 * socket (its run directory, then /run/sonde), says hello (pid, uid,
 * procname) and learns the recording state: the ring buffers to write
 * (a file in /dev/shm, per-UID: shared by the user's programs), the
 * enabled patterns and the contexts.  It then polls every 100 ms for a
 * new state (a session started or stopped).  An event to record is
 * described to the daemon (APP_EVENT), which adds it to the trace's
 * metadata and answers its id.  With no daemon the program runs
 * untraced; the thread retries every second.  The program's constructors
 * wait up to SONDE_UST_REGISTER_TIMEOUT ms (default 500) for the first
 * answer, so that events of a short program are recorded from the start.
 * A fork child registers as a program of its own (see
 * sonde_ust_client_after_fork_child).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "session/ctl-proto.h"
#include "session/rundir.h"
#include "ust/event-desc.h"
#include "ust/filter.h"
#include "ust/ust-internal.h"

#define POLL_NS 100000000L
#define RETRY_NS 1000000000L

/* The enabled patterns of a recording state, with their filters. */
struct patterns {
	struct sonde_ust_enabler *enablers;
	struct sonde_ust_filter **filters; /* per enabler, NULL: none */
	size_t count;
	struct sonde_arena strings; /* the patterns */
	struct patterns *retired_next;
};

static struct ust_client {
	pthread_mutex_t lock; /* the socket: one request at a time */
	pthread_cond_t registered_cond;
	bool started, registered;
	bool forked; /* a fork child whose parent had a client */
	bool per_pid; /* the attached sink's buffers are the process's own */
	int fd;
	uint64_t generation;
	struct sonde_ust_sink *sink; /* attached by this client */
	struct patterns *patterns; /* of the attached sink */
	struct patterns *retired; /* replaced in place; their programs kept */
	char shm_path[256]; /* the attached sink's buffers */
} client = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.registered_cond = PTHREAD_COND_INITIALIZER,
	.fd = -1,
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_daemon(void)
{
	char path[108];
	int fd = -1;

	if (sonde_rundir_path(SONDE_SESSIOND_SOCKET, path, sizeof(path), NULL) == 0)
		fd = connect_to(path);
	if (fd < 0 && strcmp(path, "/run/sonde/" SONDE_SESSIOND_SOCKET) != 0)
		fd = connect_to("/run/sonde/" SONDE_SESSIOND_SOCKET);
	return fd;
}

/* One request and its reply; *reply is NULL on failure (connection lost). */
static int transact(struct sonde_ctl_writer *w, struct sonde_ctl_msg **reply)
{
	uint8_t *buf = NULL;
	size_t len;
	int64_t status = -1;

	*reply = NULL;
	if (client.fd < 0 || sonde_ctl_writer_finish(w, &buf, &len, NULL))
		return -1;
	if (sonde_ctl_write_all(client.fd, buf, len, NULL) ||
	    sonde_ctl_read_msg(client.fd, reply, NULL)) {
		free(buf);
		close(client.fd);
		client.fd = -1;
		return -1;
	}
	free(buf);
	sonde_ctl_get_i64(&(*reply)->root, SONDE_CTL_T_STATUS, &status);
	return status == 0 ? 0 : -1;
}

/* The sink's policy: a matching event is described to the daemon. */
static int client_enable(void *arg, const struct sonde_tp_event *ev,
			 uint32_t *id)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	uint64_t v = 0;
	bool want = false;
	size_t i;
	int ret = 0;

	(void)arg;
	for (i = 0; client.patterns && i < client.patterns->count && !want; i++)
		want = sonde_ust_enabler_match(&client.patterns->enablers[i],
					       ev->name, ev->loglevel);
	if (!want)
		return 0;
	pthread_mutex_lock(&client.lock);
	sonde_ctl_writer_init(&w, SONDE_CTL_APP_EVENT);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_GENERATION, client.generation);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_UID, (uint64_t)getuid());
	sonde_ctl_put_u64(&w, SONDE_CTL_T_PID, (uint64_t)getpid());
	sonde_ust_event_desc_put(&w, ev);
	if (transact(&w, &reply) == 0 &&
	    sonde_ctl_get_u64(&reply->root, SONDE_CTL_T_ID, &v) && v < UINT32_MAX) {
		*id = (uint32_t)v;
		ret = 1;
	}
	sonde_ctl_writer_release(&w);
	sonde_ctl_msg_free(reply);
	pthread_mutex_unlock(&client.lock);
	return ret;
}

static int client_filter(void *arg, const struct sonde_tp_event *ev,
			 struct sonde_ust_event_filter **filter)
{
	if (!client.patterns)
		return -1;
	return sonde_ust_event_filter_make(arg, client.patterns->enablers,
					   client.patterns->filters,
					   client.patterns->count, ev, filter);
}

/* Loads the bytecode of an enabler record; NULL (and the enabler is
 * dropped) if the daemon sent something malformed. */
static int enabler_filter(const struct sonde_ctl_rec *rec,
			  struct sonde_ust_filter **out)
{
	const char *hex = sonde_ctl_get_str(rec, SONDE_CTL_T_FILTER_CODE);
	uint8_t *code;
	size_t len;
	int ret;

	*out = NULL;
	if (!hex)
		return 0;
	ret = sonde_ust_filter_unhex(hex, &code, &len);
	if (!ret) {
		ret = sonde_ust_filter_load(code, len, out, NULL);
		free(code);
	}
	return ret;
}

static void stop_recording(void)
{
	if (!client.sink)
		return;
	sonde_ust_detach(); /* the sink and buffers now belong to the registry */
	client.sink = NULL;
}

static void patterns_free(struct patterns *p, bool with_filters)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; with_filters && i < p->count; i++)
		sonde_ust_filter_free(p->filters[i]);
	if (with_filters)
		free(p->filters);
	free(p->enablers);
	sonde_arena_release(&p->strings);
	free(p);
}

/* The patterns and contexts of a reply; NULL without memory. */
static struct patterns *parse_state(const struct sonde_ctl_rec *r,
				    struct sonde_ust_sink *sink)
{
	struct patterns *p = calloc(1, sizeof(*p));
	size_t i, n = 0;

	if (!p)
		return NULL;
	sonde_arena_init(&p->strings, 1u << 20);
	for (i = 0; i < r->count; i++)
		n += r->fields[i].tag == SONDE_CTL_T_ENABLER_REC;
	p->enablers = calloc(n ? n : 1, sizeof(*p->enablers));
	p->filters = calloc(n ? n : 1, sizeof(*p->filters));
	if (!p->enablers || !p->filters) {
		patterns_free(p, true);
		return NULL;
	}
	for (i = 0; i < r->count; i++) {
		const struct sonde_ctl_field *f = &r->fields[i];
		struct sonde_ust_enabler *en = &p->enablers[p->count];
		uint64_t match = 0;
		int64_t level = 0;
		const char *pat;

		if (f->tag == SONDE_CTL_T_CONTEXT && sink &&
		    sink->context_count < SONDE_UST_MAX_CONTEXTS &&
		    sonde_ust_context_from_name(f->v.str))
			sink->contexts[sink->context_count++] =
				sonde_ust_context_from_name(f->v.str);
		if (f->tag != SONDE_CTL_T_ENABLER_REC)
			continue;
		pat = sonde_ctl_get_str(f->v.rec, SONDE_CTL_T_EVENT);
		sonde_ctl_get_u64(f->v.rec, SONDE_CTL_T_LOGLEVEL_MATCH, &match);
		sonde_ctl_get_i64(f->v.rec, SONDE_CTL_T_LOGLEVEL, &level);
		if (!pat || enabler_filter(f->v.rec, &p->filters[p->count]))
			continue;
		if (!(en->pattern = sonde_arena_strdup(&p->strings, pat))) {
			sonde_ust_filter_free(p->filters[p->count]);
			p->filters[p->count] = NULL;
			continue;
		}
		en->match = match <= SONDE_UST_LOGLEVEL_SINGLE ?
				    (enum sonde_ust_loglevel_match)match :
				    SONDE_UST_LOGLEVEL_ALL;
		en->loglevel = (int)level;
		p->count++;
	}
	return p;
}

/* Called by sonde_ust_refresh() with the registry locked: no enable or
 * filter callback runs meanwhile. */
static void swap_patterns(void *arg)
{
	struct patterns *old = client.patterns;

	client.patterns = arg;
	/* Bound filters of the old programs may still be in a probe: the
	 * programs stay, like retired sinks; the patterns go. */
	if (old) {
		free(old->enablers);
		old->enablers = NULL;
		sonde_arena_release(&old->strings);
		old->retired_next = client.retired;
		client.retired = old;
	}
}

/* Applies a new recording state from a HELLO/POLL reply: the same
 * buffers with other patterns (events enabled or disabled while the
 * session records) are applied in place, with no gap; anything else
 * detaches the old sink and attaches a new one. */
static void apply_state(const struct sonde_ctl_msg *reply)
{
	const struct sonde_ctl_rec *r = &reply->root;
	const char *shm = sonde_ctl_get_str(r, SONDE_CTL_T_SHM_PATH);
	struct sonde_ust_sink *sink;
	struct patterns *p;

	if (client.sink && shm && !strcmp(shm, client.shm_path)) {
		p = parse_state(r, NULL);
		if (p)
			sonde_ust_refresh(swap_patterns, p);
		return;
	}
	stop_recording();
	patterns_free(client.patterns, false); /* the old sink keeps the programs */
	client.patterns = NULL;
	if (!shm || strlen(shm) >= sizeof(client.shm_path))
		return;
	sink = calloc(1, sizeof(*sink));
	if (!sink)
		return;
	p = parse_state(r, sink);
	if (!p || sonde_rb_map_path(shm, &sink->rb, NULL)) {
		patterns_free(p, true);
		free(sink);
		return;
	}
	client.patterns = p;
	sink->filter_programs = p->filters;
	sink->filter_program_count = p->count;
	sink->enable = client_enable;
	sink->filter = client_filter;
	sink->arg = sink;
	if (sonde_ust_attach(sink, NULL)) {
		/* Recorded by an in-process session already: leave it be. */
		sonde_rb_unmap(sink->rb);
		patterns_free(p, true);
		client.patterns = NULL;
		free(sink);
		return;
	}
	snprintf(client.shm_path, sizeof(client.shm_path), "%s", shm);
	client.per_pid = sonde_ctl_get_bool(r, SONDE_CTL_T_BUFFERS_PID, false);
	client.sink = sink;
}

/* HELLO (first) or POLL; applies the state when it changed. */
static void exchange(bool hello)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply = NULL;
	uint64_t gen = 0;
	char name[17] = "";

	pthread_mutex_lock(&client.lock);
	sonde_ctl_writer_init(&w, hello ? SONDE_CTL_APP_HELLO : SONDE_CTL_APP_POLL);
	prctl(PR_GET_NAME, name);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_PID, (uint64_t)getpid());
	sonde_ctl_put_str(&w, SONDE_CTL_T_PROCNAME, name);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_UID, (uint64_t)getuid());
	sonde_ctl_put_u64(&w, SONDE_CTL_T_GENERATION, hello ? 0 : client.generation);
	if (transact(&w, &reply) == 0 &&
	    sonde_ctl_get_u64(&reply->root, SONDE_CTL_T_GENERATION, &gen) &&
	    (hello || gen != client.generation)) {
		client.generation = gen;
		pthread_mutex_unlock(&client.lock);
		apply_state(reply);
	} else {
		pthread_mutex_unlock(&client.lock);
	}
	sonde_ctl_writer_release(&w);
	sonde_ctl_msg_free(reply);
}

static void mark_registered(void)
{
	pthread_mutex_lock(&client.lock);
	client.registered = true;
	pthread_cond_broadcast(&client.registered_cond);
	pthread_mutex_unlock(&client.lock);
}

static void *client_main(void *arg)
{
	bool connected = false;

	(void)arg;
	for (;;) {
		struct timespec pause = { 0, POLL_NS };
		int fd;

		if (client.fd < 0) {
			/* A lost daemon's buffers are no longer consumed.  A
			 * fork child's inherited per-UID sink is kept until
			 * its first answer names the same buffers. */
			if (connected)
				stop_recording();
			fd = connect_daemon();
			connected |= fd >= 0;
			pthread_mutex_lock(&client.lock);
			client.fd = fd;
			pthread_mutex_unlock(&client.lock);
			if (fd >= 0)
				exchange(true);
			mark_registered();
			if (fd < 0)
				pause = (struct timespec){ RETRY_NS / 1000000000L, 0 };
		} else {
			exchange(false);
		}
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void client_start(bool wait)
{
	pthread_attr_t attr;
	pthread_t th;

	if (getenv("SONDE_UST_NO_DAEMON"))
		return;
	pthread_mutex_lock(&client.lock);
	if (client.started) {
		pthread_mutex_unlock(&client.lock);
		return;
	}
	client.started = true;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, client_main, NULL)) {
		pthread_attr_destroy(&attr);
		pthread_mutex_unlock(&client.lock);
		return;
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_unlock(&client.lock);
	if (wait)
		sonde_ust_client_wait_registered();
}

void sonde_ust_client_wait_registered(void)
{
	struct timespec deadline;
	const char *env = getenv("SONDE_UST_REGISTER_TIMEOUT");
	long ms = env ? atol(env) : 500;

	pthread_mutex_lock(&client.lock);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += ms / 1000;
	deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	while (!client.registered &&
	       pthread_cond_timedwait(&client.registered_cond, &client.lock,
				      &deadline) == 0)
		;
	pthread_mutex_unlock(&client.lock);
}

void sonde_ust_client_start(void)
{
	client_start(true);
}

void sonde_ust_client_fork_prepare(void)
{
	pthread_mutex_lock(&client.lock);
}

void sonde_ust_client_fork_parent(void)
{
	pthread_mutex_unlock(&client.lock);
}

void sonde_ust_client_fork_child(void)
{
	/* The parent's socket stays the parent's: closing our copy does
	 * not end its connection. */
	if (client.fd >= 0)
		close(client.fd);
	client.fd = -1;
	client.registered = false;
	client.forked = client.started;
	client.started = false;
	client.generation = 0;
	/* Its waiters were threads of the parent. */
	pthread_cond_init(&client.registered_cond, NULL);
	pthread_mutex_unlock(&client.lock);
}

/*
 * The child has the parent's sink but no client thread: it registers as a
 * program of its own, with a thread started here (glibc resets malloc's
 * and the thread stacks' locks before calling atfork child handlers; the
 * thread may still wait for an interposer's locks, ASan's allocator, until
 * fork() returns, so nothing here waits for it).  Per-UID, the sink is its
 * user's buffers, which the daemon gives it again: it records on
 * meanwhile, with its own vpid.  Per-PID, the sink writes the parent's
 * buffers under the parent's identity: the child drops it, and its first
 * probe waits (SONDE_UST_REGISTER_TIMEOUT) for its own buffers, as
 * lttng-ust's fork wrapper does, so that it loses nothing in between.  An
 * in-process session's sink (not ours) stays.
 */
void sonde_ust_client_after_fork_child(void)
{
	if (client.sink && client.per_pid) {
		struct sonde_rb *rb = client.sink->rb;

		sonde_ust_fork_detach();
		client.sink = NULL;
		/* No probe of ours can be in it (one thread here), and the
		 * parent's buffers must not stay mapped for our lifetime. */
		sonde_rb_retire(rb);
		patterns_free(client.patterns, false);
		client.patterns = NULL;
		client.shm_path[0] = '\0';
	}
	if (client.forked) {
		client.forked = false;
		client_start(false);
	}
}
