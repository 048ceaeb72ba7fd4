/*
 * Fuzzes sonde-sessiond's reading of an event description sent by a
 * traced program (APP_EVENT): a control-protocol message decoded, the
 * description checked, and what passes the checks turned into metadata
 * text and parsed back by our TSDL parser: nothing a program sends may
 * crash the daemon or produce metadata that does not parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "sonde/ctf-writer.h"
#include "sonde/ctf.h"
#include "ust/event-desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_ctfw_trace_opts opts = { .byte_order = SONDE_CTF_LE,
					      .has_clock_offset = true };
	static const uint8_t uuid[16] = { 1 };
	struct sonde_ctfw_trace_class *tc = NULL;
	struct sonde_ust_event_desc desc;
	struct sonde_ctl_msg *msg = NULL;
	struct sonde_ctf_trace_class *parsed = NULL;
	struct sonde_arena arena;
	uint32_t sc, id;
	const char *text;
	size_t len;

	if (sonde_ctl_decode(data, size, &msg, NULL))
		return 0;
	sonde_arena_init(&arena, 1u << 20);
	opts.uuid = uuid;
	opts.clock_uuid = uuid;
	if (sonde_ust_event_desc_get(&msg->root, &arena, &desc, NULL) == 0 &&
	    sonde_ctfw_trace_class_create(&opts, &tc, NULL) == 0 &&
	    sonde_ctfw_stream_class_add(tc, SONDE_CTFW_HEADER_LARGE, NULL, 0,
					&sc, NULL) == 0 &&
	    sonde_ctfw_event_class_add(tc, sc, desc.name, desc.loglevel,
				       desc.fields, desc.field_count, &id,
				       NULL) == 0) {
		struct sonde_error err = { 0 };

		text = sonde_ctfw_metadata_text(tc, &len);
		if (sonde_ctf_metadata_parse(text, len, "fuzz", &parsed, &err)) {
			fprintf(stderr, "%s\n%s\n", err.msg, text);
			abort();
		}
		sonde_ctf_trace_class_free(parsed);
	}
	sonde_ctfw_trace_class_free(tc);
	sonde_arena_release(&arena);
	sonde_ctl_msg_free(msg);
	return 0;
}
