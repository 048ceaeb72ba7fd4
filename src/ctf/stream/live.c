/*
 * Live traces and streams (include/sonde/ctf.h, "Live sources"): the
 * building blocks of trace.c and stream.c, fed from memory.
 */
#include "ctf/stream/stream.h"

#include <stdlib.h>
#include <string.h>

int sonde_ctf_trace_set_create(struct sonde_ctf_trace_set **out,
			       struct sonde_error *err)
{
	return trace_set_create(out, err);
}

int sonde_ctf_live_trace_add(struct sonde_ctf_trace_set *set, const char *path,
			     const uint8_t *metadata, size_t len,
			     struct sonde_ctf_trace **out,
			     struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc;
	struct sonde_ctf_trace *trace;
	char *text = NULL;
	size_t text_len = 0;
	int ret;

	ret = sonde_ctf_metadata_load(metadata, len, path, &tc, &text,
				      &text_len, err);
	if (ret)
		return ret;
	ret = trace_create(path, tc, sonde_ctf_trace_class_free, &trace, err);
	if (ret) {
		free(text);
		return ret;
	}
	trace->metadata_text = text;
	trace->metadata_len = text_len;
	ret = trace_set_add(set, trace, err);
	if (ret)
		return ret;
	*out = trace;
	return 0;
}

int sonde_ctf_live_trace_update(struct sonde_ctf_trace *trace,
				const uint8_t *metadata, size_t len,
				struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc;
	struct retired_class *retired;
	struct dec_codec *codec;
	char *text = NULL;
	size_t text_len = 0;
	int ret;

	retired = realloc(trace->retired,
			  (trace->retired_count + 1) * sizeof(*retired));
	if (!retired)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	trace->retired = retired;
	ret = sonde_ctf_metadata_load(metadata, len, trace->path, &tc, &text,
				      &text_len, err);
	if (ret)
		return ret;
	ret = dec_codec_create(tc, &codec, err);
	if (ret) {
		sonde_error_prefix(err, "%s", trace->path);
		sonde_ctf_trace_class_free(tc);
		free(text);
		return ret;
	}
	retired[trace->retired_count].tc = trace->tc;
	retired[trace->retired_count].tc_free = trace->tc_free;
	retired[trace->retired_count].codec = trace->codec;
	trace->retired_count++;
	trace->tc = tc;
	trace->tc_free = sonde_ctf_trace_class_free;
	trace->codec = codec;
	free(trace->metadata_text);
	trace->metadata_text = text;
	trace->metadata_len = text_len;
	return 0;
}

int sonde_ctf_live_stream_add(struct sonde_ctf_trace *trace, const char *path,
			      struct sonde_ctf_stream **out,
			      struct sonde_error *err)
{
	struct sonde_ctf_stream *s;
	int ret;

	/* A stream over no bytes: its first sonde_ctf_stream_next() says 0. */
	ret = trace_add_stream(trace, path, (const uint8_t *)"", 0, err);
	if (ret)
		return ret;
	s = trace->streams[trace->stream_count - 1];
	s->live = true;
	s->done = true;
	*out = s;
	return 0;
}

int sonde_ctf_live_stream_feed(struct sonde_ctf_stream *s,
			       const uint8_t *packet, size_t len,
			       struct sonde_error *err)
{
	if (!s->live || !s->done)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: packet fed before the previous one was read",
				       s->path);
	s->data = packet;
	s->size = len;
	s->next_off = 0;
	s->in_packet = false;
	s->done = false;
	return 0;
}

int sonde_ctf_stream_next(struct sonde_ctf_stream *s,
			  const struct sonde_ctf_msg **msg,
			  struct sonde_error *err)
{
	return stream_next(s, msg, err);
}
