/*
 * Local snapshot -> relay (snapshot-send.h).  Stream files are mapped;
 * the metadata goes in pieces the relay takes in one message each.
 */
#include "session/snapshot-send.h"
#include "ctf/stream/stream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define METADATA_PIECE (1u << 20)
/* Traces sit at most this deep: ust/pid/NAME-PID-DATE is 3. */
#define TRACE_DEPTH_MAX 6

/* The whole file at `path`, mapped read-only (*len 0: nothing mapped). */
static int map_file(const char *path, const uint8_t **data, size_t *len,
		    struct sonde_error *err)
{
	struct stat st;
	void *m;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*data = NULL;
	*len = 0;
	if (fd < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return sonde_error_set(err, SONDE_EIO, "%s: mmap: %s", path,
				       strerror(errno));
	*data = m;
	*len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(const uint8_t *data, size_t len)
{
	if (len)
		munmap((void *)data, len);
}

static int send_metadata(struct sonde_producer *p, const char *dir,
			 const char *trace, struct sonde_error *err)
{
	char path[4096];
	const uint8_t *data;
	size_t len, off;
	uint64_t handle;
	int ret;

	snprintf(path, sizeof(path), "%s/metadata", dir);
	ret = map_file(path, &data, &len, err);
	if (ret)
		return ret;
	ret = sonde_producer_add_stream(p, trace, "metadata", &handle, err);
	for (off = 0; !ret && off < len; off += METADATA_PIECE)
		ret = sonde_producer_send_metadata(
			p, handle, data + off,
			len - off < METADATA_PIECE ? len - off : METADATA_PIECE,
			err);
	unmap_file(data, len);
	return ret;
}

/* One stream file and its index; a stream without packets is not sent
 * (the relay would hold an empty file). */
static int send_stream(struct sonde_producer *p, const char *dir,
		       const char *trace, const char *name,
		       struct sonde_error *err)
{
	char path[4096], idx_path[4200];
	const uint8_t *data = NULL, *idx_bytes = NULL;
	size_t len = 0, idx_len = 0;
	struct stream_index idx = { 0 };
	uint64_t handle;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(idx_path, sizeof(idx_path), "%s/index/%s.idx", dir, name);
	ret = map_file(idx_path, &idx_bytes, &idx_len, err);
	if (!ret)
		ret = stream_index_parse(idx_bytes, idx_len, idx_path, &idx,
					 err);
	if (!ret)
		ret = map_file(path, &data, &len, err);
	if (!ret)
		ret = stream_index_check(&idx, len, path, err);
	if (!ret && idx.count)
		ret = sonde_producer_add_stream(p, trace, name, &handle, err);
	for (size_t i = 0; !ret && i < idx.count; i++) {
		const struct stream_index_entry *e = &idx.entries[i];
		struct sonde_producer_packet pkt = {
			.packet_size = e->packet_size,
			.content_size = e->content_size,
			.timestamp_begin = e->timestamp_begin,
			.timestamp_end = e->timestamp_end,
			.events_discarded = e->events_discarded,
			.stream_class_id = e->stream_id,
			.stream_instance_id = e->stream_instance_id,
			.packet_seq_num = e->packet_seq_num,
		};

		ret = sonde_producer_send_packet(p, handle, data + e->offset,
						 &pkt, err);
	}
	stream_index_fini(&idx);
	unmap_file(data, len);
	unmap_file(idx_bytes, idx_len);
	return ret;
}

static int only_visible(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* `dir` is the snapshot's directory joined with `rel` ("" at the top). */
static int send_tree(struct sonde_producer *p, const char *dir,
		     const char *rel, int depth, struct sonde_error *err)
{
	struct dirent **names = NULL;
	char path[4096], sub[4096];
	struct stat st;
	bool trace;
	int n, ret = 0;

	if (depth > TRACE_DEPTH_MAX)
		return 0;
	n = scandir(dir, &names, only_visible, alphasort);
	if (n < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", dir,
				       strerror(errno));
	snprintf(path, sizeof(path), "%s/metadata", dir);
	trace = !stat(path, &st) && S_ISREG(st.st_mode);
	if (trace)
		ret = send_metadata(p, dir, rel, err);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;

		if (ret || (trace && (!strcmp(name, "metadata") ||
				      !strcmp(name, "index"))))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
			    sizeof(path) ||
		    (size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel,
				     rel[0] ? "/" : "", name) >= sizeof(sub)) {
			ret = sonde_error_set(err, SONDE_EINVAL,
					      "%s: path too long", dir);
			continue;
		}
		if (lstat(path, &st))
			ret = sonde_error_set(err, SONDE_EIO, "%s: %s", path,
					      strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = send_tree(p, path, sub, depth + 1, err);
		else if (trace && S_ISREG(st.st_mode))
			ret = send_stream(p, dir, rel, name, err);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int snapshot_send_dir(struct sonde_producer *p, const char *dir,
		      struct sonde_error *err)
{
	return send_tree(p, dir, "", 0, err);
}

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

int snapshot_remove_dir(const char *dir, struct sonde_error *err)
{
	if (nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		return sonde_error_set(err, SONDE_EIO, "removing %s: %s", dir,
				       strerror(errno));
	return 0;
}
