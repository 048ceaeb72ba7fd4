/*
 * sonde snapshot record: write what a snapshot session holds in memory.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"

static const char snapshot_help[] =
"NAME\n"
"    sonde snapshot - write the buffers of a snapshot session to disk\n"
"\n"
"SYNOPSIS\n"
"    sonde snapshot record [-s SESSION] [-n NAME] [-o DIR]\n"
"    sonde snapshot record [-s SESSION] [-n NAME] net://RELAY[:C[:D]]\n"
"    sonde snapshot record [-s SESSION] [-n NAME] -C tcp://RELAY:C -D tcp://RELAY:D\n"
"\n"
"DESCRIPTION\n"
"    A snapshot session (sonde create --snapshot) keeps the newest events\n"
"    in its kernel buffers.  'snapshot record' writes them as a complete\n"
"    CTF trace, in DIR/NAME-YYYYMMDD-HHMMSS-N/ (N counts the snapshots of\n"
"    the session from 0), while recording goes on.  The buffers are not\n"
"    emptied: a later snapshot holds the events of an earlier one that are\n"
"    still in memory.\n"
"\n"
"    The snapshot goes to a relay daemon (sonde-relayd or lttng-relayd)\n"
"    when a URL is given or the session was created with -U/-C/-D; the\n"
"    relay writes it to HOSTNAME/SESSION-YYYYMMDD-HHMMSS/NAME-YYYYMMDD-\n"
"    HHMMSS-N/ under its output directory, as for lttng.  It is staged\n"
"    in the session's output directory while it is sent.\n"
"\n"
"OPTIONS\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    -n, --name NAME\n"
"        Name of the snapshot (default: snapshot-N, N counting from 1).\n"
"    -o, --output DIR\n"
"        Where to write it (default: the session's output directory, or\n"
"        its relay).\n"
"    net://RELAY[:C[:D]]\n"
"        Send it to this relay: control port C (default 5342), data port\n"
"        D (default 5343).\n"
"    -C, --ctrl-url tcp://RELAY:C, -D, --data-url tcp://RELAY:D\n"
"        The same, the two ports given apart.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the session is not a started or stopped snapshot\n"
"    session or the trace cannot be written or sent (the relay does not\n"
"    answer within 10 s...), 2 on bad usage.\n";

static const struct option snapshot_options[] = {
	{ "session", required_argument, NULL, 's' },
	{ "name", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "ctrl-url", required_argument, NULL, 'C' },
	{ "data-url", required_argument, NULL, 'D' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_snapshot(int argc, char **argv)
{
	const char *session = NULL, *name = NULL, *dir = NULL, *path;
	char current[256], abs_dir[PATH_MAX], cwd[PATH_MAX];
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	struct client_relay relay = { .set = false };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hs:n:o:C:D:", snapshot_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(snapshot_help, stdout);
			return 0;
		case 's':
			session = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'C':
		case 'D':
			if (client_parse_relay_url("snapshot", c, optarg, &relay))
				return 2;
			break;
		case ':':
			return client_usage_error("snapshot", "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error("snapshot", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return client_usage_error("snapshot", "no action given (record)");
	if (strcmp(argv[optind], "record"))
		return client_usage_error("snapshot", "unknown action '%s' (only 'record')",
					  argv[optind]);
	/* getopt_long permutes: options after the action were parsed too. */
	optind++;
	if (optind < argc && !relay.set &&
	    client_parse_relay_url("snapshot", 'U', argv[optind++], &relay))
		return 2;
	if (optind < argc)
		return client_usage_error("snapshot", "unexpected argument '%s'",
					  argv[optind]);
	if (relay.set && dir)
		return client_usage_error("snapshot", "%s",
					  "-o and a relay URL exclude each other");
	if (dir && dir[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(abs_dir, sizeof(abs_dir), "%s/%s", cwd, dir) >= (int)sizeof(abs_dir)) {
			fprintf(stderr, "sonde: error: output directory '%s': path too long\n", dir);
			return 1;
		}
		dir = abs_dir;
	}
	session = client_session_name(session, current, sizeof(current));
	if (!session)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_SNAPSHOT_RECORD);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, session);
	if (name)
		sonde_ctl_put_str(&w, SONDE_CTL_T_SNAPSHOT_NAME, name);
	if (dir)
		sonde_ctl_put_str(&w, SONDE_CTL_T_OUTPUT, dir);
	if (relay.set)
		client_put_relay(&w, &relay);
	if (client_call(&w, false, &reply))
		return 1;
	path = sonde_ctl_get_str(&reply->root, SONDE_CTL_T_PATH);
	printf("Snapshot recorded successfully for session %s\n", session);
	if (path)
		printf("Snapshot written to %s\n", path);
	sonde_ctl_msg_free(reply);
	return 0;
}
