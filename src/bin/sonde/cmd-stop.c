/*
 * sonde stop: stop recording a session.
 */

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

int cmd_stop(int argc, char **argv)
{
	return client_session_verb(argc, argv, "stop", stop_help, SONDE_CTL_STOP,
				   "stopped");
}
