/*
 * Arena allocator: many small allocations freed at once.  Used for the
 * metadata model (a trace class owns one arena) so that the type tree needs
 * no per-node ownership.  Internal to sonde.
 */
#ifndef SONDE_COMMON_ARENA_H
#define SONDE_COMMON_ARENA_H

#include <stddef.h>

struct sonde_arena_block;

struct sonde_arena {
	struct sonde_arena_block *head;
	size_t total;            /* bytes handed out */
	size_t limit;            /* 0 = unlimited; else allocation fails past it */
};

void sonde_arena_init(struct sonde_arena *a, size_t limit);
/* Zeroed, 16-byte aligned memory; NULL when out of memory or over limit. */
void *sonde_arena_alloc(struct sonde_arena *a, size_t size);
char *sonde_arena_strndup(struct sonde_arena *a, const char *s, size_t len);
char *sonde_arena_strdup(struct sonde_arena *a, const char *s);
void sonde_arena_release(struct sonde_arena *a);

#endif
