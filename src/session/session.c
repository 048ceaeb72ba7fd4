/*
 * Session model: the bookkeeping and state checks of sonde-sessiond; the
 * tracing itself is the kernel backend's (src/kernel/kernel.h).
 */
#include "session/session.h"
#include "session/relay-output.h"
#include "session/tracker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session/snapshot-send.h"

struct sonde_session {
	bool userspace;      /* user-space events enabled (sonde-sessiond's ust.c) */
	bool kernel_started; /* started with kernel events */
	char *name;
	char *output;
	bool snapshot;
	enum sonde_session_state state;
	time_t created;
	unsigned int snapshot_seq;     /* N of the next snapshot-N */
	struct sonde_channel *channel;
	struct sonde_kernel_session *kernel;
	const char *tracefs;           /* the registry's; it outlives us */
	int notify_fd;                 /* the registry's */
	char *relay;                   /* streamed to this relay host, or NULL */
	uint16_t control_port, data_port;
	uint32_t live_timer_us;
	struct relay_output *relay_out; /* open while the kernel session is */
	struct relay_output *relay_ust; /* the user-space domain's */
	struct sonde_tracker trackers[SONDE_KERNEL_TRACK_COUNT];
	/* The snapshot being recorded to a relay: its connection, for the
	 * relay it was made to, and where it is staged. */
	struct relay_output *relay_snap;
	char *snap_relay;
	uint16_t snap_control_port, snap_data_port;
	bool snap_staged, snap_made_output;
	char snap_dir[1024];
};

struct sonde_sessions {
	char *tracefs;
	int notify_fd;      /* relays connect in the background; -1: not */
	size_t count, cap;
	struct sonde_session **sessions;
};

int sonde_sessions_new(const char *tracefs, struct sonde_sessions **out,
		       struct sonde_error *err)
{
	struct sonde_sessions *reg = calloc(1, sizeof(*reg));

	if (!reg || (tracefs && !(reg->tracefs = strdup(tracefs)))) {
		free(reg);
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	}
	reg->notify_fd = -1;
	*out = reg;
	return 0;
}

void sonde_sessions_set_notify(struct sonde_sessions *reg, int fd)
{
	reg->notify_fd = fd;
}

static void channel_free(struct sonde_channel *ch)
{
	if (!ch)
		return;
	for (size_t i = 0; i < ch->event_count; i++)
		free(ch->events[i].name);
	free(ch->events);
	free(ch->name);
	free(ch);
}

static void session_free(struct sonde_session *s)
{
	/* The backend stops (flushing the trace) before it removes the
	 * ftrace instance. */
	sonde_kernel_session_destroy(s->kernel);
	relay_output_close(s->relay_out, NULL);
	relay_output_close(s->relay_ust, NULL);
	relay_output_close(s->relay_snap, NULL);
	channel_free(s->channel);
	for (int i = 0; i < SONDE_KERNEL_TRACK_COUNT; i++)
		sonde_tracker_release(&s->trackers[i]);
	free(s->relay);
	free(s->snap_relay);
	free(s->name);
	free(s->output);
	free(s);
}

void sonde_sessions_free(struct sonde_sessions *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->count; i++)
		session_free(reg->sessions[i]);
	free(reg->sessions);
	free(reg->tracefs);
	free(reg);
}

int sonde_sessions_stop_all(struct sonde_sessions *reg, struct sonde_error *err)
{
	int first = 0;

	for (size_t i = 0; i < reg->count; i++) {
		struct sonde_session *s = reg->sessions[i];
		struct sonde_error e;
		int ret;

		if (s->state != SONDE_SESSION_STARTED)
			continue;
		ret = sonde_session_stop(s, &e);
		if (ret && !first) {
			first = ret;
			if (err)
				*err = e;
		}
	}
	return first;
}

size_t sonde_sessions_count(const struct sonde_sessions *reg)
{
	return reg->count;
}

struct sonde_session *sonde_sessions_at(const struct sonde_sessions *reg, size_t i)
{
	return i < reg->count ? reg->sessions[i] : NULL;
}

struct sonde_session *sonde_sessions_find(const struct sonde_sessions *reg,
					  const char *name)
{
	for (size_t i = 0; i < reg->count; i++)
		if (!strcmp(reg->sessions[i]->name, name))
			return reg->sessions[i];
	return NULL;
}

const char *sonde_sessions_tracefs(const struct sonde_sessions *reg)
{
	return reg->tracefs;
}

int sonde_session_create(struct sonde_sessions *reg,
			 const struct sonde_session_params *params,
			 struct sonde_session **out, struct sonde_error *err)
{
	char name[SONDE_SESSION_NAME_MAX + 1], output[4096];
	struct sonde_session *s;
	time_t now = time(NULL);
	int ret;

	if (params->name && params->name[0]) {
		ret = sonde_session_check_name("session", params->name, err);
		if (ret)
			return ret;
		snprintf(name, sizeof(name), "%s", params->name);
	} else {
		char date[32];

		if (sonde_session_format_date(now, date, sizeof(date)))
			return sonde_error_set(err, SONDE_EIO, "session: no local time");
		snprintf(name, sizeof(name), "auto-%s", date);
	}
	if (sonde_sessions_find(reg, name))
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' already exists", name);
	if (params->output) {
		if (params->output[0] != '/')
			return sonde_error_set(err, SONDE_EINVAL,
					       "session '%s': output '%s' is not an absolute path",
					       name, params->output);
		if (strlen(params->output) >= sizeof(output))
			return sonde_error_set(err, SONDE_EINVAL,
					       "session '%s': output path too long", name);
		snprintf(output, sizeof(output), "%s", params->output);
	} else if (params->name && params->name[0]) {
		ret = sonde_session_default_output(name, now, output, sizeof(output), err);
		if (ret)
			return ret;
	} else {
		/* auto-<date> already carries the date. */
		const char *home = getenv("HOME");

		if (!home || home[0] != '/' ||
		    (size_t)snprintf(output, sizeof(output), "%s/sonde-traces/%s",
				     home, name) >= sizeof(output))
			return sonde_error_set(err, SONDE_EINVAL,
					       "session '%s': no default output (HOME unset); give one (-o)",
					       name);
	}
	if (reg->count == reg->cap) {
		size_t cap = reg->cap ? reg->cap * 2 : 8;
		struct sonde_session **p = realloc(reg->sessions, cap * sizeof(*p));

		if (!p)
			return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
		reg->sessions = p;
		reg->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name)) || !(s->output = strdup(output))) {
		if (s)
			free(s->name);
		free(s);
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	}
	if (params->relay && params->snapshot && params->live_timer_us) {
		free(s->name);
		free(s->output);
		free(s);
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': a snapshot session cannot be live",
				       name);
	}
	if (params->relay && !(s->relay = strdup(params->relay))) {
		free(s->name);
		free(s->output);
		free(s);
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	}
	s->control_port = params->control_port;
	s->data_port = params->data_port;
	s->live_timer_us = params->live_timer_us;
	s->snapshot = params->snapshot;
	s->created = now;
	s->state = SONDE_SESSION_CREATED;
	s->snapshot_seq = 0;
	s->tracefs = reg->tracefs;
	s->notify_fd = reg->notify_fd;
	for (int i = 0; i < SONDE_KERNEL_TRACK_COUNT; i++)
		sonde_tracker_init(&s->trackers[i]);
	reg->sessions[reg->count++] = s;
	*out = s;
	return 0;
}

int sonde_session_destroy(struct sonde_sessions *reg, struct sonde_session *s,
			  struct sonde_error *err)
{
	int ret = 0;

	if (s->state == SONDE_SESSION_STARTED)
		ret = sonde_session_stop(s, err);
	/* Destroy goes on even if the flush failed: the instance must not
	 * outlive the session.  The relay gets the end of the trace once
	 * the kernel session has handed over its last packet. */
	sonde_kernel_session_destroy(s->kernel);
	s->kernel = NULL;
	if (s->relay_out) {
		int r = relay_output_close(s->relay_out, ret ? NULL : err);

		s->relay_out = NULL;
		if (!ret)
			ret = r;
	}
	/* The caller destroyed the user-space side first. */
	if (s->relay_ust) {
		int r = relay_output_close(s->relay_ust, ret ? NULL : err);

		s->relay_ust = NULL;
		if (!ret)
			ret = r;
	}
	for (size_t i = 0; i < reg->count; i++) {
		if (reg->sessions[i] != s)
			continue;
		memmove(&reg->sessions[i], &reg->sessions[i + 1],
			(reg->count - i - 1) * sizeof(*reg->sessions));
		reg->count--;
		break;
	}
	session_free(s);
	return ret;
}

static int new_channel(struct sonde_session *s, const char *name,
		       const struct sonde_kernel_channel_config *cfg,
		       struct sonde_error *err)
{
	struct sonde_channel *ch = calloc(1, sizeof(*ch));

	if (!ch || !(ch->name = strdup(name))) {
		free(ch);
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	}
	if (cfg)
		ch->config = *cfg;
	s->channel = ch;
	return 0;
}

int sonde_session_enable_channel(struct sonde_session *s, const char *name,
				 const struct sonde_kernel_channel_config *cfg,
				 struct sonde_error *err)
{
	int ret = sonde_session_check_name("channel", name, err);

	if (ret)
		return ret;
	if (s->channel && !strcmp(s->channel->name, name))
		return sonde_error_set(err, SONDE_EINVAL,
				       "channel '%s' already exists in session '%s'",
				       name, s->name);
	if (s->channel)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "session '%s' already has kernel channel '%s'; sonde records one kernel channel per session",
				       s->name, s->channel->name);
	if (s->state != SONDE_SESSION_CREATED)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' was already started; channels are added before the first start",
				       s->name);
	if (cfg->subbuf_size && (cfg->subbuf_size & (cfg->subbuf_size - 1)))
		return sonde_error_set(err, SONDE_EINVAL,
				       "channel '%s': sub-buffer size %llu is not a power of two",
				       name, (unsigned long long)cfg->subbuf_size);
	return new_channel(s, name, cfg, err);
}

/*
 * One relay session per domain, as lttng-sessiond opens one per consumer
 * daemon.  With a notify fd the connection is made in the background:
 * SONDE_SESSION_PENDING until it is done (the registry's fd then becomes
 * readable and the caller asks again).  A failure answers the requests
 * that waited for it; a request a second later connects anew.
 */
static int open_relay_to(struct sonde_session *s,
			 const struct relay_output_config *relay,
			 struct relay_output **out, struct sonde_error *err)
{
	int ret;

	if (s->notify_fd < 0)
		return *out ? 0 : relay_output_open(relay, out, err);
	if (*out && relay_output_failed_long_ago(*out)) {
		relay_output_close(*out, NULL);
		*out = NULL;
	}
	if (!*out) {
		ret = relay_output_start(relay, s->notify_fd, out, err);
		if (ret)
			return ret;
	}
	ret = relay_output_ready(*out, err);
	return ret == RELAY_OUTPUT_PENDING ? SONDE_SESSION_PENDING : ret;
}

static int open_relay(struct sonde_session *s, struct relay_output **out,
		      struct sonde_error *err)
{
	struct relay_output_config relay = {
		.relay = s->relay,
		.control_port = s->control_port,
		.data_port = s->data_port,
		.session_name = s->name,
		.live_timer_us = s->live_timer_us,
		.created = s->created,
	};

	return open_relay_to(s, &relay, out, err);
}

/* Streamed as it records: a snapshot session's relay gets snapshots. */
static bool streamed(const struct sonde_session *s)
{
	return s->relay && !s->snapshot;
}

int sonde_session_ust_relay(struct sonde_session *s, struct relay_output **out,
			    struct sonde_error *err)
{
	int ret = 0;

	*out = NULL;
	if (streamed(s))
		ret = open_relay(s, &s->relay_ust, err);
	if (!ret)
		*out = s->relay_ust;
	return ret;
}

uint32_t sonde_session_live_timer(const struct sonde_session *s)
{
	return s->live_timer_us;
}

/* The backend's session appears with the first event: the channel
 * attributes are fixed from then on. */
static int ensure_kernel(struct sonde_session *s, struct sonde_error *err)
{
	struct sonde_kernel_config cfg = {
		.session_name = s->name,
		.output_dir = s->snapshot ? NULL : s->output,
		.snapshot_mode = s->snapshot,
		.channel = s->channel->config,
		.tracefs = s->tracefs,
	};
	int ret;

	if (s->kernel)
		return 0;
	if (streamed(s)) {
		ret = open_relay(s, &s->relay_out, err);
		if (ret)
			return ret;
		cfg.hook = relay_output_hook(s->relay_out);
		if (!cfg.hook) {
			relay_output_close(s->relay_out, NULL);
			s->relay_out = NULL;
			return sonde_error_set(err, SONDE_ENOMEM,
					       "sessions: out of memory");
		}
		/* Live viewers see a packet per live timer period at most. */
		if (s->live_timer_us && !cfg.channel.switch_timer_us)
			cfg.channel.switch_timer_us = s->live_timer_us;
	}
	ret = sonde_kernel_session_create(&cfg, &s->kernel, err);
	for (int i = 0; !ret && i < SONDE_KERNEL_TRACK_COUNT; i++)
		if (!s->trackers[i].all)
			ret = sonde_tracker_push(&s->trackers[i],
						 (enum sonde_kernel_tracker)i,
						 s->kernel, err);
	if (ret && s->kernel) {
		sonde_kernel_session_destroy(s->kernel);
		s->kernel = NULL;
	}
	if (ret && s->relay_out) {
		relay_output_close(s->relay_out, NULL);
		s->relay_out = NULL;
	}
	return ret;
}

int sonde_session_track(struct sonde_session *s, enum sonde_kernel_tracker attr,
			bool track, bool all, const char *const *values,
			size_t n, struct sonde_error *err)
{
	struct sonde_tracker next;
	int ret;

	ret = sonde_tracker_apply(&s->trackers[attr], attr, track, all, values,
				  n, NULL, &next, err);
	if (ret)
		return ret;
	/* before the first event, ensure_kernel() pushes every set */
	ret = s->kernel ? sonde_tracker_push(&next, attr, s->kernel, err) : 0;
	if (ret) {
		sonde_tracker_release(&next);
		return ret;
	}
	sonde_tracker_release(&s->trackers[attr]);
	s->trackers[attr] = next;
	return 0;
}

const struct sonde_tracker *sonde_session_tracker(const struct sonde_session *s,
						  enum sonde_kernel_tracker attr)
{
	return &s->trackers[attr];
}

static int find_channel(struct sonde_session *s, const char *channel,
			struct sonde_error *err)
{
	if (!channel)
		return 0;
	if (!s->channel || strcmp(s->channel->name, channel))
		return sonde_error_set(err, SONDE_ENOENT,
				       "session '%s' has no channel '%s'", s->name,
				       channel);
	return 0;
}

int sonde_session_enable_event(struct sonde_session *s, const char *channel,
			       const char *name, bool syscall,
			       struct sonde_error *err)
{
	struct sonde_session_event *ev;
	struct sonde_channel *ch;
	bool made_channel = false;
	int ret;

	if (!name[0])
		return sonde_error_set(err, SONDE_EINVAL, "empty event name");
	if (channel && !s->channel) {
		ret = sonde_session_check_name("channel", channel, err);
		if (ret)
			return ret;
		ret = new_channel(s, channel, NULL, err);
		if (ret)
			return ret;
		made_channel = true;
	}
	ret = find_channel(s, channel, err);
	if (ret)
		return ret;
	if (!s->channel) {
		ret = new_channel(s, SONDE_DEFAULT_CHANNEL, NULL, err);
		if (ret)
			return ret;
		made_channel = true;
	}
	ch = s->channel;
	for (size_t i = 0; i < ch->event_count; i++) {
		ev = &ch->events[i];
		if (ev->syscall == syscall && !strcmp(ev->name, name) && ev->enabled)
			return sonde_error_set(err, SONDE_EINVAL,
					       "%s '%s' is already enabled in session '%s'",
					       syscall ? "syscall" : "event", name, s->name);
	}
	ret = ensure_kernel(s, err);
	if (ret) {
		/* A channel made implicitly by this failed call goes away. */
		if (!s->kernel && !ch->event_count && made_channel) {
			channel_free(ch);
			s->channel = NULL;
		}
		return ret;
	}
	if (syscall)
		ret = sonde_kernel_enable_syscall(s->kernel,
						  strcmp(name, "*") ? name : NULL, err);
	else
		ret = sonde_kernel_enable_event(s->kernel, name, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < ch->event_count; i++) {
		ev = &ch->events[i];
		if (ev->syscall == syscall && !strcmp(ev->name, name)) {
			ev->enabled = true;
			return 0;
		}
	}
	ev = realloc(ch->events, (ch->event_count + 1) * sizeof(*ev));
	if (!ev)
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	ch->events = ev;
	ev = &ch->events[ch->event_count];
	ev->name = strdup(name);
	if (!ev->name)
		return sonde_error_set(err, SONDE_ENOMEM, "sessions: out of memory");
	ev->syscall = syscall;
	ev->enabled = true;
	ch->event_count++;
	return 0;
}

int sonde_session_disable_event(struct sonde_session *s, const char *channel,
				const char *name, bool syscall,
				struct sonde_error *err)
{
	struct sonde_session_event *found = NULL;
	char entry[256], exit_[256];
	int ret = find_channel(s, channel, err);

	if (ret)
		return ret;
	for (size_t i = 0; s->channel && i < s->channel->event_count; i++) {
		struct sonde_session_event *ev = &s->channel->events[i];

		if (ev->syscall == syscall && !strcmp(ev->name, name) && ev->enabled)
			found = ev;
	}
	if (!found)
		return sonde_error_set(err, SONDE_ENOENT,
				       "%s '%s' is not enabled in session '%s'",
				       syscall ? "syscall" : "event", name, s->name);
	if (!syscall) {
		ret = sonde_kernel_disable_event(s->kernel, name, err);
	} else {
		/* Syscalls are recorded as an entry and an exit event. */
		if ((size_t)snprintf(entry, sizeof(entry), "syscall_entry_%s", name) >= sizeof(entry) ||
		    (size_t)snprintf(exit_, sizeof(exit_), "syscall_exit_%s", name) >= sizeof(exit_))
			return sonde_error_set(err, SONDE_EINVAL,
					       "syscall name '%.32s...' too long", name);
		ret = sonde_kernel_disable_event(s->kernel, entry, err);
		if (!ret)
			ret = sonde_kernel_disable_event(s->kernel, exit_, err);
	}
	if (ret)
		return ret;
	found->enabled = false;
	return 0;
}

static bool has_enabled_event(const struct sonde_session *s)
{
	for (size_t i = 0; s->channel && i < s->channel->event_count; i++)
		if (s->channel->events[i].enabled)
			return true;
	return false;
}

int sonde_session_start(struct sonde_session *s, struct sonde_error *err)
{
	int ret;

	if (s->state == SONDE_SESSION_STARTED)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' is already started", s->name);
	if ((!s->kernel || !has_enabled_event(s)) && !s->userspace)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' has no event enabled (see 'sonde enable-event --help')",
				       s->name);
	/* A user-space only session has no kernel side to start. */
	ret = s->kernel && has_enabled_event(s) ? sonde_kernel_start(s->kernel, err) : 0;
	if (ret)
		return ret;
	s->kernel_started = s->kernel && has_enabled_event(s);
	s->state = SONDE_SESSION_STARTED;
	return 0;
}

void sonde_session_set_userspace(struct sonde_session *s)
{
	s->userspace = true;
}

int sonde_session_stop(struct sonde_session *s, struct sonde_error *err)
{
	int ret;

	if (s->state != SONDE_SESSION_STARTED)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' is not started", s->name);
	ret = s->kernel_started ? sonde_kernel_stop(s->kernel, err) : 0;
	s->kernel_started = false;
	/* Even a failed flush leaves the capture stopped. */
	s->state = SONDE_SESSION_STOPPED;
	return ret;
}

/*
 * A snapshot to a relay is connected first (the connection is made in
 * the background: SONDE_SESSION_PENDING until then, nothing written
 * yet), staged under the session's output as a local one would be,
 * sent, and removed.  A connection made for another relay than the one
 * asked for now is dropped.
 */
static int snapshot_relay(struct sonde_session *s,
			  const struct sonde_snapshot_target *t,
			  struct sonde_error *err)
{
	struct relay_output_config relay = {
		.relay = t->relay,
		.control_port = t->control_port,
		.data_port = t->data_port,
		.session_name = s->name,
		.created = s->created,
		.snapshot = true,
	};

	if (s->relay_snap && (strcmp(s->snap_relay, t->relay) ||
			      s->snap_control_port != t->control_port ||
			      s->snap_data_port != t->data_port)) {
		relay_output_close(s->relay_snap, NULL);
		s->relay_snap = NULL;
	}
	if (!s->relay_snap) {
		char *host = strdup(t->relay);

		if (!host)
			return sonde_error_set(err, SONDE_ENOMEM,
					       "sessions: out of memory");
		free(s->snap_relay);
		s->snap_relay = host;
		s->snap_control_port = t->control_port;
		s->snap_data_port = t->data_port;
	}
	return open_relay_to(s, &relay, &s->relay_snap, err);
}

int sonde_session_snapshot_record(struct sonde_session *s, const char *snap_name,
				  const struct sonde_snapshot_target *target,
				  char *path, size_t path_size,
				  struct sonde_error *err)
{
	struct sonde_snapshot_target t = { 0 };
	char date[32], seq_name[32];
	struct stat st;
	int ret;

	if (target)
		t = *target;
	if (!s->snapshot)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' is not a snapshot session (create it with --snapshot)",
				       s->name);
	if ((!s->kernel && !s->userspace) || s->state == SONDE_SESSION_CREATED)
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s' was never started: nothing to snapshot",
				       s->name);
	if (snap_name) {
		ret = sonde_session_check_name("snapshot", snap_name, err);
		if (ret)
			return ret;
	} else {
		snprintf(seq_name, sizeof(seq_name), "snapshot-%u", s->snapshot_seq + 1);
		snap_name = seq_name;
	}
	if (t.dir && t.dir[0] != '/')
		return sonde_error_set(err, SONDE_EINVAL,
				       "snapshot output '%s' is not an absolute path", t.dir);
	/* The session's relay unless told where. */
	if (!t.relay && !t.dir && s->relay) {
		t.relay = s->relay;
		t.control_port = s->control_port;
		t.data_port = s->data_port;
	}
	if (t.relay) {
		ret = snapshot_relay(s, &t, err);
		if (ret)
			return ret;
		t.dir = NULL;
	}
	if (sonde_session_format_date(time(NULL), date, sizeof(date)) ||
	    (size_t)snprintf(path, path_size, "%s/%s-%s-%u", t.dir ? t.dir : s->output,
			     snap_name, date, s->snapshot_seq) >= path_size ||
	    (t.relay && (size_t)snprintf(s->snap_dir, sizeof(s->snap_dir), "%s",
					 path) >= sizeof(s->snap_dir)))
		return sonde_error_set(err, SONDE_EINVAL,
				       "session '%s': snapshot path too long", s->name);
	if (t.relay) {
		s->snap_staged = true;
		s->snap_made_output = stat(s->output, &st) != 0;
	}
	/* The user-space part is sonde-sessiond's (after this). */
	return s->kernel ? sonde_kernel_snapshot_record(s->kernel, path, err) : 0;
}

int sonde_session_snapshot_finish(struct sonde_session *s, int status,
				  char *path, size_t path_size,
				  struct sonde_error *err)
{
	char relay_path[1024] = "";
	const char *name;
	int ret = status;

	if (!s->snap_staged) {
		if (!ret)
			s->snapshot_seq++;
		return ret;
	}
	name = strrchr(s->snap_dir, '/') + 1;
	if (!ret)
		ret = relay_output_send_snapshot(s->relay_snap, s->snapshot_seq,
						 name, s->snap_dir, relay_path,
						 sizeof(relay_path), err);
	relay_output_close(s->relay_snap, NULL);
	s->relay_snap = NULL;
	s->snap_staged = false;
	if (snapshot_remove_dir(s->snap_dir, ret ? NULL : err) && !ret)
		ret = err ? err->status : SONDE_EIO;
	if (s->snap_made_output)
		rmdir(s->output);
	if (ret)
		return ret;
	s->snapshot_seq++;
	snprintf(path, path_size, "%s on relay net://%s:%u:%u", relay_path,
		 s->snap_relay, s->snap_control_port ? s->snap_control_port : 5342,
		 s->snap_data_port ? s->snap_data_port : 5343);
	return 0;
}

const char *sonde_session_name(const struct sonde_session *s)
{
	return s->name;
}

const char *sonde_session_output(const struct sonde_session *s)
{
	return s->output;
}

enum sonde_session_state sonde_session_state(const struct sonde_session *s)
{
	return s->state;
}

const char *sonde_session_state_name(enum sonde_session_state state)
{
	switch (state) {
	case SONDE_SESSION_CREATED:
		return "created";
	case SONDE_SESSION_STARTED:
		return "started";
	case SONDE_SESSION_STOPPED:
		return "stopped";
	}
	return "unknown";
}

bool sonde_session_is_snapshot(const struct sonde_session *s)
{
	return s->snapshot;
}

time_t sonde_session_created(const struct sonde_session *s)
{
	return s->created;
}

const struct sonde_channel *sonde_session_channel(const struct sonde_session *s)
{
	return s->channel;
}

const char *sonde_session_backend(const struct sonde_session *s,
				  const char **why)
{
	return s->kernel ? sonde_kernel_backend_name(s->kernel, why) : NULL;
}

void sonde_session_stats(const struct sonde_session *s,
			 struct sonde_kernel_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (s->kernel)
		sonde_kernel_get_stats(s->kernel, st);
}
