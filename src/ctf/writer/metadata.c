/*
 * The writer's trace class: TSDL generation in lttng-modules' exact shape.
 *
 * The metadata text is produced as classes are added and only grows, so a
 * file writer can append what is new and live readers can re-read it.
 * Nothing is kept of the field descriptions once their TSDL is written.
 */
#include "sonde/ctf-writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define MAX_STRUCT_DEPTH 8

struct text_buf {
	char *data;
	size_t len, cap;
	bool failed; /* an allocation failed: the text is incomplete */
};

struct stream_class_info {
	enum sonde_ctfw_header_type header;
	uint32_t event_count;
};

struct sonde_ctfw_trace_class {
	enum sonde_ctf_byte_order byte_order;
	uint8_t uuid[16];
	bool has_clock_uuid;
	uint8_t clock_uuid[16];
	int64_t clock_offset;
	bool preamble_done; /* env closed, clock and headers written */
	struct text_buf text;
	struct text_buf scratch; /* a class's text until it is known good */
	struct stream_class_info *streams;
	uint32_t stream_count, stream_cap;
};

static void text_vappend(struct text_buf *t, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (t->failed)
		return;
	va_copy(again, ap);
	n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
	if (n >= 0 && (size_t)n >= t->cap - t->len) {
		size_t cap = t->cap * 2;
		char *p;

		while (cap - t->len <= (size_t)n)
			cap *= 2;
		p = realloc(t->data, cap);
		if (!p) {
			t->failed = true;
			va_end(again);
			return;
		}
		t->data = p;
		t->cap = cap;
		n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, again);
	}
	va_end(again);
	if (n < 0)
		t->failed = true;
	else
		t->len += (size_t)n;
}

/* Appends `n` bytes as they are: the metadata of a kernel session is
 * some 200 KB of mostly fixed text, which printf would parse byte by
 * byte at every session start. */
static void text_put(struct text_buf *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->cap - t->len <= n) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char *p;

		while (cap - t->len <= n)
			cap *= 2;
		p = realloc(t->data, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->data = p;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void text_puts(struct text_buf *t, const char *s)
{
	text_put(t, s, strlen(s));
}

static void text_put_u64(struct text_buf *t, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	do
		digits[--n] = (char)('0' + v % 10);
	while (v /= 10);
	text_put(t, digits + n, sizeof(digits) - n);
}

/* " _NAME" then `end`: how every field's declaration ends. */
static void text_put_field(struct text_buf *t, const char *name,
			   const char *end)
{
	text_put(t, " _", 2);
	text_puts(t, name);
	text_puts(t, end);
}

static void __attribute__((format(printf, 2, 3)))
text_append(struct text_buf *t, const char *fmt, ...)
{
	va_list ap;

	if (!strchr(fmt, '%')) {
		text_put(t, fmt, strlen(fmt));
		return;
	}
	va_start(ap, fmt);
	text_vappend(t, fmt, ap);
	va_end(ap);
}

static void text_indent(struct text_buf *t, unsigned int depth)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t";

	while (depth) {
		unsigned int n = depth < 8 ? depth : 8;

		text_put(t, tabs, n);
		depth -= n;
	}
}

/* A TSDL string literal's body. */
static void text_append_escaped(struct text_buf *t, const char *s)
{
	while (*s) {
		size_t plain = strcspn(s, "\"\\\n");

		text_put(t, s, plain);
		s += plain;
		switch (*s) {
		case '"':
			text_put(t, "\\\"", 2);
			break;
		case '\\':
			text_put(t, "\\\\", 2);
			break;
		case '\n':
			text_put(t, "\\n", 2);
			break;
		default: /* the end */
			return;
		}
		s++;
	}
}

static void format_uuid(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int parse_uuid(const char *s, uint8_t out[16])
{
	int i;

	for (i = 0; i < 16; i++) {
		unsigned int byte;

		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (*s != '-')
				return -1;
			s++;
		}
		if (sscanf(s, "%2x", &byte) != 1 || !s[0] || !s[1])
			return -1;
		out[i] = (uint8_t)byte;
		s += 2;
	}
	return 0;
}

static bool read_boot_id(uint8_t out[16])
{
	char line[64];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(line, sizeof(line), f) && parse_uuid(line, out) == 0;
	fclose(f);
	return ok;
}

static int random_uuid(uint8_t out[16], struct sonde_error *err)
{
	if (getrandom(out, 16, 0) != 16)
		return sonde_error_set(err, SONDE_EIO, "uuid: getrandom: %s",
				       strerror(errno));
	out[6] = (uint8_t)((out[6] & 0x0F) | 0x40); /* version 4 */
	out[8] = (uint8_t)((out[8] & 0x3F) | 0x80); /* RFC 4122 variant */
	return 0;
}

static int64_t ts_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Like lttng-modules: the realtime read sits between two monotonic reads. */
static int64_t measure_clock_offset(void)
{
	int64_t m1 = ts_ns(CLOCK_MONOTONIC);
	int64_t rt = ts_ns(CLOCK_REALTIME);
	int64_t m2 = ts_ns(CLOCK_MONOTONIC);

	return rt - (m1 + (m2 - m1) / 2);
}

static bool is_identifier(const char *s)
{
	if (!s || !(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= 'a' && *s <= 'z')))
		return false;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static void emit_head(struct sonde_ctfw_trace_class *tc)
{
	struct text_buf *t = &tc->text;
	char uuid[37];
	static const char *const aliases[] = {
		"size = 8; align = 8; signed = false; } := uint8_t",
		"size = 16; align = 8; signed = false; } := uint16_t",
		"size = 32; align = 8; signed = false; } := uint32_t",
		"size = 64; align = 8; signed = false; } := uint64_t",
		"size = 64; align = 8; signed = false; } := unsigned long",
		"size = 5; align = 1; signed = false; } := uint5_t",
		"size = 27; align = 1; signed = false; } := uint27_t",
	};
	size_t i;

	format_uuid(tc->uuid, uuid);
	text_append(t, "/* CTF 1.8 */\n\n");
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		text_append(t, "typealias integer { %s;\n", aliases[i]);
	text_append(t,
		    "\ntrace {\n"
		    "\tmajor = 1;\n"
		    "\tminor = 8;\n"
		    "\tuuid = \"%s\";\n"
		    "\tbyte_order = %s;\n"
		    "\tpacket.header := struct {\n"
		    "\t\tuint32_t magic;\n"
		    "\t\tuint8_t  uuid[16];\n"
		    "\t\tuint32_t stream_id;\n"
		    "\t\tuint64_t stream_instance_id;\n"
		    "\t};\n"
		    "};\n\n"
		    "env {\n",
		    uuid, tc->byte_order == SONDE_CTF_BE ? "be" : "le");
}

static void emit_header_struct(struct text_buf *t, const char *name,
			       const char *id_type, unsigned int max_compact,
			       const char *compact_ts)
{
	text_append(t,
		    "struct %s {\n"
		    "\tenum : %s { compact = 0 ... %u, extended = %u } id;\n"
		    "\tvariant <id> {\n"
		    "\t\tstruct {\n"
		    "\t\t\t%s timestamp;\n"
		    "\t\t} compact;\n"
		    "\t\tstruct {\n"
		    "\t\t\tuint32_t id;\n"
		    "\t\t\tuint64_clock_monotonic_t timestamp;\n"
		    "\t\t} extended;\n"
		    "\t} v;\n"
		    "} align(8);\n\n",
		    name, id_type, max_compact, max_compact + 1, compact_ts);
}

/* Closes env and writes the clock, clock typealiases, the packet context
 * and both event header structs: what precedes the first stream block. */
static void emit_preamble_rest(struct sonde_ctfw_trace_class *tc)
{
	struct text_buf *t = &tc->text;
	static const unsigned int clock_sizes[][2] = { { 27, 1 },
						       { 32, 8 },
						       { 64, 8 } };
	size_t i;

	text_append(t, "};\n\nclock {\n\tname = \"monotonic\";\n");
	if (tc->has_clock_uuid) {
		char uuid[37];

		format_uuid(tc->clock_uuid, uuid);
		text_append(t, "\tuuid = \"%s\";\n", uuid);
	}
	text_append(
		t,
		"\tdescription = \"Monotonic Clock\";\n"
		"\tfreq = 1000000000; /* Frequency, in Hz */\n"
		"\t/* clock value offset from Epoch is: offset * (1/freq) */\n"
		"\toffset = %" PRId64 ";\n"
		"};\n\n",
		tc->clock_offset);
	for (i = 0; i < 3; i++)
		text_append(t,
			    "typealias integer {\n"
			    "\tsize = %u; align = %u; signed = false;\n"
			    "\tmap = clock.monotonic.value;\n"
			    "} := uint%u_clock_monotonic_t;\n\n",
			    clock_sizes[i][0], clock_sizes[i][1],
			    clock_sizes[i][0]);
	text_append(t, "struct packet_context {\n"
		       "\tuint64_clock_monotonic_t timestamp_begin;\n"
		       "\tuint64_clock_monotonic_t timestamp_end;\n"
		       "\tuint64_t content_size;\n"
		       "\tuint64_t packet_size;\n"
		       "\tuint64_t packet_seq_num;\n"
		       "\tunsigned long events_discarded;\n"
		       "\tuint32_t cpu_id;\n"
		       "};\n\n");
	emit_header_struct(t, "event_header_compact", "uint5_t", 30,
			   "uint27_clock_monotonic_t");
	emit_header_struct(t, "event_header_large", "uint16_t", 65534,
			   "uint32_clock_monotonic_t");
	tc->preamble_done = true;
}

int sonde_ctfw_trace_class_create(const struct sonde_ctfw_trace_opts *opts,
				  struct sonde_ctfw_trace_class **out,
				  struct sonde_error *err)
{
	struct sonde_ctfw_trace_class *tc;
	int rc;

	if (opts->byte_order != SONDE_CTF_LE &&
	    opts->byte_order != SONDE_CTF_BE)
		return sonde_error_set(err, SONDE_EINVAL,
				       "trace class: bad byte order %d",
				       (int)opts->byte_order);
	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return sonde_error_set(err, SONDE_ENOMEM,
				       "trace class: out of memory");
	tc->byte_order = opts->byte_order;
	if (opts->uuid) {
		memcpy(tc->uuid, opts->uuid, 16);
	} else {
		rc = random_uuid(tc->uuid, err);
		if (rc)
			goto fail;
	}
	if (opts->clock_uuid) {
		memcpy(tc->clock_uuid, opts->clock_uuid, 16);
		tc->has_clock_uuid = true;
	} else {
		tc->has_clock_uuid = read_boot_id(tc->clock_uuid);
	}
	tc->clock_offset = opts->has_clock_offset ? opts->clock_offset
						  : measure_clock_offset();
	tc->text.cap = 8192;
	tc->text.data = malloc(tc->text.cap);
	if (!tc->text.data) {
		rc = sonde_error_set(err, SONDE_ENOMEM,
				     "trace class: out of memory");
		goto fail;
	}
	tc->text.data[0] = '\0';
	emit_head(tc);
	if (tc->text.failed) {
		rc = sonde_error_set(err, SONDE_ENOMEM,
				     "trace class: out of memory");
		goto fail;
	}
	*out = tc;
	return 0;
fail:
	sonde_ctfw_trace_class_free(tc);
	return rc;
}

void sonde_ctfw_trace_class_free(struct sonde_ctfw_trace_class *tc)
{
	if (!tc)
		return;
	free(tc->text.data);
	free(tc->scratch.data);
	free(tc->streams);
	free(tc);
}

/* Appending failed part-way: the text is unusable from now on. */
static int text_status(struct sonde_ctfw_trace_class *tc, const char *what,
		       struct sonde_error *err)
{
	if (tc->text.failed)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
				       what);
	return 0;
}

static int env_check(struct sonde_ctfw_trace_class *tc, const char *key,
		     struct sonde_error *err)
{
	if (tc->preamble_done)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"env: '%s' added after the first stream class",
			key ? key : "(null)");
	if (!is_identifier(key))
		return sonde_error_set(err, SONDE_EINVAL,
				       "env: '%s' is not an identifier",
				       key ? key : "(null)");
	return 0;
}

int sonde_ctfw_env_add_string(struct sonde_ctfw_trace_class *tc,
			      const char *key, const char *value,
			      struct sonde_error *err)
{
	int rc = env_check(tc, key, err);

	if (rc)
		return rc;
	text_append(&tc->text, "\t%s = \"", key);
	text_append_escaped(&tc->text, value ? value : "");
	text_append(&tc->text, "\";\n");
	return text_status(tc, "env", err);
}

int sonde_ctfw_env_add_int(struct sonde_ctfw_trace_class *tc, const char *key,
			   int64_t value, struct sonde_error *err)
{
	int rc = env_check(tc, key, err);

	if (rc)
		return rc;
	text_append(&tc->text, "\t%s = %" PRId64 ";\n", key, value);
	return text_status(tc, "env", err);
}

/* An env entry of the LTTng helpers: a string, or an integer if str is NULL. */
struct env_entry {
	const char *key;
	const char *str;
	int64_t num;
};

static int add_env_entries(struct sonde_ctfw_trace_class *tc,
			   const struct env_entry *e, size_t n,
			   struct sonde_error *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && !rc; i++)
		rc = e[i].str ? sonde_ctfw_env_add_string(tc, e[i].key,
							  e[i].str, err)
			      : sonde_ctfw_env_add_int(tc, e[i].key, e[i].num,
						       err);
	return rc;
}

/* uname(2) and the creation time, as ISO 8601 basic in UTC. */
static int host_facts(struct utsname *u, char datetime[32],
		      struct sonde_error *err)
{
	time_t now = time(NULL);
	struct tm tm;

	if (uname(u) != 0)
		return sonde_error_set(err, SONDE_EIO, "env: uname: %s",
				       strerror(errno));
	datetime[0] = '\0';
	if (gmtime_r(&now, &tm))
		strftime(datetime, 32, "%Y%m%dT%H%M%S+0000", &tm);
	return 0;
}

int sonde_ctfw_env_add_lttng_kernel(struct sonde_ctfw_trace_class *tc,
				    const char *trace_name,
				    struct sonde_error *err)
{
	struct utsname u;
	char datetime[32];
	int rc = host_facts(&u, datetime, err);

	if (rc)
		return rc;
	{
		const struct env_entry env[] = {
			{ "hostname", u.nodename, 0 },
			{ "domain", "kernel", 0 },
			{ "sysname", "Linux", 0 },
			{ "kernel_release", u.release, 0 },
			{ "kernel_version", u.version, 0 },
			{ "tracer_name", "lttng-modules", 0 },
			{ "tracer_major", NULL, 2 },
			{ "tracer_minor", NULL, 13 },
			{ "tracer_patchlevel", NULL, 0 },
			{ "trace_buffering_scheme", "global", 0 },
			{ "trace_name", trace_name ? trace_name : "", 0 },
			{ "trace_creation_datetime", datetime, 0 },
		};

		return add_env_entries(tc, env, sizeof(env) / sizeof(env[0]),
				       err);
	}
}

int sonde_ctfw_env_add_lttng_ust(struct sonde_ctfw_trace_class *tc,
				 const char *trace_name,
				 struct sonde_error *err)
{
	struct utsname u;
	char datetime[32];
	int rc = host_facts(&u, datetime, err);

	if (rc)
		return rc;
	{
		const struct env_entry env[] = {
			{ "domain", "ust", 0 },
			{ "tracer_name", "lttng-ust", 0 },
			{ "tracer_major", NULL, 2 },
			{ "tracer_minor", NULL, 13 },
			{ "tracer_buffering_scheme", "uid", 0 },
			{ "tracer_buffering_id", NULL, (int64_t)getuid() },
			{ "architecture_bit_width", NULL,
			  (int64_t)(8 * sizeof(void *)) },
			{ "trace_name", trace_name ? trace_name : "", 0 },
			{ "trace_creation_datetime", datetime, 0 },
			{ "hostname", u.nodename, 0 },
		};

		return add_env_entries(tc, env, sizeof(env) / sizeof(env[0]),
				       err);
	}
}

int sonde_ctfw_env_add_lttng_ust_pid(struct sonde_ctfw_trace_class *tc,
				     const char *trace_name, int64_t pid,
				     const char *procname,
				     const char *vpid_datetime,
				     struct sonde_error *err)
{
	struct utsname u;
	char datetime[32];
	int rc = host_facts(&u, datetime, err);

	if (rc)
		return rc;
	{
		const struct env_entry env[] = {
			{ "domain", "ust", 0 },
			{ "tracer_name", "lttng-ust", 0 },
			{ "tracer_major", NULL, 2 },
			{ "tracer_minor", NULL, 13 },
			{ "tracer_buffering_scheme", "pid", 0 },
			{ "tracer_buffering_id", NULL, pid },
			{ "architecture_bit_width", NULL,
			  (int64_t)(8 * sizeof(void *)) },
			{ "trace_name", trace_name ? trace_name : "", 0 },
			{ "trace_creation_datetime", datetime, 0 },
			{ "hostname", u.nodename, 0 },
			{ "tracer_patchlevel", NULL, 5 },
			{ "vpid", NULL, pid },
			{ "procname", procname ? procname : "", 0 },
			{ "vpid_datetime",
			  vpid_datetime ? vpid_datetime : datetime, 0 },
		};

		return add_env_entries(tc, env, sizeof(env) / sizeof(env[0]),
				       err);
	}
}

/* Field TSDL ------------------------------------------------------------- */

static int check_int(const struct sonde_ctfw_int_type *it, const char *name,
		     struct sonde_error *err)
{
	unsigned int base = it->base ? it->base : 10;

	if (it->size != 8 && it->size != 16 && it->size != 32 && it->size != 64)
		return sonde_error_set(
			err, SONDE_EUNSUPPORTED,
			"field '%s': integer size %u (8, 16, 32 or 64 supported)",
			name, it->size);
	if (base != 2 && base != 8 && base != 10 && base != 16)
		return sonde_error_set(err, SONDE_EINVAL,
				       "field '%s': bad base %u", name, base);
	if (it->order > SONDE_CTFW_ORDER_BE ||
	    it->encoding > SONDE_CTF_ENC_ASCII)
		return sonde_error_set(err, SONDE_EINVAL,
				       "field '%s': bad byte order or encoding",
				       name);
	return 0;
}

static void emit_int(struct text_buf *t, const struct sonde_ctfw_int_type *it)
{
	static const char *const enc[] = { "none", "UTF8", "ASCII" };
	static const char *const order[] = { "; }", "; byte_order = le; }",
					     "; byte_order = be; }" };

	/* "integer { size = %u; align = 8; signed = %d; encoding = %s;
	 * base = %u;%s }", without printf: a kernel session has thousands */
	text_puts(t, "integer { size = ");
	text_put_u64(t, it->size);
	text_puts(t, it->is_signed ? "; align = 8; signed = 1; encoding = "
				   : "; align = 8; signed = 0; encoding = ");
	text_puts(t, enc[it->encoding]);
	text_puts(t, "; base = ");
	text_put_u64(t, it->base ? it->base : 10);
	text_puts(t, order[it->order]);
}

static void emit_enum_value(struct text_buf *t, bool is_signed, int64_t v)
{
	if (is_signed)
		text_append(t, "%" PRId64, v);
	else
		text_append(t, "%" PRIu64, (uint64_t)v);
}

static int emit_fields(struct text_buf *t, const struct sonde_ctfw_field *f,
		       size_t n, unsigned int depth, struct sonde_error *err);

static int emit_field(struct text_buf *t, const struct sonde_ctfw_field *f,
		      unsigned int depth, struct sonde_error *err)
{
	uint32_t i;
	int rc;

	if (!is_identifier(f->name))
		return sonde_error_set(err, SONDE_EINVAL,
				       "field '%s': not an identifier",
				       f->name ? f->name : "(null)");
	text_indent(t, depth);
	switch (f->kind) {
	case SONDE_CTFW_FIELD_INT:
	case SONDE_CTFW_FIELD_ARRAY:
		rc = check_int(&f->integer, f->name, err);
		if (rc)
			return rc;
		emit_int(t, &f->integer);
		if (f->kind == SONDE_CTFW_FIELD_ARRAY) {
			text_put_field(t, f->name, "[");
			text_put_u64(t, f->count);
			text_puts(t, "];\n");
		} else {
			text_put_field(t, f->name, ";\n");
		}
		return 0;
	case SONDE_CTFW_FIELD_SEQUENCE:
		rc = check_int(&f->length, f->name, err);
		if (!rc)
			rc = check_int(&f->integer, f->name, err);
		if (rc)
			return rc;
		if (f->length.is_signed)
			return sonde_error_set(
				err, SONDE_EINVAL,
				"field '%s': signed sequence length", f->name);
		emit_int(t, &f->length);
		text_puts(t, " __");
		text_puts(t, f->name);
		text_puts(t, "_length;\n");
		text_indent(t, depth);
		emit_int(t, &f->integer);
		text_put_field(t, f->name, "[ __");
		text_puts(t, f->name);
		text_puts(t, "_length ];\n");
		return 0;
	case SONDE_CTFW_FIELD_STRING:
		text_puts(t, "string");
		text_put_field(t, f->name, ";\n");
		return 0;
	case SONDE_CTFW_FIELD_FLOAT:
		if (f->float_bits != 32 && f->float_bits != 64)
			return sonde_error_set(
				err, SONDE_EINVAL,
				"field '%s': float of %u bits (32 or 64)",
				f->name, f->float_bits);
		text_append(
			t,
			"floating_point { exp_dig = %u; mant_dig = %u; align = 8; } _%s;\n",
			f->float_bits == 32 ? 8u : 11u,
			f->float_bits == 32 ? 24u : 53u, f->name);
		return 0;
	case SONDE_CTFW_FIELD_ENUM:
		rc = check_int(&f->integer, f->name, err);
		if (rc)
			return rc;
		if (!f->count || !f->entries)
			return sonde_error_set(
				err, SONDE_EINVAL,
				"field '%s': enum without entries", f->name);
		text_append(t, "enum : ");
		emit_int(t, &f->integer);
		text_append(t, " {\n");
		for (i = 0; i < f->count; i++) {
			const struct sonde_ctfw_enum_entry *e = &f->entries[i];

			if (!e->label)
				return sonde_error_set(
					err, SONDE_EINVAL,
					"field '%s': enum entry %u has no label",
					f->name, i);
			text_indent(t, depth + 1);
			text_append(t, "\"");
			text_append_escaped(t, e->label);
			text_append(t, "\"");
			if (!e->automatic) {
				text_append(t, " = ");
				emit_enum_value(t, f->integer.is_signed, e->lo);
				if (e->hi != e->lo) {
					text_append(t, " ... ");
					emit_enum_value(t, f->integer.is_signed,
							e->hi);
				}
			}
			text_append(t, ",\n");
		}
		text_indent(t, depth);
		text_append(t, "} _%s;\n", f->name);
		return 0;
	case SONDE_CTFW_FIELD_STRUCT:
		if (depth >= MAX_STRUCT_DEPTH)
			return sonde_error_set(
				err, SONDE_EUNSUPPORTED,
				"field '%s': structs nested too deep", f->name);
		text_append(t, "struct {\n");
		rc = emit_fields(t, f->members, f->count, depth + 1, err);
		if (rc)
			return rc;
		text_indent(t, depth);
		text_append(t, "} _%s;\n", f->name);
		return 0;
	}
	return sonde_error_set(err, SONDE_EINVAL, "field '%s': unknown kind %d",
			       f->name, (int)f->kind);
}

static int emit_fields(struct text_buf *t, const struct sonde_ctfw_field *f,
		       size_t n, unsigned int depth, struct sonde_error *err)
{
	size_t i;
	int rc;

	if (n && !f)
		return sonde_error_set(err, SONDE_EINVAL, "fields: NULL list");
	for (i = 0; i < n; i++) {
		rc = emit_field(t, &f[i], depth, err);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Classes are first rendered into a scratch buffer so that a bad field
 * description leaves the metadata text untouched.
 */
static int commit_scratch(struct sonde_ctfw_trace_class *tc, struct text_buf *s,
			  const char *what, struct sonde_error *err)
{
	int rc = 0;

	if (s->failed)
		rc = sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory",
				     what);
	else
		text_put(&tc->text, s->data, s->len);
	return rc ? rc : text_status(tc, what, err);
}

/* The scratch buffer is kept from class to class: a kernel session adds
 * some 700 of them at its start. */
static struct text_buf *scratch_init(struct sonde_ctfw_trace_class *tc,
				     struct sonde_error *err)
{
	struct text_buf *s = &tc->scratch;

	if (!s->data) {
		s->cap = 1024;
		s->data = malloc(s->cap);
		if (!s->data) {
			sonde_error_set(err, SONDE_ENOMEM,
					"metadata: out of memory");
			return NULL;
		}
	}
	s->len = 0;
	s->failed = false;
	s->data[0] = '\0';
	return s;
}

int sonde_ctfw_stream_class_add(struct sonde_ctfw_trace_class *tc,
				enum sonde_ctfw_header_type header,
				const struct sonde_ctfw_field *context,
				size_t context_count, uint32_t *id,
				struct sonde_error *err)
{
	struct text_buf *s;
	uint32_t new_id = tc->stream_count;
	int rc;

	if (header != SONDE_CTFW_HEADER_COMPACT &&
	    header != SONDE_CTFW_HEADER_LARGE)
		return sonde_error_set(err, SONDE_EINVAL,
				       "stream class: bad header type %d",
				       (int)header);
	if (tc->stream_count == tc->stream_cap) {
		uint32_t cap = tc->stream_cap ? tc->stream_cap * 2 : 4;
		struct stream_class_info *p =
			realloc(tc->streams, cap * sizeof(*p));

		if (!p)
			return sonde_error_set(err, SONDE_ENOMEM,
					       "stream class: out of memory");
		tc->streams = p;
		tc->stream_cap = cap;
	}
	s = scratch_init(tc, err);
	if (!s)
		return SONDE_ENOMEM;
	text_append(s,
		    "stream {\n"
		    "\tid = %" PRIu32 ";\n"
		    "\tevent.header := struct %s;\n"
		    "\tpacket.context := struct packet_context;\n",
		    new_id,
		    header == SONDE_CTFW_HEADER_COMPACT ? "event_header_compact"
							: "event_header_large");
	if (context_count) {
		text_append(s, "\tevent.context := struct {\n");
		rc = emit_fields(s, context, context_count, 2, err);
		if (rc) {
			return sonde_error_prefix(
				err, "stream class %" PRIu32 " context",
				new_id);
		}
		text_append(s, "\t};\n");
	}
	text_append(s, "};\n\n");
	if (!tc->preamble_done)
		emit_preamble_rest(tc);
	rc = commit_scratch(tc, s, "stream class", err);
	if (rc)
		return rc;
	tc->streams[new_id].header = header;
	tc->streams[new_id].event_count = 0;
	tc->stream_count++;
	if (id)
		*id = new_id;
	return 0;
}

int sonde_ctfw_event_class_add(struct sonde_ctfw_trace_class *tc,
			       uint32_t stream_class_id, const char *name,
			       int loglevel,
			       const struct sonde_ctfw_field *fields,
			       size_t field_count, uint32_t *id,
			       struct sonde_error *err)
{
	struct stream_class_info *sc;
	struct text_buf *s;
	int rc;

	if (stream_class_id >= tc->stream_count)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"event class '%s': no stream class %" PRIu32,
			name ? name : "(null)", stream_class_id);
	if (!name || !*name)
		return sonde_error_set(err, SONDE_EINVAL,
				       "event class: empty name");
	sc = &tc->streams[stream_class_id];
	s = scratch_init(tc, err);
	if (!s)
		return SONDE_ENOMEM;
	text_append(s, "event {\n\tname = \"");
	text_append_escaped(s, name);
	text_puts(s, "\";\n\tid = ");
	text_put_u64(s, sc->event_count);
	text_puts(s, ";\n\tstream_id = ");
	text_put_u64(s, stream_class_id);
	text_puts(s, ";\n");
	if (loglevel >= 0)
		text_append(s, "\tloglevel = %d;\n", loglevel);
	text_append(s, "\tfields := struct {\n");
	rc = emit_fields(s, fields, field_count, 2, err);
	if (rc)
		return sonde_error_prefix(err, "event class '%s'", name);
	text_append(s, "\t};\n};\n\n");
	rc = commit_scratch(tc, s, "event class", err);
	if (rc)
		return rc;
	if (id)
		*id = sc->event_count;
	sc->event_count++;
	return 0;
}

enum sonde_ctf_byte_order
sonde_ctfw_trace_class_byte_order(const struct sonde_ctfw_trace_class *tc)
{
	return tc->byte_order;
}

const uint8_t *
sonde_ctfw_trace_class_uuid(const struct sonde_ctfw_trace_class *tc)
{
	return tc->uuid;
}

int sonde_ctfw_trace_class_header_type(const struct sonde_ctfw_trace_class *tc,
				       uint32_t stream_class_id,
				       enum sonde_ctfw_header_type *type)
{
	if (stream_class_id >= tc->stream_count)
		return SONDE_EINVAL;
	*type = tc->streams[stream_class_id].header;
	return 0;
}

uint32_t
sonde_ctfw_trace_class_event_count(const struct sonde_ctfw_trace_class *tc,
				   uint32_t stream_class_id)
{
	return stream_class_id < tc->stream_count
		       ? tc->streams[stream_class_id].event_count
		       : 0;
}

const char *sonde_ctfw_metadata_text(const struct sonde_ctfw_trace_class *tc,
				     size_t *len)
{
	*len = tc->text.len;
	return tc->text.data;
}

size_t sonde_ctfw_metadata_packet(const struct sonde_ctfw_trace_class *tc,
				  size_t text_offset,
				  uint8_t out[SONDE_CTFW_METADATA_PACKET_SIZE])
{
	struct sonde_ctfw_cursor c;
	size_t room = SONDE_CTFW_METADATA_PACKET_SIZE -
		      SONDE_CTFW_METADATA_HEADER_SIZE;
	size_t take;

	if (text_offset >= tc->text.len)
		return 0;
	take = tc->text.len - text_offset;
	if (take > room)
		take = room;
	sonde_ctfw_cursor_init(&c, out, SONDE_CTFW_METADATA_PACKET_SIZE,
			       tc->byte_order);
	sonde_ctfw_put_u32(&c, SONDE_CTFW_METADATA_MAGIC);
	sonde_ctfw_put_bytes(&c, tc->uuid, 16);
	sonde_ctfw_put_u32(&c, 0); /* checksum */
	sonde_ctfw_put_u32(
		&c, (uint32_t)((SONDE_CTFW_METADATA_HEADER_SIZE + take) * 8));
	sonde_ctfw_put_u32(&c, SONDE_CTFW_METADATA_PACKET_SIZE * 8);
	sonde_ctfw_put_u8(&c, 0); /* compression */
	sonde_ctfw_put_u8(&c, 0); /* encryption */
	sonde_ctfw_put_u8(&c, 0); /* checksum scheme */
	sonde_ctfw_put_u8(&c, 1); /* major */
	sonde_ctfw_put_u8(&c, 8); /* minor */
	sonde_ctfw_put_bytes(&c, tc->text.data + text_offset, take);
	memset(out + c.pos, 0, SONDE_CTFW_METADATA_PACKET_SIZE - c.pos);
	return take;
}
