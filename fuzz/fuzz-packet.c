/*
 * Fuzzes the packet and event decoder: fixed LTTng-like metadata (packet
 * header and context as LTTng writes them, the compact event header, and
 * events using every field kind: bit fields, both byte orders, floats,
 * strings, text and plain arrays and sequences, enums, variants) and the
 * input as the bytes of one data stream, decoded from memory and iterated
 * to the end while walking every value of every event.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctf/stream/stream.h"
#include "sonde/ctf.h"

static const char metadata[] =
	"/* CTF 1.8 */\n"
	"typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
	"typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
	"typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
	"typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
	"typealias integer { size = 5; align = 1; signed = false; } := uint5_t;\n"
	"typealias integer { size = 27; align = 1; signed = false; } := uint27_t;\n"
	"trace {\n"
	"  major = 1; minor = 8; byte_order = le;\n"
	"  packet.header := struct {\n"
	"    uint32_t magic; uint8_t uuid[16]; uint32_t stream_id;\n"
	"    uint64_t stream_instance_id;\n"
	"  };\n"
	"};\n"
	"clock { name = \"monotonic\"; freq = 1000000000; offset = 1000; };\n"
	"typealias integer { size = 27; align = 1; signed = false;\n"
	"  map = clock.monotonic.value; } := uint27_clock_monotonic_t;\n"
	"typealias integer { size = 64; align = 8; signed = false;\n"
	"  map = clock.monotonic.value; } := uint64_clock_monotonic_t;\n"
	"struct packet_context {\n"
	"  uint64_clock_monotonic_t timestamp_begin;\n"
	"  uint64_clock_monotonic_t timestamp_end;\n"
	"  uint64_t content_size; uint64_t packet_size; uint64_t packet_seq_num;\n"
	"  uint32_t events_discarded; uint32_t cpu_id;\n"
	"};\n"
	"struct event_header_compact {\n"
	"  enum : uint5_t { compact = 0 ... 30, extended = 31 } id;\n"
	"  variant <id> {\n"
	"    struct { uint27_clock_monotonic_t timestamp; } compact;\n"
	"    struct { uint32_t id; uint64_clock_monotonic_t timestamp; } extended;\n"
	"  } v;\n"
	"} align(8);\n"
	"stream {\n"
	"  id = 0;\n"
	"  event.header := struct event_header_compact;\n"
	"  packet.context := struct packet_context;\n"
	"};\n"
	"event { name = \"ints\"; id = 0; stream_id = 0; fields := struct {\n"
	"  integer { size = 8; align = 8; signed = 0; encoding = UTF8; } _comm[16];\n"
	"  integer { size = 32; align = 8; signed = 1; } _tid;\n"
	"  integer { size = 64; align = 8; signed = 1; } _state;\n"
	"}; };\n"
	"event { name = \"bits\"; id = 1; stream_id = 0; fields := struct {\n"
	"  integer { size = 3; align = 1; signed = 1; } _a;\n"
	"  integer { size = 13; align = 1; signed = 0; byte_order = be; } _b;\n"
	"  integer { size = 61; align = 1; signed = 1; } _c;\n"
	"  integer { size = 16; align = 16; signed = 0; byte_order = be; } _d;\n"
	"  floating_point { exp_dig = 8; mant_dig = 24; align = 32; } _f;\n"
	"  floating_point { exp_dig = 11; mant_dig = 53; align = 64; byte_order = be; } _g;\n"
	"}; };\n"
	"event { name = \"seqs\"; id = 2; stream_id = 0; fields := struct {\n"
	"  uint32_t _len;\n"
	"  uint16_t _vals[_len];\n"
	"  integer { size = 8; align = 8; signed = 0; encoding = UTF8; } _text[_len];\n"
	"  string _s;\n"
	"  struct { uint8_t _x; integer { size = 32; align = 32; signed = 0; } _y; } _arr[2];\n"
	"}; };\n"
	"event { name = \"variants\"; id = 3; stream_id = 0; fields := struct {\n"
	"  enum : uint8_t { _num = 0 ... 9, _str = 10, _arr = 20 ... 29 } _tag;\n"
	"  variant <_tag> { uint64_t _num; string _str; uint8_t _arr[3]; } _v;\n"
	"}; };\n"
	"event { name = \"empty\"; id = 4; stream_id = 0; };\n";

static struct sonde_ctf_trace_class *tc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sonde_error err;

	(void)argc;
	(void)argv;
	if (sonde_ctf_metadata_parse(metadata, sizeof(metadata) - 1,
				     "fuzz-packet/metadata", &tc, &err)) {
		fprintf(stderr, "fuzz-packet: %s\n", err.msg);
		abort();
	}
	return 0;
}

/* Reads every value so that sanitizers see any bad pointer or length. */
static unsigned long touch(const struct sonde_ctf_value *v, int32_t at)
{
	unsigned long sum = 0;
	uint32_t i, end;

	if (at < 0)
		return 0;
	end = v[at].end;
	for (i = (uint32_t)at; i < end; i++) {
		const struct sonde_ctf_type *t = v[i].type;
		bool text = (t->kind == SONDE_CTF_ARRAY && t->u.array.is_text) ||
			    (t->kind == SONDE_CTF_SEQUENCE && t->u.sequence.is_text);

		if (t->kind == SONDE_CTF_STRING || text) {
			size_t k;

			for (k = 0; k < v[i].v.str.len; k++)
				sum += (unsigned char)v[i].v.str.ptr[k];
		} else {
			sum += (unsigned long)v[i].v.u;
		}
	}
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_trace *trace = NULL;
	struct sonde_ctf_iter *it = NULL;
	const struct sonde_ctf_msg *msg;
	struct sonde_error err;
	volatile unsigned long sink = 0;
	uint8_t *copy;
	int ret;

	if (!tc && LLVMFuzzerInitialize(NULL, NULL))
		return 0;
	/* An exact-size copy, so that reading past the end is caught. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (trace_set_create(&set, &err) ||
	    trace_create("fuzz", tc, NULL, &trace, &err) ||
	    trace_add_stream(trace, "fuzz/stream", copy, size, &err))
		goto out;
	ret = trace_set_add(set, trace, &err);
	trace = NULL;
	if (ret || sonde_ctf_iter_create(set, &it, &err))
		goto out;
	while (sonde_ctf_iter_next(it, &msg, &err) > 0) {
		const struct sonde_ctf_event *e = msg->event;
		const struct sonde_ctf_value *pv;
		int32_t h, c;

		if (msg->kind != SONDE_CTF_MSG_EVENT)
			continue;
		sink += touch(e->values, e->header);
		sink += touch(e->values, e->stream_context);
		sink += touch(e->values, e->event_context);
		sink += touch(e->values, e->payload);
		pv = sonde_ctf_stream_packet_values(e->stream, &h, &c);
		sink += touch(pv, h) + touch(pv, c);
	}
out:
	sonde_ctf_iter_free(it);
	trace_free(trace);
	sonde_ctf_trace_set_free(set);
	free(copy);
	(void)sink;
	return 0;
}
