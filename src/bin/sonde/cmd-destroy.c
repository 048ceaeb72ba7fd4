/*
 * sonde destroy: stop (flushing) and forget one session or all of them.
 */
#include <getopt.h>
#include <stdio.h>

#include "client.h"
#include "commands.h"

static const char destroy_help[] =
"NAME\n"
"    sonde destroy - destroy recording sessions\n"
"\n"
"SYNOPSIS\n"
"    sonde destroy [NAME | -a]\n"
"\n"
"DESCRIPTION\n"
"    Destroys the session NAME (default: the current session): a started\n"
"    session is stopped first and its trace flushed to disk, then its\n"
"    kernel buffers (its ftrace instance) are freed.  The trace stays on\n"
"    disk.  If it was the current session, there is no current session\n"
"    any more.\n"
"\n"
"OPTIONS\n"
"    -a, --all\n"
"        Destroy every session of the daemon.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the session does not exist or its trace could\n"
"    not be flushed (it is destroyed anyway), 2 on bad usage.\n";

static const struct option destroy_options[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_destroy(int argc, char **argv)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	char current[256];
	const char *name = NULL;
	bool all = false;
	size_t destroyed = 0;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ha", destroy_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(destroy_help, stdout);
			return 0;
		case 'a':
			all = true;
			break;
		default:
			return client_usage_error("destroy", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return client_usage_error("destroy", "unexpected argument '%s'",
					  argv[optind]);
	if (all && name)
		return client_usage_error("destroy", "give a session name or -a, not both");
	sonde_ctl_writer_init(&w, SONDE_CTL_DESTROY);
	if (all) {
		sonde_ctl_put_bool(&w, SONDE_CTL_T_ALL, true);
	} else {
		name = client_session_name(name, current, sizeof(current));
		if (!name) {
			sonde_ctl_writer_release(&w);
			return 1;
		}
		sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	}
	if (client_call(&w, false, &reply))
		return 1;
	for (size_t i = 0; i < reply->root.count; i++) {
		const struct sonde_ctl_field *f = &reply->root.fields[i];
		const char *s;

		if (f->tag != SONDE_CTL_T_SESSION_REC)
			continue;
		s = sonde_ctl_get_str(f->v.rec, SONDE_CTL_T_SESSION);
		if (!s)
			continue;
		current_session_clear(s);
		printf("Session %s destroyed\n", s);
		destroyed++;
	}
	if (all && !destroyed)
		printf("No session to destroy\n");
	sonde_ctl_msg_free(reply);
	return 0;
}
