/*
 * Minimal TAP producer for unit tests.  Each check prints "ok N - what" or
 * "not ok N - what" with the failing expression and values; tap_done()
 * prints the plan and returns the exit status meson's TAP parser expects.
 */
#ifndef SONDE_TESTS_TAP_H
#define SONDE_TESTS_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline int tap_check(int ok, const char *file, int line,
			    const char *what)
{
	tap_count++;
	if (!ok)
		tap_failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, what);
	if (!ok)
		printf("# failed at %s:%d\n", file, line);
	return ok;
}

#define ok(cond, what) tap_check(!!(cond), __FILE__, __LINE__, (what))

#define is_int(got, want, what)                                               \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (!tap_check(g_ == w_, __FILE__, __LINE__, (what)))         \
			printf("#   got %lld, want %lld\n", g_, w_);          \
	} while (0)

#define is_str(got, want, what)                                               \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		int same_ = g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_;        \
		if (!tap_check(same_, __FILE__, __LINE__, (what)))            \
			printf("#   got \"%s\"\n#  want \"%s\"\n",             \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");       \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
