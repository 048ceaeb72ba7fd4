/*
 * sonde add-context: add context fields to every event of a session's
 * user-space channel.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char add_context_help[] =
"NAME\n"
"    sonde add-context - record context fields with every event\n"
"\n"
"SYNOPSIS\n"
"    sonde add-context -u [-s SESSION] -t TYPE [-t TYPE]...\n"
"\n"
"DESCRIPTION\n"
"    Adds context fields to every user-space event of a session (default:\n"
"    the current session), recorded in the order given, before the session\n"
"    is started.  TYPE is one of vpid, vtid, procname, pthread_id.\n"
"\n"
"OPTIONS\n"
"    -u, --userspace\n"
"        The user-space domain (the only one today).\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    -t, --type TYPE\n"
"        A context field; repeat the option for several.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the daemon refuses (no such session, unknown\n"
"    type, session already started), 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde add-context -u -t vpid -t vtid -t procname\n";

static const struct option options[] = {
	{ "userspace", no_argument, NULL, 'u' },
	{ "kernel", no_argument, NULL, 'k' },
	{ "session", required_argument, NULL, 's' },
	{ "type", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_add_context(int argc, char **argv)
{
	const char *session = NULL, *types[16];
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	bool userspace = false;
	size_t ntypes = 0, i;
	char current[256];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hkus:t:", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(add_context_help, stdout);
			return 0;
		case 'u':
			userspace = true;
			break;
		case 'k':
			return client_usage_error("add-context",
						  "kernel contexts are not supported yet (use -u)");
		case 's':
			session = optarg;
			break;
		case 't':
			if (ntypes == sizeof(types) / sizeof(types[0]))
				return client_usage_error("add-context", "too many -t");
			types[ntypes++] = optarg;
			break;
		case ':':
			return client_usage_error("add-context",
						  "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error("add-context", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (!userspace)
		return client_usage_error("add-context", "give the domain: -u");
	if (!ntypes)
		return client_usage_error("add-context", "no context type given (-t)");
	if (optind < argc)
		return client_usage_error("add-context", "unexpected argument '%s'",
					  argv[optind]);
	session = client_session_name(session, current, sizeof(current));
	if (!session)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_ADD_CONTEXT);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, session);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_USERSPACE, true);
	for (i = 0; i < ntypes; i++)
		sonde_ctl_put_str(&w, SONDE_CTL_T_CONTEXT, types[i]);
	if (client_call(&w, false, &reply))
		return 1;
	for (i = 0; i < ntypes; i++)
		printf("User-space context %s added to session %s\n", types[i],
		       session);
	sonde_ctl_msg_free(reply);
	return 0;
}
