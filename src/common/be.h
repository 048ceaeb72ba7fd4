/*
 * Fields of LTTng's network protocols and index files in byte buffers:
 * big-endian integers (unaligned access is fine) and fixed-size,
 * NUL-padded names.
 */
#ifndef SONDE_COMMON_BE_H
#define SONDE_COMMON_BE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void be_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void be_put64(uint8_t *p, uint64_t v)
{
	be_put32(p, (uint32_t)(v >> 32));
	be_put32(p + 4, (uint32_t)v);
}

static inline uint32_t be_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t be_get64(const uint8_t *p)
{
	return (uint64_t)be_get32(p) << 32 | be_get32(p + 4);
}

/* A fixed-size NUL-padded field: copies what fits, zeroes the rest. */
static inline void put_padded(uint8_t *p, size_t field, const char *s)
{
	size_t n = strnlen(s, field - 1);

	memcpy(p, s, n);
	memset(p + n, 0, field - n);
}

/* A received fixed-size field: at most field - 1 bytes, NUL-terminated. */
static inline void get_padded(char *dst, const uint8_t *p, size_t field)
{
	size_t n = strnlen((const char *)p, field - 1);

	memcpy(dst, p, n);
	dst[n] = '\0';
}

#endif /* SONDE_COMMON_BE_H */
