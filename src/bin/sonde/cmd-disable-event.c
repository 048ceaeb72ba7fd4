/*
 * sonde disable-event: stop recording kernel events (parsing shared with
 * enable-event).
 */
#include <stdbool.h>

#include "commands.h"

static const char disable_event_help[] =
"NAME\n"
"    sonde disable-event - stop recording kernel events in a session\n"
"\n"
"SYNOPSIS\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] NAME[,NAME...]...\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] --syscall NAME[,NAME...]\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] [--syscall] -a\n"
"\n"
"DESCRIPTION\n"
"    Disables events enabled with 'sonde enable-event', by the same names\n"
"    (a glob is disabled as a whole, not name by name).  Works while the\n"
"    session is started; 'sonde list SESSION' shows what is enabled.\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        The kernel domain (the only one today; may be left out).\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    -c, --channel CHANNEL\n"
"        The channel (default: the session's channel).\n"
"    --syscall\n"
"        NAME is a system call.\n"
"    -a, --all\n"
"        What 'enable-event -a' (or '--syscall -a') enabled.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the event is not enabled or the session does not\n"
"    exist, 2 on bad usage.\n";

int cmd_disable_event(int argc, char **argv)
{
	return event_verb(argc, argv, false, disable_event_help);
}
