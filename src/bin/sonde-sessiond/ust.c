/*
 * sonde-sessiond, user space: the patterns and contexts of each session's
 * user-space channel, and for a started session one buffer set per user
 * (per-UID buffers, as LTTng's default) with a consumer thread writing
 * <output>/ust/uid/<uid>/64-bit/.  Traced programs (src/ust/client.c) say
 * hello, poll for the recording state (the generation changes on every
 * start and stop) and describe the events they record.
 *
 * One user-space session records at a time: a program writes into one
 * buffer set, the first started session's.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sessiond.h"
#include "ust/event-desc.h"
#include "ust/trace.h"
#include "ust/ust-internal.h"

#define MAX_ENABLERS 256
#define GRACE_NS 5000000L

struct ust_uid {
	uint32_t uid;
	char shm_path[128];
	struct sonde_ust_trace *trace;
	struct sonde_ust_consumer *consumer;
};

struct ust_session {
	char *name;
	char *output;
	struct sonde_ust_enabler enablers[MAX_ENABLERS];
	size_t enabler_count;
	enum sonde_ust_context contexts[SONDE_UST_MAX_CONTEXTS];
	size_t context_count;
	bool started;
	struct ust_uid *uids;
	size_t uid_count;
};

/* The daemon's user-space state (one daemon per process). */
static struct {
	struct ust_session **sessions;
	size_t count;
	uint64_t generation; /* bumped at every start and stop */
	unsigned int shm_seq;
} ust = { .generation = 1 };

static struct ust_session *find(const char *name, bool create)
{
	struct ust_session *s, **grown;
	size_t i;

	for (i = 0; i < ust.count; i++)
		if (!strcmp(ust.sessions[i]->name, name))
			return ust.sessions[i];
	if (!create)
		return NULL;
	grown = realloc(ust.sessions, (ust.count + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	ust.sessions = grown;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		return NULL;
	}
	ust.sessions[ust.count++] = s;
	return s;
}

int sessiond_ust_enable(const char *session, const char *pattern,
			enum sonde_ust_loglevel_match match, int level,
			struct sonde_error *err)
{
	struct ust_session *s = find(session, true);
	struct sonde_ust_enabler *en;

	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	if (s->enabler_count == MAX_ENABLERS)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': more than %d user-space event patterns",
				       session, MAX_ENABLERS);
	if (s->started)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' is started: enable user-space events before starting it",
				       session);
	en = &s->enablers[s->enabler_count];
	en->pattern = strdup(pattern);
	if (!en->pattern)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	en->match = match;
	en->loglevel = level;
	s->enabler_count++;
	return 0;
}

int sessiond_ust_add_context(const char *session, const char *name,
			     struct sonde_error *err)
{
	enum sonde_ust_context c = sonde_ust_context_from_name(name);
	struct ust_session *s;
	size_t i;

	if (!c)
		return sonde_error_set(err, SONDE_EINVAL,
				       "unknown user-space context '%s' (vpid, vtid, procname, pthread_id)",
				       name);
	s = find(session, true);
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	if (s->started || s->uid_count)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' has recorded already: add contexts before starting it",
				       session);
	for (i = 0; i < s->context_count; i++)
		if (s->contexts[i] == c)
			return 0;
	if (s->context_count == SONDE_UST_MAX_CONTEXTS)
		return sonde_error_set(err, SONDE_EINVAL, "too many contexts");
	s->contexts[s->context_count++] = c;
	return 0;
}

bool sessiond_ust_has_events(const char *session)
{
	struct ust_session *s = find(session, false);

	return s && s->enabler_count;
}

int sessiond_ust_start(const char *session, const char *output,
		       struct sonde_error *err)
{
	struct ust_session *s = find(session, false);
	size_t i;

	if (!s || !s->enabler_count)
		return 0;
	if (!s->output && !(s->output = strdup(output)))
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	for (i = 0; i < s->uid_count; i++)
		__atomic_store_n(&sonde_ust_trace_rb(s->uids[i].trace)->hdr->writers_stop,
				 0, __ATOMIC_RELEASE);
	s->started = true;
	ust.generation++;
	return 0;
}

int sessiond_ust_stop(const char *session, struct sonde_error *err)
{
	struct ust_session *s = find(session, false);
	struct timespec grace = { 0, GRACE_NS };
	int ret = 0;
	size_t i;

	if (!s || !s->started)
		return 0;
	s->started = false;
	ust.generation++;
	/* The programs learn it at their next poll; meanwhile the flag in
	 * the buffers stops their probes, and after a grace period no probe
	 * is inside the buffers any more. */
	for (i = 0; i < s->uid_count; i++)
		__atomic_store_n(&sonde_ust_trace_rb(s->uids[i].trace)->hdr->writers_stop,
				 1, __ATOMIC_RELEASE);
	nanosleep(&grace, NULL);
	for (i = 0; i < s->uid_count; i++) {
		struct sonde_error e;
		int r = sonde_ust_consumer_stop(s->uids[i].consumer, &e);

		s->uids[i].consumer = NULL;
		if (!r)
			r = sonde_ust_trace_finish(s->uids[i].trace, true, NULL, &e);
		if (r && !ret) {
			ret = r;
			*err = e;
		}
		/* Recording goes on after a restart in the same files. */
		if (sonde_ust_consumer_start(s->uids[i].trace, 0, 0,
					     &s->uids[i].consumer, &e) && !ret) {
			ret = e.status;
			*err = e;
		}
	}
	return ret;
}

static void free_session(struct ust_session *s)
{
	size_t i;

	for (i = 0; i < s->uid_count; i++) {
		if (s->uids[i].consumer)
			sonde_ust_consumer_stop(s->uids[i].consumer, NULL);
		sonde_ust_trace_free(s->uids[i].trace);
		unlink(s->uids[i].shm_path);
	}
	for (i = 0; i < s->enabler_count; i++)
		free((char *)s->enablers[i].pattern);
	free(s->uids);
	free(s->output);
	free(s->name);
	free(s);
}

void sessiond_ust_destroy(const char *session)
{
	struct sonde_error err;
	size_t i;

	for (i = 0; i < ust.count; i++) {
		if (strcmp(ust.sessions[i]->name, session))
			continue;
		if (sessiond_ust_stop(session, &err))
			sessiond_log("user space: %s", err.msg);
		free_session(ust.sessions[i]);
		ust.sessions[i] = ust.sessions[--ust.count];
		return;
	}
}

void sessiond_ust_shutdown(void)
{
	while (ust.count)
		sessiond_ust_destroy(ust.sessions[0]->name);
	free(ust.sessions);
	ust.sessions = NULL;
}

/* The per-UID buffers of a started session, made on the first program of
 * that user. */
static int uid_buffers(struct ust_session *s, uint32_t uid,
		       struct ust_uid **out, struct sonde_error *err)
{
	struct sonde_ust_trace_config cfg = { .trace_name = s->name };
	struct ust_uid *u, *grown;
	char dir[PATH_MAX];
	size_t i;
	int ret;

	for (i = 0; i < s->uid_count; i++)
		if (s->uids[i].uid == uid) {
			*out = &s->uids[i];
			return 0;
		}
	grown = realloc(s->uids, (s->uid_count + 1) * sizeof(*grown));
	if (!grown)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->uids = grown;
	u = &s->uids[s->uid_count];
	memset(u, 0, sizeof(*u));
	u->uid = uid;
	snprintf(u->shm_path, sizeof(u->shm_path), "/dev/shm/sonde-ust-%d-%u",
		 (int)getpid(), ust.shm_seq++);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/ust/uid/%u/%zu-bit", s->output,
			     uid, 8 * sizeof(void *)) >= sizeof(dir))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
				       s->output);
	cfg.dir = dir;
	cfg.shm_path = u->shm_path;
	cfg.contexts = s->contexts;
	cfg.context_count = s->context_count;
	ret = sonde_ust_trace_create(&cfg, &u->trace, err);
	if (ret)
		return ret;
	/* The user's programs map the buffers; nobody else may. */
	if (chown(u->shm_path, uid, (gid_t)-1) < 0 && geteuid() == 0) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: %s", u->shm_path,
				      strerror(errno));
		goto fail;
	}
	ret = sonde_ust_consumer_start(u->trace, 0, 0, &u->consumer, err);
	if (ret)
		goto fail;
	s->uid_count++;
	*out = u;
	sessiond_log("session '%s': user-space buffers for uid %u in %s",
		     s->name, uid, dir);
	return 0;
fail:
	sonde_ust_trace_free(u->trace);
	unlink(u->shm_path);
	return ret;
}

static struct ust_session *recording_session(void)
{
	size_t i;

	for (i = 0; i < ust.count; i++)
		if (ust.sessions[i]->started)
			return ust.sessions[i];
	return NULL;
}

/* HELLO and POLL: the generation, and when recording, what to write. */
static int app_state(const struct sonde_ctl_rec *req, struct sonde_ctl_writer *w,
		     struct sonde_error *err)
{
	struct ust_session *s = recording_session();
	uint64_t uid = 0, gen = 0;
	struct ust_uid *u;
	size_t i;
	int ret;

	sonde_ctl_get_u64(req, SONDE_CTL_T_GENERATION, &gen);
	sonde_ctl_put_u64(w, SONDE_CTL_T_GENERATION, ust.generation);
	if (gen == ust.generation || !s)
		return 0;
	if (!sonde_ctl_get_u64(req, SONDE_CTL_T_UID, &uid) || uid > UINT32_MAX)
		return sonde_error_set(err, SONDE_EFORMAT, "app: no uid");
	ret = uid_buffers(s, (uint32_t)uid, &u, err);
	if (ret)
		return ret;
	sonde_ctl_put_str(w, SONDE_CTL_T_SHM_PATH, u->shm_path);
	for (i = 0; i < s->enabler_count; i++) {
		sonde_ctl_rec_begin(w, SONDE_CTL_T_ENABLER_REC);
		sonde_ctl_put_str(w, SONDE_CTL_T_EVENT, s->enablers[i].pattern);
		sonde_ctl_put_u64(w, SONDE_CTL_T_LOGLEVEL_MATCH, s->enablers[i].match);
		sonde_ctl_put_i64(w, SONDE_CTL_T_LOGLEVEL, s->enablers[i].loglevel);
		sonde_ctl_rec_end(w);
	}
	for (i = 0; i < s->context_count; i++)
		sonde_ctl_put_str(w, SONDE_CTL_T_CONTEXT,
				  s->contexts[i] == SONDE_UST_CTX_VPID ? "vpid" :
				  s->contexts[i] == SONDE_UST_CTX_VTID ? "vtid" :
				  s->contexts[i] == SONDE_UST_CTX_PROCNAME ? "procname" :
									 "pthread_id");
	return 0;
}

static int app_event(const struct sonde_ctl_msg *req, struct sonde_ctl_writer *w,
		     struct sonde_error *err)
{
	struct ust_session *s = recording_session();
	struct sonde_ust_event_desc desc;
	struct sonde_tp_event ev = { 0 };
	struct sonde_arena arena;
	uint64_t uid = 0;
	struct ust_uid *u;
	uint32_t id;
	int ret;

	if (!s)
		return sonde_error_set(err, SONDE_EINVAL, "no session is recording");
	if (!sonde_ctl_get_u64(&req->root, SONDE_CTL_T_UID, &uid) || uid > UINT32_MAX)
		return sonde_error_set(err, SONDE_EFORMAT, "app event: no uid");
	sonde_arena_init(&arena, 1u << 20);
	ret = sonde_ust_event_desc_get(&req->root, &arena, &desc, err);
	if (!ret)
		ret = uid_buffers(s, (uint32_t)uid, &u, err);
	if (!ret) {
		ev.name = desc.name;
		ev.loglevel = desc.loglevel;
		ev.fields = desc.fields;
		ev.field_count = desc.field_count;
		ret = sonde_ust_trace_event_id(u->trace, &ev, &id, err);
	}
	if (!ret)
		sonde_ctl_put_u64(w, SONDE_CTL_T_ID, id);
	sonde_arena_release(&arena);
	return ret;
}

int sessiond_ust_app(const struct sonde_ctl_msg *req, struct sonde_ctl_writer *w,
		     struct sonde_error *err)
{
	if (req->type == SONDE_CTL_APP_EVENT)
		return app_event(req, w, err);
	if (req->type == SONDE_CTL_APP_HELLO) {
		uint64_t pid = 0;

		sonde_ctl_get_u64(&req->root, SONDE_CTL_T_PID, &pid);
		sessiond_log("program %llu (%s) registered",
			     (unsigned long long)pid,
			     sonde_ctl_get_str(&req->root, SONDE_CTL_T_PROCNAME) ?
				     sonde_ctl_get_str(&req->root, SONDE_CTL_T_PROCNAME) :
				     "?");
	}
	return app_state(&req->root, w, err);
}
