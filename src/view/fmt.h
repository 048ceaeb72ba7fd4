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

/* Timestamp text (no brackets) of babeltrace's time `real`, at most
 * SONDE_VIEW_TIME_MAX bytes. */
size_t sonde_view_fmt_time_cached(char *dst, uint64_t real,
				  const struct sonde_view_opts *opts,
				  struct sonde_view_time_cache *cache);

size_t sonde_view_fmt_u64_pad(char *dst, uint64_t v, unsigned digits);

#endif
