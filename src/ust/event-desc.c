/* Event descriptions as control-protocol fields (see event-desc.h). */
#include "ust/event-desc.h"

#include <string.h>

#include "common/arena.h"

static uint64_t pack_int(const struct sonde_ctfw_int_type *t)
{
	return (uint64_t)t->size | (uint64_t)t->is_signed << 8 |
	       (uint64_t)t->base << 16 | (uint64_t)t->order << 24 |
	       (uint64_t)t->encoding << 32;
}

void sonde_ust_event_desc_put(struct sonde_ctl_writer *w,
			      const struct sonde_tp_event *ev)
{
	uint32_t i, j;

	sonde_ctl_put_str(w, SONDE_CTL_T_NAME, ev->name);
	sonde_ctl_put_i64(w, SONDE_CTL_T_LOGLEVEL, ev->loglevel);
	for (i = 0; i < ev->field_count; i++) {
		const struct sonde_ctfw_field *f = &ev->fields[i];

		sonde_ctl_rec_begin(w, SONDE_CTL_T_FIELD_REC);
		sonde_ctl_put_str(w, SONDE_CTL_T_LABEL, f->name);
		sonde_ctl_put_u64(w, SONDE_CTL_T_KIND, f->kind);
		sonde_ctl_put_u64(w, SONDE_CTL_T_INT_TYPE, pack_int(&f->integer));
		sonde_ctl_put_u64(w, SONDE_CTL_T_LENGTH_TYPE, pack_int(&f->length));
		sonde_ctl_put_u64(w, SONDE_CTL_T_COUNT, f->count);
		sonde_ctl_put_u64(w, SONDE_CTL_T_FLOAT_BITS, f->float_bits);
		if (f->kind == SONDE_CTFW_FIELD_ENUM)
			for (j = 0; j < f->count; j++) {
				sonde_ctl_rec_begin(w, SONDE_CTL_T_ENUM_REC);
				sonde_ctl_put_str(w, SONDE_CTL_T_LABEL,
						  f->entries[j].label);
				sonde_ctl_put_i64(w, SONDE_CTL_T_LO, f->entries[j].lo);
				sonde_ctl_put_i64(w, SONDE_CTL_T_HI, f->entries[j].hi);
				sonde_ctl_rec_end(w);
			}
		sonde_ctl_rec_end(w);
	}
}

/* [A-Za-z_][A-Za-z0-9_]* for fields; event names also allow ':' '.' '-'. */
static bool valid_name(const char *s, bool event)
{
	size_t i;

	if (!s || !s[0] || strlen(s) > 255)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '_' || (i && c >= '0' && c <= '9'))
			continue;
		if (event && (c == ':' || c == '.' || c == '-' ||
			      (c >= '0' && c <= '9')))
			continue;
		return false;
	}
	return true;
}

/* Enum labels are quoted in TSDL: printable, no quote, no backslash. */
static bool valid_label(const char *s)
{
	size_t i;

	if (!s || strlen(s) > 255)
		return false;
	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == '"' || s[i] == '\\' ||
		    s[i] == 0x7f)
			return false;
	return true;
}

static bool unpack_int(uint64_t v, struct sonde_ctfw_int_type *t)
{
	t->size = (uint8_t)v;
	t->is_signed = (v >> 8 & 0xff) != 0;
	t->base = (uint8_t)(v >> 16);
	t->order = (uint8_t)(v >> 24);
	t->encoding = (uint8_t)(v >> 32);
	return (t->size == 8 || t->size == 16 || t->size == 32 ||
		t->size == 64) &&
	       (v >> 8 & 0xff) <= 1 &&
	       (t->base == 2 || t->base == 8 || t->base == 10 ||
		t->base == 16) &&
	       t->order <= SONDE_CTFW_ORDER_BE &&
	       t->encoding <= SONDE_CTF_ENC_ASCII && (v >> 40) == 0;
}

/* Does an enum value fit its container (TSDL readers check)? */
static bool fits(const struct sonde_ctfw_int_type *t, int64_t v)
{
	if (t->is_signed)
		return t->size == 64 ||
		       (v >= -(INT64_C(1) << (t->size - 1)) &&
			v < (INT64_C(1) << (t->size - 1)));
	return v >= 0 && (t->size == 64 || v < (INT64_C(1) << t->size));
}

static int get_field(const struct sonde_ctl_rec *rec, struct sonde_arena *arena,
		     struct sonde_ctfw_field *f, struct sonde_error *err)
{
	uint64_t kind = 0, it = 0, lt = 0, count = 0, fbits = 0;
	size_t i, n = 0;

	f->name = sonde_ctl_get_str(rec, SONDE_CTL_T_LABEL);
	if (!valid_name(f->name, false))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "app event: invalid field name");
	sonde_ctl_get_u64(rec, SONDE_CTL_T_KIND, &kind);
	sonde_ctl_get_u64(rec, SONDE_CTL_T_INT_TYPE, &it);
	sonde_ctl_get_u64(rec, SONDE_CTL_T_LENGTH_TYPE, &lt);
	sonde_ctl_get_u64(rec, SONDE_CTL_T_COUNT, &count);
	sonde_ctl_get_u64(rec, SONDE_CTL_T_FLOAT_BITS, &fbits);
	f->kind = (enum sonde_ctfw_field_kind)kind;
	switch (kind) {
	case SONDE_CTFW_FIELD_INT:
	case SONDE_CTFW_FIELD_ARRAY:
	case SONDE_CTFW_FIELD_ENUM:
		if (!unpack_int(it, &f->integer))
			goto bad;
		break;
	case SONDE_CTFW_FIELD_SEQUENCE:
		if (!unpack_int(it, &f->integer) || !unpack_int(lt, &f->length) ||
		    f->length.is_signed)
			goto bad;
		break;
	case SONDE_CTFW_FIELD_FLOAT:
		if (fbits != 32 && fbits != 64)
			goto bad;
		f->float_bits = (uint8_t)fbits;
		break;
	case SONDE_CTFW_FIELD_STRING:
		break;
	default:
		goto bad;
	}
	if (kind == SONDE_CTFW_FIELD_ARRAY) {
		if (count == 0 || count > SONDE_UST_MAX_ARRAY)
			goto bad;
		f->count = (uint32_t)count;
	}
	if (kind != SONDE_CTFW_FIELD_ENUM)
		return 0;
	for (i = 0; i < rec->count; i++)
		n += rec->fields[i].tag == SONDE_CTL_T_ENUM_REC;
	if (n == 0 || n > SONDE_UST_MAX_ENUM_ENTRIES)
		goto bad;
	{
		struct sonde_ctfw_enum_entry *e =
			sonde_arena_alloc(arena, n * sizeof(*e));
		size_t k = 0;

		if (!e)
			return sonde_error_set(err, SONDE_ENOMEM, "app event: out of memory");
		for (i = 0; i < rec->count; i++) {
			const struct sonde_ctl_rec *er;

			if (rec->fields[i].tag != SONDE_CTL_T_ENUM_REC)
				continue;
			er = rec->fields[i].v.rec;
			e[k].label = sonde_ctl_get_str(er, SONDE_CTL_T_LABEL);
			e[k].automatic = false;
			if (!valid_label(e[k].label) ||
			    !sonde_ctl_get_i64(er, SONDE_CTL_T_LO, &e[k].lo) ||
			    !sonde_ctl_get_i64(er, SONDE_CTL_T_HI, &e[k].hi) ||
			    e[k].lo > e[k].hi ||
			    !fits(&f->integer, e[k].lo) ||
			    !fits(&f->integer, e[k].hi))
				goto bad;
			k++;
		}
		f->entries = e;
		f->count = (uint32_t)n;
	}
	return 0;
bad:
	return sonde_error_set(err, SONDE_EFORMAT,
			       "app event: field '%s' has an invalid type",
			       f->name);
}

int sonde_ust_event_desc_get(const struct sonde_ctl_rec *req,
			     struct sonde_arena *arena,
			     struct sonde_ust_event_desc *out,
			     struct sonde_error *err)
{
	int64_t level = -1;
	size_t i, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->name = sonde_ctl_get_str(req, SONDE_CTL_T_NAME);
	if (!valid_name(out->name, true) || !strchr(out->name, ':'))
		return sonde_error_set(err, SONDE_EFORMAT,
				       "app event: invalid event name");
	if (!sonde_ctl_get_i64(req, SONDE_CTL_T_LOGLEVEL, &level) ||
	    level < 0 || level > 14)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "app event %s: invalid log level",
				       out->name);
	out->loglevel = (int)level;
	for (i = 0; i < req->count; i++)
		n += req->fields[i].tag == SONDE_CTL_T_FIELD_REC;
	if (n > SONDE_UST_MAX_FIELDS)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "app event %s: too many fields", out->name);
	out->fields = sonde_arena_alloc(arena, (n ? n : 1) * sizeof(*out->fields));
	if (!out->fields)
		return sonde_error_set(err, SONDE_ENOMEM, "app event: out of memory");
	memset(out->fields, 0, (n ? n : 1) * sizeof(*out->fields));
	for (i = 0; i < req->count; i++) {
		if (req->fields[i].tag != SONDE_CTL_T_FIELD_REC)
			continue;
		rc = get_field(req->fields[i].v.rec, arena,
			       &out->fields[out->field_count], err);
		if (rc)
			return rc;
		for (size_t k = 0; k < out->field_count; k++)
			if (!strcmp(out->fields[k].name,
				    out->fields[out->field_count].name))
				return sonde_error_set(err, SONDE_EFORMAT,
						       "app event %s: two fields named '%s'",
						       out->name, out->fields[k].name);
		out->field_count++;
	}
	return 0;
}
