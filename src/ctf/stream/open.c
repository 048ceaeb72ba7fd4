/*
 * sonde_ctf_trace_set_open: paths -> trace directories -> stream files.
 * Directory entries are visited in byte-wise name order so that the set
 * (and hence the merge tie-breaks) is the same on every file system.
 */
#include "ctf/stream/stream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Symbolic links can make directory trees infinite. */
#define MAX_DIR_DEPTH 32

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	if (a && dir[a - 1] != '/')
		p[a++] = '/';
	memcpy(p + a, name, b + 1);
	return p;
}

static int read_file(const char *path, uint8_t **bytes, size_t *len,
		     struct sonde_error *err)
{
	size_t cap = 65536, n = 0;
	uint8_t *buf = NULL, *nb;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	for (;;) {
		if (!buf || n == cap) {
			if (buf)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				close(fd);
				return sonde_error_set(err, SONDE_ENOMEM,
						       "%s: out of memory", path);
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close(fd);
			return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
					       strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*bytes = buf;
	*len = n;
	return 0;
}

/* A directory entry with its position in readdir order, which babeltrace
 * 1.5's merge tie-breaks depend on (see iter.c). */
struct dir_entry {
	char *name;
	uint32_t raw;
};

static int cmp_entries(const void *a, const void *b)
{
	return strcmp(((const struct dir_entry *)a)->name,
		      ((const struct dir_entry *)b)->name);
}

/* Entries of a directory sorted by name, without "." and "..". */
static int list_dir(const char *path, struct dir_entry **entries,
		    size_t *count, struct sonde_error *err)
{
	struct dir_entry *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir(path);
	if (!dir)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", path,
				       strerror(errno));
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n].name = strdup(d->d_name);
		v[n].raw = (uint32_t)n;
		if (!v[n].name)
			goto nomem;
		n++;
	}
	closedir(dir);
	if (n)
		qsort(v, n, sizeof(*v), cmp_entries);
	*entries = v;
	*count = n;
	return 0;
nomem:
	closedir(dir);
	while (n)
		free(v[--n].name);
	free(v);
	return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
}

static void free_entries(struct dir_entry *entries, size_t count)
{
	while (count)
		free(entries[--count].name);
	free(entries);
}

/* Loads index/<name>.idx when it exists and is consistent (see index.c). */
static void load_index(struct sonde_ctf_stream *s, const char *dir,
		       const char *name)
{
	char rel[PATH_MAX];
	struct sonde_error ignored;
	uint8_t *bytes;
	size_t len;
	char *path;

	snprintf(rel, sizeof(rel), "index/%s.idx", name);
	path = join(dir, rel);
	if (!path)
		return;
	if (access(path, R_OK) == 0 &&
	    !read_file(path, &bytes, &len, &ignored)) {
		if (stream_index_parse(bytes, len, path, &s->index, &ignored) ||
		    stream_index_check(&s->index, s->size, path, &ignored))
			stream_index_fini(&s->index);
		free(bytes);
	}
	free(path);
}

/* Where a trace was found: argument index, then readdir positions. */
struct found_at {
	size_t arg;
	unsigned depth;
	uint32_t raw[MAX_DIR_DEPTH + 1];
};

static int open_trace(struct sonde_ctf_trace_set *set, const char *dir,
		      const struct found_at *at, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = NULL;
	struct sonde_ctf_trace *trace = NULL;
	struct dir_entry *names = NULL;
	char *meta_path, *text = NULL;
	size_t text_len = 0, count = 0, i;
	uint8_t *bytes = NULL;
	size_t len;
	int ret;

	meta_path = join(dir, "metadata");
	if (!meta_path)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	ret = read_file(meta_path, &bytes, &len, err);
	if (ret)
		goto out;
	/* load = depacketize + parse + packet byte order/UUID checks */
	ret = sonde_ctf_metadata_load(bytes, len, meta_path, &tc, &text,
				      &text_len, err);
	if (ret)
		goto out;
	ret = trace_create(dir, tc, sonde_ctf_trace_class_free, &trace, err);
	if (ret)
		goto out;
	trace->metadata_text = text;
	trace->metadata_len = text_len;
	text = NULL;
	trace->arg_index = at->arg;
	trace->dir_depth = at->depth;
	memcpy(trace->dir_key, at->raw, sizeof(trace->dir_key));

	ret = list_dir(dir, &names, &count, err);
	if (ret)
		goto out;
	for (i = 0; i < count; i++) {
		struct stat sb;
		char *path;

		if (names[i].name[0] == '.' || !strcmp(names[i].name, "metadata"))
			continue;
		path = join(dir, names[i].name);
		if (!path) {
			ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
			goto out;
		}
		if (stat(path, &sb) < 0) {
			ret = sonde_error_set(err, SONDE_EIO, "%s: %s", path,
					      strerror(errno));
			free(path);
			goto out;
		}
		if (!S_ISREG(sb.st_mode) || sb.st_size == 0) {
			free(path);
			continue;
		}
		ret = trace_add_stream(trace, path, NULL, 0, err);
		free(path);
		if (ret)
			goto out;
		trace->streams[trace->stream_count - 1]->dir_order = names[i].raw;
		load_index(trace->streams[trace->stream_count - 1], dir,
			   names[i].name);
	}
	ret = trace_set_add(set, trace, err);
	trace = NULL;
out:
	trace_free(trace);
	free_entries(names, count);
	free(text);
	free(bytes);
	free(meta_path);
	return ret;
}

static int search(struct sonde_ctf_trace_set *set, const char *path,
		  struct found_at *at, struct sonde_error *err)
{
	struct dir_entry *names = NULL;
	char *meta;
	size_t count = 0, i;
	struct stat sb;
	int ret;

	meta = join(path, "metadata");
	if (!meta)
		return sonde_error_set(err, SONDE_ENOMEM, "out of memory");
	ret = stat(meta, &sb);
	free(meta);
	if (ret == 0 && S_ISREG(sb.st_mode))
		return open_trace(set, path, at, err);
	if (at->depth >= MAX_DIR_DEPTH)
		return 0;
	ret = list_dir(path, &names, &count, err);
	if (ret)
		return ret;
	for (i = 0; i < count && !ret; i++) {
		char *sub;

		if (names[i].name[0] == '.')
			continue;
		sub = join(path, names[i].name);
		if (!sub) {
			ret = sonde_error_set(err, SONDE_ENOMEM, "out of memory");
			break;
		}
		if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			at->raw[at->depth++] = names[i].raw;
			ret = search(set, sub, at, err);
			at->raw[--at->depth] = 0;
		}
		free(sub);
	}
	free_entries(names, count);
	return ret;
}

int sonde_ctf_trace_set_open(const char *const *paths, size_t path_count,
			     struct sonde_ctf_trace_set **out,
			     struct sonde_error *err)
{
	struct sonde_ctf_trace_set *set;
	struct found_at at;
	size_t i, before;
	struct stat sb;
	int ret;

	ret = trace_set_create(&set, err);
	if (ret)
		return ret;
	for (i = 0; i < path_count; i++) {
		if (stat(paths[i], &sb) < 0) {
			ret = sonde_error_set(err, errno == ENOENT ?
					      SONDE_ENOENT : SONDE_EIO,
					      "%s: %s", paths[i],
					      strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			ret = sonde_error_set(err, SONDE_EINVAL,
					      "%s: not a directory", paths[i]);
			goto fail;
		}
		before = set->trace_count;
		memset(&at, 0, sizeof(at));
		at.arg = i;
		ret = search(set, paths[i], &at, err);
		if (ret)
			goto fail;
		if (set->trace_count == before) {
			ret = sonde_error_set(err, SONDE_ENOENT,
					      "%s: no CTF trace found (no directory with a metadata file)",
					      paths[i]);
			goto fail;
		}
	}
	*out = set;
	return 0;
fail:
	sonde_ctf_trace_set_free(set);
	return ret;
}
