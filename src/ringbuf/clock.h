/*
 * The tracer clock: CLOCK_MONOTONIC nanoseconds, read fast.
 *
 * Where the TSC is invariant (constant_tsc and nonstop_tsc), events are
 * stamped with rdtsc (11 ns here, against 29 ns for the vDSO's
 * clock_gettime) and converted to CLOCK_MONOTONIC with a linear mapping
 * mono = mono0 + (tsc - tsc0) * mult >> shift that whoever owns the buffers
 * (the consumer) calibrates against clock_gettime and refreshes
 * periodically.  The trace therefore holds CLOCK_MONOTONIC nanoseconds and
 * its metadata the ordinary 1 GHz monotonic clock: user-space and kernel
 * events merge on one clock, and readers need no frequency conversion
 * (babeltrace 1.5 converts other frequencies through a double).
 * Elsewhere the clock is clock_gettime(CLOCK_MONOTONIC).
 *
 * The parameters live in shared memory, in two slots selected by a
 * generation counter, so a writer never sees a half-updated mapping (it
 * re-checks the generation after reading a slot).
 */
#ifndef SONDE_RINGBUF_CLOCK_H
#define SONDE_RINGBUF_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum sonde_clock_mode {
	SONDE_CLOCK_GETTIME = 0, /* clock_gettime(CLOCK_MONOTONIC) */
	SONDE_CLOCK_TSC = 1,	 /* rdtsc + calibrated mapping */
};

struct sonde_clock_slot {
	uint64_t tsc0;
	uint64_t mono0;
	uint64_t mult; /* ns per TSC tick, << SONDE_CLOCK_SHIFT */
};

#define SONDE_CLOCK_SHIFT 32

/* Shared-memory part (written by the calibrating side only). */
struct sonde_clock_shared {
	uint32_t mode; /* enum sonde_clock_mode */
	uint32_t generation;
	struct sonde_clock_slot slot[2];
};

/* Calibrating side's private state (long-baseline rate estimate). */
struct sonde_clock_calib {
	uint64_t base_tsc, base_mono; /* start of the current baseline */
	uint64_t mid_tsc, mid_mono;   /* its successor, once half-way */
	uint64_t last_update_mono;
};

static inline uint64_t sonde_clock_gettime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#define SONDE_CLOCK_HAVE_TSC 1
static inline uint64_t sonde_clock_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
#else
#define SONDE_CLOCK_HAVE_TSC 0
static inline uint64_t sonde_clock_rdtsc(void)
{
	return 0;
}
#endif

static inline uint64_t sonde_clock_map(const struct sonde_clock_slot *s,
				       uint64_t tsc)
{
	/* Signed: right after a calibration another CPU's TSC may read a
	 * few ticks below tsc0. */
	__int128 d = (__int128)(int64_t)(tsc - s->tsc0) * (__int128)s->mult;

	return s->mono0 + (uint64_t)(int64_t)(d >> SONDE_CLOCK_SHIFT);
}

/* The writers' clock read: CLOCK_MONOTONIC nanoseconds. */
static inline uint64_t sonde_clock_now(const struct sonde_clock_shared *c)
{
	if (__builtin_expect(
		    __atomic_load_n(&c->mode, __ATOMIC_RELAXED) == SONDE_CLOCK_TSC,
		    1)) {
		for (;;) {
			uint32_t gen = __atomic_load_n(&c->generation,
						       __ATOMIC_ACQUIRE);
			const struct sonde_clock_slot *s = &c->slot[gen & 1];
			/* Acquire loads (plain moves on x86) keep the
			 * generation re-check after them: a seqlock read. */
			struct sonde_clock_slot copy = {
				__atomic_load_n(&s->tsc0, __ATOMIC_ACQUIRE),
				__atomic_load_n(&s->mono0, __ATOMIC_ACQUIRE),
				__atomic_load_n(&s->mult, __ATOMIC_ACQUIRE),
			};
			uint64_t tsc = sonde_clock_rdtsc();

			if (__builtin_expect(__atomic_load_n(&c->generation,
							     __ATOMIC_RELAXED) ==
						     gen,
					     1))
				return sonde_clock_map(&copy, tsc);
		}
	}
	return sonde_clock_gettime_ns();
}

/* True if this machine's TSC is invariant (constant and non-stop). */
bool sonde_clock_tsc_usable(void);

/*
 * Chooses the mode (TSC if usable and `allow_tsc`) and calibrates it:
 * takes `window_ns` of wall time (about 10 ms is enough to start with;
 * later updates refine the rate over a longer baseline).
 */
void sonde_clock_init(struct sonde_clock_shared *c,
		      struct sonde_clock_calib *cal, bool allow_tsc,
		      uint64_t window_ns);

/*
 * Re-measures the TSC rate over the baseline and publishes a new mapping
 * anchored at the current instant (consumers call it about once a second).
 * Returns the error of the previous mapping at this instant, in ns
 * (mapped - measured), for tests and statistics.
 */
int64_t sonde_clock_update(struct sonde_clock_shared *c,
			   struct sonde_clock_calib *cal);

#endif
