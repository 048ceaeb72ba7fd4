/*
 * sonde-sessiond, user space: the channel, patterns and contexts of each
 * session's user space, and for a started session one buffer set per user
 * (per-UID buffers, as LTTng's default: <output>/ust/uid/<uid>/64-bit/)
 * or per process (<output>/ust/pid/<procname>-<pid>-<datetime>/), each
 * with a consumer thread.  Traced programs (src/ust/client.c) say
 * hello, poll for the recording state (the generation changes on every
 * start and stop) and describe the events they record.  A per-PID buffer
 * set belongs to its program's connection and ends when it closes (the
 * program exited, crashed or exec'd), as LTTng's do; per-UID ones live
 * as long as the session.
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

#include "session/relay-output.h"
#include "sessiond.h"
#include "ust/event-desc.h"
#include "ust/filter.h"
#include "ust/trace.h"
#include "ust/ust-internal.h"

#define MAX_ENABLERS 256
#define GRACE_NS 5000000L

/* One buffer set: of a user (per-UID) or of a process (per-PID). */
struct ust_uid {
	uint32_t uid; /* the uid, or the pid with per-PID buffers */
	uint64_t owner; /* per-PID: the program's connection */
	const struct sonde_ust_output_hook *relay_hook; /* streamed, or NULL */
	char subdir[128]; /* of the trace under the output (ust/...) */
	char shm_path[128];
	struct sonde_ust_trace *trace;
	struct sonde_ust_consumer *consumer;
};

struct ust_session {
	char *name;
	char *output;
	struct sonde_ust_enabler enablers[MAX_ENABLERS];
	char *filter_codes[MAX_ENABLERS]; /* hex bytecode; NULL: no filter */
	size_t enabler_count;
	enum sonde_ust_context contexts[SONDE_UST_MAX_CONTEXTS];
	size_t context_count;
	bool started;
	bool snapshot; /* overwrite buffers, written by snapshot record only */
	/* The channel (enable-channel -u; defaults otherwise). */
	char channel[64];
	struct sonde_rb_config rb;
	uint64_t switch_timer_us;
	bool buffers_pid;
	struct ust_uid *uids;
	size_t uid_count;
	/* Streamed sessions: the user-space domain's relay output (the
	 * session model's) and the live timer. */
	struct relay_output *relay;
	uint32_t live_timer_us;
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
	snprintf(s->channel, sizeof(s->channel), "channel0");
	ust.sessions[ust.count++] = s;
	return s;
}

int sessiond_ust_enable(const char *session, const char *pattern,
			enum sonde_ust_loglevel_match match, int level,
			const char *filter, struct sonde_error *err)
{
	struct ust_session *s = find(session, true);
	struct sonde_ust_enabler *en;
	char *hex = NULL;
	uint8_t *code;
	size_t len;
	int ret;

	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	if (s->enabler_count == MAX_ENABLERS)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': more than %d user-space event patterns",
				       session, MAX_ENABLERS);
	if (filter) {
		ret = sonde_ust_filter_compile(filter, &code, &len, err);
		if (ret)
			return ret;
		hex = sonde_ust_filter_hex(code, len);
		free(code);
		if (!hex)
			return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	en = &s->enablers[s->enabler_count];
	en->pattern = strdup(pattern);
	if (!en->pattern) {
		free(hex);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	s->filter_codes[s->enabler_count] = hex;
	en->match = match;
	en->loglevel = level;
	s->enabler_count++;
	/* Recording programs apply the new patterns at their next poll. */
	if (s->started)
		ust.generation++;
	return 0;
}

int sessiond_ust_disable(const char *session, const char *pattern,
			 struct sonde_error *err)
{
	struct ust_session *s = find(session, false);
	size_t i = 0, removed = 0;

	while (s && i < s->enabler_count) {
		if (pattern && strcmp(s->enablers[i].pattern, pattern)) {
			i++;
			continue;
		}
		free((char *)s->enablers[i].pattern);
		free(s->filter_codes[i]);
		s->enabler_count--;
		memmove(&s->enablers[i], &s->enablers[i + 1],
			(s->enabler_count - i) * sizeof(s->enablers[0]));
		memmove(&s->filter_codes[i], &s->filter_codes[i + 1],
			(s->enabler_count - i) * sizeof(s->filter_codes[0]));
		removed++;
	}
	if (!removed && pattern)
		return sonde_error_set(err, SONDE_ENOENT,
				       "user-space event '%s' is not enabled in session '%s'",
				       pattern, session);
	/* Recording programs stop recording those events at their next
	 * poll (100 ms), all of them in place. */
	if (removed && s->started)
		ust.generation++;
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

int sessiond_ust_channel(const char *session, const char *name,
			 const struct sonde_kernel_channel_config *cfg,
			 bool buffers_pid, struct sonde_error *err)
{
	struct ust_session *s = find(session, true);
	size_t i;

	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	if (s->started || s->uid_count)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' has recorded already: enable the user-space channel before starting it",
				       session);
	if (!name[0] || strlen(name) >= sizeof(s->channel))
		return sonde_error_set(err, SONDE_EINVAL, "invalid channel name '%s'",
				       name);
	for (i = 0; name[i]; i++)
		if (!(name[i] == '_' || name[i] == '-' || name[i] == '.' ||
		      (name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z')))
			return sonde_error_set(err, SONDE_EINVAL,
					       "invalid channel name '%s'", name);
	if (cfg->num_subbuf > UINT32_MAX)
		return sonde_error_set(err, SONDE_EINVAL, "too many sub-buffers");
	snprintf(s->channel, sizeof(s->channel), "%s", name);
	s->rb.subbuf_size = cfg->subbuf_size;
	s->rb.num_subbuf = (uint32_t)cfg->num_subbuf;
	s->rb.mode = cfg->overwrite ? SONDE_RB_OVERWRITE : SONDE_RB_DISCARD;
	s->switch_timer_us = cfg->switch_timer_us;
	s->buffers_pid = buffers_pid;
	return 0;
}

int sessiond_ust_set_relay(const char *session, struct relay_output *relay,
			   uint32_t live_timer_us, struct sonde_error *err)
{
	struct ust_session *s = find(session, true);

	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->relay = relay;
	s->live_timer_us = live_timer_us;
	return 0;
}

/* A live session's packets leave at least once per live timer period. */
static uint64_t switch_timer_ns(const struct ust_session *s)
{
	return (s->switch_timer_us ? s->switch_timer_us : s->live_timer_us) *
	       1000ull;
}

bool sessiond_ust_has_events(const char *session)
{
	struct ust_session *s = find(session, false);

	return s && s->enabler_count;
}

int sessiond_ust_start(const char *session, const char *output, bool snapshot,
		       struct sonde_error *err)
{
	struct ust_session *s = find(session, false);
	size_t i;

	if (!s || !s->enabler_count)
		return 0;
	s->snapshot = snapshot;
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
		if (sonde_ust_consumer_start(s->uids[i].trace, 0,
					     switch_timer_ns(s),
					     &s->uids[i].consumer, &e) && !ret) {
			ret = e.status;
			*err = e;
		}
	}
	return ret;
}

int sessiond_ust_snapshot(const char *session, const char *path,
			  struct sonde_error *err)
{
	struct ust_session *s = find(session, false);
	char dir[PATH_MAX];
	size_t i;
	int ret;

	for (i = 0; s && i < s->uid_count; i++) {
		if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", path,
				     s->uids[i].subdir) >= sizeof(dir))
			return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
					       path);
		ret = sonde_ust_trace_snapshot(s->uids[i].trace, dir, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* Frees a buffer set whose trace is finished (or never will be); its
 * relay trace, if any, is the relay output's to finish. */
static void buffers_free(struct ust_uid *u)
{
	if (u->consumer)
		sonde_ust_consumer_stop(u->consumer, NULL);
	u->consumer = NULL;
	sonde_ust_trace_free(u->trace);
	unlink(u->shm_path);
}

static void free_session(struct ust_session *s)
{
	size_t i;

	/* Their relay streams are closed with the relay output, after its
	 * final data pending and chunk close: closed earlier, lttng-relayd
	 * cuts the viewers still reading them short. */
	for (i = 0; i < s->uid_count; i++)
		buffers_free(&s->uids[i]);
	for (i = 0; i < s->enabler_count; i++) {
		free((char *)s->enablers[i].pattern);
		free(s->filter_codes[i]);
	}
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

void sessiond_ust_app_gone(uint64_t conn)
{
	struct timespec grace = { 0, GRACE_NS };

	for (size_t i = 0; i < ust.count; i++) {
		struct ust_session *s = ust.sessions[i];

		for (size_t j = 0; j < s->uid_count; j++) {
			struct ust_uid *u = &s->uids[j];
			struct sonde_error err;

			if (!s->buffers_pid || u->owner != conn)
				continue;
			if (s->started) {
				/* A program that only lost its connection may
				 * still be in a probe: stop it first. */
				__atomic_store_n(&sonde_ust_trace_rb(u->trace)->hdr->writers_stop,
						 1, __ATOMIC_RELEASE);
				nanosleep(&grace, NULL);
				sonde_ust_consumer_stop(u->consumer, NULL);
				u->consumer = NULL;
				if (sonde_ust_trace_finish(u->trace, true, NULL,
							   &err))
					sessiond_log("session '%s': %s", s->name,
						     err.msg);
			}
			sessiond_log("session '%s': program %u exited, %s closed",
				     s->name, u->uid, u->subdir);
			buffers_free(u);
			if (u->relay_hook &&
			    relay_output_ust_trace_end(s->relay, u->relay_hook,
						       &err))
				sessiond_log("session '%s': %s", s->name,
					     err.msg);
			s->uids[j--] = s->uids[--s->uid_count];
		}
	}
}

/* A per-PID trace directory no other program of the session has (the
 * same pid, name and second: a fork child that exec'd itself). */
static int pid_subdir(const struct ust_session *s, const char *procname,
		      uint32_t pid, char *subdir, size_t size,
		      struct sonde_error *err)
{
	char date[32], dir[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y%m%d-%H%M%S", &tm);
	for (unsigned int k = 0; k < 100; k++) {
		n = k ? snprintf(subdir, size, "ust/pid/%s-%u-%s-%u", procname,
				 pid, date, k) :
			snprintf(subdir, size, "ust/pid/%s-%u-%s", procname, pid,
				 date);
		if (n < 0 || (size_t)n >= size ||
		    (size_t)snprintf(dir, sizeof(dir), "%s/%s", s->output,
				     subdir) >= sizeof(dir))
			break;
		if (access(dir, F_OK) && errno == ENOENT)
			return 0;
	}
	return sonde_error_set(err, SONDE_EINVAL, "%s: no free per-PID directory for %s-%u",
			       s->output, procname, pid);
}

/* The buffers of a started session for a program: its user's (made on
 * the user's first program) or, per-PID, its own (its connection's). */
static int buffers_for(struct ust_session *s, uint32_t uid, uint32_t pid,
		       const char *procname, uint64_t conn,
		       struct ust_uid **out, struct sonde_error *err)
{
	struct sonde_ust_trace_config cfg = { .trace_name = s->name,
					      .remote_writers = true };
	struct ust_uid *u, *grown;
	char dir[PATH_MAX];
	size_t i;
	int ret, n;

	for (i = 0; i < s->uid_count; i++)
		if (s->buffers_pid ? s->uids[i].owner == conn :
				     s->uids[i].uid == uid) {
			*out = &s->uids[i];
			return 0;
		}
	grown = realloc(s->uids, (s->uid_count + 1) * sizeof(*grown));
	if (!grown)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	s->uids = grown;
	u = &s->uids[s->uid_count];
	memset(u, 0, sizeof(*u));
	u->uid = s->buffers_pid ? pid : uid;
	u->owner = conn;
	snprintf(u->shm_path, sizeof(u->shm_path), "/dev/shm/sonde-ust-%d-%u",
		 (int)getpid(), ust.shm_seq++);
	if (s->buffers_pid) {
		ret = pid_subdir(s, procname, pid, u->subdir, sizeof(u->subdir),
				 err);
		if (ret)
			return ret;
	} else {
		snprintf(u->subdir, sizeof(u->subdir), "ust/uid/%u/%zu-bit", uid,
			 8 * sizeof(void *));
	}
	n = snprintf(dir, sizeof(dir), "%s/%s", s->output, u->subdir);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
				       s->output);
	cfg.dir = dir;
	cfg.channel_name = s->channel;
	cfg.rb = s->rb;
	cfg.shm_path = u->shm_path;
	cfg.snapshot = s->snapshot;
	cfg.contexts = s->contexts;
	cfg.context_count = s->context_count;
	if (s->buffers_pid) {
		cfg.pid = pid;
		cfg.procname = procname;
	}
	/* The relay's copy: the same path below the session directory. */
	if (s->relay) {
		ret = relay_output_ust_trace(s->relay, u->subdir, s->channel,
					     &cfg.hook, err);
		if (ret)
			return ret;
		u->relay_hook = cfg.hook;
	}
	ret = sonde_ust_trace_create(&cfg, &u->trace, err);
	if (ret)
		goto fail;
	/* The user's programs map the buffers; nobody else may. */
	if (chown(u->shm_path, uid, (gid_t)-1) < 0 && geteuid() == 0) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: %s", u->shm_path,
				      strerror(errno));
		goto fail;
	}
	ret = sonde_ust_consumer_start(u->trace, 0, switch_timer_ns(s),
				       &u->consumer, err);
	if (ret)
		goto fail;
	s->uid_count++;
	*out = u;
	sessiond_log("session '%s': user-space buffers in %s", s->name, dir);
	return 0;
fail:
	buffers_free(u);
	return ret;
}

/* The program's identity in a request: uid, pid and a procname that can
 * go into a directory name. */
static int app_identity(const struct sonde_ctl_rec *req, uint32_t *uid,
			uint32_t *pid, char procname[17],
			struct sonde_error *err)
{
	const char *name = sonde_ctl_get_str(req, SONDE_CTL_T_PROCNAME);
	uint64_t u = 0, p = 0;
	size_t i;

	if (!sonde_ctl_get_u64(req, SONDE_CTL_T_UID, &u) || u > UINT32_MAX ||
	    !sonde_ctl_get_u64(req, SONDE_CTL_T_PID, &p) || p == 0 ||
	    p > INT32_MAX)
		return sonde_error_set(err, SONDE_EFORMAT, "app: no uid or pid");
	*uid = (uint32_t)u;
	*pid = (uint32_t)p;
	snprintf(procname, 17, "%s", name && name[0] ? name : "unknown");
	for (i = 0; procname[i]; i++)
		if (procname[i] == '/' || (unsigned char)procname[i] < 0x20 ||
		    procname[i] == '"' || procname[i] == '\\')
			procname[i] = '_';
	if (!strcmp(procname, ".") || !strcmp(procname, ".."))
		procname[0] = '_';
	return 0;
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
static int app_state(const struct sonde_ctl_rec *req, uint64_t conn,
		     struct sonde_ctl_writer *w, struct sonde_error *err)
{
	struct ust_session *s = recording_session();
	uint32_t uid, pid;
	char procname[17];
	uint64_t gen = 0;
	struct ust_uid *u;
	size_t i;
	int ret;

	sonde_ctl_get_u64(req, SONDE_CTL_T_GENERATION, &gen);
	sonde_ctl_put_u64(w, SONDE_CTL_T_GENERATION, ust.generation);
	if (gen == ust.generation || !s)
		return 0;
	ret = app_identity(req, &uid, &pid, procname, err);
	if (!ret)
		ret = buffers_for(s, uid, pid, procname, conn, &u, err);
	if (ret)
		return ret;
	sonde_ctl_put_str(w, SONDE_CTL_T_SHM_PATH, u->shm_path);
	/* A fork child keeps writing shared buffers while it registers. */
	sonde_ctl_put_bool(w, SONDE_CTL_T_BUFFERS_PID, s->buffers_pid);
	for (i = 0; i < s->enabler_count; i++) {
		sonde_ctl_rec_begin(w, SONDE_CTL_T_ENABLER_REC);
		sonde_ctl_put_str(w, SONDE_CTL_T_EVENT, s->enablers[i].pattern);
		sonde_ctl_put_u64(w, SONDE_CTL_T_LOGLEVEL_MATCH, s->enablers[i].match);
		sonde_ctl_put_i64(w, SONDE_CTL_T_LOGLEVEL, s->enablers[i].loglevel);
		if (s->filter_codes[i])
			sonde_ctl_put_str(w, SONDE_CTL_T_FILTER_CODE,
					  s->filter_codes[i]);
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

static int app_event(const struct sonde_ctl_msg *req, uint64_t conn,
		     struct sonde_ctl_writer *w, struct sonde_error *err)
{
	struct ust_session *s = recording_session();
	struct sonde_ust_event_desc desc;
	struct sonde_tp_event ev = { 0 };
	struct sonde_arena arena;
	uint32_t uid, pid, id;
	char procname[17];
	struct ust_uid *u;
	int ret;

	if (!s)
		return sonde_error_set(err, SONDE_EINVAL, "no session is recording");
	ret = app_identity(&req->root, &uid, &pid, procname, err);
	if (ret)
		return ret;
	sonde_arena_init(&arena, 1u << 20);
	ret = sonde_ust_event_desc_get(&req->root, &arena, &desc, err);
	if (!ret)
		ret = buffers_for(s, uid, pid, procname, conn, &u, err);
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

int sessiond_ust_app(const struct sonde_ctl_msg *req, uint64_t conn,
		     struct sonde_ctl_writer *w, struct sonde_error *err)
{
	if (req->type == SONDE_CTL_APP_EVENT)
		return app_event(req, conn, w, err);
	if (req->type == SONDE_CTL_APP_HELLO) {
		uint64_t pid = 0;

		sonde_ctl_get_u64(&req->root, SONDE_CTL_T_PID, &pid);
		sessiond_log("program %llu (%s) registered",
			     (unsigned long long)pid,
			     sonde_ctl_get_str(&req->root, SONDE_CTL_T_PROCNAME) ?
				     sonde_ctl_get_str(&req->root, SONDE_CTL_T_PROCNAME) :
				     "?");
	}
	return app_state(&req->root, conn, w, err);
}
