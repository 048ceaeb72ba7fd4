#include "common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK_MIN (64 * 1024)

struct sonde_arena_block {
	struct sonde_arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

void sonde_arena_init(struct sonde_arena *a, size_t limit)
{
	a->head = NULL;
	a->total = 0;
	a->limit = limit;
}

void *sonde_arena_alloc(struct sonde_arena *a, size_t size)
{
	struct sonde_arena_block *b = a->head;
	size_t rounded = (size + 15) & ~(size_t)15;
	void *p;

	if (rounded < size)
		return NULL;
	if (a->limit && (rounded > a->limit || a->total > a->limit - rounded))
		return NULL;
	if (!b || b->cap - b->used < rounded) {
		size_t cap = rounded > ARENA_BLOCK_MIN ? rounded : ARENA_BLOCK_MIN;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += rounded;
	a->total += rounded;
	memset(p, 0, rounded);
	return p;
}

char *sonde_arena_strndup(struct sonde_arena *a, const char *s, size_t len)
{
	char *p = sonde_arena_alloc(a, len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

char *sonde_arena_strdup(struct sonde_arena *a, const char *s)
{
	return sonde_arena_strndup(a, s, strlen(s));
}

void sonde_arena_release(struct sonde_arena *a)
{
	struct sonde_arena_block *b = a->head;

	while (b) {
		struct sonde_arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
	a->total = 0;
}
