/*
 * sonde stop: stop recording a session.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "commands.h"

static const char stop_help[] =
"NAME\n"
"    sonde stop - stop recording a session\n"
"\n"
"SYNOPSIS\n"
"    sonde stop [NAME]\n"
"\n"
"DESCRIPTION\n"
"    Stops recording a session (default: the current session): every\n"
"    per-CPU buffer is drained, the last packets are closed and the index\n"
"    files written, so that the trace on disk is complete and readable\n"
"    (sonde view, babeltrace) when this returns.\n"
"\n"
"OPTIONS\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the session does not exist, is not started or\n"
"    its trace could not be flushed, 2 on bad usage.\n";

static const struct option stop_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_stop(int argc, char **argv)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *name = NULL;
	char current[256];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", stop_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(stop_help, stdout);
			return 0;
		}
		return client_usage_error("stop", "unknown option '%s'",
					  argv[optind - 1]);
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return client_usage_error("stop", "unexpected argument '%s'",
					  argv[optind]);
	name = client_session_name(name, current, sizeof(current));
	if (!name)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_STOP);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	if (client_call(&w, false, &reply))
		return 1;
	printf("Tracing stopped for session %s\n", name);
	sonde_ctl_msg_free(reply);
	return 0;
}
