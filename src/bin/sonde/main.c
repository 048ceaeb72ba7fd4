/*
 * sonde: dispatches `sonde VERB ...` to the verb's cmd_VERB().
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct verb {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "create", cmd_create, "create a recording session" },
	{ "enable-channel", cmd_enable_channel, "create the kernel channel of a session" },
	{ "enable-event", cmd_enable_event, "record kernel events (tracepoints, syscalls)" },
	{ "add-context", cmd_add_context, "record context fields (vpid, vtid...) with user-space events" },
	{ "disable-event", cmd_disable_event, "stop recording kernel events" },
	{ "track", cmd_track, "record only the events of some processes (pid, name, cgroup...)" },
	{ "untrack", cmd_untrack, "stop recording the events of some processes" },
	{ "start", cmd_start, "start recording a session" },
	{ "stop", cmd_stop, "stop recording a session, flushing its trace" },
	{ "destroy", cmd_destroy, "destroy sessions (the trace stays on disk)" },
	{ "list", cmd_list, "list sessions, a session's details, or kernel events" },
	{ "status", cmd_status, "show the current session" },
	{ "snapshot", cmd_snapshot, "write a snapshot session's buffers to disk" },
	{ "view", cmd_view, "print the events of CTF traces (babeltrace-compatible text, JSON)" },
	{ "summary", cmd_summary, "per-process summary of a kernel trace" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sonde [--version] [--help] VERB [OPTIONS] [ARGS]\n"
		"\n"
		"sonde is a tracing-based performance monitoring toolkit.\n"
		"\n"
		"Verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-15s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
		"\n"
		"Run 'sonde VERB --help' for the options of a verb.\n");
}

int main(int argc, char **argv)
{
	const char *verb;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	verb = argv[1];
	if (!strcmp(verb, "--version") || !strcmp(verb, "-V")) {
		printf("sonde %s (git %s)\n", SONDE_VERSION, SONDE_GIT_COMMIT);
		return 0;
	}
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") ||
	    !strcmp(verb, "help")) {
		if (!strcmp(verb, "help") && argc > 2) {
			char *help_argv[] = { argv[2], (char *)"--help", NULL };

			for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
				if (!strcmp(argv[2], verbs[i].name))
					return verbs[i].run(2, help_argv);
		}
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sonde: error: unknown verb '%s' (see 'sonde --help')\n",
		verb);
	return 2;
}
