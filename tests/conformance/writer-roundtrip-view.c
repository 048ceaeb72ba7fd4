/*
 * Prints a trace with libsonde-ctf's reader and libsonde-view's printer,
 * with `babeltrace TRACE`'s default options: the reader half of the
 * writer's round-trip test (writer-babeltrace.sh compares this output with
 * babeltrace 1.5's).  Kept apart from `sonde view` so the test does not
 * depend on the CLI's option handling.
 *
 * usage: writer-roundtrip-view TRACE_DIR
 */
#include <stdio.h>
#include <unistd.h>

#include "sonde/ctf.h"
#include "sonde/view.h"

int main(int argc, char **argv)
{
	struct sonde_error err = { 0 };
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_iter *it = NULL;
	struct sonde_view_printer *p = NULL;
	struct sonde_view_opts opts;
	const struct sonde_ctf_msg *msg;
	const char *paths[1];
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: writer-roundtrip-view TRACE_DIR\n");
		return 2;
	}
	paths[0] = argv[1];
	sonde_view_opts_init(&opts);
	rc = sonde_ctf_trace_set_open(paths, 1, &set, &err);
	if (!rc)
		rc = sonde_ctf_iter_create(set, &it, &err);
	if (!rc)
		rc = sonde_view_printer_create(&opts, set, STDOUT_FILENO,
					       STDERR_FILENO, &p, &err);
	while (!rc && (rc = sonde_ctf_iter_next(it, &msg, &err)) == 1)
		rc = sonde_view_print(p, msg, &err);
	if (!rc)
		rc = sonde_view_printer_flush(p, &err);
	sonde_view_printer_free(p);
	sonde_ctf_iter_free(it);
	sonde_ctf_trace_set_free(set);
	if (rc < 0) {
		fprintf(stderr, "writer-roundtrip-view: error: %s\n", err.msg);
		return 1;
	}
	return 0;
}
