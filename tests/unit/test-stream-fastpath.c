/*
 * The decoder's specialised ops (fixed structs, LTTng event headers) must
 * produce exactly the tape of the generic ops.  Decodes real traces twice,
 * with and without them, and compares every message and tape node.
 * Needs SONDE_SHARED_DIR (set by the test setup); skips without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/stream/stream.h"
#include "helpers/tap.h"

static int same_value(const struct sonde_ctf_value *a,
		      const struct sonde_ctf_value *b)
{
	if (a->type != b->type || a->end != b->end)
		return 0;
	switch (a->type->kind) {
	case SONDE_CTF_STRING:
		return a->v.str.ptr == b->v.str.ptr && a->v.str.len == b->v.str.len;
	case SONDE_CTF_ARRAY:
	case SONDE_CTF_SEQUENCE:
		if ((a->type->kind == SONDE_CTF_ARRAY && a->type->u.array.is_text) ||
		    (a->type->kind == SONDE_CTF_SEQUENCE && a->type->u.sequence.is_text))
			return a->v.str.ptr == b->v.str.ptr &&
			       a->v.str.len == b->v.str.len;
		return a->v.count == b->v.count;
	case SONDE_CTF_VARIANT:
		return a->v.option == b->v.option;
	case SONDE_CTF_FLOAT:
		return memcmp(&a->v.d, &b->v.d, sizeof(double)) == 0;
	default:
		return a->v.u == b->v.u;
	}
}

/* Compares stream `s` (fast codec) with a twin over the same bytes. */
static long compare_stream(struct sonde_ctf_stream *s, const struct dec_codec *generic,
			   long *events)
{
	struct sonde_ctf_stream *twin;
	struct sonde_error err;
	long bad = 0;

	if (stream_create(s->trace, generic, s->path, s->ordinal, s->data,
			  s->size, &twin, &err))
		return 1;
	for (;;) {
		const struct sonde_ctf_msg *a, *b;
		int ra = stream_next(s, &a, &err);
		int rb = stream_next(twin, &b, &err);
		const struct sonde_ctf_event *ea, *eb;
		uint32_t i, n;

		if (ra != rb) {
			bad++;
			break;
		}
		if (ra <= 0)
			break;
		if (a->kind != b->kind) {
			bad++;
			break;
		}
		if (a->kind != SONDE_CTF_MSG_EVENT)
			continue;
		ea = a->event;
		eb = b->event;
		(*events)++;
		if (ea->event_class != eb->event_class || ea->cycles != eb->cycles ||
		    ea->ns != eb->ns || ea->header != eb->header ||
		    ea->payload != eb->payload || s->st.len != twin->st.len ||
		    s->st.pos != twin->st.pos) {
			bad++;
			continue;
		}
		n = s->st.len;
		for (i = 0; i < n; i++)
			if (!same_value(&ea->values[i], &eb->values[i]))
				bad++;
	}
	stream_free(twin);
	return bad;
}

static void compare_trace_dir(const char *path)
{
	struct sonde_ctf_trace_set *set;
	struct sonde_error err;
	long bad = 0, events = 0;
	char what[512];
	size_t t, i;

	if (sonde_ctf_trace_set_open(&path, 1, &set, &err)) {
		ok(0, err.msg);
		return;
	}
	for (t = 0; t < set->trace_count; t++) {
		struct sonde_ctf_trace *trace = set->traces[t];
		struct dec_codec *generic;

		if (dec_codec_create_ex(trace->tc, true, &generic, &err)) {
			bad++;
			continue;
		}
		for (i = 0; i < trace->stream_count; i++)
			bad += compare_stream(trace->streams[i], generic, &events);
		dec_codec_free(generic);
	}
	snprintf(what, sizeof(what), "%s: %ld events decode identically with and without fast paths",
		 path, events);
	ok(bad == 0 && events > 0, what);
	if (bad)
		printf("#   %ld differences\n", bad);
	sonde_ctf_trace_set_free(set);
}

int main(void)
{
	static const char *const traces[] = {
		"data/traces/many-threads",
		"data/traces/lttng-ust-sample",
		"data/ctf/babeltrace-ctf-traces/succeed/multi-domains",
		"data/ctf/ctf-testsuite/tests/1.8/regression/stream/pass/lttng-modules-trace",
	};
	const char *shared = getenv("SONDE_SHARED_DIR");
	char path[4096];
	size_t i;

	if (!shared) {
		printf("1..0 # SKIP SONDE_SHARED_DIR is not set\n");
		return 0;
	}
	for (i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", shared, traces[i]);
		compare_trace_dir(path);
	}
	return tap_done();
}
