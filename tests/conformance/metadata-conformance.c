/*
 * Metadata conformance: loads each metadata file named in an expectations
 * list (paths relative to the shared data root) and compares our verdict
 * with the expected one.  TAP output; the error message of each rejected
 * file is shown so that a "fail" accepted for the wrong reason stands out.
 *
 * A "scan DIR" line makes every file named `metadata` under DATA_ROOT/DIR
 * that the list does not name a failure, so new corpus files get a verdict.
 *
 * usage: metadata-conformance DATA_ROOT EXPECT_FILE
 *        metadata-conformance --one METADATA_FILE    (prints the verdict)
 *        metadata-conformance --dump METADATA_FILE   (prints the model)
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sonde/ctf.h"

static int read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	uint8_t *buf;

	if (!f)
		return -1;
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		{
			uint8_t *nb = realloc(buf, cap);

			if (!nb) {
				free(buf);
				buf = NULL;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (!buf)
		return -1;
	*data = buf;
	*len = n;
	return 0;
}


static const char *const kind_names[] = {
	"int", "float", "string", "enum", "struct", "variant", "array", "sequence",
};

static void dump_type(const struct sonde_ctf_type *t, int indent);

static void dump_fields(const struct sonde_ctf_field_decl *f, size_t n, int indent)
{
	for (size_t i = 0; i < n; i++) {
		printf("%*s%s", indent, "", f[i].name);
		if (f[i].slot >= 0)
			printf(" [slot %d]", f[i].slot);
		if (f[i].role)
			printf(" [role %d]", f[i].role);
		printf(": ");
		dump_type(f[i].type, indent + 2);
	}
}

static void dump_type(const struct sonde_ctf_type *t, int indent)
{
	printf("%s align %u", kind_names[t->kind], t->align);
	switch (t->kind) {
	case SONDE_CTF_INT:
		printf(" size %u %s %s base %u enc %u%s%s\n", t->u.integer.size,
		       t->u.integer.is_signed ? "signed" : "unsigned",
		       t->u.integer.byte_order ? "be" : "le", t->u.integer.base,
		       t->u.integer.encoding,
		       t->u.integer.mapped_clock ? " clock " : "",
		       t->u.integer.mapped_clock ? t->u.integer.mapped_clock->name : "");
		break;
	case SONDE_CTF_FLOAT:
		printf(" %u+%u\n", t->u.floating.exp_dig, t->u.floating.mant_dig);
		break;
	case SONDE_CTF_STRING:
		printf(" enc %u\n", t->u.string.encoding);
		break;
	case SONDE_CTF_ENUM:
		printf(" (%zu mappings) of ", t->u.enumeration.count);
		dump_type(t->u.enumeration.container, indent);
		break;
	case SONDE_CTF_STRUCT:
		printf(" {\n");
		dump_fields(t->u.structure.fields, t->u.structure.count, indent);
		break;
	case SONDE_CTF_VARIANT:
		printf(" <%s slot %d, %zu ranges> {\n", t->u.variant.tag_name,
		       t->u.variant.tag_slot, t->u.variant.range_count);
		dump_fields(t->u.variant.options, t->u.variant.count, indent);
		break;
	case SONDE_CTF_ARRAY:
		printf(" [%llu]%s of ", (unsigned long long)t->u.array.length,
		       t->u.array.is_text ? " text" : "");
		dump_type(t->u.array.element, indent);
		break;
	case SONDE_CTF_SEQUENCE:
		printf(" [%s slot %d]%s of ", t->u.sequence.length_name,
		       t->u.sequence.length_slot, t->u.sequence.is_text ? " text" : "");
		dump_type(t->u.sequence.element, indent);
		break;
	}
}

static void dump_scope(const char *name, const struct sonde_ctf_type *t, int indent)
{
	if (!t)
		return;
	printf("%*s%s: ", indent, "", name);
	dump_type(t, indent + 2);
}

static void dump(const struct sonde_ctf_trace_class *tc)
{
	printf("CTF %u.%u %s slots %u\n", tc->major, tc->minor,
	       tc->byte_order ? "be" : "le", tc->slot_count);
	for (size_t i = 0; i < tc->env_count; i++)
		printf("env %s\n", tc->env[i].key);
	for (size_t i = 0; i < tc->clock_count; i++)
		printf("clock %s freq %llu offset_s %lld offset %lld\n",
		       tc->clocks[i]->name, (unsigned long long)tc->clocks[i]->freq,
		       (long long)tc->clocks[i]->offset_s,
		       (long long)tc->clocks[i]->offset);
	dump_scope("packet.header", tc->packet_header, 0);
	for (size_t s = 0; s < tc->stream_class_count; s++) {
		const struct sonde_ctf_stream_class *sc = tc->stream_classes[s];

		printf("stream %llu clock %s, %zu events\n", (unsigned long long)sc->id,
		       sc->clock ? sc->clock->name : "-", sc->event_class_count);
		dump_scope("packet.context", sc->packet_context, 2);
		dump_scope("event.header", sc->event_header, 2);
		dump_scope("event.context", sc->event_context, 2);
		for (size_t e = 0; e < sc->event_class_count; e++) {
			const struct sonde_ctf_event_class *ec = sc->event_classes[e];

			printf("  event %llu %s\n", (unsigned long long)ec->id, ec->name);
			dump_scope("context", ec->context, 4);
			dump_scope("fields", ec->fields, 4);
		}
	}
}

static int load(const char *path, bool print, struct sonde_error *err)
{
	struct sonde_ctf_trace_class *tc = NULL;
	uint8_t *data;
	size_t len;
	int ret;

	if (read_file(path, &data, &len))
		return sonde_error_set(err, SONDE_EIO, "%s: cannot read", path);
	ret = sonde_ctf_metadata_load(data, len, path, &tc, NULL, NULL, err);
	free(data);
	if (!ret && print)
		dump(tc);
	sonde_ctf_trace_class_free(tc);
	return ret;
}

struct listed {
	char **paths;
	size_t count, cap;
};

static void listed_add(struct listed *l, const char *rel)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->paths, cap * sizeof(*v));

		if (!v)
			abort();
		l->paths = v;
		l->cap = cap;
	}
	l->paths[l->count] = strdup(rel);
	if (!l->paths[l->count])
		abort();
	l->count++;
}

static bool listed_has(const struct listed *l, const char *rel)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->paths[i], rel))
			return true;
	return false;
}

/* Reports the `metadata` files under root/rel that are not listed. */
static void scan(const char *root, const char *rel, const struct listed *l,
		 int *count, int *failed)
{
	char path[4096];
	struct dirent **names = NULL;
	int n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char sub[2048];

		if (name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", rel, name);
			if (names[i]->d_type == DT_DIR) {
				scan(root, sub, l, count, failed);
			} else if (!strcmp(name, "metadata")) {
				if (!listed_has(l, sub)) {
					printf("not ok %d - %s is not in the expectations list\n",
					       ++*count, sub);
					++*failed;
				}
			}
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	char line[2048];
	int count = 0, failed = 0;
	struct listed listed = { NULL, 0, 0 };
	struct listed scans = { NULL, 0, 0 };
	FILE *f;

	if (argc == 3 && (!strcmp(argv[1], "--one") || !strcmp(argv[1], "--dump"))) {
		struct sonde_error err = { 0, "" };
		int ret = load(argv[2], !strcmp(argv[1], "--dump"), &err);

		printf("%s%s%s\n", ret ? "rejected: " : "accepted", ret ? err.msg : "", "");
		return ret ? 1 : 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s DATA_ROOT EXPECT_FILE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 2;
	}
	while (fgets(line, sizeof(line), f)) {
		char verdict[16], rel[1024], path[2048];
		struct sonde_error err = { 0, "" };
		int ret, want_pass;

		if (line[0] == '#' || sscanf(line, "%15s %1023s", verdict, rel) != 2)
			continue;
		if (!strcmp(verdict, "scan")) {
			listed_add(&scans, rel);
			continue;
		}
		listed_add(&listed, rel);
		want_pass = !strcmp(verdict, "pass");
		snprintf(path, sizeof(path), "%s/%s", argv[1], rel);
		ret = load(path, false, &err);
		if (ret == SONDE_EIO) {
			printf("ok %d - %s # SKIP not readable\n", ++count, rel);
			continue;
		}
		if ((ret == 0) != want_pass)
			failed++;
		printf("%sok %d - %s %s%s%s\n", (ret == 0) == want_pass ? "" : "not ",
		       ++count, verdict, rel, ret ? " # " : "", ret ? err.msg : "");
	}
	fclose(f);
	for (size_t i = 0; i < scans.count; i++)
		scan(argv[1], scans.paths[i], &listed, &count, &failed);
	for (size_t i = 0; i < listed.count; i++)
		free(listed.paths[i]);
	for (size_t i = 0; i < scans.count; i++)
		free(scans.paths[i]);
	free(listed.paths);
	free(scans.paths);
	printf("1..%d\n", count);
	return failed ? 1 : 0;
}
