/*
 * sonde list: the sessions, one session in detail, or the kernel events
 * that can be enabled.  The detail printer is shared with `sonde status`.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char list_help[] =
"NAME\n"
"    sonde list - list sessions, a session's details, or kernel events\n"
"\n"
"SYNOPSIS\n"
"    sonde list\n"
"    sonde list NAME\n"
"    sonde list -k\n"
"\n"
"DESCRIPTION\n"
"    Without arguments, lists the sessions of the session daemon with\n"
"    their output directories and whether they are recording ([active]).\n"
"    With NAME, prints that session: output, counts of recorded and\n"
"    discarded events, its process-attribute trackers (sonde track), its\n"
"    channel's attributes and its enabled events.\n"
"    With -k, prints the kernel events this machine offers, one per line,\n"
"    by the names 'sonde enable-event -k' accepts.\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        List the available kernel events (starts a daemon if none runs).\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when no daemon runs (except with -k), the session\n"
"    does not exist or tracefs cannot be read, 2 on bad usage.\n";

static const struct option list_options[] = {
	{ "kernel", no_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *activity(const struct sonde_ctl_rec *s)
{
	const char *state = sonde_ctl_get_str(s, SONDE_CTL_T_STATE);

	return state && !strcmp(state, "started") ? "active" : "inactive";
}

static void print_size(const char *what, uint64_t v, const char *unit)
{
	if (v)
		printf("      %s: %" PRIu64 "%s\n", what, v, unit);
	else
		printf("      %s: default\n", what);
}

/* Sets ftrace cannot filter: the eBPF programs do, in the kernel, and
 * the ftrace consumer after the fact (see 'sonde track --help'). */
static bool consumer_side(const char *tracker)
{
	return tracker && (!strcmp(tracker, "uid") || !strcmp(tracker, "gid") ||
			   !strcmp(tracker, "cgroup"));
}

/* LTTng's "Tracked process attributes": each set, "all" or its values
 * ("none" when empty). */
static void print_trackers(const struct sonde_ctl_rec *s)
{
	bool header = false;

	for (size_t i = 0; i < s->count; i++) {
		const struct sonde_ctl_rec *t;
		const char *sep = " ";

		if (s->fields[i].tag != SONDE_CTL_T_TRACKER_REC)
			continue;
		t = s->fields[i].v.rec;
		if (!header)
			printf("Tracked process attributes\n"
			       "--------------------------\n");
		header = true;
		printf("  %s:", sonde_ctl_get_str(t, SONDE_CTL_T_TRACKER) ?
				       sonde_ctl_get_str(t, SONDE_CTL_T_TRACKER) :
				       "?");
		if (sonde_ctl_get_bool(t, SONDE_CTL_T_ALL, false))
			printf(" all");
		else if (!sonde_ctl_get_str(t, SONDE_CTL_T_VALUE))
			printf(" none");
		for (size_t j = 0; j < t->count; j++)
			if (t->fields[j].tag == SONDE_CTL_T_VALUE) {
				printf("%s%s", sep, t->fields[j].v.str);
				sep = ", ";
			}
		if (!sonde_ctl_get_bool(t, SONDE_CTL_T_ALL, false) &&
		    sonde_ctl_get_str(t, SONDE_CTL_T_VALUE) &&
		    consumer_side(sonde_ctl_get_str(t, SONDE_CTL_T_TRACKER)))
			printf(" (ftrace events: filtered by the consumer)");
		printf("\n");
	}
	if (header)
		printf("\n");
}

void print_session_details(const struct sonde_ctl_rec *s)
{
	const char *name = sonde_ctl_get_str(s, SONDE_CTL_T_SESSION);
	const char *output = sonde_ctl_get_str(s, SONDE_CTL_T_OUTPUT);
	uint64_t recorded = 0, discarded = 0, lost = 0, bytes = 0, repaired = 0,
		 v;
	bool snapshot = sonde_ctl_get_bool(s, SONDE_CTL_T_SNAPSHOT, false);
	const struct sonde_ctl_rec *ch = NULL;

	sonde_ctl_get_u64(s, SONDE_CTL_T_EVENTS_RECORDED, &recorded);
	sonde_ctl_get_u64(s, SONDE_CTL_T_EVENTS_DISCARDED, &discarded);
	sonde_ctl_get_u64(s, SONDE_CTL_T_PACKETS_LOST, &lost);
	sonde_ctl_get_u64(s, SONDE_CTL_T_BYTES_WRITTEN, &bytes);
	sonde_ctl_get_u64(s, SONDE_CTL_T_SWITCHES_REPAIRED, &repaired);
	printf("Recording session %s: [%s]%s\n", name ? name : "?", activity(s),
	       snapshot ? " snapshot" : "");
	printf("    Trace output: %s\n", output ? output : "?");
	printf("    Events recorded: %" PRIu64 "\n", recorded);
	printf("    Events discarded: %" PRIu64 "\n", discarded);
	if (lost)
		printf("    Packets lost: %" PRIu64 "\n", lost);
	printf("    Bytes written: %" PRIu64 "\n", bytes);
	if (repaired)
		printf("    Switches out of idle restored: %" PRIu64
		       " (the kernel omitted them)\n", repaired);
	for (size_t i = 0; i < s->count; i++)
		if (s->fields[i].tag == SONDE_CTL_T_CHANNEL_REC)
			ch = s->fields[i].v.rec;
	printf("\n=== Domain: Linux kernel ===\n\n");
	print_trackers(s);
	if (!ch) {
		printf("No channel (the first 'sonde enable-event -k' creates channel0)\n");
		return;
	}
	printf("Channels:\n-------------\n");
	printf("- %s: [enabled]\n\n    Attributes:\n",
	       sonde_ctl_get_str(ch, SONDE_CTL_T_CHANNEL));
	v = 0;
	sonde_ctl_get_u64(ch, SONDE_CTL_T_SUBBUF_SIZE, &v);
	print_size("Sub-buffer size", v, " bytes");
	v = 0;
	sonde_ctl_get_u64(ch, SONDE_CTL_T_NUM_SUBBUF, &v);
	print_size("Sub-buffer count", v, "");
	printf("      Event-loss mode: %s\n",
	       sonde_ctl_get_bool(ch, SONDE_CTL_T_OVERWRITE, false) ?
	       "overwrite" : "discard");
	v = 0;
	sonde_ctl_get_u64(ch, SONDE_CTL_T_SWITCH_TIMER, &v);
	if (v)
		printf("      Switch timer: %" PRIu64 " us\n", v);
	else
		printf("      Switch timer: off\n");
	if (sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND))
		printf("      Backend: %s%s%s%s\n",
		       sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND),
		       sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND_WHY) ?
		       " (eBPF not used: " : "",
		       sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND_WHY) ?
		       sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND_WHY) : "",
		       sonde_ctl_get_str(ch, SONDE_CTL_T_BACKEND_WHY) ? ")" : "");
	printf("\n    Recording event rules:\n");
	for (size_t i = 0; i < ch->count; i++) {
		const struct sonde_ctl_rec *ev;

		if (ch->fields[i].tag != SONDE_CTL_T_EVENT_REC)
			continue;
		ev = ch->fields[i].v.rec;
		printf("      %s (type: %s) [%s]\n",
		       sonde_ctl_get_str(ev, SONDE_CTL_T_EVENT),
		       sonde_ctl_get_bool(ev, SONDE_CTL_T_SYSCALL, false) ?
		       "syscall" : "tracepoint",
		       sonde_ctl_get_bool(ev, SONDE_CTL_T_ENABLED, false) ?
		       "enabled" : "disabled");
	}
}

const struct sonde_ctl_rec *reply_session(const struct sonde_ctl_msg *reply)
{
	for (size_t i = 0; i < reply->root.count; i++)
		if (reply->root.fields[i].tag == SONDE_CTL_T_SESSION_REC)
			return reply->root.fields[i].v.rec;
	return NULL;
}

static int list_sessions(void)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	int n = 0;

	sonde_ctl_writer_init(&w, SONDE_CTL_LIST_SESSIONS);
	if (client_call(&w, false, &reply))
		return 1;
	for (size_t i = 0; i < reply->root.count; i++) {
		const struct sonde_ctl_rec *s;

		if (reply->root.fields[i].tag != SONDE_CTL_T_SESSION_REC)
			continue;
		s = reply->root.fields[i].v.rec;
		if (!n)
			printf("Available recording sessions:\n");
		printf("  %d) %s (%s) [%s]%s\n", ++n,
		       sonde_ctl_get_str(s, SONDE_CTL_T_SESSION),
		       sonde_ctl_get_str(s, SONDE_CTL_T_OUTPUT), activity(s),
		       sonde_ctl_get_bool(s, SONDE_CTL_T_SNAPSHOT, false) ?
		       " snapshot" : "");
	}
	if (n)
		printf("\nUse 'sonde list <session_name>' for more details.\n");
	else
		printf("Currently no available recording session\n");
	sonde_ctl_msg_free(reply);
	return 0;
}

int list_session(const char *name)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const struct sonde_ctl_rec *s;

	sonde_ctl_writer_init(&w, SONDE_CTL_SESSION_INFO);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	if (client_call(&w, false, &reply))
		return 1;
	s = reply_session(reply);
	if (s)
		print_session_details(s);
	sonde_ctl_msg_free(reply);
	return s ? 0 : 1;
}

static int list_kernel(void)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;

	sonde_ctl_writer_init(&w, SONDE_CTL_LIST_KERNEL_EVENTS);
	if (client_call(&w, true, &reply))
		return 1;
	printf("Kernel events:\n-------------\n");
	for (size_t i = 0; i < reply->root.count; i++)
		if (reply->root.fields[i].tag == SONDE_CTL_T_NAME)
			printf("      %s\n", reply->root.fields[i].v.str);
	sonde_ctl_msg_free(reply);
	return 0;
}

int cmd_list(int argc, char **argv)
{
	bool kernel = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hk", list_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(list_help, stdout);
			return 0;
		case 'k':
			kernel = true;
			break;
		default:
			return client_usage_error("list", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return client_usage_error("list", "unexpected argument '%s'",
					  argv[optind + 1]);
	if (kernel && optind < argc)
		return client_usage_error("list", "give a session name or -k, not both");
	if (kernel)
		return list_kernel();
	return optind < argc ? list_session(argv[optind]) : list_sessions();
}
