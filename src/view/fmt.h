/*
 * Internal formatting helpers of libsonde-view (see sonde/view.h for the
 * exported ones).
 */
#ifndef SONDE_VIEW_FMT_H
#define SONDE_VIEW_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/view.h"

/* Longest timestamp text: "-9223372036.854775808" or a date and time. */
#define SONDE_VIEW_TIME_MAX 64

/* The text of one second, so that localtime_r runs once per second. */
struct sonde_view_time_cache {
	bool valid;
	int64_t sec;
	size_t len;
	char text[48];
};

void sonde_view_time_cache_init(struct sonde_view_time_cache *c);

/*
 * Timestamp text of `ns` (no brackets), at most SONDE_VIEW_TIME_MAX bytes.
 * *fell_back is set when a negative time had to be printed as seconds
 * although a clock form was asked for (the caller warns once).
 */
size_t sonde_view_fmt_time_cached(char *dst, int64_t ns,
				  const struct sonde_view_opts *opts,
				  struct sonde_view_time_cache *cache,
				  bool *fell_back);

size_t sonde_view_fmt_u64_pad(char *dst, uint64_t v, unsigned digits);

#endif
