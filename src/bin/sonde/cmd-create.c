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
"    sonde create [NAME] [-o DIR] --snapshot -U net://RELAY[:C[:D]]\n"
"    sonde create [NAME] [-o DIR] [--live[=US]] -U net://RELAY[:C[:D]]\n"
"    sonde create [NAME] [-o DIR] [--live[=US]] -C tcp://RELAY:C -D tcp://RELAY:D\n"
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
"        record', which writes DIR/<snapshot>-YYYYMMDD-HHMMSS-N/, or\n"
"        with -U/-C/-D sends it to that relay, which stores it as\n"
"        HOSTNAME/NAME-DATE/<snapshot>-YYYYMMDD-HHMMSS-N/.\n"
"    -U, --set-url net://RELAY[:C[:D]]\n"
"        Also stream the trace to a relay daemon (sonde-relayd or\n"
"        lttng-relayd), control port C (default 5342), data port D\n"
"        (default 5343), as 'lttng create -U' does; the trace is still\n"
"        written to DIR.  See docs/live.md.\n"
"    -C, --ctrl-url tcp://RELAY:C, -D, --data-url tcp://RELAY:D\n"
"        The same, the two ports given apart.\n"
"    --live[=US]\n"
"        Live session: viewers read it from the relay while it records\n"
"        (sonde view net://RELAY/host/HOSTNAME/NAME, babeltrace2\n"
"        -i lttng-live).  Every US microseconds (default 1000000) each\n"
"        CPU sends what it recorded, or says it recorded nothing.\n"
"        Without -U/-C/-D, streams to net://127.0.0.1.\n"
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
"    sonde create flight --snapshot\n"
"    sonde create flight --snapshot -U net://relay.example.org\n"
"    sonde create watch --live=100000 -U net://relay.example.org\n";

enum { OPT_SNAPSHOT = 256, OPT_LIVE };

static const struct option create_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "snapshot", no_argument, NULL, OPT_SNAPSHOT },
	{ "live", optional_argument, NULL, OPT_LIVE },
	{ "set-url", required_argument, NULL, 'U' },
	{ "ctrl-url", required_argument, NULL, 'C' },
	{ "data-url", required_argument, NULL, 'D' },
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

#define DEFAULT_LIVE_TIMER_US 1000000

int cmd_create(int argc, char **argv)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *output = NULL, *name = NULL, *got_name, *got_output;
	char path[PATH_MAX] = "", date[32], auto_name[48];
	bool snapshot = false, live = false;
	unsigned long live_timer = 0;
	struct client_relay relay = { .set = false };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:U:C:D:", create_options,
				NULL)) != -1) {
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
		case OPT_LIVE: {
			char *stop = NULL;

			live = true;
			live_timer = DEFAULT_LIVE_TIMER_US;
			if (optarg)
				live_timer = strtoul(optarg, &stop, 10);
			if (optarg && (stop == optarg || *stop || !live_timer ||
				       live_timer > UINT32_MAX))
				return client_usage_error("create", "invalid live timer '%s' (microseconds, > 0)",
							  optarg);
			break;
		}
		case 'U':
		case 'C':
		case 'D':
			if (client_parse_relay_url("create", c, optarg, &relay))
				return 2;
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
	if (live && !relay.set) {
		strcpy(relay.host, "127.0.0.1");
		relay.set = true;
	}
	if (live && snapshot)
		return client_usage_error("create", "%s", "--snapshot sessions cannot be live");
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
	if (relay.set) {
		client_put_relay(&w, &relay);
		sonde_ctl_put_u64(&w, SONDE_CTL_T_LIVE_TIMER, live_timer);
	}
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
	printf("%s %s created.\n", live ? "Live session" : "Session", got_name);
	if (relay.set && !snapshot)
		printf("Traces will be streamed to net://%s:%lu:%lu\n", relay.host,
		       relay.control ? relay.control : 5342,
		       relay.data ? relay.data : 5343);
	if (live)
		printf("Live timer interval set to %lu us\n", live_timer);
	if (snapshot && relay.set)
		printf("Snapshot mode set: snapshots will be sent to net://%s:%lu:%lu\n",
		       relay.host, relay.control ? relay.control : 5342,
		       relay.data ? relay.data : 5343);
	else if (snapshot)
		printf("Snapshot mode set: snapshots will be written under %s\n",
		       got_output);
	else
		printf("Traces will be output to %s\n", got_output);
	sonde_ctl_msg_free(reply);
	return 0;
}
