/*
 * Streams a CTF trace directory (metadata, stream files and their LTTng
 * index files) to a relay daemon with libsonde-producer, as a consumer
 * daemon would stream the same packets live: metadata first, then the
 * packets of all streams in time order, one every PACE_US, with live
 * beacons for the other streams.  Used by tests/integration/live_stream.py.
 *
 * usage: stream-trace RELAY CONTROL_PORT DATA_PORT SESSION LIVE_TIMER_US
 *                     TRACE_DIR DOMAIN_PATH PACE_US [GO_FILE]
 * Waits for GO_FILE to exist (when given) before sending packets, so that
 * viewers can attach to the published session first.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "producer/producer.h"

struct input_stream {
	char name[256];
	uint8_t *data, *idx;
	size_t data_len, idx_len, entry_len, next;   /* next: entry offset */
	uint64_t handle;
	uint64_t last_end, class_id;
	uint64_t begin;          /* timestamp_begin of the next packet */
};

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	*len = 0;
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 &&
	    !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)size)) &&
	    fread(buf, 1, (size_t)size, f) == (size_t)size)
		*len = (size_t)size;
	fclose(f);
	return buf;
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static bool has_packet(const struct input_stream *s)
{
	return s->next + s->entry_len <= s->idx_len;
}

static void load_next(struct input_stream *s)
{
	if (has_packet(s))
		s->begin = be(s->idx + s->next + 24, 8);
}

static int fail(const struct sonde_error *err)
{
	fprintf(stderr, "stream-trace: %s\n", err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct sonde_producer_opts o = { 0 };
	struct sonde_producer *p = NULL;
	struct sonde_error err = { 0 };
	struct input_stream s[64];
	size_t n = 0, meta_len;
	uint8_t *meta;
	uint64_t meta_handle;
	char path[4096];
	DIR *d;
	struct dirent *e;
	long pace;

	if (argc < 9) {
		fprintf(stderr, "usage: stream-trace RELAY CONTROL_PORT DATA_PORT SESSION LIVE_TIMER_US TRACE_DIR DOMAIN_PATH PACE_US [GO_FILE]\n");
		return 2;
	}
	o.relay = argv[1];
	o.control_port = (uint16_t)atoi(argv[2]);
	o.data_port = (uint16_t)atoi(argv[3]);
	o.session_name = argv[4];
	o.live_timer_us = (uint32_t)atol(argv[5]);
	pace = atol(argv[8]);

	snprintf(path, sizeof(path), "%s/metadata", argv[6]);
	meta = read_all(path, &meta_len);
	d = opendir(argv[6]);
	if (!meta || !d) {
		fprintf(stderr, "stream-trace: %s: no trace there\n", argv[6]);
		return 1;
	}
	while ((e = readdir(d)) && n < 64) {
		struct input_stream *x = &s[n];

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "metadata") ||
		    !strcmp(e->d_name, "index"))
			continue;
		memset(x, 0, sizeof(*x));
		snprintf(x->name, sizeof(x->name), "%s", e->d_name);
		snprintf(path, sizeof(path), "%s/%s", argv[6], e->d_name);
		x->data = read_all(path, &x->data_len);
		snprintf(path, sizeof(path), "%s/index/%s.idx", argv[6],
			 e->d_name);
		x->idx = read_all(path, &x->idx_len);
		if (!x->data || !x->idx || x->idx_len < 16) {
			fprintf(stderr, "stream-trace: %s: no index\n", path);
			return 1;
		}
		x->entry_len = (size_t)be(x->idx + 12, 4);
		x->next = 16;
		load_next(x);
		n++;
	}
	closedir(d);

	if (sonde_producer_open(&o, &p, &err) ||
	    sonde_producer_add_stream(p, argv[7], "metadata", &meta_handle, &err))
		return fail(&err);
	for (size_t i = 0; i < n; i++)
		if (sonde_producer_add_stream(p, argv[7], s[i].name,
					      &s[i].handle, &err))
			return fail(&err);
	if (sonde_producer_send_metadata(p, meta_handle, meta, meta_len, &err) ||
	    sonde_producer_streams_sent(p, &err))
		return fail(&err);
	while (argc > 9 && access(argv[9], F_OK))
		usleep(10000);

	for (;;) {
		struct input_stream *next = NULL;
		struct sonde_producer_packet pkt;
		const uint8_t *x;

		for (size_t i = 0; i < n; i++)
			if (has_packet(&s[i]) && (!next || s[i].begin < next->begin))
				next = &s[i];
		if (!next)
			break;
		x = next->idx + next->next;
		pkt.packet_size = be(x + 8, 8);
		pkt.content_size = be(x + 16, 8);
		pkt.timestamp_begin = be(x + 24, 8);
		pkt.timestamp_end = be(x + 32, 8);
		pkt.events_discarded = be(x + 40, 8);
		pkt.stream_class_id = be(x + 48, 8);
		pkt.stream_instance_id = next->entry_len >= 72 ? be(x + 56, 8) : 0;
		pkt.packet_seq_num = next->entry_len >= 72 ? be(x + 64, 8) : 0;
		if (be(x, 8) + pkt.packet_size / 8 > next->data_len) {
			fprintf(stderr, "stream-trace: %s: index beyond the file\n",
				next->name);
			return 1;
		}
		if (sonde_producer_send_packet(p, next->handle,
					       next->data + be(x, 8), &pkt, &err))
			return fail(&err);
		next->last_end = pkt.timestamp_end;
		next->class_id = pkt.stream_class_id;
		next->next += next->entry_len;
		load_next(next);
		/* The others have nothing before now (and before their next
		 * packet): what an idle stream's live timer says. */
		for (size_t i = 0; i < n; i++) {
			uint64_t ts = pkt.timestamp_begin;

			if (&s[i] == next)
				continue;
			if (has_packet(&s[i]) && s[i].begin < ts)
				ts = s[i].begin;
			if (ts < s[i].last_end)
				ts = s[i].last_end;
			if (sonde_producer_send_beacon(p, s[i].handle, ts,
						       s[i].class_id, &err))
				return fail(&err);
		}
		if (pace)
			usleep((useconds_t)pace);
	}
	if (sonde_producer_close(p, &err))
		return fail(&err);
	sonde_producer_free(p);
	for (size_t i = 0; i < n; i++) {
		free(s[i].data);
		free(s[i].idx);
	}
	free(meta);
	return 0;
}
