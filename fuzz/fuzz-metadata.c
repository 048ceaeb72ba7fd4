/*
 * Fuzzes the metadata layer: the input is the bytes of a `metadata` file
 * (plain TSDL or packetized, either byte order).  It goes through
 * sonde_ctf_metadata_load() (depacketizer, parser, resolution, packet/trace
 * cross-checks); the raw bytes are also parsed directly as TSDL, so the
 * parser sees inputs the depacketizer would reject (no "CTF 1.8" comment).
 * Any input must give a trace class or a one-line error, never a crash, a
 * hang or a leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"
#include "sonde/error.h"

static void check_error(const struct sonde_error *err)
{
	if (!memchr(err->msg, '\0', sizeof(err->msg)) || strchr(err->msg, '\n'))
		abort();   /* error messages are one terminated line */
}

/* Every declared event class must be found again by id. */
static void check_lookups(const struct sonde_ctf_trace_class *tc)
{
	for (size_t i = 0; i < tc->stream_class_count; i++) {
		const struct sonde_ctf_stream_class *sc = tc->stream_classes[i];

		if (sonde_ctf_trace_class_find_stream_class(tc, sc->id) != sc)
			abort();
		for (size_t e = 0; e < sc->event_class_count; e++) {
			uint64_t id = sc->event_classes[e]->id;

			if (sonde_ctf_stream_class_find_event_class(sc, id) !=
			    sc->event_classes[e])
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_ctf_trace_class *tc = NULL;
	struct sonde_error err;
	char *text = NULL;
	size_t text_len = 0;

	err.msg[0] = '\0';
	if (sonde_ctf_metadata_load(data, size, "fuzz/metadata", &tc, &text,
				    &text_len, &err) == 0) {
		check_lookups(tc);
		sonde_ctf_trace_class_free(tc);
		free(text);
	} else {
		check_error(&err);
	}
	tc = NULL;
	if (sonde_ctf_metadata_parse((const char *)data, size, "fuzz/metadata",
				     &tc, &err) == 0) {
		check_lookups(tc);
		sonde_ctf_trace_class_free(tc);
	} else {
		check_error(&err);
	}
	return 0;
}
