/*
 * Test helpers: build CTF type models by hand (as the metadata parser would)
 * and write packet bytes, so that the stream decoder can be tested without
 * TSDL.  Everything is allocated from one arena released by the test.
 */
#ifndef SONDE_TESTS_CTF_BUILD_H
#define SONDE_TESTS_CTF_BUILD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "sonde/ctf.h"

static inline struct sonde_ctf_type *tb_new(struct sonde_arena *a,
					    enum sonde_ctf_kind kind,
					    uint32_t align)
{
	struct sonde_ctf_type *t = sonde_arena_alloc(a, sizeof(*t));

	t->kind = kind;
	t->align = align;
	return t;
}

static inline struct sonde_ctf_type *tb_int(struct sonde_arena *a, uint32_t size,
					    uint32_t align, bool is_signed,
					    int byte_order)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_INT, align);

	t->u.integer.size = size;
	t->u.integer.is_signed = is_signed;
	t->u.integer.byte_order = (uint8_t)byte_order;
	t->u.integer.base = 10;
	return t;
}

static inline struct sonde_ctf_type *tb_clock_int(struct sonde_arena *a,
						  uint32_t size, uint32_t align,
						  const struct sonde_ctf_clock *c)
{
	struct sonde_ctf_type *t = tb_int(a, size, align, false, SONDE_CTF_LE);

	t->u.integer.mapped_clock = c;
	return t;
}

static inline struct sonde_ctf_type *tb_string(struct sonde_arena *a)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_STRING, 8);

	t->u.string.encoding = SONDE_CTF_ENC_UTF8;
	return t;
}

static inline struct sonde_ctf_type *tb_float(struct sonde_arena *a,
					      uint32_t exp, uint32_t mant,
					      uint32_t align, int byte_order)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_FLOAT, align);

	t->u.floating.exp_dig = exp;
	t->u.floating.mant_dig = mant;
	t->u.floating.byte_order = (uint8_t)byte_order;
	return t;
}

/* tb_struct(a, align, n, "name1", type1, "name2", type2, ...): slots -1. */
static inline struct sonde_ctf_type *tb_struct(struct sonde_arena *a,
					       uint32_t align, size_t n, ...)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_STRUCT, align);
	struct sonde_ctf_field_decl *f = sonde_arena_alloc(a, (n ? n : 1) * sizeof(*f));
	va_list ap;
	size_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		f[i].name = va_arg(ap, const char *);
		f[i].type = va_arg(ap, const struct sonde_ctf_type *);
		f[i].slot = -1;
		if (f[i].type->align > t->align)
			t->align = f[i].type->align;
	}
	va_end(ap);
	t->u.structure.count = n;
	t->u.structure.fields = f;
	return t;
}

static inline struct sonde_ctf_field_decl *tb_field(struct sonde_ctf_type *st,
						    size_t i)
{
	return (struct sonde_ctf_field_decl *)&st->u.structure.fields[i];
}

static inline struct sonde_ctf_type *tb_array(struct sonde_arena *a,
					      const struct sonde_ctf_type *elem,
					      uint64_t length, bool is_text)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_ARRAY, elem->align);

	t->u.array.element = elem;
	t->u.array.length = length;
	t->u.array.is_text = is_text;
	return t;
}

static inline struct sonde_ctf_type *tb_sequence(struct sonde_arena *a,
						 const struct sonde_ctf_type *elem,
						 int32_t length_slot, bool is_text)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_SEQUENCE, elem->align);

	t->u.sequence.element = elem;
	t->u.sequence.length_name = "len";
	t->u.sequence.length_slot = length_slot;
	t->u.sequence.is_text = is_text;
	return t;
}

/* An enum with one single-value mapping per label: labels[i] -> values[i]. */
static inline struct sonde_ctf_type *tb_enum(struct sonde_arena *a,
					     const struct sonde_ctf_type *container,
					     size_t n, const char *const *labels,
					     const int64_t *lo, const int64_t *hi)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_ENUM, container->align);
	struct sonde_ctf_enum_mapping *m = sonde_arena_alloc(a, n * sizeof(*m));
	size_t i;

	for (i = 0; i < n; i++) {
		m[i].label = labels[i];
		m[i].lo.s = lo[i];
		m[i].hi.s = hi[i];
	}
	t->u.enumeration.container = container;
	t->u.enumeration.count = n;
	t->u.enumeration.mappings = m;
	return t;
}

/* A variant whose option i is selected by the tag enum's mapping i. */
static inline struct sonde_ctf_type *tb_variant(struct sonde_arena *a,
						const struct sonde_ctf_type *tag,
						int32_t tag_slot, size_t n, ...)
{
	struct sonde_ctf_type *t = tb_new(a, SONDE_CTF_VARIANT, 1);
	struct sonde_ctf_field_decl *f = sonde_arena_alloc(a, n * sizeof(*f));
	struct sonde_ctf_variant_range *r = sonde_arena_alloc(a, n * sizeof(*r));
	va_list ap;
	size_t i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		f[i].name = va_arg(ap, const char *);
		f[i].type = va_arg(ap, const struct sonde_ctf_type *);
		f[i].slot = -1;
		r[i].lo.s = tag->u.enumeration.mappings[i].lo.s;
		r[i].hi.s = tag->u.enumeration.mappings[i].hi.s;
		r[i].option = (uint32_t)i;
	}
	va_end(ap);
	t->u.variant.count = n;
	t->u.variant.options = f;
	t->u.variant.tag_name = "tag";
	t->u.variant.tag_slot = tag_slot;
	t->u.variant.tag_type = tag;
	t->u.variant.range_count = n;
	t->u.variant.ranges = r;
	return t;
}

/* Byte buffer writer for hand-made packets. */
struct bbuf {
	uint8_t *p;
	size_t len, cap;
};

static inline void bb_put(struct bbuf *b, const void *src, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static inline void bb_le(struct bbuf *b, uint64_t v, unsigned bytes)
{
	uint8_t tmp[8];
	unsigned i;

	for (i = 0; i < bytes; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	bb_put(b, tmp, bytes);
}

static inline void bb_set_le(struct bbuf *b, size_t off, uint64_t v,
			     unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		b->p[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void bb_zero(struct bbuf *b, size_t n)
{
	while (n--)
		bb_le(b, 0, 1);
}

#endif
