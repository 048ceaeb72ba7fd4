/*
 * An in-process recording session: this program's tracepoints recorded
 * into a trace directory by a consumer thread of its own, no daemon.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ust/filter.h"
#include "ust/trace.h"
#include "ust/ust-internal.h"

/* How long a probe that loaded the buffers before the detach may still
 * be writing: far longer than an event takes. */
#define GRACE_NS 5000000ull

struct sonde_ust_local {
	struct sonde_ust_trace *trace;
	struct sonde_ust_sink *sink; /* the registry's once detached */
	struct sonde_ust_enabler *enablers;
	size_t enabler_count;
	struct sonde_ust_consumer *consumer;
	uint64_t read_timer_ns, switch_timer_ns;
};

static int local_enable(void *arg, const struct sonde_tp_event *ev,
			uint32_t *id)
{
	struct sonde_ust_local *s = arg;
	bool want = s->enabler_count == 0;
	size_t i;

	for (i = 0; i < s->enabler_count && !want; i++)
		want = sonde_ust_enabler_match(&s->enablers[i], ev->name,
					       ev->loglevel);
	if (!want)
		return 0;
	return sonde_ust_trace_event_id(s->trace, ev, id, NULL) == 0;
}

static int local_filter(void *arg, const struct sonde_tp_event *ev,
			struct sonde_ust_event_filter **filter)
{
	struct sonde_ust_local *s = arg;

	return sonde_ust_event_filter_make(s->sink, s->enablers,
					   s->sink->filter_programs,
					   s->enabler_count, ev, filter);
}

/* The sink's programs for the enablers' filter expressions. */
static int load_filters(struct sonde_ust_local *s, struct sonde_error *err)
{
	struct sonde_ust_filter **programs;
	uint8_t *code;
	size_t i, len;
	int rc = 0;

	programs = calloc(s->enabler_count, sizeof(*programs));
	if (!programs)
		return sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
	s->sink->filter_programs = programs;
	s->sink->filter_program_count = s->enabler_count;
	s->sink->filter = local_filter;
	for (i = 0; i < s->enabler_count && !rc; i++) {
		if (!s->enablers[i].filter)
			continue;
		rc = sonde_ust_filter_compile(s->enablers[i].filter, &code, &len,
					      err);
		if (!rc) {
			rc = sonde_ust_filter_load(code, len, &programs[i], err);
			free(code);
		}
		s->enablers[i].filter = NULL; /* the caller's: not kept */
	}
	return rc;
}

static void free_filters(struct sonde_ust_sink *sink)
{
	size_t i;

	for (i = 0; i < sink->filter_program_count; i++)
		sonde_ust_filter_free(sink->filter_programs[i]);
	free(sink->filter_programs);
}

int sonde_ust_local_start(const struct sonde_ust_local_config *cfg,
			  struct sonde_ust_local **out, struct sonde_error *err)
{
	struct sonde_ust_trace_config tcfg = {
		.trace_name = cfg->trace_name,
		.rb = {
			.subbuf_size = cfg->subbuf_size,
			.num_subbuf = cfg->num_subbuf,
			.mode = cfg->overwrite ? SONDE_RB_OVERWRITE :
						 SONDE_RB_DISCARD,
			.no_tsc = cfg->no_tsc,
		},
		.contexts = cfg->contexts,
		.context_count = cfg->context_count,
	};
	struct sonde_ust_local *s;
	char dir[PATH_MAX];
	size_t i;
	int rc;

	if (!cfg->output)
		return sonde_error_set(err, SONDE_EINVAL, "ust: no output directory");
	if ((size_t)snprintf(dir, sizeof(dir), "%s/ust/uid/%u/%zu-bit",
			     cfg->output, (unsigned int)getuid(),
			     8 * sizeof(void *)) >= sizeof(dir))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
				       cfg->output);
	tcfg.dir = dir;
	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
	s->read_timer_ns = (cfg->read_timer_us ? cfg->read_timer_us : 200000) * 1000;
	s->switch_timer_ns = cfg->switch_timer_us * 1000;
	if (cfg->enabler_count) {
		s->enablers = calloc(cfg->enabler_count, sizeof(*s->enablers));
		if (!s->enablers) {
			rc = sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
			goto fail;
		}
		for (i = 0; i < cfg->enabler_count; i++) {
			s->enablers[i] = cfg->enablers[i];
			s->enablers[i].pattern = strdup(cfg->enablers[i].pattern);
			if (!s->enablers[i].pattern) {
				rc = sonde_error_set(err, SONDE_ENOMEM,
						     "ust: out of memory");
				goto fail;
			}
		}
		s->enabler_count = cfg->enabler_count;
	}
	s->sink = calloc(1, sizeof(*s->sink));
	if (!s->sink) {
		rc = sonde_error_set(err, SONDE_ENOMEM, "ust: out of memory");
		goto fail;
	}
	rc = sonde_ust_trace_create(&tcfg, &s->trace, err);
	if (rc)
		goto fail;
	s->sink->rb = sonde_ust_trace_rb(s->trace);
	for (i = 0; i < cfg->context_count; i++)
		s->sink->contexts[i] = cfg->contexts[i];
	s->sink->context_count = (uint32_t)cfg->context_count;
	s->sink->enable = local_enable;
	s->sink->arg = s;
	for (i = 0; i < s->enabler_count; i++)
		if (s->enablers[i].filter) {
			rc = load_filters(s, err);
			if (rc)
				goto fail;
			break;
		}
	rc = sonde_ust_consumer_start(s->trace, s->read_timer_ns,
				      s->switch_timer_ns, &s->consumer, err);
	if (rc)
		goto fail;
	rc = sonde_ust_attach(s->sink, err);
	if (rc) {
		sonde_ust_consumer_stop(s->consumer, NULL);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sonde_ust_trace_free(s->trace);
	if (s->sink)
		free_filters(s->sink);
	free(s->sink);
	for (i = 0; i < s->enabler_count; i++)
		free((char *)s->enablers[i].pattern);
	free(s->enablers);
	free(s);
	return rc;
}

int sonde_ust_local_stop(struct sonde_ust_local *s,
			 struct sonde_ust_stats *stats, struct sonde_error *err)
{
	struct timespec grace = { 0, (long)GRACE_NS };
	struct sonde_error cerr = { 0 };
	size_t i;
	int rc, crc;

	sonde_ust_detach();
	nanosleep(&grace, NULL);
	crc = sonde_ust_consumer_stop(s->consumer, &cerr);
	/* After the grace period no writer is inside a probe any more: a
	 * packet still incomplete belongs to a writer that died (a forked
	 * child killed mid-event), so salvage it. */
	rc = sonde_ust_trace_finish(s->trace, true, stats, err);
	if (!rc && crc) {
		rc = crc;
		if (err)
			*err = cerr;
	}
	sonde_ust_trace_free(s->trace);
	for (i = 0; i < s->enabler_count; i++)
		free((char *)s->enablers[i].pattern);
	free(s->enablers);
	free(s);
	return rc;
}
