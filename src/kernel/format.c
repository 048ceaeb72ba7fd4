/*
 * tracefs `format` files: the binary layout of one event.
 *
 *   name: sched_switch
 *   ID: 372
 *   format:
 *   	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
 *   	...
 *   	field:__data_loc char[] comm;	offset:8;	size:4;	signed:0;
 *
 *   print fmt: ...
 *
 * Only name, ID and the field lines matter; the print format is ignored.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel-internal.h"

#define KFMT_MAX_FIELDS 256u

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl : end;
}

/* "key:NUMBER;" somewhere in [p, e): the number, or -1. */
static long long attr_value(const char *p, const char *e, const char *key)
{
	size_t klen = strlen(key);
	const char *q;

	for (q = p; q + klen < e; q++) {
		if (memcmp(q, key, klen) == 0) {
			char buf[24];
			size_t n = 0;
			char *stop;
			long long v;

			q += klen;
			while (q < e && n < sizeof(buf) - 1 &&
			       (isdigit((unsigned char)*q) || *q == '-'))
				buf[n++] = *q++;
			buf[n] = '\0';
			if (!n || q >= e || *q != ';')
				return -1;
			errno = 0;
			v = strtoll(buf, &stop, 10);
			if (errno || *stop || v < 0 || v > 0xFFFFFFFFll)
				return -1;
			return v;
		}
	}
	return -1;
}

/* "TYPE NAME[N]" (decl) into type, name and array length. */
static int split_decl(const char *d, size_t n, struct kfmt_field *f)
{
	size_t end = n, name_end, name_start, tlen;

	while (end && isspace((unsigned char)d[end - 1]))
		end--;
	f->array_len = 0;
	if (end && d[end - 1] == ']') {
		size_t open = end - 1;
		unsigned long v = 0;
		size_t i;

		while (open && d[open] != '[')
			open--;
		if (d[open] != '[' || open + 2 > end - 1)
			return -1;
		for (i = open + 1; i < end - 1; i++) {
			if (!isdigit((unsigned char)d[i]) || v > 1u << 20)
				return -1;
			v = v * 10 + (unsigned long)(d[i] - '0');
		}
		f->array_len = (uint32_t)v;
		end = open;
	}
	name_end = end;
	name_start = name_end;
	while (name_start &&
	       (isalnum((unsigned char)d[name_start - 1]) ||
		d[name_start - 1] == '_'))
		name_start--;
	if (name_start == name_end || name_end - name_start >= KFMT_NAME_MAX)
		return -1;
	memcpy(f->name, d + name_start, name_end - name_start);
	f->name[name_end - name_start] = '\0';
	tlen = name_start;
	while (tlen && isspace((unsigned char)d[tlen - 1]))
		tlen--;
	if (!tlen || tlen >= KFMT_TYPE_MAX)
		return -1;
	memcpy(f->type, d, tlen);
	f->type[tlen] = '\0';
	return 0;
}

static void classify(struct kfmt_field *f)
{
	const char *t = f->type;

	f->loc = KFMT_PLAIN;
	if (strncmp(t, "__data_loc ", 11) == 0) {
		f->loc = KFMT_DATA_LOC;
		t += 11;
	} else if (strncmp(t, "__rel_loc ", 10) == 0) {
		f->loc = KFMT_REL_LOC;
		t += 10;
	}
	f->is_pointer = strchr(t, '*') != NULL;
	f->is_char = !f->is_pointer &&
		     (strncmp(t, "char", 4) == 0 ||
		      strncmp(t, "const char", 10) == 0 ||
		      strncmp(t, "unsigned char", 13) == 0 ||
		      strncmp(t, "signed char", 11) == 0) &&
		     (f->array_len || f->loc != KFMT_PLAIN);
	/* "unsigned char x[6]" is a byte array, not text. */
	if (strncmp(t, "unsigned char", 13) == 0 && f->loc == KFMT_PLAIN)
		f->is_char = false;
}

int kfmt_parse(const char *text, size_t len, const char *system,
	       const char *what, struct kfmt_event *ev,
	       struct sonde_error *err)
{
	const char *p = text, *end = text + len;
	unsigned int lineno = 0;
	bool have_id = false, have_pid = false;
	size_t cap = 0;

	memset(ev, 0, sizeof(*ev));
	if (strlen(system) >= KFMT_NAME_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: system name too long", what);
	strcpy(ev->system, system);
	while (p < end) {
		const char *e = line_end(p, end), *q = p;

		lineno++;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (e - q > 6 && strncmp(q, "name: ", 6) == 0) {
			size_t n = (size_t)(e - q - 6);

			if (n == 0 || n >= KFMT_NAME_MAX)
				goto bad;
			memcpy(ev->name, q + 6, n);
			ev->name[n] = '\0';
		} else if (e - q > 4 && strncmp(q, "ID: ", 4) == 0) {
			char buf[16];
			size_t n = (size_t)(e - q - 4);
			char *stop;
			unsigned long v;

			if (n == 0 || n >= sizeof(buf))
				goto bad;
			memcpy(buf, q + 4, n);
			buf[n] = '\0';
			v = strtoul(buf, &stop, 10);
			if (*stop || v > 0xFFFF)
				goto bad;
			ev->id = (uint32_t)v;
			have_id = true;
		} else if (e - q > 6 && strncmp(q, "field:", 6) == 0) {
			const char *decl = q + 6, *semi;
			struct kfmt_field f;
			long long off, size, sgn;

			memset(&f, 0, sizeof(f));
			semi = memchr(decl, ';', (size_t)(e - decl));
			if (!semi || split_decl(decl, (size_t)(semi - decl),
						&f) < 0)
				goto bad;
			off = attr_value(semi, e, "offset:");
			size = attr_value(semi, e, "size:");
			sgn = attr_value(semi, e, "signed:");
			if (off < 0 || size <= 0 || off > 0xFFFF ||
			    size > 0xFFFF || sgn < 0 || sgn > 1)
				goto bad;
			f.offset = (uint32_t)off;
			f.size = (uint32_t)size;
			f.is_signed = sgn == 1;
			classify(&f);
			if (f.loc != KFMT_PLAIN && f.size != 4)
				goto bad;
			if (f.array_len && f.size % f.array_len)
				goto bad;
			if (strncmp(f.name, "common_", 7) == 0) {
				if (strcmp(f.name, "common_pid") == 0) {
					if (f.size != 4)
						goto bad;
					ev->common_pid_offset = f.offset;
					have_pid = true;
				}
			} else {
				if (ev->nr_fields == KFMT_MAX_FIELDS)
					goto bad;
				if (ev->nr_fields == cap) {
					size_t ncap = cap ? cap * 2 : 8;
					struct kfmt_field *nf = realloc(
						ev->fields,
						ncap * sizeof(*nf));

					if (!nf) {
						kfmt_event_release(ev);
						return sonde_error_set(
							err, SONDE_ENOMEM,
							"%s: out of memory",
							what);
					}
					ev->fields = nf;
					cap = ncap;
				}
				ev->fields[ev->nr_fields++] = f;
			}
		}
		p = e + 1;
	}
	if (!ev->name[0] || !have_id || !have_pid) {
		kfmt_event_release(ev);
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: missing %s", what,
				       !ev->name[0] ? "name" :
				       !have_id	    ? "ID" :
						      "common_pid field");
	}
	return 0;
bad:
	kfmt_event_release(ev);
	return sonde_error_set(err, SONDE_EFORMAT, "%s:%u: malformed line",
			       what, lineno);
}

void kfmt_event_release(struct kfmt_event *ev)
{
	free(ev->fields);
	ev->fields = NULL;
	ev->nr_fields = 0;
}

const struct kfmt_field *kfmt_find(const struct kfmt_event *ev,
				   const char *name)
{
	uint32_t i;

	for (i = 0; i < ev->nr_fields; i++)
		if (strcmp(ev->fields[i].name, name) == 0)
			return &ev->fields[i];
	return NULL;
}
