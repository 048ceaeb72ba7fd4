/*
 * Traces (a trace class + its streams) and trace sets, independent of the
 * file system layout (see open.c for that).
 */
#include "ctf/stream/stream.h"

#include <stdlib.h>
#include <string.h>

int trace_create(const char *path, struct sonde_ctf_trace_class *tc,
		 void (*tc_free)(struct sonde_ctf_trace_class *),
		 struct sonde_ctf_trace **out, struct sonde_error *err)
{
	struct sonde_ctf_trace *trace;
	int ret;

	trace = calloc(1, sizeof(*trace));
	if (!trace) {
		if (tc_free)
			tc_free(tc);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	trace->tc = tc;
	trace->tc_free = tc_free;
	trace->path = strdup(path ? path : "");
	if (!trace->path) {
		trace_free(trace);
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	}
	ret = dec_codec_create(tc, &trace->codec, err);
	if (ret) {
		sonde_error_prefix(err, "%s", trace->path);
		trace_free(trace);
		return ret;
	}
	*out = trace;
	return 0;
}

void trace_free(struct sonde_ctf_trace *trace)
{
	size_t i;

	if (!trace)
		return;
	for (i = 0; i < trace->stream_count; i++)
		stream_free(trace->streams[i]);
	free(trace->streams);
	dec_codec_free(trace->codec);
	if (trace->tc_free)
		trace->tc_free(trace->tc);
	for (i = 0; i < trace->retired_count; i++) {
		dec_codec_free(trace->retired[i].codec);
		if (trace->retired[i].tc_free)
			trace->retired[i].tc_free(trace->retired[i].tc);
	}
	free(trace->retired);
	free(trace->metadata_text);
	free(trace->path);
	free(trace);
}

int trace_add_stream(struct sonde_ctf_trace *trace, const char *path,
		     const uint8_t *data, size_t size, struct sonde_error *err)
{
	struct sonde_ctf_stream **streams, *s;
	size_t ordinal = trace->stream_count;
	int ret;

	streams = realloc(trace->streams, (ordinal + 1) * sizeof(*streams));
	if (!streams)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	trace->streams = streams;
	if (data)
		ret = stream_create(trace, trace->codec, path, ordinal, data,
				    size, &s, err);
	else
		ret = stream_open_file(trace, trace->codec, path, ordinal, &s,
				       err);
	if (ret)
		return ret;
	trace->streams[trace->stream_count++] = s;
	return 0;
}

int trace_set_create(struct sonde_ctf_trace_set **out, struct sonde_error *err)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	return 0;
}

int trace_set_add(struct sonde_ctf_trace_set *set, struct sonde_ctf_trace *trace,
		  struct sonde_error *err)
{
	if (set->trace_count == set->trace_cap) {
		size_t cap = set->trace_cap ? set->trace_cap * 2 : 4;
		struct sonde_ctf_trace **t;

		t = realloc(set->traces, cap * sizeof(*t));
		if (!t) {
			trace_free(trace);
			return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
		}
		set->traces = t;
		set->trace_cap = cap;
	}
	trace->ordinal = set->trace_count;
	set->traces[set->trace_count++] = trace;
	return 0;
}

void sonde_ctf_trace_set_free(struct sonde_ctf_trace_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->trace_count; i++)
		trace_free(set->traces[i]);
	free(set->traces);
	free(set);
}

size_t sonde_ctf_trace_set_trace_count(const struct sonde_ctf_trace_set *set)
{
	return set->trace_count;
}

struct sonde_ctf_trace *sonde_ctf_trace_set_trace(struct sonde_ctf_trace_set *set,
						   size_t i)
{
	return i < set->trace_count ? set->traces[i] : NULL;
}

const struct sonde_ctf_trace_class *
sonde_ctf_trace_get_class(const struct sonde_ctf_trace *trace)
{
	return trace->tc;
}

const char *sonde_ctf_trace_path(const struct sonde_ctf_trace *trace)
{
	return trace->path;
}

size_t sonde_ctf_trace_stream_count(const struct sonde_ctf_trace *trace)
{
	return trace->stream_count;
}

struct sonde_ctf_stream *sonde_ctf_trace_stream(struct sonde_ctf_trace *trace,
						size_t i)
{
	return i < trace->stream_count ? trace->streams[i] : NULL;
}

const char *sonde_ctf_trace_metadata_text(const struct sonde_ctf_trace *trace,
					  size_t *len)
{
	if (len)
		*len = trace->metadata_len;
	return trace->metadata_text;
}
