/*
 * sonde enable-event: record kernel tracepoints or system calls.  The
 * option parsing is shared with disable-event (event_verb()).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "commands.h"

static const char enable_event_help[] =
"NAME\n"
"    sonde enable-event - record kernel events in a session\n"
"\n"
"SYNOPSIS\n"
"    sonde enable-event -k [-s SESSION] [-c CHANNEL] NAME[,NAME...]...\n"
"    sonde enable-event -k [-s SESSION] [-c CHANNEL] --syscall NAME[,NAME...]\n"
"    sonde enable-event -k [-s SESSION] [-c CHANNEL] --syscall -a\n"
"    sonde enable-event -k [-s SESSION] [-c CHANNEL] -a\n"
"    sonde enable-event -u [-s SESSION] [--loglevel[-only] LEVEL]\n"
"                       [--filter EXPR] PATTERN...\n"
"\n"
"DESCRIPTION\n"
"    Enables kernel events in a session (default: the current session).\n"
"    NAME is a tracepoint by its LTTng name (sched_switch, sched_wakeup,\n"
"    sched_process_fork...), an ftrace 'subsystem:event' name\n"
"    (sched:sched_switch) or a shell glob of either (quote it: 'sched_*');\n"
"    'sonde list -k' prints the available ones.  With --syscall, NAME is a\n"
"    system call (read, openat...), recorded as syscall_entry_NAME and\n"
"    syscall_exit_NAME events.\n"
"\n"
"    The first event enabled in a session creates its channel (channel0,\n"
"    default attributes) unless 'sonde enable-channel' made one.  Events\n"
"    may be enabled while the session is started.  An unknown event name\n"
"    is an error and the request stops there; the names before it stay\n"
"    enabled.\n"
"\n"
"    With -u, PATTERN is a user-space tracepoint 'provider:event' or a glob\n"
"    of them ('myapp:*', '*'), recorded in every instrumented program that\n"
"    runs while the session is started (see docs/ust.md); enable them\n"
"    before starting the session.\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        The kernel domain (the default).\n"
"    -u, --userspace\n"
"        The user-space domain (tracepoints of instrumented programs).\n"
"    --loglevel LEVEL\n"
"        -u: events of LEVEL or more severe (EMERG 0 ... INFO 6 ...\n"
"        DEBUG_LINE 13, DEBUG 14; a name, TRACE_name or a number).\n"
"    --loglevel-only LEVEL\n"
"        -u: events of exactly LEVEL.\n"
"    -f, --filter EXPR\n"
"        -u: record only the events for which EXPR holds.  EXPR is LTTng's\n"
"        filter language: event fields and contexts ($ctx.vpid, $ctx.vtid,\n"
"        $ctx.procname, $ctx.pthread_id) compared with integer, float and\n"
"        string literals (== != < <= > >=), combined with && || ! and\n"
"        parentheses; a string with '*' is a glob (== and != only; '\\*'\n"
"        is a literal star).  An event without a field EXPR names is not\n"
"        recorded by this pattern.\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    -c, --channel CHANNEL\n"
"        The channel (default: the session's channel, channel0).\n"
"    --tracepoint\n"
"        NAME is a tracepoint (the default).\n"
"    --syscall\n"
"        NAME is a system call.\n"
"    -a, --all\n"
"        Every tracepoint, or with --syscall every system call.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the daemon refuses (unknown event, no such\n"
"    session, no permission...), 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde enable-event -k sched_switch,sched_wakeup\n"
"    sonde enable-event -k 'sched_process_*'\n"
"    sonde enable-event -k --syscall -a\n"
"    sonde enable-event -k --syscall openat,close -s mysession\n"
"    sonde enable-event -u 'myapp:*' --loglevel INFO\n"
"    sonde enable-event -u 'myapp:request' --filter 'status >= 500 && path == \"/api/*\"'\n";

enum { OPT_SYSCALL = 256, OPT_TRACEPOINT, OPT_LOGLEVEL, OPT_LOGLEVEL_ONLY };

static const struct option event_options[] = {
	{ "kernel", no_argument, NULL, 'k' },
	{ "userspace", no_argument, NULL, 'u' },
	{ "loglevel", required_argument, NULL, OPT_LOGLEVEL },
	{ "loglevel-only", required_argument, NULL, OPT_LOGLEVEL_ONLY },
	{ "filter", required_argument, NULL, 'f' },
	{ "session", required_argument, NULL, 's' },
	{ "channel", required_argument, NULL, 'c' },
	{ "syscall", no_argument, NULL, OPT_SYSCALL },
	{ "tracepoint", no_argument, NULL, OPT_TRACEPOINT },
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void print_done(bool enable, bool syscall, const char *name,
		       const char *channel, const char *session)
{
	const char *kind = syscall ? "syscall" : "event";

	if (!name)
		printf("All kernel %s are %s in channel %s\n",
		       syscall ? "system calls" : "events",
		       enable ? "enabled" : "disabled", channel);
	else if (enable)
		printf("Kernel %s %s enabled in channel %s\n", kind, name, channel);
	else
		printf("Kernel %s %s disabled in channel %s for session %s\n", kind,
		       name, channel, session);
}

/* A log level by name (INFO, TRACE_INFO, any case) or number; -1 if bad. */
static int parse_loglevel(const char *s)
{
	static const char *const names[] = {
		"EMERG", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO",
		"DEBUG_SYSTEM", "DEBUG_PROGRAM", "DEBUG_PROCESS", "DEBUG_MODULE",
		"DEBUG_UNIT", "DEBUG_FUNCTION", "DEBUG_LINE", "DEBUG",
	};
	char *end;
	long v = strtol(s, &end, 10);

	if (*s && !*end)
		return v >= 0 && v <= 14 ? (int)v : -1;
	if (!strncasecmp(s, "TRACE_", 6))
		s += 6;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return (int)i;
	return -1;
}

int event_verb(int argc, char **argv, bool enable, const char *help)
{
	const char *verb = enable ? "enable-event" : "disable-event";
	const char *session = NULL, *channel = NULL, *got_channel, *filter = NULL;
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	bool syscall = false, all = false, userspace = false;
	int loglevel = -1, loglevel_match = 0;
	char current[256];
	size_t names = 0;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hkus:c:af:", event_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return 0;
		case 'k':
			break;
		case 'u':
			userspace = true;
			break;
		case OPT_LOGLEVEL:
		case OPT_LOGLEVEL_ONLY:
			loglevel = parse_loglevel(optarg);
			if (loglevel < 0)
				return client_usage_error(verb, "unknown log level '%s'",
							  optarg);
			loglevel_match = c == OPT_LOGLEVEL ? 1 : 2;
			break;
		case 'f':
			filter = optarg;
			break;
		case 's':
			session = optarg;
			break;
		case 'c':
			channel = optarg;
			break;
		case OPT_SYSCALL:
			syscall = true;
			break;
		case OPT_TRACEPOINT:
			syscall = false;
			break;
		case 'a':
			all = true;
			break;
		case ':':
			return client_usage_error(verb, "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error(verb, "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (loglevel >= 0 && !userspace)
		return client_usage_error(verb, "--loglevel needs -u");
	if (filter && (!userspace || !enable))
		return client_usage_error(verb, "--filter is for enable-event -u");
	if (userspace && syscall)
		return client_usage_error(verb, "--syscall is for kernel events");
	if (all && optind < argc)
		return client_usage_error(verb, "give event names or -a, not both");
	if (!all && optind >= argc)
		return client_usage_error(verb, "no event name given");
	session = client_session_name(session, current, sizeof(current));
	if (!session)
		return 1;
	sonde_ctl_writer_init(&w, enable ? SONDE_CTL_ENABLE_EVENT : SONDE_CTL_DISABLE_EVENT);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, session);
	if (channel)
		sonde_ctl_put_str(&w, SONDE_CTL_T_CHANNEL, channel);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_SYSCALL, syscall);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_ALL, all);
	if (userspace) {
		sonde_ctl_put_bool(&w, SONDE_CTL_T_USERSPACE, true);
		sonde_ctl_put_u64(&w, SONDE_CTL_T_LOGLEVEL_MATCH, (uint64_t)loglevel_match);
		sonde_ctl_put_i64(&w, SONDE_CTL_T_LOGLEVEL, loglevel < 0 ? 0 : loglevel);
		if (filter)
			sonde_ctl_put_str(&w, SONDE_CTL_T_FILTER, filter);
	}
	for (int i = optind; i < argc; i++) {
		char *list = strdup(argv[i]), *save = NULL;

		if (!list) {
			sonde_ctl_writer_release(&w);
			fprintf(stderr, "sonde: error: out of memory\n");
			return 1;
		}
		for (char *tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			sonde_ctl_put_str(&w, SONDE_CTL_T_EVENT, tok);
			names++;
		}
		free(list);
	}
	if (!all && !names) {
		sonde_ctl_writer_release(&w);
		return client_usage_error(verb, "no event name given");
	}
	if (client_call(&w, false, &reply))
		return 1;
	if (userspace) {
		for (int i = optind; i < argc; i++)
			printf("User-space event %s %s\n", argv[i],
			       enable ? "enabled" : "disabled");
		if (all)
			printf("All user-space events %s\n",
			       enable ? "enabled" : "disabled");
		sonde_ctl_msg_free(reply);
		return 0;
	}
	got_channel = sonde_ctl_get_str(&reply->root, SONDE_CTL_T_CHANNEL);
	if (!got_channel)
		got_channel = channel ? channel : "channel0";
	if (all)
		print_done(enable, syscall, NULL, got_channel, session);
	for (int i = optind; i < argc; i++) {
		char *list = strdup(argv[i]), *save = NULL;

		for (char *tok = list ? strtok_r(list, ",", &save) : NULL; tok;
		     tok = strtok_r(NULL, ",", &save))
			print_done(enable, syscall, tok, got_channel, session);
		free(list);
	}
	sonde_ctl_msg_free(reply);
	return 0;
}

int cmd_enable_event(int argc, char **argv)
{
	return event_verb(argc, argv, true, enable_event_help);
}
