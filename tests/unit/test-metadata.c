/* Unit tests of the TSDL metadata layer (src/ctf/metadata). */
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"
#include "tap.h"

#define PREAMBLE                                                               \
	"/* CTF 1.8 */\n"                                                      \
	"typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n" \
	"typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n" \
	"typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n" \
	"typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n" \
	"typealias integer { size = 32; align = 8; signed = true; } := int32_t;\n"

#define TRACE_LE                                                               \
	"trace { major = 1; minor = 8; byte_order = le;\n"                     \
	"  uuid = \"2a6422d0-6cee-11e0-8c08-cb07d7b3a564\";\n"                 \
	"  packet.header := struct { uint32_t magic; uint8_t uuid[16];\n"      \
	"    uint32_t stream_id; uint64_t stream_instance_id; }; };\n"

static struct sonde_ctf_trace_class *parse(const char *text, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = NULL;

	err->msg[0] = '\0';
	if (sonde_ctf_metadata_parse(text, strlen(text), "t", &tc, err))
		return NULL;
	return tc;
}

/* Parses and expects failure; returns the message. */
static const char *parse_fail(const char *text, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = parse(text, err);

	if (tc) {
		sonde_ctf_trace_class_free(tc);
		return "(accepted)";
	}
	return err->msg;
}

static const struct sonde_ctf_field_decl *
member(const struct sonde_ctf_type *s, const char *name)
{
	const struct sonde_ctf_field_decl *f;
	size_t n;

	if (!s)
		return NULL;
	if (s->kind == SONDE_CTF_STRUCT) {
		f = s->u.structure.fields;
		n = s->u.structure.count;
	} else if (s->kind == SONDE_CTF_VARIANT) {
		f = s->u.variant.options;
		n = s->u.variant.count;
	} else {
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static const struct sonde_ctf_event_class *event0(const struct sonde_ctf_trace_class *tc)
{
	if (!tc || !tc->stream_class_count || !tc->stream_classes[0]->event_class_count)
		return NULL;
	return tc->stream_classes[0]->event_classes[0];
}

static void test_minimal_and_roles(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse(PREAMBLE TRACE_LE
		"clock { name = monotonic; freq = 1000000000; offset = 5; };\n"
		"typealias integer { size = 64; align = 8; signed = false;"
		"  map = clock.monotonic.value; } := clk64_t;\n"
		"stream { packet.context := struct { clk64_t timestamp_begin;"
		"  clk64_t timestamp_end; uint64_t content_size; uint64_t packet_size;"
		"  uint64_t packet_seq_num; uint64_t events_discarded; uint32_t cpu_id; };"
		"  event.header := struct { uint32_t id; clk64_t timestamp; } align(8); };\n"
		"event { name = \"ev\"; id = 0; fields := struct { uint32_t x; }; };\n",
		&err);
	const struct sonde_ctf_stream_class *sc;

	ok(tc != NULL, "minimal trace with roles parses");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	is_int(tc->major, 1, "major");
	is_int(tc->minor, 8, "minor");
	ok(tc->has_uuid && tc->uuid[0] == 0x2a && tc->uuid[15] == 0x64, "trace uuid");
	is_int(member(tc->packet_header, "magic")->role, SONDE_CTF_ROLE_MAGIC, "magic role");
	is_int(member(tc->packet_header, "uuid")->role, SONDE_CTF_ROLE_TRACE_UUID, "uuid role");
	is_int(member(tc->packet_header, "stream_id")->role, SONDE_CTF_ROLE_STREAM_ID, "stream_id role");
	is_int(member(tc->packet_header, "stream_instance_id")->role,
	       SONDE_CTF_ROLE_STREAM_INSTANCE_ID, "stream_instance_id role");
	sc = sonde_ctf_trace_class_find_stream_class(tc, 0);
	ok(sc != NULL, "stream 0 found");
	ok(sonde_ctf_trace_class_find_stream_class(tc, 1) == NULL, "stream 1 absent");
	is_int(member(sc->packet_context, "timestamp_begin")->role,
	       SONDE_CTF_ROLE_TIMESTAMP_BEGIN, "timestamp_begin role");
	is_int(member(sc->packet_context, "timestamp_end")->role,
	       SONDE_CTF_ROLE_TIMESTAMP_END, "timestamp_end role");
	is_int(member(sc->packet_context, "content_size")->role,
	       SONDE_CTF_ROLE_CONTENT_SIZE, "content_size role");
	is_int(member(sc->packet_context, "packet_size")->role,
	       SONDE_CTF_ROLE_PACKET_SIZE, "packet_size role");
	is_int(member(sc->packet_context, "packet_seq_num")->role,
	       SONDE_CTF_ROLE_PACKET_SEQ_NUM, "packet_seq_num role");
	is_int(member(sc->packet_context, "events_discarded")->role,
	       SONDE_CTF_ROLE_EVENTS_DISCARDED, "events_discarded role");
	is_int(member(sc->packet_context, "cpu_id")->role, SONDE_CTF_ROLE_NONE, "cpu_id has no role");
	is_int(member(sc->event_header, "id")->role, SONDE_CTF_ROLE_EVENT_ID, "event header id role");
	is_int(sc->event_header->align, 8, "align(8) on event header");
	ok(sc->clock && !strcmp(sc->clock->name, "monotonic"), "stream clock from header timestamp");
	ok(member(sc->event_header, "timestamp")->type->u.integer.mapped_clock == sc->clock,
	   "map = clock.monotonic.value");
	is_int(tc->slot_count, 0, "no slots needed");
	is_str(event0(tc)->name, "ev", "event name");
	sonde_ctf_trace_class_free(tc);
}

static void test_integers(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse("/* CTF 1.8 */\n"
		"typealias integer { size = 32; align = 32; signed = true; } := int;\n"
		"typealias integer { size = 64; signed = TRUE; base = hex; } := unsigned long;\n"
		"trace { major = 1; minor = 8; byte_order = be; };\n"
		"event { name = e; fields := struct {\n"
		"  integer { size = 3; } a;\n"
		"  integer { size = 16; byte_order = le; base = x; signed = 1; } b;\n"
		"  integer { size = 16; byte_order = network; base = octal; } c;\n"
		"  integer { size = 16; byte_order = native; base = b; } d;\n"
		"  integer { size = 8; encoding = UTF8; base = decimal; } e;\n"
		"  integer { size = 8; encoding = ascii; base = 2; unknown_attr = 4; } f;\n"
		"  unsigned long g;\n"
		"  int h;\n"
		"  floating_point { exp_dig = 8; mant_dig = 24; byte_order = le; } fl;\n"
		"  floating_point { exp_dig = 11; mant_dig = 53; align = 64; } db;\n"
		"  string s1;\n"
		"  string { encoding = ASCII; } s2;\n"
		"}; };\n", &err);
	const struct sonde_ctf_type *f;

	ok(tc != NULL, "integer/float/string attributes parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	f = event0(tc)->fields;
	is_int(tc->byte_order, SONDE_CTF_BE, "trace byte order be");
	is_int(member(f, "a")->type->u.integer.size, 3, "size 3");
	is_int(member(f, "a")->type->align, 1, "default align 1 for size 3");
	is_int(member(f, "a")->type->u.integer.byte_order, SONDE_CTF_BE, "default = native = trace");
	is_int(member(f, "b")->type->u.integer.byte_order, SONDE_CTF_LE, "byte_order le");
	is_int(member(f, "b")->type->u.integer.base, 16, "base x");
	ok(member(f, "b")->type->u.integer.is_signed, "signed = 1");
	is_int(member(f, "b")->type->align, 8, "default align 8 for size 16");
	is_int(member(f, "c")->type->u.integer.byte_order, SONDE_CTF_BE, "network");
	is_int(member(f, "c")->type->u.integer.base, 8, "base octal");
	is_int(member(f, "d")->type->u.integer.byte_order, SONDE_CTF_BE, "native");
	is_int(member(f, "d")->type->u.integer.base, 2, "base b");
	is_int(member(f, "e")->type->u.integer.encoding, SONDE_CTF_ENC_UTF8, "encoding UTF8");
	is_int(member(f, "e")->type->u.integer.base, 10, "base decimal");
	is_int(member(f, "f")->type->u.integer.encoding, SONDE_CTF_ENC_ASCII, "encoding ascii");
	is_int(member(f, "g")->type->u.integer.size, 64, "two-word alias 'unsigned long'");
	ok(member(f, "g")->type->u.integer.is_signed, "signed = TRUE");
	is_int(member(f, "h")->type->align, 32, "alias int align");
	is_int(member(f, "fl")->type->kind, SONDE_CTF_FLOAT, "float kind");
	is_int(member(f, "fl")->type->u.floating.mant_dig, 24, "float mant_dig");
	is_int(member(f, "fl")->type->u.floating.byte_order, SONDE_CTF_LE, "float byte order");
	is_int(member(f, "db")->type->align, 64, "double align");
	is_int(member(f, "db")->type->u.floating.byte_order, SONDE_CTF_BE, "double native order");
	is_int(member(f, "s1")->type->u.string.encoding, SONDE_CTF_ENC_UTF8, "string utf8");
	is_int(member(f, "s2")->type->u.string.encoding, SONDE_CTF_ENC_ASCII, "string ascii");
	is_int(member(f, "s2")->type->align, 8, "string align 8");
	sonde_ctf_trace_class_free(tc);
}

static void test_enums(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse(PREAMBLE
		"typealias integer { size = 8; signed = true; } := int;\n"
		"trace { major = 1; minor = 8; byte_order = le; };\n"
		"enum named : uint8_t { A, B = 5, \"C D\", E = 10 ... 20, F, };\n"
		"event { name = e; fields := struct {\n"
		"  enum named x;\n"
		"  enum { N = -3, M, O = 0x7f } y;\n"
		"  enum : integer { size = 4; } { Z } z;\n"
		"}; };\n", &err);
	const struct sonde_ctf_type *x, *y;
	const struct sonde_ctf_enum_mapping *m;
	struct sonde_ctf_value v;
	const char *labels[4];

	ok(tc != NULL, "enums parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	x = member(event0(tc)->fields, "x")->type;
	y = member(event0(tc)->fields, "y")->type;
	is_int(x->kind, SONDE_CTF_ENUM, "enum kind");
	is_int(x->u.enumeration.count, 5, "5 mappings");
	m = x->u.enumeration.mappings;
	is_str(m[0].label, "A", "bare label");
	is_int(m[0].lo.u, 0, "first auto value 0");
	is_int(m[1].lo.u, 5, "explicit value");
	is_str(m[2].label, "C D", "quoted label");
	is_int(m[2].lo.u, 6, "auto-increment");
	is_int(m[3].lo.u, 10, "range lo");
	is_int(m[3].hi.u, 20, "range hi");
	is_int(m[4].lo.u, 21, "auto after range");
	is_int(x->align, 8, "enum align = container");
	ok(y->u.enumeration.container->u.integer.is_signed, "default container is 'int'");
	is_int(y->u.enumeration.mappings[0].lo.s, -3, "negative value");
	is_int(y->u.enumeration.mappings[1].lo.s, -2, "auto after negative");
	is_int(y->u.enumeration.mappings[2].lo.s, 127, "hex value");
	memset(&v, 0, sizeof(v));
	v.type = x;
	v.v.u = 15;
	is_int(sonde_ctf_enum_labels(x, &v, labels, 4), 1, "one label for 15");
	is_str(labels[0], "E", "label E");
	v.v.u = 4;
	is_int(sonde_ctf_enum_labels(x, &v, labels, 4), 0, "no label for 4");
	v.type = y;
	v.v.s = -2;
	is_int(sonde_ctf_enum_labels(y, &v, labels, 4), 1, "signed lookup");
	is_str(labels[0], "M", "label M");
	sonde_ctf_trace_class_free(tc);

	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "enum e : uint8_t { A = 256 };\n", &err),
	       "t:8: enum value 256 out of range of its 8-bit unsigned container",
	       "enum value out of range");
	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "enum e : uint8_t { A = 255, B };\n", &err),
	       "t:8: enum value of 'B' overflows its container", "auto value overflow");
	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "enum e { A };\n", &err),
	       "t:8: enum without container type and no 'int' type defined",
	       "untyped enum without int");
	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "enum e : uint8_t { };\n", &err),
	       "t:8: enum has no entries", "empty enum");
}

static void test_compounds(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse(PREAMBLE
		"trace { major = 1; minor = 8; byte_order = le; };\n"
		"struct pair { uint8_t a; uint32_t b; } align(64);\n"
		"typedef uint16_t matrix[2][3];\n"
		"typedef struct { uint8_t c; } tiny;\n"
		"event { name = e; fields := struct {\n"
		"  struct pair p;\n"
		"  matrix m;\n"
		"  uint8_t grid[4][5];\n"
		"  tiny t;\n"
		"  struct { } align(32) pad;\n"
		"  uint8_t text[8];\n"
		"  integer { size = 8; encoding = UTF8; } utf[8];\n"
		"  integer { size = 8; align = 1; encoding = UTF8; } packed[8];\n"
		"  uint8_t a, b[2];\n"
		"}; };\n", &err);
	const struct sonde_ctf_type *f, *t;

	ok(tc != NULL, "compound types parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	f = event0(tc)->fields;
	t = member(f, "p")->type;
	is_int(t->kind, SONDE_CTF_STRUCT, "named struct reference");
	is_int(t->align, 64, "struct align(64) wins over members");
	is_int(t->u.structure.count, 2, "struct member count");
	t = member(f, "m")->type;
	is_int(t->kind, SONDE_CTF_ARRAY, "array typedef");
	is_int(t->u.array.length, 2, "outer dimension first");
	is_int(t->u.array.element->u.array.length, 3, "inner dimension");
	is_int(t->u.array.element->u.array.element->u.integer.size, 16, "element type");
	t = member(f, "grid")->type;
	is_int(t->u.array.length, 4, "2-D array outer");
	is_int(t->u.array.element->u.array.length, 5, "2-D array inner");
	is_int(member(f, "t")->type->u.structure.count, 1, "typedef of anonymous struct");
	t = member(f, "pad")->type;
	is_int(t->u.structure.count, 0, "empty struct");
	is_int(t->align, 32, "empty struct alignment");
	is_int(f->align, 64, "enclosing struct align = max of members");
	ok(!member(f, "text")->type->u.array.is_text, "no encoding: not text");
	ok(member(f, "utf")->type->u.array.is_text, "UTF8 bytes: text");
	ok(!member(f, "packed")->type->u.array.is_text, "unaligned bytes: not text");
	ok(member(f, "a") && member(f, "b") && member(f, "b")->type->u.array.length == 2,
	   "declarator list");
	sonde_ctf_trace_class_free(tc);
}

static void test_sequences_and_variants(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse(PREAMBLE
		"trace { major = 1; minor = 8; byte_order = le; };\n"
		"typealias enum : uint8_t { _a, _b, \"_c\" = 5 ... 7, unused } := sel_t;\n"
		"variant opts { uint32_t _a; string _b; uint8_t _c; uint16_t spare; };\n"
		"stream { event.header := struct { uint32_t id; uint16_t hlen; };\n"
		"  packet.context := struct { uint16_t plen; }; };\n"
		"typedef struct { uint8_t n; uint8_t data[n]; } blob;\n"
		"event { name = e; id = 0; fields := struct {\n"
		"  uint32_t len;\n"
		"  integer { size = 8; encoding = UTF8; } str[len];\n"
		"  struct { uint16_t x[len]; } inner;\n"
		"  uint8_t h[stream.event.header.hlen];\n"
		"  uint8_t pc[stream.packet.context.plen];\n"
		"  uint8_t ab[event.fields.len];\n"
		"  uint8_t two[len][len];\n"
		"  sel_t tag;\n"
		"  variant opts <tag> v;\n"
		"  struct { sel_t tag; } nest;\n"
		"  variant <nest.tag> { uint8_t _a; uint8_t _b; } v2;\n"
		"  blob b1;\n"
		"  blob b2;\n"
		"}; };\n"
		"event { name = f; id = 1; fields := struct { uint8_t k; blob b; }; };\n",
		&err);
	const struct sonde_ctf_type *f, *t;
	const struct sonde_ctf_field_decl *len;

	ok(tc != NULL, "sequences and variants parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	f = event0(tc)->fields;
	len = member(f, "len");
	ok(len->slot >= 0, "length field gets a slot");
	t = member(f, "str")->type;
	is_int(t->kind, SONDE_CTF_SEQUENCE, "sequence kind");
	is_int(t->u.sequence.length_slot, len->slot, "relative length, same struct");
	ok(t->u.sequence.is_text, "text sequence");
	is_str(t->u.sequence.length_name, "len", "length name as written");
	t = member(member(f, "inner")->type, "x")->type;
	is_int(t->u.sequence.length_slot, len->slot, "relative length, enclosing struct");
	t = member(f, "h")->type;
	is_int(t->u.sequence.length_slot,
	       member(tc->stream_classes[0]->event_header, "hlen")->slot,
	       "absolute stream.event.header path");
	ok(t->u.sequence.length_slot >= 0, "header field slot");
	t = member(f, "pc")->type;
	is_int(t->u.sequence.length_slot,
	       member(tc->stream_classes[0]->packet_context, "plen")->slot,
	       "absolute stream.packet.context path");
	is_int(member(f, "ab")->type->u.sequence.length_slot, len->slot,
	       "absolute event.fields path");
	t = member(f, "two")->type;
	ok(t->u.sequence.length_slot == len->slot &&
	   t->u.sequence.element->u.sequence.length_slot == len->slot, "2-D sequence");
	t = member(f, "v")->type;
	is_int(t->kind, SONDE_CTF_VARIANT, "named variant with tag at use");
	is_int(t->u.variant.tag_slot, member(f, "tag")->slot, "variant tag slot");
	ok(t->u.variant.tag_type && t->u.variant.tag_type->kind == SONDE_CTF_ENUM, "tag type");
	is_int(t->u.variant.range_count, 3, "3 labels name options");
	is_int(t->u.variant.ranges[0].option, 0, "_a -> option 0");
	is_int(t->u.variant.ranges[1].option, 1, "_b -> option 1");
	is_int(t->u.variant.ranges[2].lo.u, 5, "range lo");
	is_int(t->u.variant.ranges[2].hi.u, 7, "range hi");
	is_int(t->u.variant.ranges[2].option, 2, "_c -> option 2");
	is_int(t->align, 1, "variant has no alignment of its own");
	t = member(f, "v2")->type;
	is_int(t->u.variant.tag_slot,
	       member(member(f, "nest")->type, "tag")->slot, "dotted relative tag");
	ok(member(member(f, "nest")->type, "tag")->slot != member(f, "tag")->slot,
	   "distinct slots for distinct tags");
	/* One typedef'd struct used twice: each use resolves to its own `n`. */
	{
		const struct sonde_ctf_type *b1 = member(f, "b1")->type;
		const struct sonde_ctf_type *b2 = member(f, "b2")->type;
		const struct sonde_ctf_type *b3 = member(tc->stream_classes[0]->event_classes[1]->fields, "b")->type;

		ok(b1 != b2, "each declaration has its own copy");
		is_int(member(b1, "data")->type->u.sequence.length_slot,
		       member(b1, "n")->slot, "b1.data -> b1.n");
		is_int(member(b2, "data")->type->u.sequence.length_slot,
		       member(b2, "n")->slot, "b2.data -> b2.n");
		ok(member(b1, "n")->slot != member(b2, "n")->slot, "b1.n and b2.n differ");
		ok(member(b3, "data")->type->u.sequence.length_slot >= 0, "copy in another event");
	}
	ok(tc->slot_count >= 8, "slot count covers all referenced fields");
	sonde_ctf_trace_class_free(tc);
}

static void test_scopes(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse(PREAMBLE
		"trace { major = 1; minor = 8; byte_order = le; };\n"
		"typealias integer { size = 8; } := T;\n"
		"stream { typealias integer { size = 16; } := T;\n"
		"  event.context := struct { T sc; }; };\n"
		"event { name = e; fields := struct {\n"
		"  T outer;\n"
		"  struct { typedef integer { size = 32; } T; T in1; } s;\n"
		"  T after;\n"
		"}; };\n", &err);
	const struct sonde_ctf_type *f;

	ok(tc != NULL, "scoped typedefs parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	f = event0(tc)->fields;
	is_int(member(tc->stream_classes[0]->event_context, "sc")->type->u.integer.size, 16,
	       "stream scope shadows the root");
	is_int(member(f, "outer")->type->u.integer.size, 8, "stream alias not visible in event");
	is_int(member(member(f, "s")->type, "in1")->type->u.integer.size, 32,
	       "struct scope shadows");
	is_int(member(f, "after")->type->u.integer.size, 8, "struct scope ends at '}'");
	sonde_ctf_trace_class_free(tc);

	is_str(parse_fail(PREAMBLE "typealias integer { size = 8; } := uint8_t;\n", &err),
	       "t:7: 'uint8_t' is already defined in this scope", "duplicate alias");
}

static void test_lexical(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = parse("/* CTF 1.8 */\r\n"
		"// line comment\r\n"
		"typealias integer { size = 0x20; align = 010; signed = false; } := u32;\r\n"
		"trace { major = 1u; minor = +8UL; byte_order = le; unknown = \"x\\ty\\\"\\\\\"; };\r\n"
		"env { hostname = \"h\\x41st\\n\"; n = -42; ident = someword; };\r\n"
		"clock { name = \"c\"; freq = 1000; offset_s = -10; offset = -2000;"
		"  precision = 3; absolute = TRUE; description = \"d\"; unknown = 1; };\r\n"
		"callsite { name = \"x\"; func = \"f\"; ip = 0x1234; file = \"a.c\"; line = 3; };\r\n"
		"event { name = sys_open; loglevel = -1; model.emf.uri = \"u\"; };\r\n", &err);
	const struct sonde_ctf_env_entry *e;

	ok(tc != NULL, "literals, comments, CRLF, unquoted names");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	e = sonde_ctf_trace_class_env(tc, "hostname");
	ok(e && !e->is_int, "env string");
	is_str(e ? e->str_value : NULL, "hAst\n", "string escapes");
	e = sonde_ctf_trace_class_env(tc, "n");
	ok(e && e->is_int && e->int_value == -42, "env negative integer");
	e = sonde_ctf_trace_class_env(tc, "ident");
	is_str(e ? e->str_value : NULL, "someword", "env bare identifier");
	ok(sonde_ctf_trace_class_env(tc, "missing") == NULL, "absent env key");
	is_int(tc->clock_count, 1, "one clock");
	is_int(tc->clocks[0]->freq, 1000, "clock freq");
	is_int(tc->clocks[0]->offset_s, -10, "clock offset_s");
	is_int(tc->clocks[0]->offset, -2000, "clock offset");
	ok(tc->clocks[0]->absolute, "clock absolute");
	is_str(tc->clocks[0]->description, "d", "clock description");
	is_str(event0(tc)->name, "sys_open", "unquoted event name");
	ok(event0(tc)->has_loglevel && event0(tc)->loglevel == -1, "loglevel");
	is_str(event0(tc)->emf_uri, "u", "emf uri");
	ok(tc->stream_classes[0]->clock == tc->clocks[0], "only clock becomes the stream clock");
	sonde_ctf_trace_class_free(tc);
}

static void test_clock_to_ns(void)
{
	struct sonde_ctf_clock c;
	int64_t ns = 0;

	memset(&c, 0, sizeof(c));
	c.freq = 1000000000;
	c.offset = 5;
	ok(sonde_ctf_clock_to_ns(&c, 10, &ns) == 0 && ns == 15, "1 GHz: offset + cycles");
	c.offset_s = 2;
	ok(sonde_ctf_clock_to_ns(&c, 10, &ns) == 0 && ns == 2000000015, "offset_s");
	c.offset_s = -2;
	c.offset = -5;
	ok(sonde_ctf_clock_to_ns(&c, 0, &ns) == 0 && ns == -2000000005, "negative offsets");
	memset(&c, 0, sizeof(c));
	c.freq = 1000;
	ok(sonde_ctf_clock_to_ns(&c, 1500, &ns) == 0 && ns == 1500000000, "1 kHz");
	c.freq = 3;
	ok(sonde_ctf_clock_to_ns(&c, 1, &ns) == 0 && ns == 333333333, "truncation");
	c.offset = -1;
	c.freq = 3;
	ok(sonde_ctf_clock_to_ns(&c, 0, &ns) == 0 && ns == -333333333,
	   "negative offset truncated toward zero, as babeltrace 1.5");
	c.offset = 0;
	c.freq = 1123456789;
	ok(sonde_ctf_clock_to_ns(&c, UINT64_C(1234567890123456), &ns) == 0 &&
	   ns == (int64_t)((double)UINT64_C(1234567890123456) * 1e9 / 1123456789.0),
	   "non-1 GHz conversion through a double, as babeltrace 1.5");
	memset(&c, 0, sizeof(c));
	c.freq = 1000000000;
	c.offset_s = 1351530929945824323LL;
	is_int(sonde_ctf_clock_to_ns(&c, 0, &ns), SONDE_EFORMAT, "offset_s overflow");
	c.offset_s = 0;
	is_int(sonde_ctf_clock_to_ns(&c, UINT64_MAX, &ns), SONDE_EFORMAT, "cycles overflow");
	c.freq = 1;
	is_int(sonde_ctf_clock_to_ns(&c, (uint64_t)1 << 40, &ns), SONDE_EFORMAT,
	       "overflow at low frequency");
}

static void test_event_lookup(void)
{
	struct sonde_error err;
	char text[65536];
	size_t n;
	struct sonde_ctf_trace_class *tc;
	const struct sonde_ctf_stream_class *s0, *s1;

	n = (size_t)snprintf(text, sizeof(text), PREAMBLE
		"trace { major = 1; minor = 8; byte_order = le;"
		"  packet.header := struct { uint32_t stream_id; }; };\n"
		"stream { id = 0; }; stream { id = 7; };\n");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "event { name = \"d%d\"; id = %d; stream_id = 0; };\n",
				      i, 199 - i);
	for (int i = 0; i < 5; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "event { name = \"s%d\"; id = %d; stream_id = 7; };\n",
				      i, i * 1000000 + 3);
	tc = parse(text, &err);
	ok(tc != NULL, "many events parse");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	s0 = sonde_ctf_trace_class_find_stream_class(tc, 0);
	s1 = sonde_ctf_trace_class_find_stream_class(tc, 7);
	ok(s0 && s1, "both streams");
	is_int(s0->event_class_count, 200, "200 events in stream 0");
	is_str(s0->event_classes[0]->name, "d0", "declaration order kept");
	is_str(sonde_ctf_stream_class_find_event_class(s0, 199)->name, "d0", "dense lookup");
	is_str(sonde_ctf_stream_class_find_event_class(s0, 0)->name, "d199", "dense lookup 0");
	ok(sonde_ctf_stream_class_find_event_class(s0, 200) == NULL, "dense miss");
	is_str(sonde_ctf_stream_class_find_event_class(s1, 2000003)->name, "s2", "sparse lookup");
	ok(sonde_ctf_stream_class_find_event_class(s1, 4) == NULL, "sparse miss");
	ok(sonde_ctf_stream_class_find_event_class(s1, UINT64_MAX) == NULL, "sparse miss max");
	sonde_ctf_trace_class_free(tc);

	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "event { name = a; id = 1; }; event { name = b; id = 1; };\n", &err),
	       "t:8: event id 1 declared twice in stream 0", "duplicate event id");
	is_str(parse_fail(PREAMBLE "trace { major = 1; minor = 8; byte_order = le; };\n"
			  "stream { id = 1; }; event { name = a; stream_id = 2; };\n", &err),
	       "t:8: event 'a' refers to undeclared stream 2", "undeclared stream");
}

/* Builds packetized metadata from `text` split into packets of `chunk` bytes. */
static size_t packetize(const char *text, size_t chunk, bool be, uint8_t *out,
			uint8_t scheme)
{
	size_t len = strlen(text), off = 0, n = 0;

	while (off < len) {
		size_t part = len - off < chunk ? len - off : chunk;
		uint32_t content = (uint32_t)(37 + part) * 8;
		uint32_t packet = content + 8 * 3;   /* 3 bytes of padding */
		uint32_t vals[3] = { 0x75D11D57u, content, packet };
		uint8_t *h = out + n;

		memset(h, 0, packet / 8);
		for (int v = 0; v < 3; v++) {
			uint8_t *d = h + (v == 0 ? 0 : v == 1 ? 24 : 28);

			for (int b = 0; b < 4; b++)
				d[b] = (uint8_t)(vals[v] >> (be ? 24 - 8 * b : 8 * b));
		}
		memset(h + 4, 0xab, 16);
		h[32] = scheme;
		h[35] = 1;
		h[36] = 8;
		memcpy(h + 37, text + off, part);
		off += part;
		n += packet / 8;
	}
	return n;
}

static void test_depacketize(void)
{
	static const char text[] = "/* CTF 1.8 */ trace { major = 1; minor = 8; byte_order = be; };";
	static uint8_t buf[8192];
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc = NULL;
	char *out = NULL;
	size_t out_len = 0, n;

	for (int be = 0; be < 2; be++) {
		n = packetize(text, 7, be, buf, 0);
		ok(sonde_ctf_metadata_depacketize(buf, n, "m", &out, &out_len, &err) == 0,
		   be ? "packetized BE" : "packetized LE");
		is_int(out_len, strlen(text), "text length");
		ok(out && !strcmp(out, text), "text split at arbitrary bytes reassembled");
		free(out);
		out = NULL;
	}
	n = packetize(text, 7, true, buf, 0);
	ok(sonde_ctf_metadata_load(buf, n, "m", &tc, NULL, NULL, &err) == 0,
	   "load: BE packets, be trace");
	sonde_ctf_trace_class_free(tc);
	tc = NULL;
	n = packetize(text, 7, false, buf, 0);
	is_int(sonde_ctf_metadata_load(buf, n, "m", &tc, NULL, NULL, &err), SONDE_EFORMAT,
	       "load: LE packets, be trace");
	is_str(err.msg, "m: metadata packets are little-endian but the trace's byte_order is be",
	       "byte order mismatch message");
	n = packetize(text, 7, false, buf, 0);
	buf[n - 1 - 3 - 5] ^= 0;     /* keep */
	buf[(37 + 7 + 3) + 4] ^= 1;  /* second packet's UUID */
	is_int(sonde_ctf_metadata_depacketize(buf, n, "m", &out, &out_len, &err), SONDE_EFORMAT,
	       "UUID mismatch");
	is_str(err.msg, "m: metadata packet 1 at offset 47: UUID differs from the first packet's",
	       "UUID mismatch message");
	n = packetize(text, 7, false, buf, 1);
	is_int(sonde_ctf_metadata_depacketize(buf, n, "m", &out, &out_len, &err), SONDE_EFORMAT,
	       "compression rejected");
	n = packetize(text, 7, false, buf, 0);
	is_int(sonde_ctf_metadata_depacketize(buf, n - 1, "m", &out, &out_len, &err),
	       SONDE_EFORMAT, "truncated last packet");
	buf[24] = 0xff;
	buf[25] = 0xff;   /* content_size > packet_size */
	is_int(sonde_ctf_metadata_depacketize(buf, n, "m", &out, &out_len, &err),
	       SONDE_EFORMAT, "content larger than packet");
	n = packetize(text, 7, false, buf, 0);
	buf[36] = 9;
	is_int(sonde_ctf_metadata_depacketize(buf, n, "m", &out, &out_len, &err),
	       SONDE_EFORMAT, "version 1.9 rejected");
	is_int(sonde_ctf_metadata_depacketize(buf, 30, "m", &out, &out_len, &err),
	       SONDE_EFORMAT, "truncated header");

	ok(sonde_ctf_metadata_depacketize((const uint8_t *)text, strlen(text), "m", &out,
					  &out_len, &err) == 0, "plain text");
	free(out);
	out = NULL;
	is_int(sonde_ctf_metadata_depacketize((const uint8_t *)"trace { };", 10, "m", &out,
					      &out_len, &err), SONDE_EFORMAT,
	       "plain text without signature");
	is_int(sonde_ctf_metadata_depacketize((const uint8_t *)"/* CTF 1.9 */", 13, "m", &out,
					      &out_len, &err), SONDE_EUNSUPPORTED,
	       "plain text version 1.9");
	is_int(sonde_ctf_metadata_depacketize((const uint8_t *)"/* CTF 1.80 */", 14, "m", &out,
					      &out_len, &err), SONDE_EUNSUPPORTED,
	       "plain text version 1.80");
	is_int(sonde_ctf_metadata_depacketize((const uint8_t *)"", 0, "m", &out,
					      &out_len, &err), SONDE_EFORMAT, "empty file");
}

static void test_malformed(void)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "trace { major = 1; minor = 8; };",
		  "t:1: trace block has no byte_order" },
		{ "typealias integer { size = 8; } := u8;",
		  "t:1: no trace block" },
		{ "trace { major = 1; minor = 8; byte_order = le; }",
		  "t:1: expected ';' after block, found end of metadata" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { foo x; };",
		  "t:2: unknown type 'foo'" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { integer { size = 65; } x; };",
		  "t:2: integer size 65 out of range (1 to 64 bits)" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { integer { align = 8; } x; };",
		  "t:2: integer has no size" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { integer { size = 8; align = 3; } x; };",
		  "t:2: alignment 3 is not a power of two" },
		{ "trace { major = 1; minor = 8; byte_order = native; };",
		  "t:1: invalid byte_order 'native'" },
		{ "trace { major = 2; minor = 8; byte_order = le; };",
		  "t:1: unsupported CTF major version 2" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { string x; string x; };",
		  "t:2: duplicate field 'x'" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { string event; };",
		  "t:2: reserved keyword 'event' used as a name" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\nstruct s { struct s x; };",
		  "t:2: unknown struct 's'" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; } := u8;\n"
		  "event { name = e; fields := struct { string s; u8 x[s]; }; };",
		  "t:3: length 's' of sequence 'x' is not an unsigned integer" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; } := u8;\n"
		  "event { name = e; fields := struct { u8 x[nope]; }; };",
		  "t:3: sequence length 'nope' not found (in event 'e')" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; } := u8;\n"
		  "event { name = e; fields := struct { u8 t; variant <t> { u8 a; } v; }; };",
		  "t:3: tag 't' of variant 'v' is not an enum" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; } := u8;\n"
		  "event { name = e; fields := struct { variant { u8 a; } v; }; };",
		  "t:3: variant 'v' has no tag" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; } := u8;\n"
		  "event { name = e; fields := struct { u8 x[event.fields.y]; u8 y; }; };",
		  "t:3: sequence length 'event.fields.y' not found (in event 'e')" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "clock { name = c; }; clock { name = c; };",
		  "t:2: duplicate clock 'c'" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "typealias integer { size = 8; map = clock.nope.value; } := u8;",
		  "t:2: map refers to undeclared clock 'nope'" },
		{ "trace { major = 1; minor = 8; byte_order = le; uuid = \"xyz\"; };",
		  "t:1: invalid uuid \"xyz\"" },
		{ "trace { major = 1; minor = 8; byte_order = le; x = \"abc; };",
		  "t:1: unterminated string literal" },
		{ "trace { major = 1; minor = 8; byte_order = le; }; /* open",
		  "t:1: unterminated comment" },
		{ "trace { major = 1; minor = 8; byte_order = le; x = 99999999999999999999; };",
		  "t:1: integer literal too large" },
		{ "trace { major = 1; minor = 8; byte_order = le; x = 08; };",
		  "t:1: invalid digit in octal literal" },
		{ "trace { major = 1; minor = 8; byte_order = le; x = @; };",
		  "t:1: unexpected character '@'" },
		{ "trace { major = 1; minor = 8; byte_order = le;\n"
		  "packet.header := struct { string magic; }; };",
		  "t:2: 'magic' must be a 32-bit integer (in trace.packet.header)" },
		{ "trace { major = 1; minor = 8; byte_order = le; };\n"
		  "stream { id = 1; }; stream { id = 1; };",
		  "t:2: duplicate stream id 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sonde_error err;
		char what[64];

		snprintf(what, sizeof(what), "malformed case %zu", i);
		is_str(parse_fail(cases[i].text, &err), cases[i].msg, what);
	}
}

/* Deep nesting must be rejected, not overflow the stack. */
static void test_limits(void)
{
	struct sonde_error err;
	size_t depth = 5000, n = 0;
	char *text = malloc(depth * 20 + 200);

	n += (size_t)sprintf(text + n, "trace { major = 1; minor = 8; byte_order = le; };\n"
			     "typealias integer { size = 8; } := u8;\nstruct s { ");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(text + n, "struct { ");
	n += (size_t)sprintf(text + n, "u8 x; ");
	for (size_t i = 0; i < depth; i++)
		n += (size_t)sprintf(text + n, "} a; ");
	sprintf(text + n, "};");
	ok(strstr(parse_fail(text, &err), "nesting too deep") != NULL, "deep nesting rejected");

	/* Nesting through typedefs without nested syntax. */
	n = (size_t)sprintf(text, "trace { major = 1; minor = 8; byte_order = le; };\n"
			    "typealias integer { size = 8; } := t0;\n");
	for (int i = 1; i < 200; i++)
		n += (size_t)sprintf(text + n, "typedef struct { t%d a; t%d b; } t%d;\n",
				     i - 1, i - 1, i);
	ok(strstr(parse_fail(text, &err), "nesting too deep") != NULL,
	   "deep typedef chains rejected");

	/* A doubling chain of typedefs expands to 2^60 nodes per use. */
	n = (size_t)sprintf(text, "trace { major = 1; minor = 8; byte_order = le; };\n"
			    "typealias integer { size = 8; } := t0;\n");
	for (int i = 1; i <= 60; i++)
		n += (size_t)sprintf(text + n, "typedef struct { t%d a; t%d b; } t%d;\n",
				     i - 1, i - 1, i);
	sprintf(text + n, "event { name = e; fields := struct { t60 x; }; };\n");
	ok(strstr(parse_fail(text, &err), "out of memory or metadata too complex") != NULL,
	   "exponential typedef expansion rejected");
	free(text);
}

/* No clock anywhere: `timestamp` header fields and the packet's
 * timestamp_begin/end get an implicit 1 GHz clock (babeltrace 1.5 reads them
 * by name); other fields of the same aliased types stay unmapped. */
static void test_implicit_clock(void)
{
	struct sonde_error err;
	struct sonde_ctf_trace_class *tc;
	const struct sonde_ctf_stream_class *sc;
	const struct sonde_ctf_type *pc, *eh;

	tc = parse(PREAMBLE
		   "trace { major = 1; minor = 8; byte_order = le; };\n"
		   "stream { packet.context := struct { uint64_t timestamp_begin;"
		   "  uint64_t content_size; };"
		   "  event.header := struct { uint32_t id; uint64_t timestamp; }; };\n"
		   "event { name = \"e\"; id = 0; };\n", &err);
	ok(tc != NULL, "clockless metadata parses");
	if (!tc) {
		printf("# %s\n", err.msg);
		return;
	}
	sc = sonde_ctf_trace_class_find_stream_class(tc, 0);
	ok(sc && sc->clock && sc->clock->freq == 1000000000,
	   "implicit 1 GHz stream clock");
	pc = sc->packet_context;
	eh = sc->event_header;
	ok(eh->u.structure.fields[1].type->u.integer.mapped_clock == sc->clock,
	   "header timestamp mapped");
	ok(pc->u.structure.fields[0].type->u.integer.mapped_clock == sc->clock,
	   "timestamp_begin mapped");
	ok(!pc->u.structure.fields[1].type->u.integer.mapped_clock,
	   "content_size, same alias, not mapped");
	sonde_ctf_trace_class_free(tc);
}

int main(void)
{
	test_minimal_and_roles();
	test_integers();
	test_enums();
	test_compounds();
	test_sequences_and_variants();
	test_scopes();
	test_lexical();
	test_clock_to_ns();
	test_implicit_clock();
	test_event_lookup();
	test_depacketize();
	test_malformed();
	test_limits();
	return tap_done();
}
