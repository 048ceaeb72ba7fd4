/*
 * Metadata conformance: loads each metadata file named in an expectations
 * list (paths relative to the shared data root) and compares our verdict
 * with the expected one.  TAP output; the error message of each rejected
 * file is shown so that a "fail" accepted for the wrong reason stands out.
 *
 * usage: metadata-conformance DATA_ROOT EXPECT_FILE
 *        metadata-conformance --one METADATA_FILE    (prints the verdict)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf;

	if (!f)
		return -1;
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		{
			uint8_t *nb = realloc(buf, cap);

			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	*data = buf;
	*len = n;
	return 0;
}

static int load(const char *path, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = NULL;
	uint8_t *data;
	size_t len;
	int ret;

	if (read_file(path, &data, &len))
		return sonde_error_set(err, SONDE_EIO, "%s: cannot read", path);
	ret = sonde_ctf_metadata_load(data, len, path, &tc, NULL, NULL, err);
	free(data);
	sonde_ctf_trace_class_free(tc);
	return ret;
}

int main(int argc, char **argv)
{
	char line[2048];
	int count = 0, failed = 0;
	FILE *f;

	if (argc == 3 && !strcmp(argv[1], "--one")) {
		struct sonde_error err = { 0, "" };
		int ret = load(argv[2], &err);

		printf("%s%s%s\n", ret ? "rejected: " : "accepted", ret ? err.msg : "", "");
		return ret ? 1 : 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s DATA_ROOT EXPECT_FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char verdict[16], rel[1024], path[2048];
		struct sonde_error err = { 0, "" };
		int ret, want_pass;

		if (line[0] == '#' || sscanf(line, "%15s %1023s", verdict, rel) != 2)
			continue;
		want_pass = !strcmp(verdict, "pass");
		snprintf(path, sizeof(path), "%s/%s", argv[1], rel);
		ret = load(path, &err);
		if (ret == SONDE_EIO) {
			printf("ok %d - %s # SKIP not readable\n", ++count, rel);
			continue;
		}
		if ((ret == 0) != want_pass)
			failed++;
		printf("%sok %d - %s %s%s%s\n", (ret == 0) == want_pass ? "" : "not ",
		       ++count, verdict, rel, ret ? " # " : "", ret ? err.msg : "");
	}
	fclose(f);
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
