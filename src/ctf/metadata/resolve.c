/*
 * Semantic pass over the dynamic scopes of a parsed trace class.
 *
 * Types are shared through typealiases, but a sequence's length slot, a
 * variant's tag and a field's role depend on where the type is used.  So
 * every dynamic scope (packet header, each stream's packet context, event
 * header and event context, each event's context and fields) gets its own
 * copy of its compound type nodes before anything is written into them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/metadata/metadata-internal.h"

enum scope {
	SCOPE_PACKET_HEADER,
	SCOPE_PACKET_CONTEXT,
	SCOPE_EVENT_HEADER,
	SCOPE_EVENT_CONTEXT,
	SCOPE_EVENT_SPECIFIC_CONTEXT,
	SCOPE_EVENT_FIELDS,
	SCOPE_COUNT,
};

static const char *const scope_prefix[SCOPE_COUNT] = {
	"trace.packet.header.", "stream.packet.context.", "stream.event.header.",
	"stream.event.context.", "event.context.", "event.fields.",
};

struct frame {
	const struct sonde_ctf_type *type;   /* a struct */
	size_t index;                        /* member being resolved */
};

struct rctx {
	struct md_trace_class *tc;
	const char *origin;
	struct sonde_error *err;
	const struct sonde_ctf_type *roots[SCOPE_COUNT];
	enum scope scope;
	const char *where;                   /* "event 'x'", for messages */
	struct frame frames[MD_MAX_DEPTH + 2];
	size_t nframes;
};

static int rerr(struct rctx *r, const struct sonde_ctf_type *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int rerr(struct rctx *r, const struct sonde_ctf_type *at, const char *fmt, ...)
{
	char msg[SONDE_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at)
		sonde_error_set(r->err, SONDE_EFORMAT, "%s:%u: %s (in %s)",
				r->origin, md_type(at)->line, msg, r->where);
	else
		sonde_error_set(r->err, SONDE_EFORMAT, "%s: %s (in %s)", r->origin,
				msg, r->where);
	return md_error_sanitize(r->err, SONDE_EFORMAT);
}

static int rnomem(struct rctx *r)
{
	return sonde_error_set(r->err, SONDE_ENOMEM,
			       "%s: out of memory or metadata too complex", r->origin);
}

struct md_type *md_type_copy(struct sonde_arena *a, const struct sonde_ctf_type *t)
{
	struct md_type *c;

	switch (t->kind) {
	case SONDE_CTF_STRUCT:
	case SONDE_CTF_VARIANT:
	case SONDE_CTF_ARRAY:
	case SONDE_CTF_SEQUENCE:
		break;
	default:
		return md_type(t);
	}
	c = sonde_arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *md_type(t);
	if (t->kind == SONDE_CTF_STRUCT || t->kind == SONDE_CTF_VARIANT) {
		size_t n = t->kind == SONDE_CTF_STRUCT ? t->u.structure.count :
			   t->u.variant.count;
		const struct sonde_ctf_field_decl *src = t->kind == SONDE_CTF_STRUCT ?
			t->u.structure.fields : t->u.variant.options;
		struct sonde_ctf_field_decl *f = NULL;

		if (n) {
			f = sonde_arena_alloc(a, n * sizeof(*f));
			if (!f)
				return NULL;
		}
		for (size_t i = 0; i < n; i++) {
			struct md_type *ft = md_type_copy(a, src[i].type);

			if (!ft)
				return NULL;
			f[i] = src[i];
			f[i].type = &ft->pub;
		}
		if (t->kind == SONDE_CTF_STRUCT)
			c->pub.u.structure.fields = f;
		else
			c->pub.u.variant.options = f;
	} else if (t->kind == SONDE_CTF_ARRAY) {
		struct md_type *e = md_type_copy(a, t->u.array.element);

		if (!e)
			return NULL;
		c->pub.u.array.element = &e->pub;
	} else {
		struct md_type *e = md_type_copy(a, t->u.sequence.element);

		if (!e)
			return NULL;
		c->pub.u.sequence.element = &e->pub;
	}
	return c;
}

static struct sonde_ctf_field_decl *
find_member(const struct sonde_ctf_type *s, size_t count, const char *name,
	    size_t len)
{
	const struct sonde_ctf_field_decl *f = s->u.structure.fields;

	/* Backwards: a length field usually just precedes its sequence.
	 * Names are unique within a struct, so the order does not matter
	 * otherwise. */
	for (size_t i = count; i-- > 0;) {
		if (strlen(f[i].name) == len && !memcmp(f[i].name, name, len))
			return (struct sonde_ctf_field_decl *)&f[i];
	}
	return NULL;
}

/* Follows a dotted path from struct `s`, whose first `count` members are
 * visible. */
static struct sonde_ctf_field_decl *
follow(const struct sonde_ctf_type *s, size_t count, const char *path)
{
	for (;;) {
		size_t len = strcspn(path, ".");
		struct sonde_ctf_field_decl *d = find_member(s, count, path, len);

		if (!d || !path[len])
			return d;
		s = d->type;
		if (s->kind != SONDE_CTF_STRUCT)
			return NULL;
		count = s->u.structure.count;
		path += len + 1;
	}
}

/* An absolute path into the scope being resolved may only name a field
 * decoded before the current one: along the frames, members up to the
 * current one's ancestor are visible, and the ancestor itself only as a
 * prefix of the path. */
static struct sonde_ctf_field_decl *follow_current_scope(struct rctx *r,
							 const char *path)
{
	const struct sonde_ctf_type *s = r->roots[r->scope];
	bool restricted = true;
	size_t k = 0;

	for (;;) {
		size_t len = strcspn(path, ".");
		bool on_frame = restricted && k < r->nframes && r->frames[k].type == s;
		size_t count = on_frame ? r->frames[k].index + 1 : s->u.structure.count;
		struct sonde_ctf_field_decl *d = find_member(s, count, path, len);

		if (!d)
			return NULL;
		if (on_frame && d == &s->u.structure.fields[r->frames[k].index]) {
			if (!path[len])
				return NULL;   /* the field itself or an ancestor */
			k++;
		} else {
			restricted = false;
		}
		if (!path[len])
			return d;
		s = d->type;
		if (s->kind != SONDE_CTF_STRUCT)
			return NULL;
		path += len + 1;
	}
}

/*
 * Resolves a sequence length or variant tag.  Relative paths look in the
 * members preceding the current one, then in each enclosing struct of the
 * same scope; a candidate of the wrong type is passed over in favour of an
 * outer one (ctf-testsuite sequence-typedef-length), and reported only when
 * nothing fits.
 */
static int lookup(struct rctx *r, const struct sonde_ctf_type *at,
		  const char *path, int (*fits)(const struct sonde_ctf_type *),
		  const char *what, struct sonde_ctf_field_decl **out)
{
	struct sonde_ctf_field_decl *bad = NULL, *d;

	if (!strncmp(path, "env.", 4))
		return rerr(r, at, "%s '%s' refers to the environment, which is not supported",
			    what, path);
	for (int s = 0; s < SCOPE_COUNT; s++) {
		size_t plen = strlen(scope_prefix[s]);

		if (strncmp(path, scope_prefix[s], plen))
			continue;
		if (s > (int)r->scope)
			return rerr(r, at, "%s '%s' refers to a later scope", what, path);
		if (!r->roots[s])
			return rerr(r, at, "%s '%s' refers to an absent scope", what, path);
		if (s == (int)r->scope)
			d = follow_current_scope(r, path + plen);
		else
			d = follow(r->roots[s], r->roots[s]->u.structure.count, path + plen);
		if (!d)
			return rerr(r, at, "%s '%s' not found", what, path);
		if (!fits(d->type))
			return rerr(r, at, "%s '%s' has the wrong type", what, path);
		*out = d;
		return 0;
	}
	for (size_t k = r->nframes; k-- > 0;) {
		d = follow(r->frames[k].type, r->frames[k].index, path);
		if (!d)
			continue;
		if (fits(d->type)) {
			*out = d;
			return 0;
		}
		if (!bad)
			bad = d;
	}
	if (bad)
		return rerr(r, at, "%s '%s' has the wrong type", what, path);
	return rerr(r, at, "%s '%s' not found", what, path);
}

static int assign_slot(struct rctx *r, struct sonde_ctf_field_decl *d)
{
	if (d->slot < 0) {
		if (r->tc->pub.slot_count >= INT32_MAX)
			return rnomem(r);
		d->slot = (int32_t)r->tc->pub.slot_count++;
	}
	return 0;
}

struct named_option {
	const char *name;
	uint32_t index;
};

static int cmp_option(const void *a, const void *b)
{
	return strcmp(((const struct named_option *)a)->name,
		      ((const struct named_option *)b)->name);
}

/* Sort key of a range: lo mapped to an unsigned order (sign bit flipped
 * for signed containers), then declaration order for stability. */
struct keyed_range {
	uint64_t key;
	size_t order;
	struct sonde_ctf_variant_range r;
};

static int cmp_keyed_range(const void *a, const void *b)
{
	const struct keyed_range *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int variant_ranges(struct rctx *r, struct sonde_ctf_type *v)
{
	const struct sonde_ctf_type *e = v->u.variant.tag_type;
	size_t nm = e->u.enumeration.count, no = v->u.variant.count, nr = 0;
	struct named_option *opts = malloc((no ? no : 1) * sizeof(*opts));
	struct sonde_ctf_variant_range *ranges =
		sonde_arena_alloc(&r->tc->arena, (nm ? nm : 1) * sizeof(*ranges));

	if (!opts || !ranges) {
		free(opts);
		return rnomem(r);
	}
	for (size_t i = 0; i < no; i++) {
		opts[i].name = v->u.variant.options[i].name;
		opts[i].index = (uint32_t)i;
	}
	qsort(opts, no, sizeof(*opts), cmp_option);
	for (size_t m = 0; m < nm; m++) {
		const struct sonde_ctf_enum_mapping *map = &e->u.enumeration.mappings[m];
		struct named_option key = { map->label, 0 };
		const struct named_option *o =
			bsearch(&key, opts, no, sizeof(*opts), cmp_option);

		if (!o)
			continue;
		ranges[nr].lo.u = map->lo.u;
		ranges[nr].hi.u = map->hi.u;
		ranges[nr].option = o->index;
		nr++;
	}
	free(opts);
	if (!nr)
		return rerr(r, v, "no label of tag '%s' names an option of the variant",
			    v->u.variant.tag_name);
	{
		struct keyed_range *k = malloc(nr * sizeof(*k));
		bool sgn = e->u.enumeration.container->u.integer.is_signed;

		if (!k)
			return rnomem(r);
		for (size_t i = 0; i < nr; i++) {
			k[i].key = sgn ? ranges[i].lo.u ^ (UINT64_C(1) << 63) : ranges[i].lo.u;
			k[i].order = i;
			k[i].r = ranges[i];
		}
		qsort(k, nr, sizeof(*k), cmp_keyed_range);
		for (size_t i = 0; i < nr; i++)
			ranges[i] = k[i].r;
		free(k);
	}
	v->u.variant.ranges = ranges;
	v->u.variant.range_count = nr;
	return 0;
}

static int walk(struct rctx *r, const struct sonde_ctf_type *ct)
{
	struct sonde_ctf_type *t = (struct sonde_ctf_type *)ct;
	struct sonde_ctf_field_decl *d;
	int ret;

	switch (t->kind) {
	case SONDE_CTF_STRUCT:
		if (r->nframes >= sizeof(r->frames) / sizeof(r->frames[0]))
			return rerr(r, t, "type nesting too deep");
		r->frames[r->nframes].type = t;
		r->nframes++;
		for (size_t i = 0; i < t->u.structure.count; i++) {
			r->frames[r->nframes - 1].index = i;
			ret = walk(r, t->u.structure.fields[i].type);
			if (ret)
				return ret;
		}
		r->nframes--;
		return 0;
	case SONDE_CTF_VARIANT:
		if (!md_type(t)->path)
			return rerr(r, t, "variant has no tag");
		ret = lookup(r, t, md_type(t)->path, md_check_tag_type,
			     "variant tag", &d);
		if (!ret)
			ret = assign_slot(r, d);
		if (ret)
			return ret;
		t->u.variant.tag_slot = d->slot;
		t->u.variant.tag_type = d->type;
		ret = variant_ranges(r, t);
		if (ret)
			return ret;
		for (size_t i = 0; i < t->u.variant.count; i++) {
			ret = walk(r, t->u.variant.options[i].type);
			if (ret)
				return ret;
		}
		return 0;
	case SONDE_CTF_ARRAY:
		return walk(r, t->u.array.element);
	case SONDE_CTF_SEQUENCE:
		ret = lookup(r, t, md_type(t)->path, md_check_length_type,
			     "sequence length", &d);
		if (!ret)
			ret = assign_slot(r, d);
		if (ret)
			return ret;
		t->u.sequence.length_slot = d->slot;
		return walk(r, t->u.sequence.element);
	default:
		return 0;
	}
}

/* Copies the root of a scope and resolves its paths. */
static int resolve_scope(struct rctx *r, enum scope s, const struct sonde_ctf_type **root)
{
	struct md_type *c;

	r->scope = s;
	for (int i = s; i < SCOPE_COUNT; i++)
		r->roots[i] = NULL;
	if (!*root)
		return 0;
	c = md_type_copy(&r->tc->arena, *root);
	if (!c)
		return rnomem(r);
	*root = &c->pub;
	r->roots[s] = &c->pub;
	r->nframes = 0;
	return walk(r, &c->pub);
}

static bool is_uint_like(const struct sonde_ctf_type *t)
{
	if (t->kind == SONDE_CTF_ENUM)
		t = t->u.enumeration.container;
	return t->kind == SONDE_CTF_INT && !t->u.integer.is_signed;
}

struct role_name {
	const char *name;
	uint8_t role;
};

static int assign_roles(struct rctx *r, const struct sonde_ctf_type *root,
			const struct role_name *names, size_t count)
{
	for (size_t i = 0; i < root->u.structure.count; i++) {
		struct sonde_ctf_field_decl *f =
			(struct sonde_ctf_field_decl *)&root->u.structure.fields[i];

		for (size_t k = 0; k < count; k++) {
			const struct sonde_ctf_type *t = f->type;

			if (strcmp(f->name, names[k].name))
				continue;
			if (names[k].role == SONDE_CTF_ROLE_MAGIC) {
				if (t->kind != SONDE_CTF_INT || t->u.integer.size != 32)
					return rerr(r, t, "'magic' must be a 32-bit integer");
			} else if (names[k].role == SONDE_CTF_ROLE_TRACE_UUID) {
				const struct sonde_ctf_type *e = t->u.array.element;

				if (t->kind != SONDE_CTF_ARRAY || t->u.array.length != 16 ||
				    e->kind != SONDE_CTF_INT || e->u.integer.size != 8)
					return rerr(r, t, "'uuid' must be an array of 16 bytes");
			} else if (!is_uint_like(t)) {
				return rerr(r, t, "'%s' must be an unsigned integer",
					    f->name);
			}
			f->role = names[k].role;
		}
	}
	return 0;
}

/* Every `id` in the event header, also inside the variant's structs. */
static int assign_event_id_roles(struct rctx *r, const struct sonde_ctf_type *t)
{
	const struct sonde_ctf_field_decl *f;
	size_t n;

	if (t->kind == SONDE_CTF_STRUCT) {
		f = t->u.structure.fields;
		n = t->u.structure.count;
	} else if (t->kind == SONDE_CTF_VARIANT) {
		f = t->u.variant.options;
		n = t->u.variant.count;
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct sonde_ctf_field_decl *fd = (struct sonde_ctf_field_decl *)&f[i];

		if (t->kind == SONDE_CTF_STRUCT && !strcmp(fd->name, "id")) {
			if (!is_uint_like(fd->type))
				return rerr(r, fd->type, "event header 'id' must be an unsigned integer");
			fd->role = SONDE_CTF_ROLE_EVENT_ID;
		} else {
			int ret = assign_event_id_roles(r, fd->type);

			if (ret)
				return ret;
		}
	}
	return 0;
}

static const struct sonde_ctf_clock *find_mapped_clock(const struct sonde_ctf_type *t)
{
	const struct sonde_ctf_field_decl *f = NULL;
	size_t n = 0;

	switch (t->kind) {
	case SONDE_CTF_INT:
		return t->u.integer.mapped_clock;
	case SONDE_CTF_ENUM:
		return t->u.enumeration.container->u.integer.mapped_clock;
	case SONDE_CTF_STRUCT:
		f = t->u.structure.fields;
		n = t->u.structure.count;
		break;
	case SONDE_CTF_VARIANT:
		f = t->u.variant.options;
		n = t->u.variant.count;
		break;
	default:
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sonde_ctf_clock *c = find_mapped_clock(f[i].type);

		if (c)
			return c;
	}
	return NULL;
}

/*
 * Metadata without any clock (LTTng 2.0 pre-releases) still has timestamps:
 * babeltrace 1.5 reads the event header's `timestamp` fields and the packet's
 * `timestamp_begin`/`timestamp_end` by name, as ns from the epoch.  Giving
 * such fields an implicit 1 GHz clock reproduces that.  The integer types are
 * copied before being mapped because aliases share them with unrelated
 * fields (content_size is a uint64_t too).
 */
static int map_implicit_clock(struct rctx *r, const struct sonde_ctf_type *t,
			      const char *name, const struct sonde_ctf_clock *clock)
{
	struct sonde_ctf_field_decl *f;
	size_t n;

	if (t->kind == SONDE_CTF_STRUCT) {
		f = (struct sonde_ctf_field_decl *)t->u.structure.fields;
		n = t->u.structure.count;
	} else if (t->kind == SONDE_CTF_VARIANT) {
		f = (struct sonde_ctf_field_decl *)t->u.variant.options;
		n = t->u.variant.count;
	} else {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct md_type *copy;

		if (f[i].type->kind != SONDE_CTF_INT) {
			int ret = map_implicit_clock(r, f[i].type, name, clock);

			if (ret)
				return ret;
			continue;
		}
		if (strcmp(f[i].name, name) || f[i].type->u.integer.mapped_clock)
			continue;
		copy = sonde_arena_alloc(&r->tc->arena, sizeof(*copy));
		if (!copy)
			return rerr(r, f[i].type, "metadata too complex");
		*copy = *md_type(f[i].type);
		copy->pub.u.integer.mapped_clock = clock;
		f[i].type = &copy->pub;
	}
	return 0;
}

static int add_implicit_clock(struct rctx *r, struct sonde_ctf_stream_class *sc,
			      const struct sonde_ctf_type *pc,
			      const struct sonde_ctf_type *eh)
{
	struct sonde_ctf_clock *clock;
	int ret;

	clock = sonde_arena_alloc(&r->tc->arena, sizeof(*clock));
	if (!clock)
		return rerr(r, eh, "metadata too complex");
	clock->name = "implicit";
	clock->freq = 1000000000;
	ret = map_implicit_clock(r, eh, "timestamp", clock);
	if (!ret && pc)
		ret = map_implicit_clock(r, pc, "timestamp_begin", clock);
	if (!ret && pc)
		ret = map_implicit_clock(r, pc, "timestamp_end", clock);
	if (!ret && find_mapped_clock(eh))
		sc->clock = clock;
	return ret;
}

static const struct role_name header_roles[] = {
	{ "magic", SONDE_CTF_ROLE_MAGIC },
	{ "uuid", SONDE_CTF_ROLE_TRACE_UUID },
	{ "stream_id", SONDE_CTF_ROLE_STREAM_ID },
	{ "stream_instance_id", SONDE_CTF_ROLE_STREAM_INSTANCE_ID },
};

static const struct role_name context_roles[] = {
	{ "timestamp_begin", SONDE_CTF_ROLE_TIMESTAMP_BEGIN },
	{ "timestamp_end", SONDE_CTF_ROLE_TIMESTAMP_END },
	{ "content_size", SONDE_CTF_ROLE_CONTENT_SIZE },
	{ "packet_size", SONDE_CTF_ROLE_PACKET_SIZE },
	{ "events_discarded", SONDE_CTF_ROLE_EVENTS_DISCARDED },
	{ "packet_seq_num", SONDE_CTF_ROLE_PACKET_SEQ_NUM },
};

int md_resolve(struct md_trace_class *tc, const char *origin,
	       struct sonde_error *err)
{
	struct rctx *r = calloc(1, sizeof(*r));
	struct sonde_ctf_trace_class *pub = &tc->pub;
	char where[160];
	int ret;

	if (!r)
		return sonde_error_set(err, SONDE_ENOMEM, "%s: out of memory", origin);
	r->tc = tc;
	r->origin = origin;
	r->err = err;
	r->where = "trace.packet.header";
	ret = resolve_scope(r, SCOPE_PACKET_HEADER, &pub->packet_header);
	if (!ret && pub->packet_header)
		ret = assign_roles(r, pub->packet_header, header_roles,
				   sizeof(header_roles) / sizeof(header_roles[0]));
	for (size_t s = 0; !ret && s < pub->stream_class_count; s++) {
		struct sonde_ctf_stream_class *sc =
			(struct sonde_ctf_stream_class *)pub->stream_classes[s];
		const struct sonde_ctf_type *pc, *eh, *ec;

		snprintf(where, sizeof(where), "stream %" PRIu64, sc->id);
		r->where = where;
		ret = resolve_scope(r, SCOPE_PACKET_CONTEXT, &sc->packet_context);
		if (!ret && sc->packet_context)
			ret = assign_roles(r, sc->packet_context, context_roles,
					   sizeof(context_roles) / sizeof(context_roles[0]));
		if (!ret)
			ret = resolve_scope(r, SCOPE_EVENT_HEADER, &sc->event_header);
		if (!ret && sc->event_header)
			ret = assign_event_id_roles(r, sc->event_header);
		if (!ret)
			ret = resolve_scope(r, SCOPE_EVENT_CONTEXT, &sc->event_context);
		if (ret)
			break;
		pc = r->roots[SCOPE_PACKET_CONTEXT];
		eh = r->roots[SCOPE_EVENT_HEADER];
		ec = r->roots[SCOPE_EVENT_CONTEXT];
		if (eh)
			sc->clock = find_mapped_clock(eh);
		if (!sc->clock && pc) {
			for (size_t i = 0; i < pc->u.structure.count; i++)
				if (pc->u.structure.fields[i].role == SONDE_CTF_ROLE_TIMESTAMP_BEGIN)
					sc->clock = find_mapped_clock(pc->u.structure.fields[i].type);
		}
		if (!sc->clock && pub->clock_count == 1)
			sc->clock = pub->clocks[0];
		if (!sc->clock && !pub->clock_count && eh)
			ret = add_implicit_clock(r, sc, pc, eh);
		for (size_t e = 0; !ret && e < sc->event_class_count; e++) {
			struct sonde_ctf_event_class *ev =
				(struct sonde_ctf_event_class *)sc->event_classes[e];

			snprintf(where, sizeof(where), "event '%.100s'", ev->name);
			r->roots[SCOPE_PACKET_CONTEXT] = pc;
			r->roots[SCOPE_EVENT_HEADER] = eh;
			r->roots[SCOPE_EVENT_CONTEXT] = ec;
			ret = resolve_scope(r, SCOPE_EVENT_SPECIFIC_CONTEXT, &ev->context);
			if (!ret)
				ret = resolve_scope(r, SCOPE_EVENT_FIELDS, &ev->fields);
		}
	}
	free(r);
	return ret;
}
