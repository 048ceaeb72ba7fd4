/*
 * Fuzzes the control-protocol decoder of sonde-sessiond (src/session/
 * ctl-proto.c), the parser that faces every local client.  Any input must
 * decode or fail with a one-line error; what decodes must encode again to
 * a message that decodes to the same fields (round trip).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "session/ctl-proto.h"

static void check_error(const struct sonde_error *err)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n') ||
	    !err->msg[0])
		abort();
}

static void encode_rec(struct sonde_ctl_writer *w, const struct sonde_ctl_rec *rec)
{
	for (size_t i = 0; i < rec->count; i++) {
		const struct sonde_ctl_field *f = &rec->fields[i];

		switch (f->kind) {
		case SONDE_CTL_KIND_STR:
			sonde_ctl_put_str(w, f->tag, f->v.str);
			break;
		case SONDE_CTL_KIND_U64:
			sonde_ctl_put_u64(w, f->tag, f->v.u64);
			break;
		case SONDE_CTL_KIND_I64:
			sonde_ctl_put_i64(w, f->tag, f->v.i64);
			break;
		case SONDE_CTL_KIND_BOOL:
			sonde_ctl_put_bool(w, f->tag, f->v.b);
			break;
		case SONDE_CTL_KIND_RECORD:
			sonde_ctl_rec_begin(w, f->tag);
			encode_rec(w, f->v.rec);
			sonde_ctl_rec_end(w);
			break;
		default:
			abort();
		}
	}
}

static void same_rec(const struct sonde_ctl_rec *a, const struct sonde_ctl_rec *b)
{
	if (a->count != b->count)
		abort();
	for (size_t i = 0; i < a->count; i++) {
		const struct sonde_ctl_field *x = &a->fields[i], *y = &b->fields[i];

		if (x->tag != y->tag || x->kind != y->kind)
			abort();
		if (x->kind == SONDE_CTL_KIND_STR && strcmp(x->v.str, y->v.str))
			abort();
		if ((x->kind == SONDE_CTL_KIND_U64 || x->kind == SONDE_CTL_KIND_I64) &&
		    x->v.u64 != y->v.u64)
			abort();
		if (x->kind == SONDE_CTL_KIND_BOOL && x->v.b != y->v.b)
			abort();
		if (x->kind == SONDE_CTL_KIND_RECORD)
			same_rec(x->v.rec, y->v.rec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_msg *msg, *again;
	struct sonde_ctl_writer w;
	uint32_t payload;
	uint16_t type;
	uint8_t *buf;
	size_t len;

	if (sonde_ctl_header_parse(data, size, &type, &payload, &err))
		check_error(&err);
	if (sonde_ctl_decode(data, size, &msg, &err)) {
		check_error(&err);
		if (msg)
			abort();
		return 0;
	}
	sonde_ctl_writer_init(&w, msg->type);
	encode_rec(&w, &msg->root);
	if (sonde_ctl_writer_finish(&w, &buf, &len, &err))
		abort();   /* what decodes must encode */
	if (len != size || sonde_ctl_decode(buf, len, &again, &err))
		abort();
	same_rec(&msg->root, &again->root);
	if (memcmp(buf, data, size))
		abort();   /* one encoding per message */
	free(buf);
	sonde_ctl_msg_free(again);
	sonde_ctl_msg_free(msg);
	return 0;
}
