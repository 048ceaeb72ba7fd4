/*
 * sonde track / untrack: the process-attribute inclusion sets of a
 * session's kernel domain, as `lttng track` / `lttng untrack` (2.13).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char track_help[] =
"NAME\n"
"    sonde track - record only the events of some processes\n"
"    sonde untrack - stop recording the events of some processes\n"
"\n"
"SYNOPSIS\n"
"    sonde track -k [-s SESSION] (--pid=PID[,PID...] | --uid=USER[,USER...] |\n"
"                --gid=GROUP[,GROUP...] | --process-name=NAME[,NAME...] |\n"
"                --cgroup=PATH[,PATH...])...\n"
"    sonde track -k [-s SESSION] --all (--pid | --uid | --gid |\n"
"                --process-name | --cgroup)...\n"
"    sonde untrack ... (the same options)\n"
"\n"
"DESCRIPTION\n"
"    A session has one inclusion set per process attribute, and records\n"
"    an event only when the attributes of the task it comes from are in\n"
"    every set; a sched_switch when its previous or its next task is.  A\n"
"    new session's sets hold every value.  'track' adds values to a set;\n"
"    in a set that holds every value, it first empties the set.  'untrack'\n"
"    removes values from a set (an error in a set that holds every value).\n"
"    'track --all --pid' makes the pid set hold every value again;\n"
"    'untrack --all --pid' empties it: nothing is recorded until a pid is\n"
"    tracked.  Works before and while the session records: the change\n"
"    applies at once, in the kernel, before anything is written.\n"
"\n"
"    --pid is the process id (all its threads), as in the root pid\n"
"    namespace.  --uid and --gid are real user and group ids, or names.\n"
"    --process-name is the kernel's name of a thread (/proc/PID/comm, 15\n"
"    bytes at most).  --cgroup is a cgroup v2 directory: absolute, or\n"
"    relative to the cgroup2 mount as /proc/PID/cgroup shows it ('/a/b').\n"
"\n"
"    The eBPF backend filters every attribute in the kernel, by the\n"
"    process id (tgid) exactly.  The ftrace backend (and the events it\n"
"    records in an eBPF session) filters pids with the instance's\n"
"    set_event_pid, which also follows the threads and children the\n"
"    tracked processes make afterwards, and process names with event\n"
"    filters, in the kernel; uids, gids and cgroups in its consumer, from\n"
"    /proc when it reads a task's first event: a task gone by then loses\n"
"    its events.  'sonde list SESSION' shows the sets.\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        The kernel domain (the only one).\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    -p, --pid[=PID[,PID...]]\n"
"    --uid[=USER[,USER...]]\n"
"    --gid[=GROUP[,GROUP...]]\n"
"    --process-name[=NAME[,NAME...]]\n"
"    --cgroup[=PATH[,PATH...]]\n"
"        The values to add to (remove from) that set; without values,\n"
"        with --all.\n"
"    -a, --all\n"
"        Every value (track), or none (untrack), of the sets named.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXAMPLES\n"
"    sonde enable-event -k --syscall -a\n"
"    sonde track -k --pid=2345\n"
"    sonde untrack -k --all --process-name\n"
"    sonde track -k --process-name=nginx --cgroup=/system.slice/web.service\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when a value is wrong (not a number, no such user or\n"
"    cgroup, not tracked...) or the session does not exist, 2 on bad\n"
"    usage.\n";

enum { OPT_UID = 256, OPT_GID, OPT_PROCNAME, OPT_CGROUP, OPT_VPID, OPT_VUID,
       OPT_VGID };

static const struct option options[] = {
	{ "kernel", no_argument, NULL, 'k' },
	{ "userspace", no_argument, NULL, 'u' },
	{ "session", required_argument, NULL, 's' },
	{ "all", no_argument, NULL, 'a' },
	{ "pid", optional_argument, NULL, 'p' },
	{ "uid", optional_argument, NULL, OPT_UID },
	{ "gid", optional_argument, NULL, OPT_GID },
	{ "process-name", optional_argument, NULL, OPT_PROCNAME },
	{ "cgroup", optional_argument, NULL, OPT_CGROUP },
	{ "vpid", optional_argument, NULL, OPT_VPID },
	{ "vuid", optional_argument, NULL, OPT_VUID },
	{ "vgid", optional_argument, NULL, OPT_VGID },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* In the order of the daemon's tracker names. */
static const char *const trackers[] = { "pid", "uid", "gid", "process-name",
					"cgroup" };
#define NTRACKERS (sizeof(trackers) / sizeof(trackers[0]))

struct tracker_arg {
	bool given;
	size_t n;
	char *values[1025]; /* the daemon refuses more than 1024 */
	char *copy;	    /* the option's value, split at the commas */
};

static int add_values(const char *verb, struct tracker_arg *t,
		      const char *arg)
{
	char *p;

	t->given = true;
	if (!arg)
		return 0;
	t->copy = strdup(arg);
	if (!t->copy)
		return client_usage_error(verb, "out of memory");
	for (p = t->copy;; p++) {
		char *comma = strchr(p, ',');

		if (t->n == sizeof(t->values) / sizeof(t->values[0]))
			return client_usage_error(verb,
						  "more than 1024 values in one "
						  "set");
		t->values[t->n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma;
	}
	return 0;
}

static int track_verb(int argc, char **argv, bool track)
{
	const char *verb = track ? "track" : "untrack", *session = NULL;
	struct tracker_arg t[NTRACKERS];
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	bool all = false, any = false;
	char current[256];
	size_t i, j;
	int c, ret = 2;

	memset(t, 0, sizeof(t));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hkus:ap::", options, NULL)) !=
	       -1) {
		int at = -1;

		switch (c) {
		case 'h':
			fputs(track_help, stdout);
			ret = 0;
			goto out;
		case 'k':
			break;
		case 'u':
			client_usage_error(verb, "user-space trackers are not "
						 "supported (use -k)");
			goto out;
		case 's':
			session = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 'p':
			at = 0;
			break;
		case OPT_UID:
		case OPT_GID:
		case OPT_PROCNAME:
		case OPT_CGROUP:
			at = c - OPT_UID + 1;
			break;
		case OPT_VPID:
		case OPT_VUID:
		case OPT_VGID:
			client_usage_error(verb, "'%s' is not supported (sonde "
						 "tracks --pid, --uid, --gid, "
						 "--process-name, --cgroup)",
					   argv[optind - 1]);
			goto out;
		case ':':
			client_usage_error(verb, "option '%s' needs a value",
					   argv[optind - 1]);
			goto out;
		default:
			client_usage_error(verb, "unknown option '%s'",
					   argv[optind - 1]);
			goto out;
		}
		if (at >= 0) {
			if (t[at].copy && optarg) {
				client_usage_error(verb, "--%s given twice",
						   trackers[at]);
				goto out;
			}
			if (add_values(verb, &t[at], optarg))
				goto out;
		}
	}
	if (optind < argc) {
		client_usage_error(verb, "unexpected argument '%s' (values go "
					 "with '=': --pid=%s)",
				   argv[optind], argv[optind]);
		goto out;
	}
	for (i = 0; i < NTRACKERS; i++) {
		if (!t[i].given)
			continue;
		any = true;
		if (all && t[i].n) {
			client_usage_error(verb, "--all applies to sets named "
						 "without values (--%s=%s)",
					   trackers[i], t[i].copy);
			goto out;
		}
		if (!all && !t[i].n) {
			client_usage_error(verb, "--%s needs values, or --all",
					   trackers[i]);
			goto out;
		}
	}
	if (!any) {
		client_usage_error(verb, "name a set: --pid, --uid, --gid, "
					 "--process-name or --cgroup");
		goto out;
	}
	ret = 1;
	session = client_session_name(session, current, sizeof(current));
	if (!session)
		goto out;
	sonde_ctl_writer_init(&w, SONDE_CTL_TRACK);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, session);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_ENABLED, track);
	for (i = 0; i < NTRACKERS; i++) {
		if (!t[i].given)
			continue;
		sonde_ctl_rec_begin(&w, SONDE_CTL_T_TRACKER_REC);
		sonde_ctl_put_str(&w, SONDE_CTL_T_TRACKER, trackers[i]);
		sonde_ctl_put_bool(&w, SONDE_CTL_T_ALL, all);
		for (j = 0; j < t[i].n; j++)
			sonde_ctl_put_str(&w, SONDE_CTL_T_VALUE, t[i].values[j]);
		sonde_ctl_rec_end(&w);
	}
	if (client_call(&w, false, &reply))
		goto out;
	sonde_ctl_msg_free(reply);
	for (i = 0; i < NTRACKERS; i++) {
		if (!t[i].given)
			continue;
		if (all)
			printf("%s set: %s tracked in session %s\n",
			       trackers[i], track ? "every value" : "nothing",
			       session);
		for (j = 0; j < t[i].n; j++)
			printf("%s %s %s in session %s\n", trackers[i],
			       t[i].values[j], track ? "tracked" : "untracked",
			       session);
	}
	ret = 0;
out:
	for (i = 0; i < NTRACKERS; i++)
		free(t[i].copy);
	return ret;
}

int cmd_track(int argc, char **argv)
{
	return track_verb(argc, argv, true);
}

int cmd_untrack(int argc, char **argv)
{
	return track_verb(argc, argv, false);
}
