/*
 * Unit tests of libsonde-view's formatting primitives: integer bases and
 * masking as babeltrace prints them, timestamps in every clock form (with
 * TZ), JSON escaping, and the --begin/--end time syntax.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sonde/view.h"
#include "view/fmt.h"
#include "tap.h"

static char buf[256];

static const char *fint(uint64_t raw, bool is_signed, unsigned size,
			unsigned base)
{
	size_t n = sonde_view_fmt_int(buf, raw, is_signed, size, base);

	buf[n] = '\0';
	return buf;
}

static const char *ftime(int64_t ns, const struct sonde_view_opts *o)
{
	sonde_view_fmt_time(buf, sizeof(buf), (uint64_t)ns, o);
	return buf;
}

static void test_integers(void)
{
	size_t n;

	n = sonde_view_fmt_u64(buf, 0);
	buf[n] = '\0';
	is_str(buf, "0", "u64 zero");
	n = sonde_view_fmt_u64(buf, UINT64_MAX);
	buf[n] = '\0';
	is_str(buf, "18446744073709551615", "u64 max");
	n = sonde_view_fmt_s64(buf, INT64_MIN);
	buf[n] = '\0';
	is_str(buf, "-9223372036854775808", "s64 min");
	n = sonde_view_fmt_s64(buf, -42);
	buf[n] = '\0';
	is_str(buf, "-42", "s64 negative");

	is_str(fint(4297, false, 32, 10), "4297", "base 10 unsigned");
	is_str(fint((uint64_t)-5, true, 32, 10), "-5", "base 10 signed");
	is_str(fint(0x7FB3E20339D0ULL, false, 64, 16), "0x7FB3E20339D0",
	       "base 16 upper case");
	is_str(fint(0, false, 64, 16), "0x0", "base 16 zero");
	is_str(fint((uint64_t)-1, true, 32, 16), "0xFFFFFFFF",
	       "base 16 signed masked to size");
	is_str(fint((uint64_t)-1, true, 5, 16), "0xFF",
	       "base 16 signed masked to size rounded to nibbles");
	is_str(fint((uint64_t)-1, true, 64, 16), "0xFFFFFFFFFFFFFFFF",
	       "base 16 signed 64-bit");
	is_str(fint(8, false, 32, 8), "010", "base 8");
	is_str(fint((uint64_t)-1, true, 8, 8), "0777",
	       "base 8 signed masked to size rounded to 3 bits");
	is_str(fint(0, false, 8, 8), "00", "base 8 zero");
	is_str(fint(5, false, 4, 2), "0b0101", "base 2 exactly size digits");
	is_str(fint((uint64_t)-1, true, 3, 2), "0b111", "base 2 signed");
}

static void test_times(void)
{
	struct sonde_view_opts o;
	/* 2016-03-04 17:46:22.794569892 UTC */
	int64_t t = 1457113582794569892LL;

	sonde_view_opts_init(&o);
	setenv("TZ", "UTC", 1);
	tzset();
	is_str(ftime(t, &o), "17:46:22.794569892", "time of day, UTC");
	o.clock_date = true;
	is_str(ftime(t, &o), "2016-03-04 17:46:22.794569892", "date");
	o.clock_date = false;
	o.clock_seconds = true;
	is_str(ftime(t, &o), "1457113582.794569892", "seconds");
	is_str(ftime(5, &o), "  0.000000005", "seconds padded to 3 columns");
	is_str(ftime(12000000010LL, &o), " 12.000000010", "seconds, 2 digits");
	is_str(ftime(-1500000000LL, &o), "-1.500000000", "negative seconds");
	o.clock_offset_s = 0;
	o.clock_offset_ns = -t - 1;
	is_str(ftime(t, &o), "-0.000000001", "offset below zero, seconds");
	o.clock_offset_ns = 0;
	o.clock_seconds = false;
	is_str(ftime(-5000000000LL + 10, &o), "-4.999999990",
	       "negative time printed as signed seconds");
	o.clock_offset_s = 3;
	o.clock_offset_ns = 5;
	is_str(ftime(t, &o), "17:46:25.794569897", "clock offsets");
	o.clock_offset_s = -5;
	o.clock_offset_ns = 0;
	is_str(ftime(10, &o), "-4.999999990", "negative clock offset");
	is_str(ftime(6000000010LL, &o), "00:00:01.000000010",
	       "negative clock offset, positive result");
	o.clock_offset_s = 0;

	setenv("TZ", "America/Montreal", 1);
	tzset();
	is_str(ftime(t, &o), "12:46:22.794569892", "local time (EST)");
	/* 2016-07-04 17:46:22 UTC is 13:46:22 EDT: DST honoured. */
	is_str(ftime(t + 122LL * 86400 * 1000000000LL, &o),
	       "13:46:22.794569892", "local time (EDT)");
	o.clock_gmt = true;
	is_str(ftime(t, &o), "17:46:22.794569892", "--clock-gmt ignores TZ");
	o.clock_gmt = false;
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	o.clock_date = true;
	is_str(ftime(t, &o), "2016-03-04 23:16:22.794569892",
	       "half-hour zone with date");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_time_cache(void)
{
	struct sonde_view_opts o;
	struct sonde_view_time_cache c;
	size_t n;
	/* 2016-11-06 05:59:59 UTC = 01:59:59 EDT, then 01:00:00 EST. */
	int64_t before = 1478411999LL * 1000000000LL;

	sonde_view_opts_init(&o);
	sonde_view_time_cache_init(&c);
	setenv("TZ", "America/New_York", 1);
	tzset();
	n = sonde_view_fmt_time_cached(buf, (uint64_t)before, &o, &c);
	buf[n] = '\0';
	is_str(buf, "01:59:59.000000000", "cache: before DST end");
	n = sonde_view_fmt_time_cached(buf, before + 999999999, &o, &c);
	buf[n] = '\0';
	is_str(buf, "01:59:59.999999999", "cache: same second reused");
	n = sonde_view_fmt_time_cached(buf, before + 1000000000, &o, &c);
	buf[n] = '\0';
	is_str(buf, "01:00:00.000000000", "cache: DST end not cached across");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_json(void)
{
	char out[128];
	size_t n;

	n = sonde_view_json_escape(out, "a\"b\\c\n\t\x01", 8);
	out[n] = '\0';
	is_str(out, "a\\\"b\\\\c\\n\\t\\u0001", "json escapes");
	n = sonde_view_json_escape(out, "caf\xc3\xa9", 5);
	out[n] = '\0';
	is_str(out, "caf\xc3\xa9", "json keeps valid UTF-8");
	n = sonde_view_json_escape(out, "x\xff" "y\xc3", 4);
	out[n] = '\0';
	is_str(out, "x\\ufffdy\\ufffd", "json replaces invalid UTF-8");
	n = sonde_view_json_escape(out, "\xed\xa0\x80", 3);
	out[n] = '\0';
	is_str(out, "\\ufffd\\ufffd\\ufffd", "json rejects surrogates");
}

static void test_parse_time(void)
{
	int64_t ns;
	bool tod;

	ok(!sonde_view_parse_time("1457113582.794569892", true, &ns, &tod, NULL) &&
	   ns == 1457113582794569892LL && !tod, "parse seconds.ns");
	ok(!sonde_view_parse_time("12", true, &ns, &tod, NULL) &&
	   ns == 12000000000LL, "parse seconds");
	ok(!sonde_view_parse_time("-1.5", true, &ns, &tod, NULL) &&
	   ns == -1500000000LL, "parse negative seconds");
	ok(!sonde_view_parse_time("17:46:22.5", true, &ns, &tod, NULL) &&
	   tod && ns == (17 * 3600 + 46 * 60 + 22) * 1000000000LL + 500000000,
	   "parse time of day");
	ok(!sonde_view_parse_time("17:46", true, &ns, &tod, NULL) && tod &&
	   ns == (17 * 3600 + 46 * 60) * 1000000000LL, "parse HH:MM");
	ok(!sonde_view_parse_time("2016-03-04 17:46:22.794569892", true, &ns,
				  &tod, NULL) && !tod &&
	   ns == 1457113582794569892LL, "parse date UTC");
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	ok(!sonde_view_parse_time("2016-03-04T18:46:22", false, &ns, &tod,
				  NULL) && ns == 1457113582000000000LL,
	   "parse date local");
	is_int(sonde_view_day_start(1457113582794569892LL, false),
	       1457046000000000000LL, "local midnight");
	setenv("TZ", "UTC", 1);
	tzset();
	ok(sonde_view_parse_time("12:61", true, &ns, &tod, NULL) < 0,
	   "reject bad minute");
	ok(sonde_view_parse_time("1.2345678901", true, &ns, &tod, NULL) < 0,
	   "reject 10 fraction digits");
	ok(sonde_view_parse_time("abc", true, &ns, &tod, NULL) < 0,
	   "reject junk");
	ok(sonde_view_parse_time("", true, &ns, &tod, NULL) < 0,
	   "reject empty");
}

int main(void)
{
	test_integers();
	test_times();
	test_time_cache();
	test_json();
	test_parse_time();
	return tap_done();
}
