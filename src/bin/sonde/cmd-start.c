/*
 * sonde start: start recording a session.
 */

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

int cmd_start(int argc, char **argv)
{
	return client_session_verb(argc, argv, "start", start_help, SONDE_CTL_START,
				   "started");
}
