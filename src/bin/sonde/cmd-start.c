/*
 * sonde start: start recording a session.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "commands.h"

static const char start_help[] =
"NAME\n"
"    sonde start - start recording a session\n"
"\n"
"SYNOPSIS\n"
"    sonde start [NAME]\n"
"\n"
"DESCRIPTION\n"
"    Starts recording the enabled events of a session (default: the current\n"
"    session).  The kernel first writes a state dump (the processes, threads\n"
"    and open files that exist: lttng_statedump_* events), then every\n"
"    enabled event as it happens, into the session's output directory.\n"
"    A stopped session may be started again: the trace goes on in the same\n"
"    files.\n"
"\n"
"OPTIONS\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the session does not exist, is already started,\n"
"    has no event enabled or the kernel refuses, 2 on bad usage.\n";

static const struct option start_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_start(int argc, char **argv)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *name = NULL;
	char current[256];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", start_options, NULL)) != -1) {
		if (c == 'h') {
			fputs(start_help, stdout);
			return 0;
		}
		return client_usage_error("start", "unknown option '%s'",
					  argv[optind - 1]);
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return client_usage_error("start", "unexpected argument '%s'",
					  argv[optind]);
	name = client_session_name(name, current, sizeof(current));
	if (!name)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_START);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	if (client_call(&w, false, &reply))
		return 1;
	printf("Tracing started for session %s\n", name);
	sonde_ctl_msg_free(reply);
	return 0;
}
