/* Event descriptions from traced programs to sonde-sessiond: round trip
 * of every field kind, and refusal of what would break the metadata. */
#include <stdlib.h>

#include "../helpers/tap.h"
#include "common/arena.h"
#include "ust/event-desc.h"

static const struct sonde_ctfw_enum_entry colors[] = {
	{ "RED", 0, 0, false },
	{ "MANY", 10, 19, false },
};

static const struct sonde_ctfw_field fields[] = {
	SONDE_CTFW_INTEGER("i", 32, true),
	SONDE_CTFW_INTEGER_NETWORK_HEX("n", 16, false),
	SONDE_CTFW_DOUBLE("d"),
	SONDE_CTFW_STRING("s"),
	SONDE_CTFW_ARRAY_TEXT("a", 8),
	SONDE_CTFW_SEQUENCE("q", 64, true, 32),
	SONDE_CTFW_ENUM("e", 8, false, colors, 2),
};

static int round_trip(const struct sonde_tp_event *ev,
		      struct sonde_ust_event_desc *out, struct sonde_arena *arena,
		      struct sonde_ctl_msg **msg, struct sonde_error *err)
{
	struct sonde_ctl_writer w;
	uint8_t *buf;
	size_t len;
	int rc;

	sonde_ctl_writer_init(&w, SONDE_CTL_APP_EVENT);
	sonde_ust_event_desc_put(&w, ev);
	if (sonde_ctl_writer_finish(&w, &buf, &len, err))
		return -1;
	rc = sonde_ctl_decode(buf, len, msg, err);
	free(buf);
	return rc ? rc : sonde_ust_event_desc_get(&(*msg)->root, arena, out, err);
}

static void expect_refused(const char *what, struct sonde_tp_event ev)
{
	struct sonde_ust_event_desc d;
	struct sonde_ctl_msg *msg = NULL;
	struct sonde_error err = { 0 };
	struct sonde_arena arena;

	sonde_arena_init(&arena, 1 << 20);
	ok(round_trip(&ev, &d, &arena, &msg, &err) == SONDE_EFORMAT, what);
	printf("# %s\n", err.msg);
	sonde_ctl_msg_free(msg);
	sonde_arena_release(&arena);
}

int main(void)
{
	struct sonde_tp_event ev = { .name = "prov:ev", .loglevel = 13,
				     .fields = fields, .field_count = 7 };
	struct sonde_ust_event_desc d;
	struct sonde_ctl_msg *msg = NULL;
	struct sonde_error err = { 0 };
	struct sonde_arena arena;
	struct sonde_ctfw_field bad[1];

	sonde_arena_init(&arena, 1 << 20);
	ok(round_trip(&ev, &d, &arena, &msg, &err) == 0, "every field kind decodes");
	is_str(d.name, "prov:ev", "name");
	is_int(d.loglevel, 13, "log level");
	is_int(d.field_count, 7, "field count");
	ok(!memcmp(&d.fields[0].integer, &fields[0].integer, sizeof(fields[0].integer)),
	   "integer type");
	is_int(d.fields[1].integer.order, SONDE_CTFW_ORDER_BE, "network order");
	is_int(d.fields[1].integer.base, 16, "hex");
	is_int(d.fields[2].float_bits, 64, "double");
	is_int(d.fields[4].count, 8, "array length");
	is_int(d.fields[4].integer.encoding, SONDE_CTF_ENC_UTF8, "text array");
	is_int(d.fields[5].length.size, 32, "sequence length type");
	is_int(d.fields[6].count, 2, "enum entries");
	is_str(d.fields[6].entries[1].label, "MANY", "enum label");
	is_int(d.fields[6].entries[1].hi, 19, "enum range");
	sonde_ctl_msg_free(msg);
	sonde_arena_release(&arena);

	ev.name = "prov:ev\"; } event { name = \"x";
	expect_refused("an event name that would inject TSDL", ev);
	ev.name = "noprovider";
	expect_refused("an event name without provider", ev);
	ev.name = "prov:ev";
	ev.loglevel = 99;
	expect_refused("a log level out of range", ev);
	ev.loglevel = 1;
	ev.fields = bad;
	ev.field_count = 1;
	{
		struct sonde_ctfw_field twice[2] = { SONDE_CTFW_INTEGER("x", 32, true),
						     SONDE_CTFW_STRING("x") };

		ev.fields = twice;
		ev.field_count = 2;
		expect_refused("two fields with one name", ev);
		ev.fields = bad;
		ev.field_count = 1;
	}
	bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_INTEGER("x y", 32, true);
	expect_refused("a field name with a space", ev);
	bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_INTEGER("x", 24, true);
	expect_refused("a 24-bit integer", ev);
	bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_ARRAY("x", 8, true, 0);
	expect_refused("an empty array", ev);
	bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_STRUCT("x", fields, 1);
	expect_refused("a struct (not a tracepoint field)", ev);
	{
		static const struct sonde_ctfw_enum_entry quote[] = {
			{ "A\"B", 0, 0, false },
		};

		static const struct sonde_ctfw_enum_entry big[] = {
			{ "BIG", 0, 256, false },
		};

		bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_ENUM("x", 8, false, quote, 1);
		expect_refused("an enum label with a quote", ev);
		bad[0] = (struct sonde_ctfw_field)SONDE_CTFW_ENUM("x", 8, false, big, 1);
		expect_refused("an enum value beyond its 8-bit container", ev);
	}
	return tap_done();
}
