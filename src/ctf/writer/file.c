/*
 * Trace directory writer: metadata file, per-CPU stream files with
 * automatic packet switching, index files.
 *
 * A stream owns one heap buffer of two packet sizes: events are serialized
 * straight into the current packet, and one that runs past the packet end
 * spills into the second half, from where it is moved to the start of the
 * next packet once the full one is written out.  The common path therefore
 * has no copy and no size pre-computation; the rare spill costs two copies.
 */
#include "sonde/ctf-writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PACKET_SIZE (256 * 1024)
#define MAX_PACKET_SIZE (64u * 1024 * 1024)

struct sonde_ctfw_writer {
	struct sonde_ctfw_trace_class *tc;
	char *dir;
	int metadata_fd;
	bool plain_metadata;
	bool write_index;
	size_t metadata_flushed; /* text bytes already in the file */
};

struct sonde_ctfw_stream {
	struct sonde_ctfw_writer *w;
	char *path;
	int fd;
	FILE *index;
	enum sonde_ctfw_header_type header;
	struct sonde_ctfw_cursor cursor;
	size_t packet_size;
	uint8_t *buf;	/* 2 * packet_size */
	uint8_t *spill; /* packet_size: an event moving packets */
	struct sonde_ctfw_packet_info info;
	bool packet_open;
	uint64_t file_offset;
	uint64_t last_ts; /* event header reference (LTTng's last_tsc) */
	uint64_t last_event_ts;
	bool has_event; /* any event in the stream yet */
	uint64_t packet_events;
	/* event in progress */
	size_t event_start;
	size_t payload_start;
	uint32_t event_id;
	uint64_t event_ts;
	uint64_t last_ts_before_event;
	bool in_event;
	struct sonde_ctfw_stream_stats stats;
};

static int write_all(int fd, const void *buf, size_t len, const char *path,
		     struct sonde_error *err)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sonde_error_set(err, SONDE_EIO, "%s: write: %s",
					       path, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int mkdir_p(const char *dir, struct sonde_error *err)
{
	char path[PATH_MAX];
	size_t len = strlen(dir), i;

	if (len >= sizeof(path))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long",
				       dir);
	memcpy(path, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return sonde_error_set(err, SONDE_EIO, "%s: mkdir: %s",
					       path, strerror(errno));
		path[i] = dir[i];
	}
	return 0;
}

static int check_empty(const char *dir, struct sonde_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", dir,
				       strerror(errno));
	while (!rc && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rc = sonde_error_set(err, SONDE_EINVAL,
					     "%s: directory is not empty", dir);
	closedir(d);
	return rc;
}

static char *join_path(const char *a, const char *b, const char *c)
{
	char *p;

	if (asprintf(&p, "%s/%s%s", a, b, c ? c : "") < 0)
		return NULL;
	return p;
}

int sonde_ctfw_writer_open(const char *dir, struct sonde_ctfw_trace_class *tc,
			   const struct sonde_ctfw_writer_opts *opts,
			   struct sonde_ctfw_writer **out,
			   struct sonde_error *err)
{
	struct sonde_ctfw_writer *w;
	char *path = NULL;
	int rc;

	rc = mkdir_p(dir, err);
	if (rc)
		return rc;
	if (!(opts && opts->allow_existing)) {
		rc = check_empty(dir, err);
		if (rc)
			return rc;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
				       dir);
	w->tc = tc;
	w->metadata_fd = -1;
	w->plain_metadata = opts && opts->plain_metadata;
	w->write_index = !(opts && opts->no_index);
	w->dir = strdup(dir);
	path = join_path(dir, "metadata", NULL);
	if (!w->dir || !path) {
		rc = sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
				     dir);
		goto fail;
	}
	w->metadata_fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->metadata_fd < 0) {
		rc = sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				     strerror(errno));
		goto fail;
	}
	if (w->write_index) {
		char *index_dir = join_path(dir, "index", NULL);

		rc = index_dir ? mkdir_p(index_dir, err)
			       : sonde_error_set(err, SONDE_ENOMEM,
						 "%s: out of memory", dir);
		free(index_dir);
		if (rc)
			goto fail;
	}
	free(path);
	*out = w;
	return 0;
fail:
	free(path);
	if (w->metadata_fd >= 0)
		close(w->metadata_fd);
	free(w->dir);
	free(w);
	return rc;
}

int sonde_ctfw_writer_flush_metadata(struct sonde_ctfw_writer *w,
				     struct sonde_error *err)
{
	enum sonde_ctfw_header_type unused;
	uint8_t packet[SONDE_CTFW_METADATA_PACKET_SIZE];
	const char *text;
	size_t len;
	int rc;

	/* Until a stream class exists the text ends inside the env block. */
	if (sonde_ctfw_trace_class_header_type(w->tc, 0, &unused) != 0)
		return 0;
	text = sonde_ctfw_metadata_text(w->tc, &len);
	if (w->plain_metadata) {
		rc = write_all(w->metadata_fd, text + w->metadata_flushed,
			       len - w->metadata_flushed, "metadata", err);
		if (rc)
			return rc;
		w->metadata_flushed = len;
		return 0;
	}
	while (w->metadata_flushed < len) {
		size_t took = sonde_ctfw_metadata_packet(
			w->tc, w->metadata_flushed, packet);

		rc = write_all(w->metadata_fd, packet, sizeof(packet),
			       "metadata", err);
		if (rc)
			return rc;
		w->metadata_flushed += took;
	}
	return 0;
}

int sonde_ctfw_writer_close(struct sonde_ctfw_writer *w,
			    struct sonde_error *err)
{
	int rc;

	if (!w)
		return 0;
	rc = sonde_ctfw_writer_flush_metadata(w, err);
	if (close(w->metadata_fd) != 0 && !rc)
		rc = sonde_error_set(err, SONDE_EIO, "%s/metadata: close: %s",
				     w->dir, strerror(errno));
	free(w->dir);
	free(w);
	return rc;
}

/* Streams ------------------------------------------------------------------ */

static void stream_free(struct sonde_ctfw_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->index)
		fclose(s->index);
	free(s->buf);
	free(s->spill);
	free(s->path);
	free(s);
}

int sonde_ctfw_stream_open(struct sonde_ctfw_writer *w,
			   const struct sonde_ctfw_stream_opts *opts,
			   struct sonde_ctfw_stream **out,
			   struct sonde_error *err)
{
	struct sonde_ctfw_stream *s;
	const char *channel =
		opts->channel_name ? opts->channel_name : "channel0";
	char *name = NULL, *index_path = NULL;
	size_t packet_size =
		opts->packet_size ? opts->packet_size : DEFAULT_PACKET_SIZE;
	enum sonde_ctfw_header_type header;
	int rc;

	if (sonde_ctfw_trace_class_header_type(w->tc, opts->stream_class_id,
					       &header))
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream: no stream class %" PRIu32,
				       opts->stream_class_id);
	if (!*channel || strchr(channel, '/'))
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream: bad channel name '%s'",
				       channel);
	if (packet_size > MAX_PACKET_SIZE)
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream: packet size %zu over %u bytes",
				       packet_size, MAX_PACKET_SIZE);
	packet_size = (size_t)sonde_ctfw_page_round(packet_size);
	s = calloc(1, sizeof(*s));
	if (!s)
		return sonde_error_set(err, SONDE_ENOMEM,
				       "stream: out of memory");
	s->fd = -1;
	s->w = w;
	s->header = header;
	s->packet_size = packet_size;
	s->info.stream_id = opts->stream_class_id;
	s->info.stream_instance_id = opts->cpu_id;
	s->info.cpu_id = opts->cpu_id;
	s->info.packet_seq_num = opts->first_seq_num;
	s->buf = malloc(2 * packet_size);
	s->spill = malloc(packet_size);
	if (asprintf(&name, "%s_%" PRIu32, channel, opts->cpu_id) < 0)
		name = NULL;
	s->path = name ? join_path(w->dir, name, NULL) : NULL;
	if (!s->buf || !s->spill || !s->path) {
		rc = sonde_error_set(err, SONDE_ENOMEM,
				     "stream: out of memory");
		goto fail;
	}
	sonde_ctfw_cursor_init(&s->cursor, s->buf, 2 * packet_size,
			       sonde_ctfw_trace_class_byte_order(w->tc));
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		rc = sonde_error_set(err, SONDE_EIO, "%s: %s", s->path,
				     strerror(errno));
		goto fail;
	}
	if (w->write_index) {
		uint8_t hdr[SONDE_CTFW_INDEX_HEADER_SIZE];

		/* LTTng's and babeltrace's name: index/<stream file>.idx */
		if (asprintf(&index_path, "%s/index/%s.idx", w->dir, name) < 0)
			index_path = NULL;
		if (!index_path) {
			rc = sonde_error_set(err, SONDE_ENOMEM,
					     "stream: out of memory");
			goto fail;
		}
		s->index = fopen(index_path, "we");
		if (!s->index) {
			rc = sonde_error_set(err, SONDE_EIO, "%s: %s",
					     index_path, strerror(errno));
			goto fail;
		}
		sonde_ctfw_index_header(hdr);
		fwrite(hdr, sizeof(hdr), 1, s->index);
	}
	free(name);
	free(index_path);
	*out = s;
	return 0;
fail:
	free(name);
	free(index_path);
	stream_free(s);
	return rc;
}

/* Opens a packet at `ts`; a new packet's begin becomes the header reference
 * except for the stream's first one (LTTng's last_tsc starts at 0, so the
 * first event of a buffer is always extended). */
static void packet_open(struct sonde_ctfw_stream *s, uint64_t ts)
{
	s->info.timestamp_begin = ts;
	s->info.timestamp_end = ts;
	s->info.content_size = 0;
	s->info.packet_size = 0;
	s->cursor.limit = 2 * s->packet_size;
	sonde_ctfw_packet_begin(
		&s->cursor, sonde_ctfw_trace_class_uuid(s->w->tc), &s->info);
	if (s->stats.packets || s->has_event)
		s->last_ts = ts;
	s->packet_open = true;
	s->packet_events = 0;
}

/* Finishes the packet holding `content` bytes and writes it out. */
static int packet_close(struct sonde_ctfw_stream *s, size_t content,
			uint64_t ts_end, struct sonde_error *err)
{
	struct sonde_ctfw_cursor c = s->cursor;
	int rc;

	c.pos = content;
	c.overflow = false;
	s->info.timestamp_end = ts_end;
	s->info.content_size = content;
	s->info.packet_size = sonde_ctfw_page_round(content);
	rc = sonde_ctfw_packet_finish(&c, &s->info, err);
	if (rc)
		return sonde_error_prefix(err, "%s", s->path);
	rc = write_all(s->fd, s->buf, s->info.packet_size, s->path, err);
	if (rc)
		return rc;
	if (s->index) {
		uint8_t entry[SONDE_CTFW_INDEX_ENTRY_SIZE];

		sonde_ctfw_index_entry(entry, s->file_offset, &s->info);
		if (fwrite(entry, sizeof(entry), 1, s->index) != 1)
			return sonde_error_set(err, SONDE_EIO,
					       "%s index: write failed",
					       s->path);
	}
	s->file_offset += s->info.packet_size;
	s->stats.bytes += s->info.packet_size;
	s->stats.packets++;
	s->info.packet_seq_num++;
	s->packet_open = false;
	return 0;
}

int sonde_ctfw_stream_event_begin(struct sonde_ctfw_stream *s, uint32_t id,
				  uint64_t ts, struct sonde_ctfw_cursor **c,
				  struct sonde_error *err)
{
	if (s->in_event)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"%s: event begun before the previous one was committed",
			s->path);
	if (s->has_event && ts < s->last_event_ts)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: timestamp %" PRIu64
				       " before the previous event's %" PRIu64,
				       s->path, ts, s->last_event_ts);
	/* A packet opened for an event that was then refused begins at
	 * that event's time. */
	if (s->packet_open && ts < s->info.timestamp_begin)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: timestamp %" PRIu64
				       " before its packet's begin %" PRIu64,
				       s->path, ts, s->info.timestamp_begin);
	if (!s->packet_open)
		packet_open(s, ts);
	s->event_start = s->cursor.pos;
	s->event_id = id;
	s->event_ts = ts;
	s->last_ts_before_event = s->last_ts;
	sonde_ctfw_put_event_header(&s->cursor, s->header, id, ts, &s->last_ts);
	s->payload_start = s->cursor.pos;
	s->in_event = true;
	*c = &s->cursor;
	return 0;
}

int sonde_ctfw_stream_event_commit(struct sonde_ctfw_stream *s,
				   struct sonde_error *err)
{
	size_t payload_len;
	int rc;

	if (!s->in_event)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: commit without an event", s->path);
	s->in_event = false;
	if (__builtin_expect(
		    s->cursor.pos <= s->packet_size && !s->cursor.overflow, 1))
		goto done;
	payload_len = s->cursor.pos - s->payload_start;
	if (s->cursor.overflow || s->packet_events == 0 ||
	    SONDE_CTFW_PKT_HEADER_SIZE + SONDE_CTFW_EVENT_HEADER_MAX +
			    payload_len >
		    s->packet_size) {
		/* Dropped: the header reference must not move to a
		 * timestamp that readers never see. */
		s->cursor.pos = s->event_start;
		s->cursor.overflow = false;
		s->last_ts = s->last_ts_before_event;
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: event id %" PRIu32
				       " does not fit in a %zu-byte packet",
				       s->path, s->event_id, s->packet_size);
	}
	/* The full packet ends where this event started (closing it pads
	 * over the event's first bytes, hence the copy aside); the event moves
	 * to the next packet, whose begin is the event's time and the new
	 * header reference.  The payload is byte aligned (x86 layout), so it
	 * stays valid at its new offset. */
	memcpy(s->spill, s->buf + s->payload_start, payload_len);
	rc = packet_close(s, s->event_start, s->event_ts, err);
	if (rc)
		return rc;
	packet_open(s, s->event_ts);
	sonde_ctfw_put_event_header(&s->cursor, s->header, s->event_id,
				    s->event_ts, &s->last_ts);
	memcpy(s->buf + s->cursor.pos, s->spill, payload_len);
	s->cursor.pos += payload_len;
done:
	s->has_event = true;
	s->last_event_ts = s->event_ts;
	s->packet_events++;
	s->stats.events++;
	return 0;
}

void sonde_ctfw_stream_discard_events(struct sonde_ctfw_stream *s, uint64_t n)
{
	s->info.events_discarded += n;
	s->stats.events_discarded += n;
}

int sonde_ctfw_stream_lose_packets(struct sonde_ctfw_stream *s, uint64_t n,
				   struct sonde_error *err)
{
	int rc;

	if (s->in_event)
		return sonde_error_set(err, SONDE_EINVAL,
				       "%s: event in progress", s->path);
	if (s->packet_open && s->packet_events) {
		rc = packet_close(s, s->cursor.pos, s->last_event_ts, err);
		if (rc)
			return rc;
	}
	s->info.packet_seq_num += n;
	s->stats.packets_lost += n;
	return 0;
}

void sonde_ctfw_stream_stats(const struct sonde_ctfw_stream *s,
			     struct sonde_ctfw_stream_stats *st)
{
	*st = s->stats;
}

int sonde_ctfw_stream_close(struct sonde_ctfw_stream *s, uint64_t ts_end,
			    struct sonde_ctfw_stream_stats *final,
			    struct sonde_error *err)
{
	int rc = 0;

	if (!s)
		return 0;
	if (s->in_event)
		rc = sonde_error_set(err, SONDE_EINVAL,
				     "%s: closed with an event in progress",
				     s->path);
	if (!rc && s->has_event && ts_end < s->last_event_ts)
		ts_end = s->last_event_ts;
	/* A stream with no packet at all still gets an empty one, as LTTng
	 * flushes idle per-CPU buffers. */
	if (!rc && !s->packet_open && s->stats.packets == 0)
		packet_open(s, ts_end);
	if (!rc && s->packet_open)
		rc = packet_close(s, s->cursor.pos, ts_end, err);
	if (!rc && s->index && fflush(s->index) != 0)
		rc = sonde_error_set(err, SONDE_EIO, "%s index: %s", s->path,
				     strerror(errno));
	if (!rc && close(s->fd) != 0)
		rc = sonde_error_set(err, SONDE_EIO, "%s: close: %s", s->path,
				     strerror(errno));
	s->fd = -1;
	if (final)
		*final = s->stats;
	stream_free(s);
	return rc;
}
