/*
 * Fuzzes the whole read path of one trace: the input is
 * <u32 little-endian metadata size><metadata bytes><stream bytes> (seed kind
 * 'trace').  It is written out as a trace directory (`metadata` + one stream
 * file), opened as a trace set, iterated to the end and printed by the text
 * printer (verbose, every field) and the JSON printer to /dev/null: the
 * stream decoder, merge iterator and printers all see the decoded values.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde/ctf.h"
#include "sonde/error.h"
#include "sonde/view.h"

/* One directory per process, reused by every input. */
static char trace_dir[64];

static int write_file(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/%s", trace_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n <= 0)
			goto end;
		data += n;
		size -= (size_t)n;
	}
	ret = 0;
end:
	close(fd);
	return ret;
}

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/metadata", trace_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stream_0", trace_dir);
	unlink(path);
	rmdir(trace_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(trace_dir, sizeof(trace_dir), "/tmp/sonde-fuzz-trace.XXXXXX");
	if (!mkdtemp(trace_dir)) {
		perror("fuzz-trace: mkdtemp");
		abort();
	}
	atexit(cleanup);
	return 0;
}

static void print_all(struct sonde_ctf_trace_set *set, int null_fd)
{
	struct sonde_view_printer *text = NULL, *json = NULL;
	struct sonde_view_opts opts;
	struct sonde_ctf_iter *it = NULL;
	const struct sonde_ctf_msg *msg;
	struct sonde_error err;

	sonde_view_opts_init(&opts);
	opts.verbose = true;
	opts.names = SONDE_VIEW_NAMES_DEFAULT | SONDE_VIEW_NAMES_HEADER |
		     SONDE_VIEW_NAMES_SCOPE;
	opts.fields = SONDE_VIEW_FIELD_ALL;
	if (sonde_view_printer_create(&opts, set, null_fd, null_fd, &text,
				      &err) != 0)
		goto end;
	sonde_view_opts_init(&opts);
	opts.format = SONDE_VIEW_JSON;
	if (sonde_view_printer_create(&opts, set, null_fd, null_fd, &json,
				      &err) != 0)
		goto end;
	if (sonde_ctf_iter_create(set, &it, &err) != 0)
		goto end;
	while (sonde_ctf_iter_next(it, &msg, &err) == 1) {
		if (sonde_view_print(text, msg, &err) != 0 ||
		    sonde_view_print(json, msg, &err) != 0)
			break;
	}
	sonde_view_printer_flush(text, &err);
	sonde_view_printer_flush(json, &err);
end:
	sonde_ctf_iter_free(it);
	sonde_view_printer_free(json);
	sonde_view_printer_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *paths[1] = { trace_dir };
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_error err;
	uint32_t metadata_size;
	int null_fd;

	if (!trace_dir[0])
		LLVMFuzzerInitialize(NULL, NULL);
	if (size < 4)
		return 0;
	metadata_size = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
			(uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
	data += 4;
	size -= 4;
	if (metadata_size > size)
		return 0;
	if (write_file("metadata", data, metadata_size) != 0 ||
	    write_file("stream_0", data + metadata_size,
		       size - metadata_size) != 0) {
		perror("fuzz-trace: cannot write the trace");
		abort();
	}
	if (sonde_ctf_trace_set_open(paths, 1, &set, &err) != 0)
		return 0;
	null_fd = open("/dev/null", O_WRONLY);
	if (null_fd >= 0) {
		print_all(set, null_fd);
		close(null_fd);
	}
	sonde_ctf_trace_set_free(set);
	return 0;
}
