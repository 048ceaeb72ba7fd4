/* TSC calibration against CLOCK_MONOTONIC (see clock.h). */
#include "ringbuf/clock.h"

#include <stdio.h>
#include <string.h>

bool sonde_clock_tsc_usable(void)
{
	bool constant = false, nonstop = false;
	char line[4096];
	FILE *f;

	if (!SONDE_CLOCK_HAVE_TSC)
		return false;
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	return constant && nonstop;
}

/*
 * One (tsc, mono) pair: the TSC read bracketed by two clock reads, keeping
 * the tightest bracket of a few tries, so the pair is exact to within
 * about half a clock read (~15 ns).
 */
static void sample_pair(uint64_t *tsc, uint64_t *mono)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 7; i++) {
		uint64_t m1 = sonde_clock_gettime_ns();
		uint64_t t = sonde_clock_rdtsc();
		uint64_t m2 = sonde_clock_gettime_ns();

		if (m2 - m1 < best) {
			best = m2 - m1;
			*tsc = t;
			*mono = m1 + (m2 - m1) / 2;
		}
	}
}

static void publish(struct sonde_clock_shared *c, uint64_t tsc0,
		    uint64_t mono0, uint64_t mult)
{
	uint32_t gen = __atomic_load_n(&c->generation, __ATOMIC_RELAXED);
	struct sonde_clock_slot *s = &c->slot[(gen + 1) & 1];

	__atomic_store_n(&s->tsc0, tsc0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mono0, mono0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->mult, mult, __ATOMIC_RELAXED);
	__atomic_store_n(&c->generation, gen + 1, __ATOMIC_RELEASE);
}

static uint64_t rate_mult(uint64_t dtsc, uint64_t dmono)
{
	if (dtsc == 0)
		return 1ull << SONDE_CLOCK_SHIFT;
	return (uint64_t)(((unsigned __int128)dmono << SONDE_CLOCK_SHIFT) /
			  dtsc);
}

void sonde_clock_init(struct sonde_clock_shared *c,
		      struct sonde_clock_calib *cal, bool allow_tsc,
		      uint64_t window_ns)
{
	uint64_t t1, m1, t2, m2;
	struct timespec pause;

	memset(cal, 0, sizeof(*cal));
	c->generation = 0;
	if (!allow_tsc || !sonde_clock_tsc_usable()) {
		__atomic_store_n(&c->mode, SONDE_CLOCK_GETTIME,
				 __ATOMIC_RELEASE);
		return;
	}
	sample_pair(&t1, &m1);
	pause.tv_sec = (time_t)(window_ns / 1000000000u);
	pause.tv_nsec = (long)(window_ns % 1000000000u);
	nanosleep(&pause, NULL);
	sample_pair(&t2, &m2);
	cal->base_tsc = t1;
	cal->base_mono = m1;
	cal->last_update_mono = m2;
	publish(c, t2, m2, rate_mult(t2 - t1, m2 - m1));
	__atomic_store_n(&c->mode, SONDE_CLOCK_TSC, __ATOMIC_RELEASE);
}

/* The rate is measured over at most this long, so that NTP frequency
 * corrections of CLOCK_MONOTONIC are followed. */
#define BASELINE_MAX_NS (64ull * 1000000000u)

int64_t sonde_clock_update(struct sonde_clock_shared *c,
			   struct sonde_clock_calib *cal)
{
	uint32_t gen;
	struct sonde_clock_slot cur;
	uint64_t t, m;
	int64_t error;

	if (__atomic_load_n(&c->mode, __ATOMIC_ACQUIRE) != SONDE_CLOCK_TSC)
		return 0;
	gen = __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE);
	cur = c->slot[gen & 1];
	sample_pair(&t, &m);
	error = (int64_t)(sonde_clock_map(&cur, t) - m);
	publish(c, t, m, rate_mult(t - cal->base_tsc, m - cal->base_mono));
	/* Slide the baseline by halves, so it never gets short. */
	if (!cal->mid_mono && m - cal->base_mono > BASELINE_MAX_NS / 2) {
		cal->mid_tsc = t;
		cal->mid_mono = m;
	} else if (cal->mid_mono && m - cal->base_mono > BASELINE_MAX_NS) {
		cal->base_tsc = cal->mid_tsc;
		cal->base_mono = cal->mid_mono;
		cal->mid_tsc = t;
		cal->mid_mono = m;
	}
	cal->last_update_mono = m;
	return error;
}
