/*
 * Fuzzes the metadata layer: the input is the bytes of a `metadata` file
 * (plain TSDL or packetized, either byte order).  It goes through the
 * depacketizer and, when that succeeds, the TSDL parser; the raw bytes are
 * also parsed directly as TSDL, so the parser sees inputs the depacketizer
 * would reject (no "CTF 1.8" magic comment).
 */
#include <stdint.h>
#include <stdlib.h>

#include "sonde/ctf.h"
#include "sonde/error.h"

static void parse(const char *text, size_t len)
{
	struct sonde_ctf_trace_class *tc = NULL;
	struct sonde_error err;

	if (sonde_ctf_metadata_parse(text, len, "fuzz/metadata", &tc, &err) == 0)
		sonde_ctf_trace_class_free(tc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_error err;
	char *text = NULL;
	size_t text_len = 0;

	if (sonde_ctf_metadata_depacketize(data, size, "fuzz/metadata", &text,
					   &text_len, &err) == 0) {
		parse(text, text_len);
		free(text);
	}
	parse((const char *)data, size);
	return 0;
}
