/*
 * Cost of an arena allocation against malloc+free of the same sizes: the
 * metadata model makes one allocation per type node, so this bounds what
 * building a large trace class can cost.  SONDE_BENCH_ITERS sets the number
 * of allocations per round (default 10 million).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/arena.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sizes of typical type nodes, cycled so the allocator cannot special-case
 * one size. */
static size_t node_size(uint64_t i)
{
	static const size_t sizes[] = { 24, 40, 64, 16, 96, 32, 48, 128 };

	return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static double bench_arena(uint64_t iters)
{
	struct sonde_arena arena;
	uint64_t start, i;

	sonde_arena_init(&arena, 0);
	start = now_ns();
	for (i = 0; i < iters; i++) {
		if (!sonde_arena_alloc(&arena, node_size(i))) {
			fprintf(stderr, "bench-arena: out of memory\n");
			exit(1);
		}
	}
	sonde_arena_release(&arena);
	return (double)(now_ns() - start) / (double)iters;
}

static double bench_malloc(uint64_t iters)
{
	enum { BATCH = 4096 };
	static void *live[BATCH];
	uint64_t start, i;
	size_t j;

	start = now_ns();
	for (i = 0; i < iters; i++) {
		live[i % BATCH] = calloc(1, node_size(i));
		if (!live[i % BATCH]) {
			fprintf(stderr, "bench-arena: out of memory\n");
			exit(1);
		}
		/* Free in batches: a parser frees its tree at the end too. */
		if (i % BATCH == BATCH - 1) {
			for (j = 0; j < BATCH; j++)
				free(live[j]);
		}
	}
	for (j = 0; j < iters % BATCH; j++)
		free(live[j]);
	return (double)(now_ns() - start) / (double)iters;
}

int main(void)
{
	const char *env = getenv("SONDE_BENCH_ITERS");
	uint64_t iters = env ? strtoull(env, NULL, 10) : 10000000u;

	if (iters == 0) {
		fprintf(stderr, "bench-arena: SONDE_BENCH_ITERS must be > 0\n");
		return 1;
	}
	printf("iterations: %" PRIu64 "\n", iters);
	printf("arena_alloc: %.2f ns/op\n", bench_arena(iters));
	printf("calloc_free: %.2f ns/op\n", bench_malloc(iters));
	return 0;
}
