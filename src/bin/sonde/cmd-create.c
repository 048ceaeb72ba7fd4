/*
 * sonde create: a new recording session, made the current one.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "session/names.h"

static const char create_help[] =
"NAME\n"
"    sonde create - create a recording session\n"
"\n"
"SYNOPSIS\n"
"    sonde create [NAME] [-o DIR] [--snapshot]\n"
"\n"
"DESCRIPTION\n"
"    Creates the recording session NAME in the session daemon (starting a\n"
"    daemon if none runs, see sonde-sessiond(8)) and makes it the current\n"
"    session: the verbs that take an optional session name (enable-event,\n"
"    start, stop, destroy, status, view...) use it when given none.\n"
"\n"
"    NAME is made of letters, digits, '_', '.' and '-' (64 at most); the\n"
"    default is auto-YYYYMMDD-HHMMSS.  A new session records nothing until\n"
"    events are enabled (sonde enable-event) and it is started (sonde\n"
"    start).\n"
"\n"
"OPTIONS\n"
"    -o, --output DIR\n"
"        Write the trace to DIR (its kernel trace goes to DIR/kernel/).\n"
"        Default: $HOME/sonde-traces/NAME-YYYYMMDD-HHMMSS/.  A relative\n"
"        DIR is taken from the current directory.\n"
"    --snapshot\n"
"        Snapshot session: the kernel keeps the newest events in memory\n"
"        (flight recorder) and writes nothing until 'sonde snapshot\n"
"        record', which writes DIR/<snapshot>-YYYYMMDD-HHMMSS-N/.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the session cannot be created (it exists, no\n"
"    daemon could be started...), 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde create\n"
"    sonde create boot-trace -o /var/tmp/boot\n"
"    sonde create flight --snapshot\n";

enum { OPT_SNAPSHOT = 256 };

static const struct option create_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The daemon may run as another user (root): paths are made absolute and
 * the default is computed here, in the caller's home. */
static int absolute_output(const char *dir, const char *name, char *buf,
			   size_t size)
{
	struct sonde_error err = { 0 };
	char cwd[PATH_MAX];

	if (!dir) {
		const char *home = getenv("HOME");

		if (!strncmp(name, "auto-", 5) && home && home[0] == '/' &&
		    snprintf(buf, size, "%s/sonde-traces/%s", home, name) < (int)size)
			return 0;
		if (sonde_session_default_output(name, time(NULL), buf, size, &err)) {
			fprintf(stderr, "sonde: error: %s\n", err.msg);
			return 1;
		}
		return 0;
	}
	if (dir[0] == '/') {
		if (snprintf(buf, size, "%s", dir) < (int)size)
			return 0;
	} else if (getcwd(cwd, sizeof(cwd)) &&
		   snprintf(buf, size, "%s/%s", cwd, dir) < (int)size) {
		return 0;
	}
	fprintf(stderr, "sonde: error: output directory '%s': path too long\n", dir);
	return 1;
}

int cmd_create(int argc, char **argv)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *output = NULL, *name = NULL, *got_name, *got_output;
	char path[PATH_MAX] = "", date[32], auto_name[48];
	bool snapshot = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", create_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(create_help, stdout);
			return 0;
		case 'o':
			output = optarg;
			break;
		case OPT_SNAPSHOT:
			snapshot = true;
			break;
		case ':':
			return client_usage_error("create", "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error("create", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return client_usage_error("create", "unexpected argument '%s'",
					  argv[optind]);
	if (output && !output[0])
		return client_usage_error("create", "empty output directory");
	/* Named here, not by the daemon, so that the default output is in
	 * this user's home with the same date as the name. */
	if (!name) {
		if (sonde_session_format_date(time(NULL), date, sizeof(date))) {
			fprintf(stderr, "sonde: error: cannot read the local time\n");
			return 1;
		}
		snprintf(auto_name, sizeof(auto_name), "auto-%s", date);
		name = auto_name;
	}
	if (absolute_output(output, name, path, sizeof(path)))
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_CREATE);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	sonde_ctl_put_str(&w, SONDE_CTL_T_OUTPUT, path);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_SNAPSHOT, snapshot);
	if (client_call(&w, true, &reply))
		return 1;
	got_name = sonde_ctl_get_str(&reply->root, SONDE_CTL_T_SESSION);
	got_output = sonde_ctl_get_str(&reply->root, SONDE_CTL_T_OUTPUT);
	if (!got_name || !got_output) {
		fprintf(stderr, "sonde: error: the session daemon's reply lacks the session\n");
		sonde_ctl_msg_free(reply);
		return 1;
	}
	current_session_set(got_name);
	printf("Session %s created.\n", got_name);
	if (snapshot)
		printf("Snapshot mode set: snapshots will be written under %s\n",
		       got_output);
	else
		printf("Traces will be output to %s\n", got_output);
	sonde_ctl_msg_free(reply);
	return 0;
}
