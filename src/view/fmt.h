/*
 * Internal formatting helpers of libsonde-view (see sonde/view.h for the
 * exported ones).
 */
#ifndef SONDE_VIEW_FMT_H
#define SONDE_VIEW_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sonde/view.h"

/* Longest timestamp text: "-9223372036.854775808" or a date and time. */
#define SONDE_VIEW_TIME_MAX 64

/* The text of one second, so that localtime_r runs once per second. */
struct sonde_view_time_cache {
	bool valid;
	int64_t sec;
	uint64_t base_ns;        /* sec * 1e9, for a division-free hit test */
	size_t len;
	char text[48];
};

void sonde_view_time_cache_init(struct sonde_view_time_cache *c);

/* Makes `c` hold the text of second `sec`; false if the C library cannot
 * convert it (the caller then prints seconds). */
bool sonde_view_time_cache_fill(struct sonde_view_time_cache *c, int64_t sec,
				const struct sonde_view_opts *opts);

/* "00" "01" ... "99" */
extern const char sonde_view_digit_pairs[201];

/* Inline writers for the printers' hot path: write at d, return the end. */
static inline char *sonde_view_put_u64(char *d, uint64_t v)
{
	char tmp[20];
	char *p = tmp + sizeof(tmp);
	size_t n;

	if (v < 10) {
		*d = (char)('0' + v);
		return d + 1;
	}
	if (v < 100) {
		d[0] = sonde_view_digit_pairs[2 * v];
		d[1] = sonde_view_digit_pairs[2 * v + 1];
		return d + 2;
	}
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		p[0] = sonde_view_digit_pairs[2 * r];
		p[1] = sonde_view_digit_pairs[2 * r + 1];
	}
	if (v >= 10) {
		p -= 2;
		p[0] = sonde_view_digit_pairs[2 * v];
		p[1] = sonde_view_digit_pairs[2 * v + 1];
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(d, p, n);
	return d + n;
}

static inline char *sonde_view_put_s64(char *d, int64_t v)
{
	if (v < 0) {
		*d++ = '-';
		return sonde_view_put_u64(d, -(uint64_t)v);
	}
	return sonde_view_put_u64(d, (uint64_t)v);
}

/*
 * 8 decimal digits of v < 1e8 as ASCII in a little-endian u64, without a
 * division per digit: split into 4+4 digits, then 2+2 in both halves at
 * once (x * 10486 >> 20 is x / 100 for x < 10000), then 1+1 likewise
 * (x * 103 >> 10 is x / 10 for x < 100).
 */
static inline uint64_t sonde_view_digits8(uint32_t v)
{
	uint64_t halves = (uint64_t)(v / 10000u) |
			  ((uint64_t)(v % 10000u) << 32);
	uint64_t hundreds = ((halves * 10486) >> 20) & 0x0000007F0000007FULL;
	uint64_t pairs = hundreds | ((halves - hundreds * 100) << 16);
	uint64_t tens = ((pairs * 103) >> 10) & 0x000F000F000F000FULL;
	uint64_t digits = tens | ((pairs - tens * 10) << 8);

	return digits + 0x3030303030303030ULL;
}

/* Exactly 9 digits (the nanoseconds of a time); v < 1e9. */
static inline char *sonde_view_put_pad9(char *d, uint32_t v)
{
	uint64_t low8;

	d[0] = (char)('0' + v / 100000000u);
	low8 = sonde_view_digits8(v % 100000000u);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	low8 = __builtin_bswap64(low8);
/* Timestamp text (no brackets) of babeltrace's time `real`, at most
 * SONDE_VIEW_TIME_MAX bytes. */
size_t sonde_view_fmt_time_cached(char *dst, uint64_t real,
				  const struct sonde_view_opts *opts,
				  struct sonde_view_time_cache *cache);

size_t sonde_view_fmt_u64_pad(char *dst, uint64_t v, unsigned digits);

/* Prints the value subtree at tape[i] alone (text or JSON per the
 * printer's format) and flushes: for unit tests of the value forms. */
int sonde_view_print_value(struct sonde_view_printer *p,
			   const struct sonde_ctf_value *tape, uint32_t i,
			   bool names);

#endif
	memcpy(d + 1, &low8, 8);
	return d + 9;
}

/* Timestamp text (no brackets) of babeltrace's time `real`, at most
 * SONDE_VIEW_TIME_MAX bytes. */
size_t sonde_view_fmt_time_cached(char *dst, uint64_t real,
				  const struct sonde_view_opts *opts,
				  struct sonde_view_time_cache *cache);

size_t sonde_view_fmt_u64_pad(char *dst, uint64_t v, unsigned digits);

/* Prints the value subtree at tape[i] alone (text or JSON per the
 * printer's format) and flushes: for unit tests of the value forms. */
int sonde_view_print_value(struct sonde_view_printer *p,
			   const struct sonde_ctf_value *tape, uint32_t i,
			   bool names);

#endif
