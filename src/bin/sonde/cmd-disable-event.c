/*
 * sonde disable-event: stop recording kernel or user-space events (parsing
 * shared with enable-event).
 */
#include <stdbool.h>

#include "commands.h"

static const char disable_event_help[] =
"NAME\n"
"    sonde disable-event - stop recording events in a session\n"
"\n"
"SYNOPSIS\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] NAME[,NAME...]...\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] --syscall NAME[,NAME...]\n"
"    sonde disable-event -k [-s SESSION] [-c CHANNEL] [--syscall] -a\n"
"    sonde disable-event -u [-s SESSION] PATTERN... | -a\n"
"\n"
"DESCRIPTION\n"
"    Disables events enabled with 'sonde enable-event', by the same names\n"
"    (a glob is disabled as a whole, not name by name).  Works while the\n"
"    session is started; 'sonde list SESSION' shows what is enabled.\n"
"\n"
"    With -u, PATTERN is a pattern given to 'enable-event -u' (all its\n"
"    enablings, whatever their log level or filter); -a removes them all.\n"
"    Every program recording for the session stops recording the events\n"
"    no other pattern enables within 100 ms (its poll period), the others\n"
"    being recorded on without a gap.\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        The kernel domain (the default).\n"
"    -u, --userspace\n"
"        The user-space domain.\n"
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
