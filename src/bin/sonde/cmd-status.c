/*
 * sonde status: the current session, with live counts.
 */
#include <stdio.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"

static const char status_help[] =
"NAME\n"
"    sonde status - show the current session\n"
"\n"
"SYNOPSIS\n"
"    sonde status\n"
"\n"
"DESCRIPTION\n"
"    Prints the current session (the one 'sonde create' made last) as\n"
"    'sonde list NAME' does: whether it is recording, where its trace\n"
"    goes, how many events the kernel backend recorded and discarded so\n"
"    far (live while the session is started), its channel and events.\n"
"\n"
"OPTIONS\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when there is no current session or it is gone, 2 on\n"
"    bad usage.\n";

int cmd_status(int argc, char **argv)
{
	const char *name;
	char current[256];
	int ret;

	ret = client_parse_help_only(argc, argv, "status", status_help);
	if (ret >= 0)
		return ret;
	if (optind < argc)
		return client_usage_error("status", "unexpected argument '%s'",
					  argv[optind]);
	name = client_session_name(NULL, current, sizeof(current));
	if (!name)
		return 1;
	return list_session(name);
}
