/*
 * sonde enable-channel: the kernel channel of a session and its buffers.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "client.h"
#include "commands.h"

static const char enable_channel_help[] =
"NAME\n"
"    sonde enable-channel - create the kernel channel of a session\n"
"\n"
"SYNOPSIS\n"
"    sonde enable-channel -k [-s SESSION] [--subbuf-size SIZE]\n"
"                         [--num-subbuf N] [--overwrite | --discard]\n"
"                         [--switch-timer US] [--backend auto|ftrace|ebpf]\n"
"                         NAME\n"
"    sonde enable-channel -u [-s SESSION] [--subbuf-size SIZE]\n"
"                         [--num-subbuf N] [--overwrite | --discard]\n"
"                         [--switch-timer US] [--buffers-uid | --buffers-pid]\n"
"                         NAME\n"
"\n"
"DESCRIPTION\n"
"    Creates the kernel channel NAME of a session: its per-CPU ring\n"
"    buffers and what happens when they are full.  A session has one\n"
"    kernel channel; without this verb, the first 'sonde enable-event'\n"
"    creates 'channel0' with the default attributes.  Channels are created\n"
"    before the session is first started and before events are enabled.\n"
"\n"
"    With -u, the user-space channel: the buffers instrumented programs\n"
"    write (default: 4 x 512 KiB per CPU, discard mode, per-user buffers,\n"
"    stream files channel0_CPU).\n"
"\n"
"OPTIONS\n"
"    -k, --kernel\n"
"        The kernel domain (the default).\n"
"    -u, --userspace\n"
"        The user-space domain.\n"
"    --buffers-uid\n"
"        -u: one buffer set per user, shared by its programs (the default;\n"
"        trace in ust/uid/UID/64-bit/).\n"
"    --buffers-pid\n"
"        -u: one buffer set per process, forked children included\n"
"        (trace in ust/pid/PROCNAME-PID-DATETIME/), complete as soon as\n"
"        the process exits.\n"
"    -s, --session SESSION\n"
"        The session (default: the current session).\n"
"    --subbuf-size SIZE\n"
"        Size of each sub-buffer (one CTF packet), a power of two, with an\n"
"        optional k, M or G suffix.  Default: the kernel backend's.\n"
"    --num-subbuf N\n"
"        Sub-buffers per CPU.  Default: the kernel backend's.\n"
"    --overwrite\n"
"        When the buffers are full, overwrite the oldest events (flight\n"
"        recorder; snapshot sessions).\n"
"    --discard\n"
"        When the buffers are full, drop new events and count them\n"
"        (the default).\n"
"    --switch-timer US\n"
"        Close partly filled packets every US microseconds so that\n"
"        readers see recent events.  Default: off.\n"
"    --backend auto|ftrace|ebpf\n"
"        What records the system calls and sched_switch: the eBPF fast\n"
"        path (ebpf; an error where its programs cannot load), the ftrace\n"
"        instance (ftrace), or eBPF when it loads and ftrace otherwise\n"
"        (auto, the default).  Every other event goes through ftrace;\n"
"        --overwrite and snapshot sessions always use ftrace.  'sonde\n"
"        status' shows the backend in use and why eBPF is not.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when the daemon refuses (the channel exists, the\n"
"    session was started...), 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde enable-channel -k --subbuf-size 256k --num-subbuf 8 big\n"
"    sonde enable-channel -k --overwrite flight\n"
"    sonde enable-channel -k --backend ftrace channel0\n";

enum { OPT_SUBBUF_SIZE = 256, OPT_NUM_SUBBUF, OPT_OVERWRITE, OPT_DISCARD,
       OPT_SWITCH_TIMER, OPT_BACKEND, OPT_BUFFERS_PID, OPT_BUFFERS_UID };

static const struct option enable_channel_options[] = {
	{ "kernel", no_argument, NULL, 'k' },
	{ "session", required_argument, NULL, 's' },
	{ "subbuf-size", required_argument, NULL, OPT_SUBBUF_SIZE },
	{ "num-subbuf", required_argument, NULL, OPT_NUM_SUBBUF },
	{ "overwrite", no_argument, NULL, OPT_OVERWRITE },
	{ "discard", no_argument, NULL, OPT_DISCARD },
	{ "switch-timer", required_argument, NULL, OPT_SWITCH_TIMER },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "userspace", no_argument, NULL, 'u' },
	{ "buffers-pid", no_argument, NULL, OPT_BUFFERS_PID },
	{ "buffers-uid", no_argument, NULL, OPT_BUFFERS_UID },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int cmd_enable_channel(int argc, char **argv)
{
	unsigned long long subbuf = 0, num = 0, timer = 0;
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *session = NULL, *channel, *backend = "auto";
	char current[256];
	int overwrite = -1;
	bool userspace = false, buffers_pid = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hkus:", enable_channel_options,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(enable_channel_help, stdout);
			return 0;
		case 'k':
			break;
		case 'u':
			userspace = true;
			break;
		case OPT_BUFFERS_PID:
		case OPT_BUFFERS_UID:
			buffers_pid = c == OPT_BUFFERS_PID;
			break;
		case 's':
			session = optarg;
			break;
		case OPT_SUBBUF_SIZE:
			if (client_parse_size(optarg, &subbuf) || !subbuf ||
			    (subbuf & (subbuf - 1)))
				return client_usage_error("enable-channel",
							  "--subbuf-size '%s' is not a power of two size",
							  optarg);
			break;
		case OPT_NUM_SUBBUF:
			if (client_parse_size(optarg, &num) || !num)
				return client_usage_error("enable-channel",
							  "--num-subbuf '%s' is not a positive number",
							  optarg);
			break;
		case OPT_SWITCH_TIMER:
			if (client_parse_size(optarg, &timer))
				return client_usage_error("enable-channel",
							  "--switch-timer '%s' is not a number of microseconds",
							  optarg);
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "auto") != 0 &&
			    strcmp(optarg, "ftrace") != 0 &&
			    strcmp(optarg, "ebpf") != 0)
				return client_usage_error("enable-channel",
							  "--backend '%s': auto, ftrace or ebpf",
							  optarg);
			backend = optarg;
			break;
		case OPT_OVERWRITE:
		case OPT_DISCARD:
			if (overwrite != -1 && overwrite != (c == OPT_OVERWRITE))
				return client_usage_error("enable-channel",
							  "--overwrite and --discard exclude each other");
			overwrite = c == OPT_OVERWRITE;
			break;
		case ':':
			return client_usage_error("enable-channel", "option '%s' needs a value",
						  argv[optind - 1]);
		default:
			return client_usage_error("enable-channel", "unknown option '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return client_usage_error("enable-channel", "no channel name given");
	channel = argv[optind++];
	if (optind < argc)
		return client_usage_error("enable-channel", "unexpected argument '%s'",
					  argv[optind]);
	session = client_session_name(session, current, sizeof(current));
	if (!session)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_ENABLE_CHANNEL);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, session);
	sonde_ctl_put_str(&w, SONDE_CTL_T_CHANNEL, channel);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_SUBBUF_SIZE, subbuf);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_NUM_SUBBUF, num);
	sonde_ctl_put_u64(&w, SONDE_CTL_T_SWITCH_TIMER, timer);
	sonde_ctl_put_bool(&w, SONDE_CTL_T_OVERWRITE, overwrite == 1);
	sonde_ctl_put_str(&w, SONDE_CTL_T_BACKEND, backend);
	if (userspace) {
		sonde_ctl_put_bool(&w, SONDE_CTL_T_USERSPACE, true);
		sonde_ctl_put_bool(&w, SONDE_CTL_T_BUFFERS_PID, buffers_pid);
	}
	if (client_call(&w, false, &reply))
		return 1;
	printf("%s channel %s enabled for session %s\n",
	       userspace ? "User-space" : "Kernel", channel, session);
	sonde_ctl_msg_free(reply);
	return 0;
}
