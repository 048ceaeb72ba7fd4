/*
 * Formatting primitives of the printers: integers in babeltrace's bases,
 * timestamps, JSON string escaping, and the time syntax of --begin/--end.
 * Hand-written because printf costs more than the whole rest of a line.
 */
#include "view/fmt.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_PER_S 1000000000LL

const char sonde_view_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void sonde_view_opts_init(struct sonde_view_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->format = SONDE_VIEW_TEXT;
	opts->names = SONDE_VIEW_NAMES_DEFAULT;
	opts->fields = SONDE_VIEW_FIELD_DEFAULT;
}

size_t sonde_view_fmt_u64(char *dst, uint64_t v)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	size_t n;

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		p -= 2;
		memcpy(p, sonde_view_digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, sonde_view_digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(dst, p, n);
	return n;
}

size_t sonde_view_fmt_s64(char *dst, int64_t v)
{
	if (v < 0) {
		dst[0] = '-';
		return 1 + sonde_view_fmt_u64(dst + 1, -(uint64_t)v);
	}
	return sonde_view_fmt_u64(dst, (uint64_t)v);
}

/* `digits` digits of `v`, zero-padded. */
size_t sonde_view_fmt_u64_pad(char *dst, uint64_t v, unsigned digits)
{
	unsigned i;

	for (i = digits; i > 0; i--) {
		dst[i - 1] = (char)('0' + v % 10);
		v /= 10;
	}
	return digits;
}

static size_t fmt_radix_pow2(char *dst, uint64_t v, unsigned shift)
{
	static const char xdigits[] = "0123456789ABCDEF";
	char tmp[64];
	char *p = tmp + sizeof(tmp);
	unsigned mask = (1u << shift) - 1;
	size_t n;

	do {
		*--p = xdigits[v & mask];
		v >>= shift;
	} while (v);
	n = (size_t)(tmp + sizeof(tmp) - p);
	memcpy(dst, p, n);
	return n;
}

/*
 * babeltrace's rules: base 10 prints the value as is; 16 and 8 print signed
 * values masked to the size rounded up to whole digits (s32 -1 is
 * 0xFFFFFFFF); 2 prints exactly `size` digits.
 */
size_t sonde_view_fmt_int(char *dst, uint64_t raw, bool is_signed,
			  unsigned size, unsigned base)
{
	size_t n = 0;
	unsigned rounded;

	switch (base) {
	case 2:
		dst[n++] = '0';
		dst[n++] = 'b';
		for (unsigned bit = size; bit > 0; bit--)
			dst[n++] = (char)('0' + ((raw >> (bit - 1)) & 1));
		return n;
	case 8:
		if (is_signed && size < 64) {
			rounded = ((size - 1) / 3 + 1) * 3;
			if (rounded < 64)
				raw &= ((uint64_t)1 << rounded) - 1;
		}
		dst[n++] = '0';
		return n + fmt_radix_pow2(dst + n, raw, 3);
	case 16:
		if (is_signed && size < 64) {
			rounded = ((size - 1) / 4 + 1) * 4;
			if (rounded < 64)
				raw &= ((uint64_t)1 << rounded) - 1;
		}
		dst[n++] = '0';
		dst[n++] = 'x';
		return n + fmt_radix_pow2(dst + n, raw, 4);
	default:
		if (is_signed)
			return sonde_view_fmt_s64(dst, (int64_t)raw);
		return sonde_view_fmt_u64(dst, raw);
	}
}

void sonde_view_time_cache_init(struct sonde_view_time_cache *c)
{
	c->valid = false;
}

/*
 * "HH:MM:SS." or "YYYY-MM-DD HH:MM:SS." for second `sec`: localtime_r or
 * gmtime_r once per distinct second, which also keeps DST transitions
 * right (the cache never spans two seconds).  Returns 0 if the C library
 * cannot represent the time.
 */
bool sonde_view_time_cache_fill(struct sonde_view_time_cache *c, int64_t sec,
				 const struct sonde_view_opts *opts)
{
	if (!c->valid || c->sec != sec) {
		struct tm tm;
		time_t t = (time_t)sec;
		size_t n = 0;

		if (opts->clock_gmt ? !gmtime_r(&t, &tm) : !localtime_r(&t, &tm))
			return false;
		if (opts->clock_date) {
			n = strftime(c->text, sizeof(c->text), "%F ", &tm);
			if (!n)
				return false;
		}
		n += sonde_view_fmt_u64_pad(c->text + n, (uint64_t)tm.tm_hour, 2);
		c->text[n++] = ':';
		n += sonde_view_fmt_u64_pad(c->text + n, (uint64_t)tm.tm_min, 2);
		c->text[n++] = ':';
		n += sonde_view_fmt_u64_pad(c->text + n, (uint64_t)tm.tm_sec, 2);
		c->text[n++] = '.';
		c->len = n;
		c->sec = sec;
		c->base_ns = (uint64_t)sec * NS_PER_S;
		c->valid = true;
	}
	return true;
}

static size_t clock_text(struct sonde_view_time_cache *c, int64_t sec,
			 const struct sonde_view_opts *opts, char *dst)
{
	if (!sonde_view_time_cache_fill(c, sec, opts))
		return 0;
	memcpy(dst, c->text, c->len);
	return c->len;
}

/*
 * babeltrace 1.5 does this arithmetic on unsigned 64-bit values, which is
 * right for times after the epoch and prints garbage before it (year 2554,
 * or 18446744073709551611 seconds); times before the epoch are printed as
 * babeltrace2 does instead, "-S.NNNNNNNNN" in every clock form.  Seconds
 * are padded to 3 columns ("%3" PRIu64) as babeltrace 1.5 does.
 */
size_t sonde_view_fmt_time_cached(char *dst, uint64_t real,
				  const struct sonde_view_opts *opts,
				  struct sonde_view_time_cache *cache)
{
	__int128 total = (__int128)(int64_t)real + opts->clock_offset_ns +
			 (__int128)opts->clock_offset_s * NS_PER_S;
	uint64_t sec, nsec;
	size_t n = 0, k;

	if (total < 0) {
		total = -total;
		dst[n++] = '-';
		n += sonde_view_fmt_u64(dst + n, (uint64_t)(total / NS_PER_S));
		dst[n++] = '.';
		n += sonde_view_fmt_u64_pad(dst + n, (uint64_t)(total % NS_PER_S), 9);
		return n;
	}
	real += (uint64_t)opts->clock_offset_ns;
	sec = real / NS_PER_S + (uint64_t)opts->clock_offset_s;
	nsec = real % NS_PER_S;
	if (!opts->clock_seconds) {
		k = clock_text(cache, (int64_t)sec, opts, dst);
		if (k)
			return k + sonde_view_fmt_u64_pad(dst + k, nsec, 9);
	}
	if (sec < 10)
		dst[n++] = ' ';
	if (sec < 100)
		dst[n++] = ' ';
	n += sonde_view_fmt_u64(dst + n, sec);
	dst[n++] = '.';
	n += sonde_view_fmt_u64_pad(dst + n, nsec, 9);
	return n;
}

size_t sonde_view_fmt_time(char *dst, size_t cap, uint64_t real,
			   const struct sonde_view_opts *opts)
{
	struct sonde_view_time_cache cache;
	char tmp[SONDE_VIEW_TIME_MAX];
	size_t n;

	sonde_view_time_cache_init(&cache);
	n = sonde_view_fmt_time_cached(tmp, real, opts, &cache);
	if (n >= cap)
		n = cap ? cap - 1 : 0;
	memcpy(dst, tmp, n);
	if (cap)
		dst[n] = '\0';
	return n;
}

size_t sonde_view_json_escape(char *dst, const char *src, size_t len)
{
	static const char xdigits[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, n = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t seq = 0;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			/* A run of plain ASCII, the common case. */
			size_t start = i;

			do
				i++;
			while (i < len && s[i] >= 0x20 && s[i] < 0x80 &&
			       s[i] != '"' && s[i] != '\\');
			memcpy(dst + n, s + start, i - start);
			n += i - start;
			continue;
		}
		if (c < 0x80) {
			dst[n++] = '\\';
			switch (c) {
			case '"': dst[n++] = '"'; break;
			case '\\': dst[n++] = '\\'; break;
			case '\n': dst[n++] = 'n'; break;
			case '\r': dst[n++] = 'r'; break;
			case '\t': dst[n++] = 't'; break;
			case '\b': dst[n++] = 'b'; break;
			case '\f': dst[n++] = 'f'; break;
			default:
				memcpy(dst + n, "u00", 3);
				n += 3;
				dst[n++] = xdigits[c >> 4];
				dst[n++] = xdigits[c & 15];
			}
			i++;
			continue;
		}
		/* Pass valid UTF-8 through; anything else becomes U+FFFD so
		 * that the output stays valid JSON. */
		if (c >= 0xC2 && c <= 0xDF)
			seq = 2;
		else if (c >= 0xE0 && c <= 0xEF)
			seq = 3;
		else if (c >= 0xF0 && c <= 0xF4)
			seq = 4;
		if (seq && i + seq <= len) {
			size_t k;
			bool valid = true;

			for (k = 1; k < seq; k++)
				if ((s[i + k] & 0xC0) != 0x80)
					valid = false;
			/* Overlong, surrogate and > U+10FFFF forms. */
			if (valid && c == 0xE0 && s[i + 1] < 0xA0)
				valid = false;
			if (valid && c == 0xED && s[i + 1] > 0x9F)
				valid = false;
			if (valid && c == 0xF0 && s[i + 1] < 0x90)
				valid = false;
			if (valid && c == 0xF4 && s[i + 1] > 0x8F)
				valid = false;
			if (valid) {
				memcpy(dst + n, s + i, seq);
				n += seq;
				i += seq;
				continue;
			}
		}
		memcpy(dst + n, "\\ufffd", 6);
		n += 6;
		i++;
	}
	return n;
}

/* Reads up to 9 fraction digits as ns; returns chars consumed or -1. */
static int parse_fraction(const char *s, int64_t *ns)
{
	int64_t v = 0;
	int i;

	for (i = 0; isdigit((unsigned char)s[i]); i++) {
		if (i >= 9)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	for (int k = i; k < 9; k++)
		v *= 10;
	*ns = v;
	return i;
}

static int parse_uint(const char *s, int maxdig, int64_t *v)
{
	int i;

	*v = 0;
	for (i = 0; isdigit((unsigned char)s[i]); i++) {
		if (i >= maxdig)
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return i ? i : -1;
}

/* "HH:MM[:SS[.NS]]" -> ns since midnight; chars consumed or -1. */
static int parse_clock(const char *s, int64_t *ns)
{
	int64_t h, m, sec = 0, frac = 0;
	int i = 0, k;

	if ((k = parse_uint(s, 2, &h)) < 0 || s[k] != ':')
		return -1;
	i = k + 1;
	if ((k = parse_uint(s + i, 2, &m)) < 0)
		return -1;
	i += k;
	if (s[i] == ':') {
		i++;
		if ((k = parse_uint(s + i, 2, &sec)) < 0)
			return -1;
		i += k;
		if (s[i] == '.') {
			i++;
			if ((k = parse_fraction(s + i, &frac)) < 0)
				return -1;
			i += k;
		}
	}
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	*ns = ((h * 60 + m) * 60 + sec) * NS_PER_S + frac;
	return i;
}

int sonde_view_parse_time(const char *text, bool gmt, int64_t *ns,
			  bool *is_time_of_day, struct sonde_error *err)
{
	const char *s = text;
	int64_t v, frac = 0;
	int k;

	/* YYYY-MM-DD[ T]HH:MM[:SS[.NS]] */
	if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-') {
		int64_t y, mo, d, clock_ns;
		struct tm tm;
		time_t t;

		if (parse_uint(s, 4, &y) != 4 || parse_uint(s + 5, 2, &mo) != 2 ||
		    parse_uint(s + 8, 2, &d) != 2 || (s[10] != ' ' && s[10] != 'T'))
			goto bad;
		k = parse_clock(s + 11, &clock_ns);
		if (k < 0 || s[11 + k] != '\0' || mo < 1 || mo > 12 || d < 1 ||
		    d > 31)
			goto bad;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (int)(y - 1900);
		tm.tm_mon = (int)(mo - 1);
		tm.tm_mday = (int)d;
		tm.tm_isdst = -1;
		t = gmt ? timegm(&tm) : mktime(&tm);
		*ns = (int64_t)t * NS_PER_S + clock_ns;
		*is_time_of_day = false;
		return 0;
	}
	k = parse_clock(s, &v);
	if (k > 0 && s[k] == '\0') {
		*ns = v;
		*is_time_of_day = true;
		return 0;
	}
	/* [-]SEC[.NS] */
	{
		bool neg = false;
		int i = 0;

		if (s[0] == '-') {
			neg = true;
			i = 1;
		}
		if ((k = parse_uint(s + i, 12, &v)) < 0)
			goto bad;
		i += k;
		if (s[i] == '.') {
			i++;
			if ((k = parse_fraction(s + i, &frac)) < 0)
				goto bad;
			i += k;
		}
		if (s[i] != '\0')
			goto bad;
		v = v * NS_PER_S + frac;
		*ns = neg ? -v : v;
		*is_time_of_day = false;
		return 0;
	}
bad:
	return sonde_error_set(err, SONDE_EINVAL,
		"invalid time '%s' (expected SEC[.NS], HH:MM[:SS[.NS]] or YYYY-MM-DD HH:MM[:SS[.NS]])",
		text);
}

int64_t sonde_view_day_start(int64_t ns, bool gmt)
{
	time_t t = (time_t)(ns / NS_PER_S - (ns % NS_PER_S < 0));
	struct tm tm;

	if (gmt ? !gmtime_r(&t, &tm) : !localtime_r(&t, &tm))
		return ns;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = gmt ? timegm(&tm) : mktime(&tm);
	return (int64_t)t * NS_PER_S;
}
