/*
 * sonde-sessiond: one function per request type, from a decoded request
 * to the reply fields.  Every failure becomes a status and a one-line
 * message that the CLI prints as is.
 */
#include <stdio.h>
#include <string.h>

#include "session/tracker.h"
#include "sessiond.h"

struct list_ctx {
	struct sonde_ctl_writer *w;
	size_t count;
};

static int need_session(struct sonde_sessions *reg, const struct sonde_ctl_rec *req,
			struct sonde_session **out, struct sonde_error *err)
{
	const char *name = sonde_ctl_get_str(req, SONDE_CTL_T_SESSION);

	if (!name)
		return sonde_error_set(err, SONDE_EFORMAT, "request names no session");
	*out = sonde_sessions_find(reg, name);
	if (!*out)
		return sonde_error_set(err, SONDE_ENOENT, "session '%s' not found", name);
	return 0;
}

static void put_session_summary(struct sonde_ctl_writer *w,
				const struct sonde_session *s)
{
	sonde_ctl_put_str(w, SONDE_CTL_T_SESSION, sonde_session_name(s));
	sonde_ctl_put_str(w, SONDE_CTL_T_OUTPUT, sonde_session_output(s));
	sonde_ctl_put_str(w, SONDE_CTL_T_STATE,
			  sonde_session_state_name(sonde_session_state(s)));
	sonde_ctl_put_bool(w, SONDE_CTL_T_SNAPSHOT, sonde_session_is_snapshot(s));
	sonde_ctl_put_u64(w, SONDE_CTL_T_CREATED, (uint64_t)sonde_session_created(s));
}

static int do_create(struct sonde_sessions *reg, const struct sonde_ctl_rec *req,
		     struct sonde_ctl_writer *w, struct sonde_error *err)
{
	struct sonde_session_params params = {
		.name = sonde_ctl_get_str(req, SONDE_CTL_T_SESSION),
		.output = sonde_ctl_get_str(req, SONDE_CTL_T_OUTPUT),
		.snapshot = sonde_ctl_get_bool(req, SONDE_CTL_T_SNAPSHOT, false),
	};
	struct sonde_session *s;
	uint64_t control = 0, data = 0, live = 0;
	int ret;

	params.relay = sonde_ctl_get_str(req, SONDE_CTL_T_RELAY);
	sonde_ctl_get_u64(req, SONDE_CTL_T_CONTROL_PORT, &control);
	sonde_ctl_get_u64(req, SONDE_CTL_T_DATA_PORT, &data);
	sonde_ctl_get_u64(req, SONDE_CTL_T_LIVE_TIMER, &live);
	if (control > 65535 || data > 65535 || live > UINT32_MAX)
		return sonde_error_set(err, SONDE_EINVAL,
				       "relay ports or live timer out of range");
	params.control_port = (uint16_t)control;
	params.data_port = (uint16_t)data;
	params.live_timer_us = (uint32_t)live;
	ret = sonde_session_create(reg, &params, &s, err);
	if (ret)
		return ret;
	sessiond_log("session '%s' created, output %s", sonde_session_name(s),
		     sonde_session_output(s));
	put_session_summary(w, s);
	return 0;
}

static int destroy_one(struct sonde_sessions *reg, struct sonde_session *s,
		       struct sonde_ctl_writer *w, struct sonde_error *err)
{
	int ret;

	sonde_ctl_rec_begin(w, SONDE_CTL_T_SESSION_REC);
	put_session_summary(w, s);
	sonde_ctl_rec_end(w);
	sessiond_log("destroying session '%s'", sonde_session_name(s));
	sessiond_ust_destroy(sonde_session_name(s));
	ret = sonde_session_destroy(reg, s, err);
	if (ret)
		sessiond_log("destroy: %s", err->msg);
	return ret;
}

static int do_destroy(struct sonde_sessions *reg, const struct sonde_ctl_rec *req,
		      struct sonde_ctl_writer *w, struct sonde_error *err)
{
	struct sonde_session *s;
	int ret, first = 0;

	if (!sonde_ctl_get_bool(req, SONDE_CTL_T_ALL, false)) {
		ret = need_session(reg, req, &s, err);
		return ret ? ret : destroy_one(reg, s, w, err);
	}
	while (sonde_sessions_count(reg)) {
		struct sonde_error e;

		ret = destroy_one(reg, sonde_sessions_at(reg, 0), w, &e);
		if (ret && !first) {
			first = ret;
			*err = e;
		}
	}
	return first;
}

static int parse_backend(const char *name, enum sonde_kernel_backend *out,
			 struct sonde_error *err)
{
	if (!name || strcmp(name, "auto") == 0)
		*out = SONDE_KERNEL_BACKEND_AUTO;
	else if (strcmp(name, "ftrace") == 0)
		*out = SONDE_KERNEL_BACKEND_FTRACE;
	else if (strcmp(name, "ebpf") == 0)
		*out = SONDE_KERNEL_BACKEND_EBPF;
	else
		return sonde_error_set(err, SONDE_EINVAL,
				       "backend '%s': auto, ftrace or ebpf",
				       name);
	return 0;
}

static int do_enable_channel(struct sonde_sessions *reg,
			     const struct sonde_ctl_rec *req,
			     struct sonde_error *err)
{
	struct sonde_kernel_channel_config cfg = { 0 };
	const char *channel = sonde_ctl_get_str(req, SONDE_CTL_T_CHANNEL);
	struct sonde_session *s;
	int ret = need_session(reg, req, &s, err);

	if (ret)
		return ret;
	if (!channel)
		return sonde_error_set(err, SONDE_EFORMAT, "request names no channel");
	sonde_ctl_get_u64(req, SONDE_CTL_T_SUBBUF_SIZE, &cfg.subbuf_size);
	sonde_ctl_get_u64(req, SONDE_CTL_T_NUM_SUBBUF, &cfg.num_subbuf);
	sonde_ctl_get_u64(req, SONDE_CTL_T_SWITCH_TIMER, &cfg.switch_timer_us);
	cfg.overwrite = sonde_ctl_get_bool(req, SONDE_CTL_T_OVERWRITE, false);
	if (sonde_ctl_get_bool(req, SONDE_CTL_T_USERSPACE, false))
		return sessiond_ust_channel(sonde_session_name(s), channel, &cfg,
					    sonde_ctl_get_bool(req, SONDE_CTL_T_BUFFERS_PID,
							       false),
					    err);
	ret = parse_backend(sonde_ctl_get_str(req, SONDE_CTL_T_BACKEND),
			    &cfg.backend, err);
	if (ret)
		return ret;
	return sonde_session_enable_channel(s, channel, &cfg, err);
}

/* enable-event and disable-event: each event of the request in turn; the
 * first failure stops the request (the earlier events stay changed and the
 * message names the one that failed). */
static int do_events(struct sonde_sessions *reg, const struct sonde_ctl_rec *req,
		     bool enable, struct sonde_ctl_writer *w,
		     struct sonde_error *err)
{
	const char *channel = sonde_ctl_get_str(req, SONDE_CTL_T_CHANNEL);
	bool syscall = sonde_ctl_get_bool(req, SONDE_CTL_T_SYSCALL, false);
	const struct sonde_channel *ch;
	struct sonde_session *s;
	size_t n = 0;
	int ret = need_session(reg, req, &s, err);

	if (ret)
		return ret;
	if (sonde_ctl_get_bool(req, SONDE_CTL_T_ALL, false)) {
		ret = enable ? sonde_session_enable_event(s, channel, "*",
							  syscall, err) :
			       sonde_session_disable_event(s, channel, "*", syscall, err);
		n++;
	}
	for (size_t i = 0; !ret && i < req->count; i++) {
		const struct sonde_ctl_field *f = &req->fields[i];

		if (f->tag != SONDE_CTL_T_EVENT)
			continue;
		ret = enable ? sonde_session_enable_event(s, channel, f->v.str, syscall, err) :
			       sonde_session_disable_event(s, channel, f->v.str, syscall, err);
		n++;
	}
	if (ret)
		return ret;
	if (!n)
		return sonde_error_set(err, SONDE_EFORMAT, "request names no event");
	ch = sonde_session_channel(s);
	if (ch)
		sonde_ctl_put_str(w, SONDE_CTL_T_CHANNEL, ch->name);
	return 0;
}

/* enable-event -u: patterns and a log-level condition, recorded in every
 * program that registers while the session is started. */
static int do_ust_events(struct sonde_sessions *reg,
			 const struct sonde_ctl_rec *req, bool enable,
			 struct sonde_error *err)
{
	const char *filter = sonde_ctl_get_str(req, SONDE_CTL_T_FILTER);
	uint64_t match = SONDE_UST_LOGLEVEL_ALL;
	struct relay_output *relay;
	int64_t level = 0;
	struct sonde_session *s;
	size_t n = 0;
	int ret = need_session(reg, req, &s, err);

	if (ret)
		return ret;
	if (!enable) {
		if (sonde_ctl_get_bool(req, SONDE_CTL_T_ALL, false))
			return sessiond_ust_disable(sonde_session_name(s), NULL, err);
		for (size_t i = 0; !ret && i < req->count; i++)
			if (req->fields[i].tag == SONDE_CTL_T_EVENT) {
				ret = sessiond_ust_disable(sonde_session_name(s),
							   req->fields[i].v.str, err);
				n++;
			}
		return ret ? ret : n ? 0 : sonde_error_set(err, SONDE_EFORMAT,
							   "request names no event");
	}
	sonde_ctl_get_u64(req, SONDE_CTL_T_LOGLEVEL_MATCH, &match);
	sonde_ctl_get_i64(req, SONDE_CTL_T_LOGLEVEL, &level);
	if (match > SONDE_UST_LOGLEVEL_SINGLE || level < 0 || level > 14)
		return sonde_error_set(err, SONDE_EFORMAT, "invalid log level");
	ret = sonde_session_ust_relay(s, &relay, err);
	if (!ret && relay)
		ret = sessiond_ust_set_relay(sonde_session_name(s), relay,
					     sonde_session_live_timer(s), err);
	if (ret)
		return ret;
	if (sonde_ctl_get_bool(req, SONDE_CTL_T_ALL, false)) {
		ret = sessiond_ust_enable(sonde_session_name(s), "*",
					  (enum sonde_ust_loglevel_match)match,
					  (int)level, filter, err);
		n++;
	}
	for (size_t i = 0; !ret && i < req->count; i++) {
		if (req->fields[i].tag != SONDE_CTL_T_EVENT)
			continue;
		ret = sessiond_ust_enable(sonde_session_name(s), req->fields[i].v.str,
					  (enum sonde_ust_loglevel_match)match,
					  (int)level, filter, err);
		n++;
	}
	if (ret)
		return ret;
	if (!n)
		return sonde_error_set(err, SONDE_EFORMAT, "request names no event");
	sonde_session_set_userspace(s);
	return 0;
}

static int do_add_context(struct sonde_sessions *reg,
			  const struct sonde_ctl_rec *req, struct sonde_error *err)
{
	struct sonde_session *s;
	size_t n = 0;
	int ret = need_session(reg, req, &s, err);

	if (ret)
		return ret;
	if (!sonde_ctl_get_bool(req, SONDE_CTL_T_USERSPACE, false))
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "only user-space contexts (-u) are supported");
	for (size_t i = 0; !ret && i < req->count; i++) {
		if (req->fields[i].tag != SONDE_CTL_T_CONTEXT)
			continue;
		ret = sessiond_ust_add_context(sonde_session_name(s),
					       req->fields[i].v.str, err);
		n++;
	}
	if (!ret && !n)
		return sonde_error_set(err, SONDE_EFORMAT, "request names no context");
	return ret;
}

/* track / untrack: each tracker record in turn, the first failure stops
 * the request (as do_events). */
static int do_track(struct sonde_sessions *reg, const struct sonde_ctl_rec *req,
		    struct sonde_error *err)
{
	bool track = sonde_ctl_get_bool(req, SONDE_CTL_T_ENABLED, true);
	const char *values[SONDE_KERNEL_TRACK_MAX];
	struct sonde_session *s;
	size_t n = 0;
	int ret = need_session(reg, req, &s, err);

	for (size_t i = 0; !ret && i < req->count; i++) {
		const struct sonde_ctl_rec *r = req->fields[i].v.rec;
		const char *name;
		enum sonde_kernel_tracker attr;
		size_t nv = 0;

		if (req->fields[i].tag != SONDE_CTL_T_TRACKER_REC)
			continue;
		name = sonde_ctl_get_str(r, SONDE_CTL_T_TRACKER);
		if (!name)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "tracker record names no tracker");
		ret = sonde_tracker_parse_name(name, &attr, err);
		for (size_t j = 0; !ret && j < r->count; j++) {
			if (r->fields[j].tag != SONDE_CTL_T_VALUE)
				continue;
			if (nv == SONDE_KERNEL_TRACK_MAX)
				return sonde_error_set(err, SONDE_EINVAL,
						       "%s: more than %d values",
						       name, SONDE_KERNEL_TRACK_MAX);
			values[nv++] = r->fields[j].v.str;
		}
		if (!ret)
			ret = sonde_session_track(
				s, attr, track,
				sonde_ctl_get_bool(r, SONDE_CTL_T_ALL, false),
				values, nv, err);
		n++;
	}
	if (!ret && !n)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "request names no tracker");
	if (!ret)
		sessiond_log("session '%s': %s", sonde_session_name(s),
			     track ? "tracked" : "untracked");
	return ret;
}

static void put_trackers(struct sonde_ctl_writer *w,
			 const struct sonde_session *s)
{
	for (int i = 0; i < SONDE_KERNEL_TRACK_COUNT; i++) {
		const struct sonde_tracker *t =
			sonde_session_tracker(s, (enum sonde_kernel_tracker)i);

		sonde_ctl_rec_begin(w, SONDE_CTL_T_TRACKER_REC);
		sonde_ctl_put_str(w, SONDE_CTL_T_TRACKER,
				  sonde_tracker_name((enum sonde_kernel_tracker)i));
		sonde_ctl_put_bool(w, SONDE_CTL_T_ALL, t->all);
		for (size_t j = 0; j < t->count; j++)
			sonde_ctl_put_str(w, SONDE_CTL_T_VALUE, t->values[j].text);
		sonde_ctl_rec_end(w);
	}
}

static void put_session_details(struct sonde_ctl_writer *w,
				const struct sonde_session *s)
{
	const struct sonde_channel *ch = sonde_session_channel(s);
	struct sonde_kernel_stats st;
	const char *backend, *why;

	sonde_ctl_rec_begin(w, SONDE_CTL_T_SESSION_REC);
	put_session_summary(w, s);
	sonde_session_stats(s, &st);
	sonde_ctl_put_u64(w, SONDE_CTL_T_EVENTS_RECORDED, st.events_recorded);
	sonde_ctl_put_u64(w, SONDE_CTL_T_EVENTS_DISCARDED, st.events_discarded);
	sonde_ctl_put_u64(w, SONDE_CTL_T_PACKETS_LOST, st.packets_lost);
	sonde_ctl_put_u64(w, SONDE_CTL_T_BYTES_WRITTEN, st.bytes_written);
	sonde_ctl_put_u64(w, SONDE_CTL_T_SWITCHES_REPAIRED,
			  st.switches_repaired);
	put_trackers(w, s);
	if (ch) {
		sonde_ctl_rec_begin(w, SONDE_CTL_T_CHANNEL_REC);
		sonde_ctl_put_str(w, SONDE_CTL_T_CHANNEL, ch->name);
		sonde_ctl_put_u64(w, SONDE_CTL_T_SUBBUF_SIZE, ch->config.subbuf_size);
		sonde_ctl_put_u64(w, SONDE_CTL_T_NUM_SUBBUF, ch->config.num_subbuf);
		sonde_ctl_put_bool(w, SONDE_CTL_T_OVERWRITE, ch->config.overwrite);
		sonde_ctl_put_u64(w, SONDE_CTL_T_SWITCH_TIMER, ch->config.switch_timer_us);
		backend = sonde_session_backend(s, &why);
		if (backend) {
			sonde_ctl_put_str(w, SONDE_CTL_T_BACKEND, backend);
			if (*why)
				sonde_ctl_put_str(w, SONDE_CTL_T_BACKEND_WHY, why);
		}
		for (size_t i = 0; i < ch->event_count; i++) {
			sonde_ctl_rec_begin(w, SONDE_CTL_T_EVENT_REC);
			sonde_ctl_put_str(w, SONDE_CTL_T_EVENT, ch->events[i].name);
			sonde_ctl_put_bool(w, SONDE_CTL_T_SYSCALL, ch->events[i].syscall);
			sonde_ctl_put_bool(w, SONDE_CTL_T_ENABLED, ch->events[i].enabled);
			sonde_ctl_rec_end(w);
		}
		sonde_ctl_rec_end(w);
	}
	sonde_ctl_rec_end(w);
}

static int add_kernel_event(const char *name, void *arg)
{
	struct list_ctx *ctx = arg;

	sonde_ctl_put_str(ctx->w, SONDE_CTL_T_NAME, name);
	ctx->count++;
	return ctx->w->status;
}

/* A snapshot to the relay the request names, to its directory, or
 * where the session sends them. */
static int do_snapshot_record(struct sonde_sessions *reg,
			      const struct sonde_ctl_rec *r,
			      struct sonde_ctl_writer *w,
			      struct sonde_error *err)
{
	struct sonde_snapshot_target target = {
		.dir = sonde_ctl_get_str(r, SONDE_CTL_T_OUTPUT),
		.relay = sonde_ctl_get_str(r, SONDE_CTL_T_RELAY),
	};
	uint64_t control = 0, data = 0;
	struct sonde_session *s;
	char path[4096];
	int ret = need_session(reg, r, &s, err);

	if (ret)
		return ret;
	sonde_ctl_get_u64(r, SONDE_CTL_T_CONTROL_PORT, &control);
	sonde_ctl_get_u64(r, SONDE_CTL_T_DATA_PORT, &data);
	if (control > 65535 || data > 65535)
		return sonde_error_set(err, SONDE_EINVAL, "relay ports out of range");
	target.control_port = (uint16_t)control;
	target.data_port = (uint16_t)data;
	ret = sonde_session_snapshot_record(s,
					    sonde_ctl_get_str(r, SONDE_CTL_T_SNAPSHOT_NAME),
					    &target, path, sizeof(path), err);
	if (ret == SONDE_SESSION_PENDING)
		return ret;
	if (!ret)
		ret = sessiond_ust_snapshot(sonde_session_name(s), path, err);
	ret = sonde_session_snapshot_finish(s, ret, path, sizeof(path), err);
	if (!ret) {
		sessiond_log("session '%s': snapshot written to %s",
			     sonde_session_name(s), path);
		sonde_ctl_put_str(w, SONDE_CTL_T_PATH, path);
	}
	return ret;
}

static int dispatch(struct sonde_sessions *reg, const struct sonde_ctl_msg *req,
		    uint64_t conn, struct sonde_ctl_writer *w,
		    struct sonde_error *err)
{
	const struct sonde_ctl_rec *r = &req->root;
	struct sonde_session *s;
	struct list_ctx ctx = { w, 0 };
	int ret;

	switch (req->type) {
	case SONDE_CTL_CREATE:
		return do_create(reg, r, w, err);
	case SONDE_CTL_DESTROY:
		return do_destroy(reg, r, w, err);
	case SONDE_CTL_ENABLE_CHANNEL:
		return do_enable_channel(reg, r, err);
	case SONDE_CTL_ENABLE_EVENT:
	case SONDE_CTL_DISABLE_EVENT:
		if (sonde_ctl_get_bool(r, SONDE_CTL_T_USERSPACE, false))
			return do_ust_events(reg, r, req->type == SONDE_CTL_ENABLE_EVENT,
					     err);
		return do_events(reg, r, req->type == SONDE_CTL_ENABLE_EVENT, w, err);
	case SONDE_CTL_ADD_CONTEXT:
		return do_add_context(reg, r, err);
	case SONDE_CTL_TRACK:
		return do_track(reg, r, err);
	case SONDE_CTL_APP_HELLO:
	case SONDE_CTL_APP_POLL:
	case SONDE_CTL_APP_EVENT:
		return sessiond_ust_app(req, conn, w, err);
	case SONDE_CTL_START:
	case SONDE_CTL_STOP:
		ret = need_session(reg, r, &s, err);
		if (ret)
			return ret;
		if (req->type == SONDE_CTL_START) {
			ret = sonde_session_start(s, err);
			if (!ret)
				ret = sessiond_ust_start(sonde_session_name(s),
							 sonde_session_output(s),
							 sonde_session_is_snapshot(s), err);
		} else {
			struct sonde_error ust_err;
			int ust_ret = sessiond_ust_stop(sonde_session_name(s), &ust_err);

			ret = sonde_session_stop(s, err);
			if (!ret && ust_ret) {
				ret = ust_ret;
				*err = ust_err;
			}
		}
		if (!ret)
			sessiond_log("session '%s' %s", sonde_session_name(s),
				     req->type == SONDE_CTL_START ? "started" : "stopped");
		put_session_summary(w, s);
		return ret;
	case SONDE_CTL_LIST_SESSIONS:
		for (size_t i = 0; i < sonde_sessions_count(reg); i++) {
			sonde_ctl_rec_begin(w, SONDE_CTL_T_SESSION_REC);
			put_session_summary(w, sonde_sessions_at(reg, i));
			sonde_ctl_rec_end(w);
		}
		return 0;
	case SONDE_CTL_SESSION_INFO:
		ret = need_session(reg, r, &s, err);
		if (!ret)
			put_session_details(w, s);
		return ret;
	case SONDE_CTL_LIST_KERNEL_EVENTS:
		return sonde_kernel_list_events(sonde_sessions_tracefs(reg),
						add_kernel_event, &ctx, err);
	case SONDE_CTL_SNAPSHOT_RECORD:
		return do_snapshot_record(reg, r, w, err);
	default:
		return sonde_error_set(err, SONDE_EFORMAT,
				       "request type %u (%s) is not a request",
				       req->type, sonde_ctl_type_name(req->type));
	}
}

bool sessiond_handle(struct sonde_sessions *reg, const struct sonde_ctl_msg *req,
		     uint64_t conn, struct sonde_ctl_writer *w)
{
	struct sonde_error err = { 0 };
	int ret = dispatch(reg, req, conn, w, &err);

	/* Waiting for a relay connection: nothing changed yet. */
	if (ret == SONDE_SESSION_PENDING)
		return true;

	/* Status and message come last: a partial reply (destroy -a that
	 * failed half-way) still tells the client what happened. */
	sonde_ctl_put_i64(w, SONDE_CTL_T_STATUS, ret);
	if (ret) {
		if (!err.msg[0])
			snprintf(err.msg, sizeof(err.msg), "%s", sonde_strerror(ret));
		sonde_ctl_put_str(w, SONDE_CTL_T_MESSAGE, err.msg);
		sessiond_log("%s: %s", sonde_ctl_type_name(req->type), err.msg);
	}
	return false;
}
