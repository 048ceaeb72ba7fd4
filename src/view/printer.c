/*
 * The event printers: babeltrace 1.5 `text` output (byte for byte), JSON
 * lines, and dummy.
 *
 * Speed matters (the text printer must keep up with the decoder at several
 * million events per second), so a line is assembled in one large buffer
 * that is written out per ~64 KiB, numbers are formatted by hand, the
 * "HH:MM:SS." part of timestamps is computed once per second, and the
 * " name = " strings of struct members are built once per struct type.
 */
#include "sonde/view.h"
#include "view/fmt.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_S 1000000000ULL
#define OUT_FLUSH_AT (64 * 1024)
#define OUT_CAP (OUT_FLUSH_AT + 16 * 1024)

/* The " name = " text of each member of one struct type. */
struct member_names {
	const struct sonde_ctf_type *type;
	size_t count;
	struct member_name {
		const char *text;    /* ", name = " */
		uint32_t len;
		bool hidden;         /* packet-context field babeltrace hides */
		const char *json;    /* ,"name": (JSON-escaped) */
		uint32_t json_len;
	} m[];
};

#define NAME_CACHE_SIZE 256

struct name_table {
	struct member_names **slots;
	size_t cap, used;        /* open addressing, cap a power of two */
	/* Direct-mapped cache in front of the table: one compare per hit. */
	const struct member_names *recent[NAME_CACHE_SIZE];
};

/*
 * babeltrace 1.5's debug-info: UST statedump/dlopen events tell which
 * binary is mapped where in each process; an event whose stream context
 * has `vpid` and `ip` then shows `debug_info = { bin = "lib.so+0x12" }`
 * after `ip`.  (babeltrace also adds func and src from the binaries' ELF
 * and DWARF when they exist on the reading machine; we do not read them.)
 */
struct dbg_bin {
	uint64_t baddr, memsz;
	char *name;              /* basename of the path */
	bool is_pic;
};

struct dbg_proc {
	int64_t vpid;
	struct dbg_bin *bins;
	size_t count, cap;
};

/* What babeltrace derives from each trace once. */
struct trace_info {
	const struct sonde_ctf_trace *trace;
	const struct sonde_ctf_trace_class *tc;
	const char *path;
	uint64_t offset_ns;      /* babeltrace 1.5's clock offset of the trace */
	char *prefix;            /* trace/host/domain/procname/vpid part */
	size_t prefix_len;
	bool prefix_has_dom;     /* babeltrace's dom_print after that part */
	const char *hostname;    /* env, or NULL */
	struct dbg_proc *procs;  /* debug-info state, per vpid */
	size_t proc_count;
	bool is_ust;             /* env domain "ust": debug-info applies */
};

/*
 * The packet context prints the same text for every event of a packet:
 * the text is kept per stream and reused while the decoded nodes of the
 * scope are byte-identical (fields whose text could differ for equal
 * nodes, or that warn, are not cached: strings, text arrays, enums).
 */
#define PKT_CACHE_SIZE 64
#define PKT_CACHE_NODES 24
#define PKT_CACHE_TEXT 224

struct pkt_cache_entry {
	const struct sonde_ctf_stream *stream;
	uint32_t nodes;
	uint32_t len;
	/* Per node: its type and first value word, which determine its text
	 * for the kinds cached (integers, structs, arrays, variants). */
	const struct sonde_ctf_type *types[PKT_CACHE_NODES];
	uint64_t words[PKT_CACHE_NODES];
	char text[PKT_CACHE_TEXT + 32];  /* padded: copied 32 bytes at a time */
};

/* "host event_name:" per event class, for the default header fields. */
#define HEAD_CACHE_SIZE 256
#define HEAD_CACHE_TEXT 96

struct head_cache_entry {
	const struct sonde_ctf_event_class *ec;
	const struct trace_info *ti;
	uint32_t len;
	char text[HEAD_CACHE_TEXT + 32];
};

/* The last packet of a stream whose discarded events were reported. */
#define LOSS_SEEN_SIZE 64

struct loss_seen {
	const struct sonde_ctf_stream *stream;
	uint64_t packet_end;
};

struct sonde_view_printer {
	struct sonde_view_opts opts;
	struct sonde_ctf_trace_set *set;
	int out_fd, warn_fd;
	char *buf, *end;         /* end = buf + cap */
	size_t len, cap;
	size_t line_start;       /* where the line being built starts */
	int write_errno;
	bool fast_clock;         /* plain local/UTC time of day, no offsets */

	bool names_payload, names_context, names_header, names_scope;
	bool print_delta;
	bool have_last;
	uint64_t last_real;      /* babeltrace's last_real_timestamp */
	struct sonde_view_time_cache tcache;

	struct trace_info *traces;
	size_t trace_count;
	const struct sonde_ctf_trace *last_trace;
	struct trace_info *last_info;

	struct name_table names;
	/* debug_info text to print after the `ip` node `dbg_ip` of the
	 * current event's tape `dbg_tape` (none when dbg_tape is NULL). */
	const struct sonde_ctf_value *dbg_tape;
	uint32_t dbg_ip;
	char dbg_text[512];
	size_t dbg_len;
	bool simple_head;        /* header fields cacheable per event class */
	struct loss_seen loss_seen[LOSS_SEEN_SIZE];
	struct pkt_cache_entry *pkt_cache;    /* PKT_CACHE_SIZE entries */
	struct head_cache_entry *head_cache;  /* HEAD_CACHE_SIZE entries */
};

/* Output buffer ------------------------------------------------------------ */

static int out_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void out_flush(struct sonde_view_printer *p)
{
	if (p->len && !p->write_errno)
		p->write_errno = out_write_all(p->out_fd, p->buf, p->len);
	p->len = 0;
	p->line_start = 0;
}

/* Room for n more bytes; may flush (never mid-way through a line for
 * normal lines, since lines are far shorter than the slack). */
static char *out_room_slow(struct sonde_view_printer *p, size_t n)
{
	out_flush(p);
	if (n > p->cap) {
		char *nb = realloc(p->buf, n);

		if (!nb) {
			p->write_errno = ENOMEM;
			/* Keep going into the old buffer: the data is lost
			 * but the error is reported at the end. */
			return NULL;
		}
		p->buf = nb;
		p->cap = n;
		p->end = nb + n;
	}
	return p->buf + p->len;
}

static inline char *out_room(struct sonde_view_printer *p, size_t n)
{
	if (p->len + n <= p->cap)
		return p->buf + p->len;
	return out_room_slow(p, n);
}

static inline void out_mem(struct sonde_view_printer *p, const void *s,
			   size_t n)
{
	char *d = out_room(p, n);

	if (!d)
		return;
	memcpy(d, s, n);
	p->len += n;
}

#define out_lit(p, s) out_mem((p), (s), sizeof(s) - 1)

static inline void out_str(struct sonde_view_printer *p, const char *s)
{
	out_mem(p, s, strlen(s));
}

static inline void out_char(struct sonde_view_printer *p, char c)
{
	char *d = out_room(p, 1);

	if (d) {
		*d = c;
		p->len++;
	}
}

static inline void out_u64(struct sonde_view_printer *p, uint64_t v)
{
	char *d = out_room(p, 24);

	if (d)
		p->len += sonde_view_fmt_u64(d, v);
}

static inline void out_s64(struct sonde_view_printer *p, int64_t v)
{
	char *d = out_room(p, 24);

	if (d)
		p->len += sonde_view_fmt_s64(d, v);
}

/*
 * Warnings go to their own descriptor after the output of the previous
 * lines, before the line being built (babeltrace warns while reading an
 * event, before printing it), so that a terminal shows them in order.
 */
static void warn(struct sonde_view_printer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct sonde_view_printer *p, const char *fmt, ...)
{
	char msg[2048];
	size_t done = p->line_start <= p->len ? p->line_start : p->len;
	va_list ap;
	int n;

	if (done && !p->write_errno)
		p->write_errno = out_write_all(p->out_fd, p->buf, done);
	memmove(p->buf, p->buf + done, p->len - done);
	p->len -= done;
	p->line_start = 0;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	(void)out_write_all(p->warn_fd, msg, (size_t)n);
}

/* Member names --------------------------------------------------------------- */

static bool is_hidden_packet_field(const char *name)
{
	static const char *const hidden[] = {
		"timestamp_begin", "timestamp_end", "events_discarded",
		"content_size", "packet_size", "packet_seq_num",
	};

	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (!strcmp(name, hidden[i]))
			return true;
	return false;
}

static size_t ptr_hash(const void *ptr)
{
	uint64_t x = (uint64_t)(uintptr_t)ptr;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct member_names *build_member_names(const struct sonde_ctf_type *t)
{
	size_t count = t->u.structure.count, bytes = 0;
	struct member_names *mn;
	char *text;

	for (size_t i = 0; i < count; i++)
		bytes += 7 * strlen(sonde_ctf_display_name(
			t->u.structure.fields[i].name)) + 12;
	/* Padding: the printer copies short names 32 bytes at a time. */
	mn = calloc(1, sizeof(*mn) + count * sizeof(mn->m[0]) + bytes + 32);
	if (!mn)
		return NULL;
	mn->type = t;
	mn->count = count;
	text = (char *)&mn->m[count];
	for (size_t i = 0; i < count; i++) {
		const char *raw = t->u.structure.fields[i].name;
		const char *name = sonde_ctf_display_name(raw);
		size_t len = strlen(name);

		memcpy(text, ", ", 2);
		memcpy(text + 2, name, len);
		memcpy(text + 2 + len, " = ", 4);
		mn->m[i].text = text;
		mn->m[i].len = (uint32_t)(len + 5);
		mn->m[i].hidden = is_hidden_packet_field(raw);
		text += len + 6;
		mn->m[i].json = text;
		text[0] = ',';
		text[1] = '"';
		len = 2 + sonde_view_json_escape(text + 2, name, len);
		text[len++] = '"';
		text[len++] = ':';
		text[len++] = '\0';
		mn->m[i].json_len = (uint32_t)(len - 1);
		text += len;
	}
	return mn;
}

static int name_table_grow(struct name_table *nt)
{
	size_t ncap = nt->cap ? nt->cap * 2 : 64;
	struct member_names **ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < nt->cap; i++) {
		struct member_names *mn = nt->slots[i];
		size_t h;

		if (!mn)
			continue;
		for (h = ptr_hash(mn->type) & (ncap - 1); ns[h];
		     h = (h + 1) & (ncap - 1))
			;
		ns[h] = mn;
	}
	free(nt->slots);
	nt->slots = ns;
	nt->cap = ncap;
	return 0;
}

static const struct member_names *member_names_slow(
	struct sonde_view_printer *p, const struct sonde_ctf_type *t);

/* The names of struct type `t`, built on first use; NULL without memory. */
static inline const struct member_names *member_names(
	struct sonde_view_printer *p, const struct sonde_ctf_type *t)
{
	const struct member_names *mn =
		p->names.recent[((uintptr_t)t >> 5) & (NAME_CACHE_SIZE - 1)];

	if (__builtin_expect(mn && mn->type == t, 1))
		return mn;
	return member_names_slow(p, t);
}

static const struct member_names *member_names_slow(
	struct sonde_view_printer *p, const struct sonde_ctf_type *t)
{
	struct name_table *nt = &p->names;
	size_t r = ((uintptr_t)t >> 5) & (NAME_CACHE_SIZE - 1);
	struct member_names *mn;
	size_t h;

	if (nt->cap) {
		for (h = ptr_hash(t) & (nt->cap - 1); nt->slots[h];
		     h = (h + 1) & (nt->cap - 1))
			if (nt->slots[h]->type == t) {
				nt->recent[r] = nt->slots[h];
				return nt->slots[h];
			}
	}
	if ((nt->used + 1) * 2 > nt->cap && name_table_grow(nt))
		return NULL;
	mn = build_member_names(t);
	if (!mn)
		return NULL;
	for (h = ptr_hash(t) & (nt->cap - 1); nt->slots[h];
	     h = (h + 1) & (nt->cap - 1))
		;
	nt->slots[h] = mn;
	nt->used++;
	nt->recent[r] = mn;
	return mn;
}

/* Clocks as babeltrace 1.5 computes them ------------------------------------ */

static uint64_t bt1_cycles_to_ns(const struct sonde_ctf_clock *c,
				 uint64_t cycles)
{
	if (!c || c->freq == NS_PER_S)
		return cycles;
	/* babeltrace 1.5 goes through double for other frequencies. */
	return (uint64_t)((double)cycles * 1000000000.0 / (double)c->freq);
}

static uint64_t bt1_clock_offset_ns(const struct sonde_ctf_clock *c)
{
	return (uint64_t)c->offset_s * NS_PER_S +
	       bt1_cycles_to_ns(c, (uint64_t)c->offset);
}

static const struct sonde_ctf_clock *trace_clock(
	const struct sonde_ctf_trace_class *tc)
{
	for (size_t i = 0; i < tc->stream_class_count; i++)
		if (tc->stream_classes[i]->clock)
			return tc->stream_classes[i]->clock;
	return tc->clock_count ? tc->clocks[0] : NULL;
}

/* Position of `name` in the readdir order of `dir`, or SIZE_MAX. */
static size_t readdir_position(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t pos = 0;

	if (!d)
		return SIZE_MAX;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, name)) {
			closedir(d);
			return pos;
		}
		pos++;
	}
	closedir(d);
	return SIZE_MAX;
}

/*
 * babeltrace 1.5 finds traces with nftw(), so it adds them in readdir
 * order, and the first trace added anchors its offset average (the integer
 * division makes the result depend on it).  Compares two trace paths in
 * that order: by the readdir position, in their deepest common directory,
 * of the first component where they differ.
 */
static int bt1_walk_cmp(const char *a, const char *b)
{
	size_t i = 0, start = 0;
	char dir[4096], ca[256], cb[256];
	size_t pa, pb, la, lb;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			start = i + 1;
		i++;
	}
	if (!a[i] && !b[i])
		return 0;
	if ((!a[i] && b[i] == '/') || (!b[i] && a[i] == '/'))
		return a[i] ? 1 : -1;   /* a parent comes first */
	la = strcspn(a + start, "/");
	lb = strcspn(b + start, "/");
	if (start >= sizeof(dir) || la >= sizeof(ca) || lb >= sizeof(cb))
		return strcmp(a, b);
	if (start) {
		memcpy(dir, a, start);
		dir[start] = '\0';
	} else {
		strcpy(dir, a[0] == '/' ? "/" : ".");
	}
	memcpy(ca, a + start, la);
	ca[la] = '\0';
	memcpy(cb, b + start, lb);
	cb[lb] = '\0';
	pa = readdir_position(dir, ca);
	pb = readdir_position(dir, cb);
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return strcmp(a, b);
}

/* Index of the given path that holds `trace_path`, or path_count. */
static size_t root_rank(const struct sonde_view_opts *o, const char *trace_path)
{
	for (size_t i = 0; i < o->path_count; i++) {
		size_t len = strlen(o->paths[i]);

		while (len > 1 && o->paths[i][len - 1] == '/')
			len--;
		if (!strncmp(trace_path, o->paths[i], len) &&
		    (trace_path[len] == '/' || trace_path[len] == '\0'))
			return i;
	}
	return o->path_count;
}

static int bt1_order_cmp(const struct sonde_view_printer *p, const char *a,
			 const char *b)
{
	size_t ra = root_rank(&p->opts, a), rb = root_rank(&p->opts, b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return bt1_walk_cmp(a, b);
}

/* Trace indexes in babeltrace 1.5's order (malloc'd), or NULL. */
static size_t *bt1_trace_order(const struct sonde_view_printer *p)
{
	size_t *order = calloc(p->trace_count ? p->trace_count : 1,
			       sizeof(*order));

	if (!order)
		return NULL;
	for (size_t i = 0; i < p->trace_count; i++)
		order[i] = i;
	/* Insertion sort: few traces, and the comparison reads directories. */
	for (size_t i = 1; i < p->trace_count; i++) {
		size_t v = order[i], j = i;

		while (j > 0 && bt1_order_cmp(p, p->traces[order[j - 1]].path,
					      p->traces[v].path) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
	return order;
}

/*
 * babeltrace 1.5 keys clocks by UUID (by name when `absolute`); when two
 * traces of one run share a clock it uses, for every trace, the average of
 * their offsets (per-PID UST traces then differ from babeltrace2 by a few
 * ns), and warns when the offsets are more than 10 us apart.
 */
static void compute_offsets(struct sonde_view_printer *p)
{
	struct key {
		bool absolute;
		const char *name;
		const uint8_t *uuid;
		uint64_t offset;
	} *keys;
	size_t nkeys = 0, cap = 0;
	uint64_t offset_first = 0;
	int64_t delta_sum = 0;
	int64_t nr = 0;
	bool use_avg = false;
	uint64_t avg = 0;

	size_t *order = bt1_trace_order(p);

	for (size_t i = 0; i < p->trace_count; i++)
		cap += p->traces[i].tc->clock_count;
	keys = calloc(cap ? cap : 1, sizeof(*keys));
	for (size_t oi = 0; order && oi < p->trace_count; oi++) {
		const struct sonde_ctf_trace_class *tc = p->traces[order[oi]].tc;

		for (size_t c = 0; c < tc->clock_count; c++) {
			const struct sonde_ctf_clock *ck = tc->clocks[c];
			struct key *found = NULL;

			if (!ck->absolute && !ck->has_uuid)
				continue;
			for (size_t k = 0; keys && k < nkeys; k++) {
				if (keys[k].absolute != ck->absolute)
					continue;
				if (ck->absolute ? !strcmp(keys[k].name, ck->name) :
				    !memcmp(keys[k].uuid, ck->uuid, 16)) {
					found = &keys[k];
					break;
				}
			}
			if (!found) {
				if (!keys)
					continue;
				if (nkeys)
					warn(p, "[error] Only CTF traces with a single clock description are supported by this babeltrace version.\n");
				keys[nkeys].absolute = ck->absolute;
				keys[nkeys].name = ck->name;
				keys[nkeys].uuid = ck->uuid;
				keys[nkeys].offset = bt1_clock_offset_ns(ck);
				if (!nr) {
					offset_first = keys[nkeys].offset;
					nr = 1;
					avg = offset_first;
				}
				nkeys++;
			} else if (!ck->absolute) {
				int64_t diff = (int64_t)(found->offset -
							 bt1_clock_offset_ns(ck));

				if (diff > 10000 || diff < -10000)
					warn(p, "[warning] Clock \"%s\" offset differs between traces (delta %" PRIu64 " ns). Using average.\n",
					     found->name,
					     (uint64_t)(diff < 0 ? -diff : diff));
				delta_sum += (int64_t)(bt1_clock_offset_ns(ck) -
						       offset_first);
				nr++;
				avg = offset_first + (uint64_t)(delta_sum / nr);
				use_avg = true;
			}
		}
	}
	free(keys);
	free(order);
	for (size_t i = 0; i < p->trace_count; i++) {
		const struct sonde_ctf_clock *ck = trace_clock(p->traces[i].tc);

		if (use_avg)
			p->traces[i].offset_ns = avg;
		else
			p->traces[i].offset_ns = ck ? bt1_clock_offset_ns(ck) : 0;
	}
}

/* Per-trace header text ------------------------------------------------------ */

static const char *env_str(const struct sonde_ctf_trace_class *tc,
			   const char *key)
{
	const struct sonde_ctf_env_entry *e = sonde_ctf_trace_class_env(tc, key);

	return e && !e->is_int && e->str_value && e->str_value[0] ?
	       e->str_value : NULL;
}

struct strbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->failed)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t ncap = (sb->len + n + 1) * 2;
		char *ns = realloc(sb->s, ncap);

		if (!ns) {
			sb->failed = true;
			return;
		}
		sb->s = ns;
		sb->cap = ncap;
	}
	memcpy(sb->s + sb->len, s, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

static void sb_str(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

/* Whether TSDL text declares an `env` block (comments and strings skipped). */
static bool metadata_has_env_block(const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
			const char *e = memmem(t + i + 2, len - i - 2, "*/", 2);

			i = e ? (size_t)(e - t) + 2 : len;
		} else if (t[i] == '/' && i + 1 < len && t[i + 1] == '/') {
			while (i < len && t[i] != '\n')
				i++;
		} else if (t[i] == '"') {
			for (i++; i < len && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
		} else if (!strncmp(t + i, "env", 3) && i + 3 <= len &&
			   (i == 0 || !(isalnum((unsigned char)t[i - 1]) ||
					t[i - 1] == '_'))) {
			size_t k = i + 3;

			while (k < len && isspace((unsigned char)t[k]))
				k++;
			if (k < len && t[k] == '{')
				return true;
			i += 3;
		} else {
			i++;
		}
	}
	return false;
}

/*
 * The part of the line babeltrace prints between the delta and the event
 * name that depends only on the trace: trace path, hostname, domain,
 * procname and vpid, in its exact separator logic.
 */
static int build_prefix(struct sonde_view_printer *p, struct trace_info *ti)
{
	unsigned f = p->opts.fields;
	bool all = f & SONDE_VIEW_FIELD_ALL;
	bool hn = p->names_header;
	const struct sonde_ctf_trace_class *tc = ti->tc;
	const char *domain = env_str(tc, "domain");
	const char *procname = env_str(tc, "procname");
	const struct sonde_ctf_env_entry *vpid = sonde_ctf_trace_class_env(tc,
									 "vpid");
	struct strbuf sb = { 0 };
	bool dom = false, has_env = false;
	char num[32];

	if (tc->env_count == 0) {
		size_t mlen = 0;
		const char *mtext = sonde_ctf_trace_metadata_text(ti->trace, &mlen);

		has_env = mtext && metadata_has_env_block(mtext, mlen);
	}
	ti->hostname = env_str(tc, "hostname");
	ti->is_ust = domain && !strcmp(domain, "ust");
	sb_add(&sb, "", 0);
	if ((f & SONDE_VIEW_FIELD_TRACE || all) && ti->path[0]) {
		if (hn)
			sb_str(&sb, "trace = ");
		sb_str(&sb, ti->path);
		sb_str(&sb, hn ? ", " : " ");
	}
	if ((f & SONDE_VIEW_FIELD_HOSTNAME || all) && ti->hostname) {
		if (hn)
			sb_str(&sb, "trace:hostname = ");
		sb_str(&sb, ti->hostname);
		if (hn)
			sb_str(&sb, ", ");
		dom = true;
	}
	if ((f & SONDE_VIEW_FIELD_DOMAIN || all) && domain) {
		if (hn)
			sb_str(&sb, "trace:domain = ");
		else if (dom)
			sb_str(&sb, ":");
		sb_str(&sb, domain);
		if (hn)
			sb_str(&sb, ", ");
		dom = true;
	}
	if ((f & SONDE_VIEW_FIELD_PROCNAME || all) && procname) {
		if (hn)
			sb_str(&sb, "trace:procname = ");
		else if (dom)
			sb_str(&sb, ":");
		sb_str(&sb, procname);
		if (hn)
			sb_str(&sb, ", ");
		dom = true;
	}
	/*
	 * babeltrace 1.5 prints env.vpid when the env block defines it, and
	 * 0 when the metadata has no env block at all (its default).
	 */
	if ((f & SONDE_VIEW_FIELD_VPID || all) &&
	    ((vpid && vpid->is_int) || (tc->env_count == 0 && !has_env))) {
		if (hn)
			sb_str(&sb, "trace:vpid = ");
		else if (dom)
			sb_str(&sb, ":");
		snprintf(num, sizeof(num), "%d",
			 vpid ? (int)vpid->int_value : 0);
		sb_str(&sb, num);
		if (hn)
			sb_str(&sb, ", ");
		dom = true;
	}
	if (sb.failed) {
		free(sb.s);
		return -1;
	}
	ti->prefix = sb.s;
	ti->prefix_len = sb.len;
	ti->prefix_has_dom = dom;
	return 0;
}

static struct trace_info *trace_info_of(struct sonde_view_printer *p,
					struct sonde_ctf_stream *s)
{
	const struct sonde_ctf_trace *t = sonde_ctf_stream_trace(s);

	if (t == p->last_trace)
		return p->last_info;
	for (size_t i = 0; i < p->trace_count; i++) {
		if (p->traces[i].trace == t) {
			p->last_trace = t;
			p->last_info = &p->traces[i];
			return p->last_info;
		}
	}
	return NULL;
}

/* Timestamps ------------------------------------------------------------------ */

static uint64_t bt1_real(const struct trace_info *ti,
			 const struct sonde_ctf_stream *s, uint64_t cycles)
{
	const struct sonde_ctf_stream_class *sc = sonde_ctf_stream_class(s);

	return bt1_cycles_to_ns(sc ? sc->clock : NULL, cycles) +
	       (ti ? ti->offset_ns : 0);
}

/* babeltrace's ctf_print_timestamp: cycles or real time per the options. */
static size_t fmt_stamp(struct sonde_view_printer *p, char *dst,
			uint64_t cycles, uint64_t real)
{
	if (p->opts.clock_cycles) {
		/* %020 PRIu64 */
		return sonde_view_fmt_u64_pad(dst, cycles, 20);
	}
	return sonde_view_fmt_time_cached(dst, real, &p->opts, &p->tcache);
}

bool sonde_view_event_time(struct sonde_view_printer *p,
			   const struct sonde_ctf_event *ev, int64_t *ns)
{
	struct trace_info *ti;
	int64_t t;

	if (!ev->has_timestamp)
		return false;
	ti = trace_info_of(p, ev->stream);
	t = (int64_t)bt1_real(ti, ev->stream, ev->cycles);
	*ns = t + p->opts.clock_offset_s * (int64_t)NS_PER_S +
	      p->opts.clock_offset_ns;
	return true;
}

/* Text values ------------------------------------------------------------------ */

/*
 * The text printer writes through a local cursor `d` (stores through a
 * char pointer would otherwise make the compiler reload the printer's
 * fields after every byte).  ROOM(n) makes room for n more bytes, n small
 * and bounded; longer pieces go through put_mem().
 */
#define ROOM(n)								\
	do {								\
		if (__builtin_expect((size_t)(p->end - d) < (size_t)(n), 0)) \
			d = flush_at(p, d);				\
	} while (0)

static char *flush_at(struct sonde_view_printer *p, char *d)
{
	p->len = (size_t)(d - p->buf);
	out_flush(p);
	return p->buf;
}

static char *put_mem(struct sonde_view_printer *p, char *d, const void *s,
		     size_t n)
{
	if ((size_t)(p->end - d) < n) {
		d = flush_at(p, d);
		if (n > p->cap) {
			/* Longer than the whole buffer: write it directly. */
			if (!p->write_errno)
				p->write_errno = out_write_all(p->out_fd, s, n);
			return d;
		}
	}
	memcpy(d, s, n);
	return d + n;
}

#define PUT_LIT(s) (memcpy(d, (s), sizeof(s) - 1), d += sizeof(s) - 1)

static char *text_value(struct sonde_view_printer *p, char *d,
			const struct sonde_ctf_value *tape, uint32_t i,
			bool names);

/*
 * The labels of an enum value in babeltrace 1.5's order: mappings of a
 * single value in declaration order, then ranges in reverse declaration
 * order (its range list is built by prepending).
 */
static size_t bt1_enum_labels(const struct sonde_ctf_type *t,
			      const struct sonde_ctf_value *v,
			      const char **labels, size_t max)
{
	const struct sonde_ctf_type *ct = t->u.enumeration.container;
	bool sgn = ct->u.integer.is_signed;
	size_t count = t->u.enumeration.count, n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < count; k++) {
			const struct sonde_ctf_enum_mapping *m =
				&t->u.enumeration.mappings[pass ? count - 1 - k : k];
			bool single = sgn ? m->lo.s == m->hi.s : m->lo.u == m->hi.u;
			bool in = sgn ? v->v.s >= m->lo.s && v->v.s <= m->hi.s :
				  v->v.u >= m->lo.u && v->v.u <= m->hi.u;

			if (single != !pass || !in)
				continue;
			if (n < max)
				labels[n] = m->label;
			n++;
		}
	}
	return n;
}

/* ( "A" : container = 1 ), ( "A", "B" : container = 1 ) (no braces in
 * babeltrace 1.5), ( <unknown> : container = 9 ) with a warning. */
static char *text_enum(struct sonde_view_printer *p, char *d,
		       const struct sonde_ctf_value *v, bool names)
{
	const struct sonde_ctf_type *t = v->type;
	const struct sonde_ctf_type *ct = t->u.enumeration.container;
	const char *labels[32];
	size_t n, shown;

	n = bt1_enum_labels(t, v, labels, 32);
	shown = n < 32 ? n : 32;
	ROOM(16);
	*d++ = '(';
	if (n == 0) {
		p->len = (size_t)(d - p->buf);
		if (ct->u.integer.is_signed)
			warn(p, "[warning] Unknown value %" PRId64 " in enum.\n",
			     v->v.s);
		else
			warn(p, "[warning] Unknown value %" PRIu64 " in enum.\n",
			     v->v.u);
		d = p->buf + p->len;
		ROOM(16);
		PUT_LIT(" <unknown>");
	} else {
		for (size_t k = 0; k < shown; k++) {
			ROOM(4);
			if (k)
				*d++ = ',';
			*d++ = ' ';
			*d++ = '"';
			d = put_mem(p, d, labels[k], strlen(labels[k]));
			ROOM(1);
			*d++ = '"';
		}
	}
	ROOM(32 + SONDE_VIEW_NUM_MAX);
	PUT_LIT(" : ");
	if (names)
		PUT_LIT("container = ");
	d += sonde_view_fmt_int(d, v->v.u, ct->u.integer.is_signed,
				ct->u.integer.size, ct->u.integer.base);
	PUT_LIT(" )");
	return d;
}

/* A string between quotes; text arrays stop at the first NUL. */
static char *text_quoted(struct sonde_view_printer *p, char *d,
			 const char *s, size_t len, bool stop_at_nul)
{
	if (stop_at_nul) {
		size_t k = 0;

		if (__builtin_expect((size_t)(p->end - d) >= len + 2, 1)) {
			/* Copy while looking for the NUL (comm[16] and the
			 * like: short). */
			*d++ = '"';
			while (k < len && s[k]) {
				d[k] = s[k];
				k++;
			}
			d += k;
			*d++ = '"';
			return d;
		}
		while (k < len && s[k])
			k++;
		len = k;
	}
	if (__builtin_expect((size_t)(p->end - d) >= len + 2, 1)) {
		*d++ = '"';
		memcpy(d, s, len);
		d += len;
		*d++ = '"';
		return d;
	}
	ROOM(1);
	*d++ = '"';
	d = put_mem(p, d, s, len);
	ROOM(1);
	*d++ = '"';
	return d;
}

static char *text_struct(struct sonde_view_printer *p, char *d,
			 const struct sonde_ctf_value *tape, uint32_t i,
			 bool names, bool hide_special)
{
	const struct sonde_ctf_value *v = &tape[i];
	const struct member_names *mn = names || hide_special ?
		member_names(p, v->type) : NULL;
	uint64_t count = v->v.count;
	uint32_t j = i + 1;
	bool first = true;

	if (mn && mn->count < count)
		count = mn->count;
	ROOM(2);
	*d++ = '{';
	for (uint64_t k = 0; k < count; k++) {
		if (hide_special && mn->m[k].hidden) {
			j = tape[j].end;
			continue;
		}
		if (names) {
			const char *text = mn->m[k].text + (first ? 1 : 0);
			size_t len = mn->m[k].len - (first ? 1 : 0);

			if (__builtin_expect(len <= 32, 1)) {
				ROOM(32);
				memcpy(d, text, 32);  /* padded source */
				d += len;
			} else {
				d = put_mem(p, d, text, len);
			}
		} else {
			ROOM(2);
			if (!first)
				*d++ = ',';
			*d++ = ' ';
		}
		first = false;
		if (tape[j].type->kind == SONDE_CTF_INT &&
		    tape[j].type->u.integer.base == 10) {
			/* The common case, without the call and switch. */
			ROOM(24);
			d = tape[j].type->u.integer.is_signed ?
			    sonde_view_put_s64(d, tape[j].v.s) :
			    sonde_view_put_u64(d, tape[j].v.u);
		} else {
			d = text_value(p, d, tape, j, names);
		}
		if (__builtin_expect(tape == p->dbg_tape && j == p->dbg_ip, 0))
			d = put_mem(p, d, p->dbg_text, p->dbg_len);
		j = tape[j].end;
	}
	ROOM(2);
	PUT_LIT(" }");
	return d;
}

static char *text_elements(struct sonde_view_printer *p, char *d,
			   const struct sonde_ctf_value *tape, uint32_t i,
			   bool names)
{
	const struct sonde_ctf_value *v = &tape[i];
	uint32_t j = i + 1;

	ROOM(1);
	*d++ = '[';
	for (uint64_t k = 0; k < v->v.count; k++) {
		ROOM(32);
		if (k)
			*d++ = ',';
		*d++ = ' ';
		if (names) {
			*d++ = '[';
			d = sonde_view_put_u64(d, k);
			PUT_LIT("] = ");
		}
		d = text_value(p, d, tape, j, names);
		j = tape[j].end;
	}
	ROOM(2);
	PUT_LIT(" ]");
	return d;
}

static char *text_value(struct sonde_view_printer *p, char *d,
			const struct sonde_ctf_value *tape, uint32_t i,
			bool names)
{
	const struct sonde_ctf_value *v = &tape[i];
	const struct sonde_ctf_type *t = v->type;

	switch (t->kind) {
	case SONDE_CTF_INT:
		ROOM(SONDE_VIEW_NUM_MAX);
		if (t->u.integer.base == 10 || t->u.integer.base == 0)
			return t->u.integer.is_signed ?
			       sonde_view_put_s64(d, v->v.s) :
			       sonde_view_put_u64(d, v->v.u);
		return d + sonde_view_fmt_int(d, v->v.u, t->u.integer.is_signed,
					      t->u.integer.size,
					      t->u.integer.base);
	case SONDE_CTF_FLOAT: {
		int n;

		ROOM(40);
		n = snprintf(d, 40, "%g", v->v.d);
		return n > 0 ? d + (n < 40 ? n : 39) : d;
	}
	case SONDE_CTF_STRING:
		return text_quoted(p, d, v->v.str.ptr, v->v.str.len, false);
	case SONDE_CTF_ENUM:
		return text_enum(p, d, v, names);
	case SONDE_CTF_STRUCT:
		return text_struct(p, d, tape, i, names, false);
	case SONDE_CTF_VARIANT: {
		uint32_t opt = v->v.option;

		ROOM(2);
		PUT_LIT("{ ");
		if (names && opt < t->u.variant.count) {
			const char *name = sonde_ctf_display_name(
				t->u.variant.options[opt].name);

			d = put_mem(p, d, name, strlen(name));
			ROOM(3);
			PUT_LIT(" = ");
		}
		if (i + 1 < v->end)
			d = text_value(p, d, tape, i + 1, names);
		ROOM(2);
		PUT_LIT(" }");
		return d;
	}
	case SONDE_CTF_ARRAY:
		if (t->u.array.is_text)
			return text_quoted(p, d, v->v.str.ptr, v->v.str.len,
					   true);
		return text_elements(p, d, tape, i, names);
	case SONDE_CTF_SEQUENCE:
		if (t->u.sequence.is_text)
			return text_quoted(p, d, v->v.str.ptr, v->v.str.len,
					   true);
		return text_elements(p, d, tape, i, names);
	}
	return d;
}

static const char *loglevel_name(int64_t v)
{
	static const char *const names[] = {
		"TRACE_EMERG", "TRACE_ALERT", "TRACE_CRIT", "TRACE_ERR",
		"TRACE_WARNING", "TRACE_NOTICE", "TRACE_INFO",
		"TRACE_DEBUG_SYSTEM", "TRACE_DEBUG_PROGRAM",
		"TRACE_DEBUG_PROCESS", "TRACE_DEBUG_MODULE", "TRACE_DEBUG_UNIT",
		"TRACE_DEBUG_FUNCTION", "TRACE_DEBUG_LINE", "TRACE_DEBUG",
	};

	if (v >= 0 && v < (int64_t)(sizeof(names) / sizeof(names[0])))
		return names[v];
	return "<<UNKNOWN>>";
}

/* One scope: ", " separator logic, optional scope name, the struct. */
static char *text_scope(struct sonde_view_printer *p, char *d,
			const struct sonde_ctf_value *tape, int32_t at,
			const char *scope_name, bool names, bool hide_special,
			unsigned *field_nr)
{
	ROOM(48);
	if ((*field_nr)++)
		*d++ = ',';
	if (p->names_scope) {
		*d++ = ' ';
		d = put_mem(p, d, scope_name, strlen(scope_name));
		ROOM(3);
		PUT_LIT(" =");
	}
	*d++ = ' ';
	if (tape[at].type->kind == SONDE_CTF_STRUCT)
		return text_struct(p, d, tape, (uint32_t)at, names,
				   hide_special);
	return text_value(p, d, tape, (uint32_t)at, names);
}

/* "[time] (+delta) " or its named form. */
static char *text_stamp(struct sonde_view_printer *p, char *d,
			const struct sonde_ctf_event *ev, uint64_t real)
{
	bool hn = p->names_header;

	ROOM(SONDE_VIEW_TIME_MAX + 96);
	if (hn)
		PUT_LIT("timestamp = ");
	else
		*d++ = '[';
	if (p->fast_clock && (int64_t)real >= 0) {
		/* The common case, inline: time of day, cached per second. */
		struct sonde_view_time_cache *c = &p->tcache;

		if (c->valid && real - c->base_ns < NS_PER_S) {
			memcpy(d, c->text, sizeof(c->text));
			d = sonde_view_put_pad9(d + c->len,
						(uint32_t)(real - c->base_ns));
		} else if (sonde_view_time_cache_fill(c, (int64_t)(real / NS_PER_S),
						      &p->opts)) {
			memcpy(d, c->text, sizeof(c->text));
			d = sonde_view_put_pad9(d + c->len,
						(uint32_t)(real - c->base_ns));
		} else {
			d += fmt_stamp(p, d, ev->cycles, real);
		}
	} else {
		d += fmt_stamp(p, d, ev->cycles, real);
	}
	if (hn)
		PUT_LIT(", ");
	else
		PUT_LIT("] ");
	if (p->print_delta) {
		if (hn)
			PUT_LIT("delta = ");
		else
			*d++ = '(';
		if (p->have_last) {
			uint64_t delta = real - p->last_real;

			if (delta < NS_PER_S) {
				PUT_LIT("+0.");
				d = sonde_view_put_pad9(d, (uint32_t)delta);
			} else {
				uint64_t dsec = delta / NS_PER_S;

				*d++ = '+';
				d = sonde_view_put_u64(d, dsec);
				*d++ = '.';
				d = sonde_view_put_pad9(d, (uint32_t)(delta -
								      dsec * NS_PER_S));
			}
		} else {
			PUT_LIT("+?.?????????");
		}
		if (hn)
			PUT_LIT(", ");
		else
			PUT_LIT(") ");
		p->have_last = true;
		p->last_real = real;
	}
	return d;
}

static bool member_u64(const struct sonde_ctf_value *v, int32_t at,
		       const char *name, uint64_t *out)
{
	int32_t m = sonde_ctf_value_struct_member(v, at, name);

	if (m < 0 || (v[m].type->kind != SONDE_CTF_INT &&
		      v[m].type->kind != SONDE_CTF_ENUM))
		return false;
	*out = v[m].v.u;
	return true;
}

static struct dbg_proc *dbg_proc(struct trace_info *ti, int64_t vpid,
				 bool create)
{
	struct dbg_proc *np;

	for (size_t i = 0; i < ti->proc_count; i++)
		if (ti->procs[i].vpid == vpid)
			return &ti->procs[i];
	if (!create)
		return NULL;
	np = realloc(ti->procs, (ti->proc_count + 1) * sizeof(*np));
	if (!np)
		return NULL;
	ti->procs = np;
	np = &ti->procs[ti->proc_count++];
	memset(np, 0, sizeof(*np));
	np->vpid = vpid;
	return np;
}

static void dbg_add_bin(struct dbg_proc *pr, uint64_t baddr, uint64_t memsz,
			const char *path, size_t path_len, bool is_pic)
{
	const char *base = path;
	struct dbg_bin *b;

	for (size_t k = 0; k < path_len; k++)
		if (path[k] == '/')
			base = path + k + 1;
	if (pr->count == pr->cap) {
		size_t ncap = pr->cap ? pr->cap * 2 : 8;
		struct dbg_bin *nb = realloc(pr->bins, ncap * sizeof(*nb));

		if (!nb)
			return;
		pr->bins = nb;
		pr->cap = ncap;
	}
	b = &pr->bins[pr->count];
	b->name = strndup(base, path_len - (size_t)(base - path));
	if (!b->name)
		return;
	b->baddr = baddr;
	b->memsz = memsz;
	b->is_pic = is_pic;
	pr->count++;
}

static void dbg_free_proc(struct dbg_proc *pr)
{
	for (size_t k = 0; k < pr->count; k++)
		free(pr->bins[k].name);
	free(pr->bins);
	pr->bins = NULL;
	pr->count = pr->cap = 0;
}

/* Updates the process maps from this event, then resolves its `ip`. */
static void dbg_event(struct sonde_view_printer *p, struct trace_info *ti,
		      const struct sonde_ctf_event *ev)
{
	const char *name = ev->event_class->name;
	const struct sonde_ctf_value *v = ev->values;
	uint64_t vpid, ip, baddr, memsz, is_pic;
	int32_t m;
	struct dbg_proc *pr;

	p->dbg_tape = NULL;
	if (ev->stream_context < 0 ||
	    !member_u64(v, ev->stream_context, "vpid", &vpid))
		return;
	if (!strncmp(name, "lttng_ust_", 10)) {
		bool bin_info = !strcmp(name, "lttng_ust_statedump:bin_info");
		bool dlopen = !strcmp(name, "lttng_ust_dl:dlopen");

		if ((bin_info || dlopen) && ev->payload >= 0 &&
		    member_u64(v, ev->payload, "baddr", &baddr) &&
		    member_u64(v, ev->payload, "memsz", &memsz) &&
		    (m = sonde_ctf_value_struct_member(v, ev->payload,
						       "path")) >= 0 &&
		    v[m].type->kind == SONDE_CTF_STRING) {
			if (!member_u64(v, ev->payload, "is_pic", &is_pic))
				is_pic = 1;
			pr = dbg_proc(ti, (int64_t)vpid, true);
			if (pr)
				dbg_add_bin(pr, baddr, memsz, v[m].v.str.ptr,
					    v[m].v.str.len, is_pic != 0);
		} else if (!strcmp(name, "lttng_ust_statedump:start")) {
			pr = dbg_proc(ti, (int64_t)vpid, false);
			if (pr)
				dbg_free_proc(pr);
		} else if (!strcmp(name, "lttng_ust_dl:dlclose") &&
			   ev->payload >= 0 &&
			   member_u64(v, ev->payload, "baddr", &baddr) &&
			   (pr = dbg_proc(ti, (int64_t)vpid, false))) {
			for (size_t k = 0; k < pr->count; k++) {
				if (pr->bins[k].baddr != baddr)
					continue;
				free(pr->bins[k].name);
				pr->bins[k] = pr->bins[--pr->count];
				break;
			}
		}
	}
	m = sonde_ctf_value_struct_member(v, ev->stream_context, "ip");
	if (m < 0 || v[m].type->kind != SONDE_CTF_INT)
		return;
	ip = v[m].v.u;
	pr = dbg_proc(ti, (int64_t)vpid, false);
	if (!pr)
		return;
	for (size_t k = 0; k < pr->count; k++) {
		const struct dbg_bin *b = &pr->bins[k];
		int n;

		if (ip < b->baddr || ip - b->baddr >= b->memsz)
			continue;
		n = snprintf(p->dbg_text, sizeof(p->dbg_text),
			     ", debug_info = { bin = \"%s%s0x%" PRIx64 "\" }",
			     b->name, b->is_pic ? "+" : "@",
			     b->is_pic ? ip - b->baddr : ip);
		if (n <= 0 || (size_t)n >= sizeof(p->dbg_text))
			return;
		p->dbg_len = (size_t)n;
		p->dbg_tape = v;
		p->dbg_ip = (uint32_t)m;
		return;
	}
}

static bool cacheable_scope(const struct sonde_ctf_value *v, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct sonde_ctf_type *t = v[k].type;

		if (t->kind == SONDE_CTF_STRING || t->kind == SONDE_CTF_ENUM ||
		    t->kind == SONDE_CTF_FLOAT ||
		    (t->kind == SONDE_CTF_ARRAY && t->u.array.is_text) ||
		    (t->kind == SONDE_CTF_SEQUENCE && t->u.sequence.is_text))
			return false;
	}
	return true;
}

static char *text_packet_scope(struct sonde_view_printer *p, char *d,
			       const struct sonde_ctf_stream *s,
			       const struct sonde_ctf_value *pkt, int32_t at,
			       unsigned *field_nr)
{
	struct pkt_cache_entry *e = &p->pkt_cache[
		((uintptr_t)s >> 6) & (PKT_CACHE_SIZE - 1)];
	uint32_t n = pkt[at].end - (uint32_t)at;
	char *start;

	if (n <= PKT_CACHE_NODES && e->stream == s && e->nodes == n) {
		const struct sonde_ctf_value *v = pkt + at;
		uint64_t diff = 0;

		for (uint32_t k = 0; k < n; k++)
			diff |= (v[k].v.u ^ e->words[k]) |
				((uintptr_t)v[k].type ^ (uintptr_t)e->types[k]);
		if (!diff) {
			ROOM(PKT_CACHE_TEXT + 32);
			memcpy(d, e->text, PKT_CACHE_TEXT + 32);
			(*field_nr)++;
			return d + e->len;
		}
	}
	/* Render with room reserved, so that no flush moves the text. */
	ROOM(PKT_CACHE_TEXT + 64);
	start = d;
	d = text_scope(p, d, pkt, at, "stream.packet.context",
		       p->names_context, !p->opts.verbose, field_nr);
	if (n <= PKT_CACHE_NODES && d >= start &&
	    (size_t)(d - start) <= PKT_CACHE_TEXT &&
	    cacheable_scope(pkt + at, n)) {
		e->stream = s;
		e->nodes = n;
		for (uint32_t k = 0; k < n; k++) {
			e->types[k] = pkt[at + k].type;
			e->words[k] = pkt[at + k].v.u;
		}
		e->len = (uint32_t)(d - start);
		memcpy(e->text, start, e->len);
	} else if (e->stream == s) {
		e->stream = NULL;
	}
	return d;
}

/* prefix, then "event_name:" (default header fields, names off). */
static void fill_head(struct head_cache_entry *h,
		      const struct sonde_ctf_event_class *ec,
		      const struct trace_info *ti)
{
	size_t name_len = strlen(ec->name);
	size_t len = ti->prefix_len + (ti->prefix_has_dom ? 1 : 0) +
		     name_len + 1;

	h->ec = ec;
	h->ti = ti;
	h->len = (uint32_t)len;
	if (len > HEAD_CACHE_TEXT)
		return;   /* too long: printed the slow way */
	memcpy(h->text, ti->prefix, ti->prefix_len);
	len = ti->prefix_len;
	if (ti->prefix_has_dom)
		h->text[len++] = ' ';
	memcpy(h->text + len, ec->name, name_len);
	h->text[len + name_len] = ':';
}

static void text_event(struct sonde_view_printer *p,
		       const struct sonde_ctf_event *ev)
{
	const struct sonde_ctf_event_class *ec = ev->event_class;
	struct trace_info *ti = trace_info_of(p, ev->stream);
	bool hn = p->names_header;
	bool dom;
	unsigned f = p->opts.fields;
	bool all = f & SONDE_VIEW_FIELD_ALL;
	unsigned field_nr = 0;
	const struct sonde_ctf_value *pkt;
	int32_t pkt_header = -1, pkt_ctx = -1;
	char *d;

	if (p->len >= OUT_FLUSH_AT)
		out_flush(p);
	p->line_start = p->len;
	if (ti && (ti->is_ust || p->dbg_tape)) {
		if (ti->is_ust)
			dbg_event(p, ti, ev);
		else
			p->dbg_tape = NULL;
	}
	d = p->buf + p->len;
	if (ev->has_timestamp)
		d = text_stamp(p, d, ev, bt1_real(ti, ev->stream, ev->cycles));
	if (p->simple_head && ti) {
		struct head_cache_entry *h = &p->head_cache[
			((uintptr_t)ec >> 4) & (HEAD_CACHE_SIZE - 1)];

		if (h->ec != ec || h->ti != ti)
			fill_head(h, ec, ti);
		if (h->len <= HEAD_CACHE_TEXT) {
			ROOM(HEAD_CACHE_TEXT + 32);
			memcpy(d, h->text, HEAD_CACHE_TEXT + 32);
			d += h->len;
			goto scopes;
		}
	}
	dom = false;
	if (ti) {
		d = put_mem(p, d, ti->prefix, ti->prefix_len);
		dom = ti->prefix_has_dom;
	}
	if ((f & SONDE_VIEW_FIELD_LOGLEVEL || all) && ec->has_loglevel) {
		const char *name = loglevel_name(ec->loglevel);

		ROOM(64);
		if (hn)
			PUT_LIT("loglevel = ");
		else if (dom)
			*d++ = ':';
		memcpy(d, name, strlen(name));
		d += strlen(name);
		d += snprintf(d, 32, " (%d)", (int)ec->loglevel);
		if (hn)
			PUT_LIT(", ");
		dom = true;
	}
	if ((f & SONDE_VIEW_FIELD_EMF || all) && ec->emf_uri) {
		ROOM(20);
		if (hn)
			PUT_LIT("model.emf.uri = ");
		else if (dom)
			*d++ = ':';
		d = text_quoted(p, d, ec->emf_uri, strlen(ec->emf_uri), false);
		ROOM(2);
		if (hn)
			PUT_LIT(", ");
		dom = true;
	}
	ROOM(8);
	if (dom && !hn)
		*d++ = ' ';
	if (hn)
		PUT_LIT("name = ");
	d = put_mem(p, d, ec->name, strlen(ec->name));
	if (hn) {
		field_nr++;
	} else {
		ROOM(1);
		*d++ = ':';
	}

scopes:
	pkt = sonde_ctf_stream_packet_values(ev->stream, &pkt_header, &pkt_ctx);
	if (pkt && pkt_ctx >= 0)
		d = text_packet_scope(p, d, ev->stream, pkt, pkt_ctx, &field_nr);
	if (p->opts.verbose && ev->header >= 0)
		d = text_scope(p, d, ev->values, ev->header,
			       "stream.event.header", p->names_context, false,
			       &field_nr);
	if (ev->stream_context >= 0)
		d = text_scope(p, d, ev->values, ev->stream_context,
			       "stream.event.context", p->names_context, false,
			       &field_nr);
	if (ev->event_context >= 0)
		d = text_scope(p, d, ev->values, ev->event_context,
			       "event.context", p->names_context, false,
			       &field_nr);
	if (ev->payload >= 0)
		d = text_scope(p, d, ev->values, ev->payload, "event.fields",
			       p->names_payload, false, &field_nr);
	ROOM(1);
	*d++ = '\n';
	p->len = (size_t)(d - p->buf);
	p->line_start = p->len;
}

/* Discarded events and packets ---------------------------------------------- */

/* This packet's timestamp_end (babeltrace 1.5's end of the loss range). */
static bool packet_end_cycles(struct sonde_ctf_stream *s, uint64_t *cycles)
{
	int32_t h = -1, c = -1;
	const struct sonde_ctf_value *tape =
		sonde_ctf_stream_packet_values(s, &h, &c);
	const struct sonde_ctf_type *t;

	if (!tape || c < 0 || tape[c].type->kind != SONDE_CTF_STRUCT)
		return false;
	t = tape[c].type;
	for (size_t k = 0, j = (size_t)c + 1; k < t->u.structure.count; k++) {
		if (t->u.structure.fields[k].role == SONDE_CTF_ROLE_TIMESTAMP_END &&
		    tape[j].type->kind == SONDE_CTF_INT) {
			*cycles = tape[j].v.u;
			return true;
		}
		j = tape[j].end;
	}
	return false;
}

static void text_discarded(struct sonde_view_printer *p,
			   const struct sonde_ctf_msg *msg)
{
	struct sonde_ctf_stream *s = msg->stream;
	struct trace_info *ti = trace_info_of(p, s);
	const struct sonde_ctf_stream_class *sc = sonde_ctf_stream_class(s);
	const char *spath = sonde_ctf_stream_path(s);
	const char *rel = spath;
	uint64_t b = msg->has_range ? msg->begin_cycles : 0;
	uint64_t e = msg->has_range ? msg->end_cycles : 0;
	char t1[SONDE_VIEW_TIME_MAX + 1], t2[SONDE_VIEW_TIME_MAX + 1];
	char uuid[40] = "";
	size_t n;

	struct loss_seen *seen = &p->loss_seen[((uintptr_t)s >> 6) &
						 (LOSS_SEEN_SIZE - 1)];
	uint64_t pkt_end = 0;
	bool have_end;

	if (!msg->count_known || !msg->count)
		return;
	have_end = packet_end_cycles(s, &pkt_end);
	if (msg->kind == SONDE_CTF_MSG_DISCARDED_PACKETS) {
		/* babeltrace 1.5 reports one loss per packet: when a packet
		 * shows both, only its discarded events. */
		if (have_end && seen->stream == s && seen->packet_end == pkt_end)
			return;
		if (have_end)
			e = pkt_end;
	} else if (have_end) {
		seen->stream = s;
		seen->packet_end = pkt_end;
	}
	n = fmt_stamp(p, t1, b, bt1_real(ti, s, b));
	t1[n] = '\0';
	n = fmt_stamp(p, t2, e, bt1_real(ti, s, e));
	t2[n] = '\0';
	if (ti) {
		/* Each byte with %x: babeltrace 1.5 drops leading zeros. */
		n = 0;
		for (int k = 0; k < 16; k++)
			n += (size_t)snprintf(uuid + n, sizeof(uuid) - n, "%x",
					      ti->tc->has_uuid ? ti->tc->uuid[k] : 0);
		size_t plen = strlen(ti->path);

		if (spath && !strncmp(spath, ti->path, plen) && spath[plen] == '/')
			rel = spath + plen + 1;
	}
	if (!rel)
		rel = "";
	if (msg->kind == SONDE_CTF_MSG_DISCARDED_EVENTS)
		warn(p, "[warning] Tracer discarded %" PRIu64 " events between [%s] and [%s] in trace UUID %s, at path: \"%s\", within stream id %" PRIu64 ", at relative path: \"%s\". You should consider recording a new trace with larger buffers or with fewer events enabled.\n",
		     msg->count, t1, t2, uuid, ti ? ti->path : "",
		     sc ? sc->id : 0, rel);
	else
		warn(p, "[warning] Tracer lost %" PRIu64 " trace packets between [%s] and [%s] in trace UUID %s, at path: \"%s\", within stream id %" PRIu64 ", at relative path: \"%s\". You should consider recording a new trace with larger buffers or with fewer events enabled.\n",
		     msg->count, t1, t2, uuid, ti ? ti->path : "",
		     sc ? sc->id : 0, rel);
}

/* JSON ---------------------------------------------------------------------------- */

static void json_string(struct sonde_view_printer *p, const char *s,
			size_t len)
{
	char *d = out_room(p, 6 * len + 2);

	if (!d)
		return;
	d[0] = '"';
	len = sonde_view_json_escape(d + 1, s, len);
	d[len + 1] = '"';
	p->len += len + 2;
}

static uint32_t json_value(struct sonde_view_printer *p,
			   const struct sonde_ctf_value *tape, uint32_t i);

static void json_int(struct sonde_view_printer *p, const struct sonde_ctf_type *t,
		     const struct sonde_ctf_value *v)
{
	if (t->u.integer.is_signed)
		out_s64(p, v->v.s);
	else
		out_u64(p, v->v.u);
}

static void json_chars(struct sonde_view_printer *p,
		       const struct sonde_ctf_value *v)
{
	const char *nul = memchr(v->v.str.ptr, '\0', v->v.str.len);

	json_string(p, v->v.str.ptr,
		    nul ? (size_t)(nul - v->v.str.ptr) : v->v.str.len);
}

static uint32_t json_struct(struct sonde_view_printer *p,
			    const struct sonde_ctf_value *tape, uint32_t i)
{
	const struct sonde_ctf_value *v = &tape[i];
	const struct member_names *mn = member_names(p, v->type);
	uint32_t j = i + 1;

	out_char(p, '{');
	for (uint64_t k = 0; k < v->v.count; k++) {
		if (mn && k < mn->count) {
			/* ,"name": without the comma for the first member */
			out_mem(p, mn->m[k].json + (k ? 0 : 1),
				mn->m[k].json_len - (k ? 0 : 1));
		} else {
			if (k)
				out_char(p, ',');
			out_lit(p, "\"?\":");
		}
		j = json_value(p, tape, j);
	}
	out_char(p, '}');
	return v->end;
}

static uint32_t json_value(struct sonde_view_printer *p,
			   const struct sonde_ctf_value *tape, uint32_t i)
{
	const struct sonde_ctf_value *v = &tape[i];
	const struct sonde_ctf_type *t = v->type;
	uint32_t j;

	switch (t->kind) {
	case SONDE_CTF_INT:
		json_int(p, t, v);
		break;
	case SONDE_CTF_FLOAT:
		if (v->v.d != v->v.d || v->v.d - v->v.d != 0) {
			out_lit(p, "null");  /* NaN and infinities */
		} else {
			char *d = out_room(p, 40);

			if (d) {
				int n = snprintf(d, 40, "%.17g", v->v.d);

				if (n > 0)
					p->len += (size_t)(n < 40 ? n : 39);
			}
		}
		break;
	case SONDE_CTF_STRING:
		json_string(p, v->v.str.ptr, v->v.str.len);
		break;
	case SONDE_CTF_ENUM: {
		const char *labels[16];
		size_t n = sonde_ctf_enum_labels(t, v, labels, 16);

		out_lit(p, "{\"value\":");
		json_int(p, t->u.enumeration.container, v);
		out_lit(p, ",\"labels\":[");
		for (size_t k = 0; k < n && k < 16; k++) {
			if (k)
				out_char(p, ',');
			json_string(p, labels[k], strlen(labels[k]));
		}
		out_lit(p, "]}");
		break;
	}
	case SONDE_CTF_STRUCT:
		return json_struct(p, tape, i);
	case SONDE_CTF_VARIANT: {
		const char *name = v->v.option < t->u.variant.count ?
			sonde_ctf_display_name(t->u.variant.options[v->v.option].name) :
			"?";

		out_char(p, '{');
		json_string(p, name, strlen(name));
		out_char(p, ':');
		if (i + 1 < v->end)
			json_value(p, tape, i + 1);
		else
			out_lit(p, "null");
		out_char(p, '}');
		return v->end;
	}
	case SONDE_CTF_ARRAY:
	case SONDE_CTF_SEQUENCE:
		if (t->kind == SONDE_CTF_ARRAY ? t->u.array.is_text :
		    t->u.sequence.is_text) {
			json_chars(p, v);
			break;
		}
		out_char(p, '[');
		j = i + 1;
		for (uint64_t k = 0; k < v->v.count; k++) {
			if (k)
				out_char(p, ',');
			j = json_value(p, tape, j);
		}
		out_char(p, ']');
		return v->end;
	}
	return v->end;
}

static void json_scope(struct sonde_view_printer *p, const char *key,
		       const struct sonde_ctf_value *tape, int32_t at)
{
	out_lit(p, ",\"");
	out_str(p, key);
	out_lit(p, "\":");
	if (tape && at >= 0)
		json_value(p, tape, (uint32_t)at);
	else
		out_lit(p, "null");
}

static void json_stream_ids(struct sonde_view_printer *p,
			    struct sonde_ctf_stream *s, struct trace_info *ti)
{
	const struct sonde_ctf_stream_class *sc = sonde_ctf_stream_class(s);

	out_lit(p, ",\"trace\":");
	if (ti)
		json_string(p, ti->path, strlen(ti->path));
	else
		out_lit(p, "null");
	out_lit(p, ",\"host\":");
	if (ti && ti->hostname)
		json_string(p, ti->hostname, strlen(ti->hostname));
	else
		out_lit(p, "null");
	out_lit(p, ",\"stream_class\":");
	out_u64(p, sc ? sc->id : 0);
	out_lit(p, ",\"stream\":");
	out_u64(p, sonde_ctf_stream_instance_id(s));
}

static void json_event(struct sonde_view_printer *p,
		       const struct sonde_ctf_event *ev)
{
	struct trace_info *ti = trace_info_of(p, ev->stream);
	const struct sonde_ctf_value *pkt;
	int32_t pkt_header = -1, pkt_ctx = -1, cpu = -1;

	if (p->len >= OUT_FLUSH_AT)
		out_flush(p);
	out_lit(p, "{\"type\":\"event\",\"name\":");
	json_string(p, ev->event_class->name, strlen(ev->event_class->name));
	out_lit(p, ",\"ts\":");
	if (ev->has_timestamp) {
		int64_t ns;

		sonde_view_event_time(p, ev, &ns);
		out_s64(p, ns);
		out_lit(p, ",\"cycles\":");
		out_u64(p, ev->cycles);
	} else {
		out_lit(p, "null,\"cycles\":null");
	}
	json_stream_ids(p, ev->stream, ti);
	pkt = sonde_ctf_stream_packet_values(ev->stream, &pkt_header, &pkt_ctx);
	if (pkt && pkt_ctx >= 0 && pkt[pkt_ctx].type->kind == SONDE_CTF_STRUCT)
		cpu = sonde_ctf_value_struct_member(pkt, pkt_ctx, "cpu_id");
	out_lit(p, ",\"cpu\":");
	if (cpu >= 0 && pkt[cpu].type->kind == SONDE_CTF_INT)
		json_int(p, pkt[cpu].type, &pkt[cpu]);
	else
		out_lit(p, "null");
	json_scope(p, "packet_context", pkt, pkt_ctx);
	if (p->opts.verbose)
		json_scope(p, "event_header", ev->values, ev->header);
	json_scope(p, "stream_context", ev->values, ev->stream_context);
	json_scope(p, "event_context", ev->values, ev->event_context);
	json_scope(p, "payload", ev->values, ev->payload);
	out_lit(p, "}\n");
}

static void json_discarded(struct sonde_view_printer *p,
			   const struct sonde_ctf_msg *msg)
{
	struct trace_info *ti = trace_info_of(p, msg->stream);
	const char *spath = sonde_ctf_stream_path(msg->stream);

	out_lit(p, "{\"type\":");
	if (msg->kind == SONDE_CTF_MSG_DISCARDED_EVENTS)
		out_lit(p, "\"discarded_events\"");
	else
		out_lit(p, "\"discarded_packets\"");
	out_lit(p, ",\"count\":");
	if (msg->count_known)
		out_u64(p, msg->count);
	else
		out_lit(p, "null");
	out_lit(p, ",\"begin_ns\":");
	if (msg->has_range)
		out_s64(p, msg->begin_ns);
	else
		out_lit(p, "null");
	out_lit(p, ",\"end_ns\":");
	if (msg->has_range)
		out_s64(p, msg->end_ns);
	else
		out_lit(p, "null");
	json_stream_ids(p, msg->stream, ti);
	out_lit(p, ",\"stream_path\":");
	if (spath)
		json_string(p, spath, strlen(spath));
	else
		out_lit(p, "null");
	out_lit(p, "}\n");
}

/* Public API ------------------------------------------------------------------- */

/* What the printer derives from each trace of its set, once. */
static int load_traces(struct sonde_view_printer *p)
{
	p->trace_count = p->set ? sonde_ctf_trace_set_trace_count(p->set) : 0;
	if (p->trace_count) {
		p->traces = calloc(p->trace_count, sizeof(*p->traces));
		if (!p->traces) {
			p->trace_count = 0;
			return -1;
		}
	}
	for (size_t i = 0; i < p->trace_count; i++) {
		struct trace_info *ti = &p->traces[i];
		struct sonde_ctf_trace *t = sonde_ctf_trace_set_trace(p->set, i);

		ti->trace = t;
		ti->tc = sonde_ctf_trace_get_class(t);
		ti->path = sonde_ctf_trace_path(t);
		if (!ti->path)
			ti->path = "";
	}
	compute_offsets(p);
	for (size_t i = 0; i < p->trace_count; i++)
		if (build_prefix(p, &p->traces[i]))
			return -1;
	return 0;
}

static void free_traces(struct sonde_view_printer *p)
{
	for (size_t i = 0; i < p->trace_count; i++) {
		free(p->traces[i].prefix);
		for (size_t k = 0; k < p->traces[i].proc_count; k++)
			dbg_free_proc(&p->traces[i].procs[k]);
		free(p->traces[i].procs);
	}
	free(p->traces);
	p->traces = NULL;
	p->trace_count = 0;
	p->last_trace = NULL;
	p->last_info = NULL;
}

int sonde_view_printer_create(const struct sonde_view_opts *opts,
			      struct sonde_ctf_trace_set *set,
			      int out_fd, int warn_fd,
			      struct sonde_view_printer **out,
			      struct sonde_error *err)
{
	struct sonde_view_printer *p = calloc(1, sizeof(*p));

	if (!p)
		goto nomem;
	p->opts = *opts;
	p->set = set;
	p->out_fd = out_fd;
	p->warn_fd = warn_fd;
	p->cap = OUT_CAP;
	p->buf = malloc(p->cap);
	if (!p->buf)
		goto nomem;
	p->end = p->buf + p->cap;
	p->fast_clock = !opts->clock_cycles && !opts->clock_seconds &&
			!opts->clock_offset_s && !opts->clock_offset_ns;
	p->simple_head = !(opts->names & SONDE_VIEW_NAMES_HEADER) &&
			 !(opts->fields & (SONDE_VIEW_FIELD_LOGLEVEL |
					   SONDE_VIEW_FIELD_EMF |
					   SONDE_VIEW_FIELD_ALL));
	p->pkt_cache = calloc(PKT_CACHE_SIZE, sizeof(*p->pkt_cache));
	p->head_cache = calloc(HEAD_CACHE_SIZE, sizeof(*p->head_cache));
	if (!p->pkt_cache || !p->head_cache)
		goto nomem;
	p->names_payload = opts->names & SONDE_VIEW_NAMES_PAYLOAD;
	p->names_context = opts->names & SONDE_VIEW_NAMES_CONTEXT;
	p->names_header = opts->names & SONDE_VIEW_NAMES_HEADER;
	p->names_scope = opts->names & SONDE_VIEW_NAMES_SCOPE;
	p->print_delta = !opts->no_delta ||
			 (opts->fields & SONDE_VIEW_FIELD_ALL);
	sonde_view_time_cache_init(&p->tcache);

	if (load_traces(p))
		goto nomem;
	*out = p;
	return 0;
nomem:
	sonde_view_printer_free(p);
	return sonde_error_set(err, SONDE_ENOMEM, "printer: out of memory");
}

static bool metadata_is_packetized(const char *trace_path)
{
	char path[4096];
	unsigned char magic[4];
	bool packetized = false;
	int fd;

	snprintf(path, sizeof(path), "%s/metadata", trace_path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, magic, 4) == 4)
		packetized = (magic[0] == 0x57 && magic[1] == 0x1d &&
			      magic[2] == 0xd1 && magic[3] == 0x75) ||
			     (magic[0] == 0x75 && magic[1] == 0xd1 &&
			      magic[2] == 0x1d && magic[3] == 0x57);
	close(fd);
	return packetized;
}

int sonde_view_print_metadata(struct sonde_view_printer *p,
			      struct sonde_error *err)
{
	size_t *order = bt1_trace_order(p);

	if (!order)
		return sonde_error_set(err, SONDE_ENOMEM, "printer: out of memory");
	for (size_t i = 0; i < p->trace_count; i++) {
		size_t len = 0;
		const char *text = sonde_ctf_trace_metadata_text(
			p->traces[order[i]].trace, &len);

		/* babeltrace 1.5 writes this line before the text of each
		 * packetized metadata (it rejects plain-text metadata). */
		if (metadata_is_packetized(p->traces[order[i]].path))
			out_lit(p, "/* CTF 1.8 */\n");
		if (text && len)
			p->len = (size_t)(put_mem(p, p->buf + p->len, text, len) -
					  p->buf);
	}
	free(order);
	return sonde_view_printer_flush(p, err);
}

int sonde_view_print_value(struct sonde_view_printer *p,
			   const struct sonde_ctf_value *tape, uint32_t i,
			   bool names)
{
	if (p->opts.format == SONDE_VIEW_JSON) {
		json_value(p, tape, i);
	} else {
		char *d = p->buf + p->len;

		p->line_start = p->len;
		d = text_value(p, d, tape, i, names);
		p->len = (size_t)(d - p->buf);
		p->line_start = p->len;
	}
	return sonde_view_printer_flush(p, NULL);
}

int sonde_view_print(struct sonde_view_printer *p,
		     const struct sonde_ctf_msg *msg, struct sonde_error *err)
{
	switch (p->opts.format) {
	case SONDE_VIEW_TEXT:
		if (msg->kind == SONDE_CTF_MSG_EVENT)
			text_event(p, msg->event);
		else
			text_discarded(p, msg);
		break;
	case SONDE_VIEW_JSON:
		if (msg->kind == SONDE_CTF_MSG_EVENT)
			json_event(p, msg->event);
		else
			json_discarded(p, msg);
		break;
	case SONDE_VIEW_DUMMY:
		break;
	}
	if (p->write_errno)
		return sonde_error_set(err, SONDE_EIO, "write: %s",
				       strerror(p->write_errno));
	return 0;
}

int sonde_view_printer_refresh(struct sonde_view_printer *p,
			       struct sonde_error *err)
{
	free_traces(p);
	/* Both caches key on trace information that was just rebuilt. */
	memset(p->pkt_cache, 0, PKT_CACHE_SIZE * sizeof(*p->pkt_cache));
	memset(p->head_cache, 0, HEAD_CACHE_SIZE * sizeof(*p->head_cache));
	if (load_traces(p))
		return sonde_error_set(err, SONDE_ENOMEM, "printer: out of memory");
	return 0;
}

int sonde_view_printer_flush(struct sonde_view_printer *p,
			     struct sonde_error *err)
{
	out_flush(p);
	if (p->write_errno)
		return sonde_error_set(err, SONDE_EIO, "write: %s",
				       strerror(p->write_errno));
	return 0;
}

void sonde_view_printer_free(struct sonde_view_printer *p)
{
	if (!p)
		return;
	if (p->buf)
		out_flush(p);
	free_traces(p);
	for (size_t i = 0; i < p->names.cap; i++)
		free(p->names.slots[i]);
	free(p->names.slots);
	free(p->pkt_cache);
	free(p->head_cache);
	free(p->buf);
	free(p);
}
