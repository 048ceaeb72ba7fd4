/*
 * libsonde-ctf's live API (ctf.h, "Live sources"): a stream fed packet by
 * packet, as libsonde-live does with what a relay sends, decodes the same
 * events as the file it came from, also when the trace's metadata is
 * replaced between two packets; misuse is refused with one line.
 * Uses ../shared/data/traces/many-threads (skipped without it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"
#include "tap.h"

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)size);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct events {
	size_t count;
	uint64_t ns_sum, id_sum;
};

static void add_event(struct events *e, const struct sonde_ctf_msg *m)
{
	if (m->kind != SONDE_CTF_MSG_EVENT)
		return;
	e->count++;
	e->ns_sum += (uint64_t)m->event->ns;
	e->id_sum += m->event->event_class->id;
}

int main(void)
{
	const char *shared = getenv("SONDE_SHARED_DIR");
	char dir[4096], path[4200];
	struct sonde_error err = { 0 };
	struct sonde_ctf_trace_set *file_set = NULL, *live_set = NULL;
	struct sonde_ctf_trace *live_trace = NULL;
	struct sonde_ctf_stream *file_stream, *live_stream = NULL;
	const struct sonde_ctf_msg *m;
	struct events want = { 0 }, got = { 0 };
	uint8_t *meta, *data, *idx;
	size_t meta_len = 0, data_len = 0, idx_len = 0, packets = 0;
	const char *paths[1] = { dir };
	int r;

	snprintf(dir, sizeof(dir), "%s/data/traces/many-threads",
		 shared ? shared : "../shared");
	snprintf(path, sizeof(path), "%s/metadata", dir);
	meta = read_all(path, &meta_len);
	snprintf(path, sizeof(path), "%s/channel0_1", dir);
	data = read_all(path, &data_len);
	snprintf(path, sizeof(path), "%s/index/channel0_1.idx", dir);
	idx = read_all(path, &idx_len);
	if (!meta || !data || !idx || idx_len < 16) {
		printf("1..0 # SKIP %s not found\n", dir);
		return 0;
	}

	/* The reference: the same stream read from its file. */
	ok(!sonde_ctf_trace_set_open(paths, 1, &file_set, &err),
	   "offline trace opens");
	file_stream = NULL;
	for (size_t i = 0; file_set &&
	     i < sonde_ctf_trace_stream_count(sonde_ctf_trace_set_trace(file_set, 0));
	     i++) {
		struct sonde_ctf_stream *s = sonde_ctf_trace_stream(
			sonde_ctf_trace_set_trace(file_set, 0), i);

		if (strstr(sonde_ctf_stream_path(s), "channel0_1"))
			file_stream = s;
	}
	ok(file_stream != NULL, "offline stream found");
	while (file_stream &&
	       (r = sonde_ctf_stream_next(file_stream, &m, &err)) > 0)
		add_event(&want, m);

	ok(!sonde_ctf_trace_set_create(&live_set, &err), "live set");
	ok(!sonde_ctf_live_trace_add(live_set, "live/many-threads", meta,
				     meta_len, &live_trace, &err),
	   "live trace from metadata bytes");
	ok(!sonde_ctf_live_stream_add(live_trace, "live/many-threads/channel0_1",
				      &live_stream, &err), "live stream");
	is_int(sonde_ctf_stream_next(live_stream, &m, &err), 0,
	       "a stream without packets has nothing");

	/* Feed packet by packet, at the offsets of the index, each from its
	 * own copy (a relay reply buffer), and replace the metadata halfway. */
	uint8_t *copy = NULL;
	/* The header's u32 packet_index_len: the stride of the entries. */
	size_t entry = ((size_t)idx[12] << 24) | ((size_t)idx[13] << 16) |
		((size_t)idx[14] << 8) | idx[15];
	r = 0;
	for (size_t off = 16; entry && off + entry <= idx_len && r >= 0;
	     off += entry) {
		uint64_t at = be64(idx + off), bytes = be64(idx + off + 8) / 8;

		if (at + bytes > data_len)
			break;
		free(copy);
		copy = malloc(bytes);
		memcpy(copy, data + at, bytes);
		if (packets == 3 &&
		    sonde_ctf_live_trace_update(live_trace, meta, meta_len, &err))
			break;
		if (sonde_ctf_live_stream_feed(live_stream, copy, bytes, &err))
			break;
		packets++;
		while ((r = sonde_ctf_stream_next(live_stream, &m, &err)) > 0) {
			add_event(&got, m);
			if (got.count == 1) {
				is_int(sonde_ctf_live_stream_feed(live_stream, copy,
								  bytes, &err),
				       SONDE_EINVAL,
				       "feeding before the packet is read is refused");
				ok(err.msg[0] && !strchr(err.msg, '\n'),
				   "with a one-line message");
			}
		}
	}
	ok(packets > 4, "several packets fed");
	is_int(r, 0, "every packet decodes");
	is_int(got.count, want.count, "same number of events as the file");
	ok(got.ns_sum == want.ns_sum && got.id_sum == want.id_sum,
	   "same timestamps and event classes as the file");

	ok(sonde_ctf_live_trace_update(live_trace, (const uint8_t *)"junk", 4,
				       &err) < 0 && err.msg[0],
	   "unparsable metadata is refused");
	ok(sonde_ctf_trace_get_class(live_trace) != NULL,
	   "and the trace keeps its classes");

	free(copy);
	sonde_ctf_trace_set_free(live_set);
	sonde_ctf_trace_set_free(file_set);
	free(meta);
	free(data);
	free(idx);
	return tap_done();
}
