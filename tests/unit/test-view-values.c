/*
 * Unit tests of the printers' value forms on hand-built value tapes:
 * babeltrace 1.5's text (enums with one, several or no labels and their
 * order, variants, text arrays cut at NUL, raw strings, integer bases,
 * floats, empty structs, arrays, names on and off) and the JSON forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sonde/view.h"
#include "view/fmt.h"
#include "tap.h"

static struct sonde_ctf_type u8 = {
	.kind = SONDE_CTF_INT, .align = 8,
	.u.integer = { .size = 8, .base = 10 },
};
static struct sonde_ctf_type s32x = {
	.kind = SONDE_CTF_INT, .align = 8,
	.u.integer = { .size = 32, .is_signed = true, .base = 16 },
};
static struct sonde_ctf_type dbl = {
	.kind = SONDE_CTF_FLOAT, .align = 8,
	.u.floating = { .exp_dig = 11, .mant_dig = 53 },
};
static struct sonde_ctf_type str = { .kind = SONDE_CTF_STRING, .align = 8 };
static const struct sonde_ctf_enum_mapping maps[] = {
	{ "A", { .u = 1 }, { .u = 1 } },
	{ "C", { .u = 0 }, { .u = 5 } },
	{ "B", { .u = 1 }, { .u = 1 } },
	{ "D", { .u = 1 }, { .u = 3 } },
};
static struct sonde_ctf_type en = {
	.kind = SONDE_CTF_ENUM, .align = 8,
	.u.enumeration = { .container = &u8, .count = 4, .mappings = maps },
};
static struct sonde_ctf_type text4 = {
	.kind = SONDE_CTF_ARRAY, .align = 8,
	.u.array = { .element = &u8, .length = 4, .is_text = true },
};
static struct sonde_ctf_type arr2 = {
	.kind = SONDE_CTF_ARRAY, .align = 8,
	.u.array = { .element = &u8, .length = 2 },
};
static struct sonde_ctf_type empty = { .kind = SONDE_CTF_STRUCT, .align = 8 };
static const struct sonde_ctf_field_decl opts[] = {
	{ .name = "_num", .type = &u8, .slot = -1 },
	{ .name = "txt", .type = &str, .slot = -1 },
};
static struct sonde_ctf_type var = {
	.kind = SONDE_CTF_VARIANT, .align = 8,
	.u.variant = { .count = 2, .options = opts, .tag_name = "tag" },
};

static char out[4096];

/* Prints tape[0] with a fresh printer into a temporary file. */
static const char *render(const struct sonde_ctf_value *tape, bool names,
			  enum sonde_view_format format, char *warnings)
{
	struct sonde_view_opts o;
	struct sonde_view_printer *p;
	FILE *f = tmpfile(), *w = tmpfile();
	size_t n;

	sonde_view_opts_init(&o);
	o.format = format;
	if (!f || !w || sonde_view_printer_create(&o, NULL, fileno(f),
						  fileno(w), &p, NULL))
		return "(setup failed)";
	sonde_view_print_value(p, tape, 0, names);
	sonde_view_printer_free(p);
	rewind(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	if (warnings) {
		rewind(w);
		n = fread(warnings, 1, 255, w);
		warnings[n] = '\0';
	}
	fclose(f);
	fclose(w);
	return out;
}

static const char *text(const struct sonde_ctf_value *tape, bool names)
{
	return render(tape, names, SONDE_VIEW_TEXT, NULL);
}

int main(void)
{
	char warn[256];
	struct sonde_ctf_value v[8];

	memset(v, 0, sizeof(v));
	v[0] = (struct sonde_ctf_value){ .type = &en, .end = 1, .v.u = 1 };
	is_str(text(v, true), "( \"A\", \"B\", \"D\", \"C\" : container = 1 )",
	       "enum: several labels, singles first, ranges reversed, no braces");
	is_str(text(v, false), "( \"A\", \"B\", \"D\", \"C\" : 1 )",
	       "enum without names");
	v[0].v.u = 4;
	is_str(text(v, true), "( \"C\" : container = 4 )", "enum: one label");
	v[0].v.u = 9;
	is_str(render(v, true, SONDE_VIEW_TEXT, warn),
	       "( <unknown> : container = 9 )", "enum: unknown value");
	is_str(warn, "[warning] Unknown value 9 in enum.\n",
	       "enum: unknown value warning");
	v[0].v.u = 3;
	is_str(render(v, true, SONDE_VIEW_JSON, NULL),
	       "{\"value\":3,\"labels\":[\"C\",\"D\"]}",
	       "JSON enum: labels in declaration order");

	v[0] = (struct sonde_ctf_value){ .type = &s32x, .end = 1, .v.s = -1 };
	is_str(text(v, true), "0xFFFFFFFF", "signed hex masked to its size");
	is_str(render(v, true, SONDE_VIEW_JSON, NULL), "-1", "JSON signed int");

	v[0] = (struct sonde_ctf_value){ .type = &dbl, .end = 1, .v.d = 1e20 };
	is_str(text(v, true), "1e+20", "float %g");
	v[0].v.d = 0.5;
	is_str(render(v, true, SONDE_VIEW_JSON, NULL), "0.5", "JSON float");

	v[0] = (struct sonde_ctf_value){ .type = &str, .end = 1,
		.v.str = { "say \"hi\" \\ \n", 12 } };
	is_str(text(v, true), "\"say \"hi\" \\ \n\"",
	       "strings are printed raw, as babeltrace 1.5");
	is_str(render(v, true, SONDE_VIEW_JSON, NULL),
	       "\"say \\\"hi\\\" \\\\ \\n\"", "JSON string escaped");

	v[0] = (struct sonde_ctf_value){ .type = &text4, .end = 1,
		.v.str = { "ab\0d", 4 } };
	is_str(text(v, true), "\"ab\"", "text array stops at NUL");

	v[0] = (struct sonde_ctf_value){ .type = &arr2, .end = 3, .v.count = 2 };
	v[1] = (struct sonde_ctf_value){ .type = &u8, .end = 2, .v.u = 7 };
	v[2] = (struct sonde_ctf_value){ .type = &u8, .end = 3, .v.u = 8 };
	is_str(text(v, true), "[ [0] = 7, [1] = 8 ]", "array with names");
	is_str(text(v, false), "[ 7, 8 ]", "array without names");
	is_str(render(v, true, SONDE_VIEW_JSON, NULL), "[7,8]", "JSON array");

	v[0] = (struct sonde_ctf_value){ .type = &empty, .end = 1, .v.count = 0 };
	is_str(text(v, true), "{ }", "empty struct");
	is_str(render(v, true, SONDE_VIEW_JSON, NULL), "{}", "JSON empty struct");

	v[0] = (struct sonde_ctf_value){ .type = &var, .end = 2, .v.option = 0 };
	v[1] = (struct sonde_ctf_value){ .type = &u8, .end = 2, .v.u = 5 };
	is_str(text(v, true), "{ num = 5 }",
	       "variant: option name, underscore stripped");
	is_str(text(v, false), "{ 5 }", "variant without names");
	is_str(render(v, true, SONDE_VIEW_JSON, NULL), "{\"num\":5}",
	       "JSON variant");
	return tap_done();
}
