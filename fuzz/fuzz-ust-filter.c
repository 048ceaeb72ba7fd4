/*
 * Fuzzes event filters (src/ust/filter.h) on both sides:
 *
 *   byte 0 even: the rest is an expression for the daemon's compiler;
 *                what it compiles must load, bind and evaluate.
 *   byte 0 odd:  u16 little-endian length L, L bytes of bytecode as if
 *                sent by a daemon, then an event payload: the program's
 *                loader, binder and evaluator must not read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/helpers/ust-filter-event.h"

static void run(const uint8_t *code, size_t len, const uint8_t *payload,
		size_t payload_len, bool must_load)
{
	struct sonde_ust_bound_filter *b;
	struct sonde_ust_filter *f;
	struct sonde_error err;
	uint8_t *copy;

	if (sonde_ust_filter_load(code, len, &f, &err)) {
		if (must_load) {
			fprintf(stderr, "compiled bytecode refused: %s\n",
				err.msg);
			abort();
		}
		return;
	}
	b = sonde_ust_filter_bind(f, &filter_event);
	if (b) {
		/* An exact-size copy, so ASan sees any read past the end. */
		copy = malloc(payload_len ? payload_len : 1);
		if (copy) {
			if (payload_len)
				memcpy(copy, payload, payload_len);
			(void)sonde_ust_filter_eval(b, copy, payload_len,
						    &filter_ctx);
			free(copy);
		}
	}
	sonde_ust_bound_filter_free(b);
	sonde_ust_filter_free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		char *expr = malloc(size);
		uint8_t *code;
		size_t len;

		if (!expr)
			return 0;
		memcpy(expr, data + 1, size - 1);
		expr[size - 1] = 0;
		if (sonde_ust_filter_compile(expr, &code, &len, NULL) == 0) {
			char *hex = sonde_ust_filter_hex(code, len);
			uint8_t *back;
			size_t back_len;

			/* The wire form round-trips. */
			if (hex &&
			    (sonde_ust_filter_unhex(hex, &back, &back_len) ||
			     back_len != len || memcmp(back, code, len)))
				abort();
			if (hex)
				free(back);
			free(hex);
			run(code, len, filter_payload, sizeof(filter_payload),
			    true);
			free(code);
		}
		free(expr);
	} else if (size >= 3) {
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;

		if (len > size - 3)
			len = size - 3;
		run(data + 3, len, data + 3 + len, size - 3 - len, false);
	}
	return 0;
}
