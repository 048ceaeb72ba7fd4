/*
 * Time to load a metadata file (depacketize + parse + resolve), best of
 * several rounds.  SONDE_BENCH_METADATA (default: the many-threads kernel
 * trace's 311 KB packetized metadata, 1181 event classes) and
 * SONDE_BENCH_ITERS (rounds, default 50) set it up.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sonde/ctf.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

int main(void)
{
	const char *path = getenv("SONDE_BENCH_METADATA");
	const char *iters_env = getenv("SONDE_BENCH_ITERS");
	const char *shared = getenv("SONDE_SHARED_DIR");
	uint64_t rounds = iters_env ? strtoull(iters_env, NULL, 10) : 50;
	uint64_t best = UINT64_MAX, total = 0;
	size_t len = 0, events = 0;
	char pathbuf[4096];
	uint8_t *bytes;

	if (!path) {
		snprintf(pathbuf, sizeof(pathbuf), "%s/data/traces/many-threads/metadata",
			 shared ? shared : "../shared");
		path = pathbuf;
	}
	bytes = slurp(path, &len);
	if (!bytes) {
		fprintf(stderr, "bench-metadata: cannot read %s\n", path);
		return 1;
	}
	for (uint64_t i = 0; i < rounds; i++) {
		struct sonde_ctf_trace_class *tc = NULL;
		struct sonde_error err;
		uint64_t start = now_ns(), ns;

		if (sonde_ctf_metadata_load(bytes, len, path, &tc, NULL, NULL, &err)) {
			fprintf(stderr, "bench-metadata: %s\n", err.msg);
			free(bytes);
			return 1;
		}
		ns = now_ns() - start;
		events = 0;
		for (size_t s = 0; s < tc->stream_class_count; s++)
			events += tc->stream_classes[s]->event_class_count;
		sonde_ctf_trace_class_free(tc);
		if (ns < best)
			best = ns;
		total += ns;
	}
	free(bytes);
	printf("metadata: %s (%zu bytes, %zu event classes)\n", path, len, events);
	printf("load (best round): %.2f ms\n", (double)best / 1e6);
	printf("load (mean): %.2f ms\n", rounds ? (double)total / 1e6 / (double)rounds : 0.0);
	return 0;
}
