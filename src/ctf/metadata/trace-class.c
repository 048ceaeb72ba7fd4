/* Lookups and conversions on a loaded trace class. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/metadata/metadata-internal.h"

void sonde_ctf_trace_class_free(struct sonde_ctf_trace_class *tc)
{
	struct md_trace_class *m;

	if (!tc)
		return;
	m = md_tc(tc);
	sonde_arena_release(&m->arena);
	free(m);
}

const struct sonde_ctf_stream_class *
sonde_ctf_trace_class_find_stream_class(const struct sonde_ctf_trace_class *tc,
					uint64_t id)
{
	for (size_t i = 0; i < tc->stream_class_count; i++) {
		if (tc->stream_classes[i]->id == id)
			return tc->stream_classes[i];
	}
	return NULL;
}

static int cmp_event_id(const void *a, const void *b)
{
	const struct sonde_ctf_event_class *x = *(const struct sonde_ctf_event_class *const *)a;
	const struct sonde_ctf_event_class *y = *(const struct sonde_ctf_event_class *const *)b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	/* Keep declaration order among equal ids (for the duplicate report). */
	return x < y ? -1 : x > y;
}

int md_stream_class_index(struct sonde_arena *a, struct md_stream_class *sc,
			  uint64_t *dup_id)
{
	size_t n = sc->pub.event_class_count;
	const struct sonde_ctf_event_class **sorted;
	uint64_t max_id;

	if (!n)
		return 0;
	sorted = sonde_arena_alloc(a, n * sizeof(*sorted));
	if (!sorted)
		return SONDE_ENOMEM;
	memcpy(sorted, sc->pub.event_classes, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_event_id);
	for (size_t i = 1; i < n; i++) {
		if (sorted[i]->id == sorted[i - 1]->id) {
			*dup_id = sorted[i]->id;
			return SONDE_EFORMAT;
		}
	}
	sc->sorted = sorted;
	max_id = sorted[n - 1]->id;
	/* A direct table when it wastes at most a few slots per class. */
	if (max_id < 4 * (uint64_t)n + 64) {
		sc->by_id = sonde_arena_alloc(a, (size_t)(max_id + 1) * sizeof(*sc->by_id));
		if (!sc->by_id)
			return SONDE_ENOMEM;
		for (size_t i = 0; i < n; i++)
			sc->by_id[sorted[i]->id] = sorted[i];
		sc->by_id_len = max_id + 1;
	}
	return 0;
}

const struct sonde_ctf_event_class *
sonde_ctf_stream_class_find_event_class(const struct sonde_ctf_stream_class *sc,
					uint64_t id)
{
	const struct md_stream_class *m = (const struct md_stream_class *)sc;
	size_t lo = 0, hi = sc->event_class_count;

	if (m->by_id)
		return id < m->by_id_len ? m->by_id[id] : NULL;
	if (!m->sorted)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->sorted[mid]->id == id)
			return m->sorted[mid];
		if (m->sorted[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct sonde_ctf_env_entry *
sonde_ctf_trace_class_env(const struct sonde_ctf_trace_class *tc, const char *key)
{
	for (size_t i = 0; i < tc->env_count; i++) {
		if (!strcmp(tc->env[i].key, key))
			return &tc->env[i];
	}
	return NULL;
}

/* Cycles -> ns as babeltrace 1.5 computes them for frequencies other than
 * 1 GHz (through a double, truncated), so that printed times match its
 * output to the nanosecond.  false if the result is out of range. */
static bool cycles_to_ns_like_babeltrace(int64_t cycles_signed, uint64_t cycles,
					 bool is_signed, uint64_t freq, int64_t *ns)
{
	double d = (is_signed ? (double)cycles_signed : (double)cycles) * 1e9 /
		   (double)freq;

	if (!(d < 9223372036854775808.0 && d >= -9223372036854775808.0))
		return false;
	*ns = (int64_t)d;
	return true;
}

int sonde_ctf_clock_to_ns(const struct sonde_ctf_clock *clock, uint64_t cycles,
			  int64_t *ns)
{
	__extension__ typedef __int128 i128;
	const i128 ns_per_s = 1000000000;
	i128 total;

	if (!clock || !clock->freq)
		return SONDE_EINVAL;
	total = (i128)clock->offset_s * ns_per_s;
	if (clock->freq == 1000000000) {
		total += (i128)clock->offset + (i128)cycles;
	} else {
		int64_t off_ns, cyc_ns;

		if (!cycles_to_ns_like_babeltrace(clock->offset, 0, true, clock->freq,
						  &off_ns) ||
		    !cycles_to_ns_like_babeltrace(0, cycles, false, clock->freq,
						  &cyc_ns))
			return SONDE_EFORMAT;
		total += (i128)off_ns + (i128)cyc_ns;
	}
	if (total > INT64_MAX || total < INT64_MIN)
		return SONDE_EFORMAT;
	*ns = (int64_t)total;
	return 0;
}

size_t sonde_ctf_enum_labels(const struct sonde_ctf_type *enum_type,
			     const struct sonde_ctf_value *v,
			     const char **labels, size_t max)
{
	const struct sonde_ctf_type *c = enum_type->u.enumeration.container;
	bool sgn = c->u.integer.is_signed;
	size_t n = 0;

	for (size_t i = 0; i < enum_type->u.enumeration.count; i++) {
		const struct sonde_ctf_enum_mapping *m = &enum_type->u.enumeration.mappings[i];
		bool in = sgn ? (v->v.s >= m->lo.s && v->v.s <= m->hi.s) :
			  (v->v.u >= m->lo.u && v->v.u <= m->hi.u);

		if (!in)
			continue;
		if (n < max)
			labels[n] = m->label;
		n++;
	}
	return n;
}
