/*
 * sonde view: prints the events of CTF traces, like babeltrace 1.5.
 *
 * Thin: options -> struct sonde_view_opts, then the merge iterator of
 * libsonde-ctf feeds the printer of libsonde-view.  Filters (time range,
 * event names) are applied here because they are about which events, not
 * how they look.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "commands.h"
#include "sonde/ctf.h"
#include "sonde/live.h"
#include "sonde/view.h"

static const char view_help[] =
"NAME\n"
"    sonde view - print the events of CTF traces\n"
"\n"
"SYNOPSIS\n"
"    sonde view [OPTIONS] [PATH...]\n"
"    sonde view [OPTIONS] net://RELAY[:PORT]/host/HOSTNAME/SESSION\n"
"    sonde view net://RELAY[:PORT]\n"
"\n"
"DESCRIPTION\n"
"    Opens every CTF trace found under the given paths (a directory holding\n"
"    a 'metadata' file is a trace; other directories are searched, so an\n"
"    LTTng session directory opens its kernel and user-space traces\n"
"    together) and prints their events merged in time order, one line per\n"
"    event.  The text output is byte for byte the one of babeltrace 1.5\n"
"    with the same options; lost events and packets are reported on stderr\n"
"    in babeltrace's words.\n"
"\n"
"    Without PATH, prints the trace of the current session (see 'sonde\n"
"    create'), as 'lttng view' does.\n"
"\n"
"    With a net:// URL, reads a live session from a relay daemon\n"
"    (sonde-relayd or lttng-relayd, live port 5344 by default): prints its\n"
"    events as they arrive, in the same format, and exits once the session\n"
"    is destroyed and everything was printed.  A URL without /host/...\n"
"    lists the relay's sessions, as babeltrace2 does.  See docs/live.md.\n"
"\n"
"OPTIONS\n"
"    -o, --output-format FORMAT, --format FORMAT\n"
"        text (default), json (one JSON object per line, see\n"
"        docs/view.md), dummy (decode only, print nothing) or\n"
"        ctf-metadata (print the metadata as TSDL text).\n"
"    -w, --output PATH\n"
"        Write to PATH instead of standard output.\n"
"    -i, --input-format FORMAT\n"
"        Only 'ctf' is supported.\n"
"    -n, --names LIST\n"
"        Which field names to print, a comma-separated list of: payload\n"
"        (or args, arg), context (or ctx), header, scope, all, none.\n"
"        Default: payload,context.\n"
"    -f, --fields LIST\n"
"        Which extra fields to print before the event name, a comma-\n"
"        separated list of: trace, trace:hostname, trace:domain,\n"
"        trace:procname, trace:vpid, loglevel, emf, callsite, all.\n"
"        Default: trace:hostname,trace:procname,trace:vpid.\n"
"    -v, --verbose\n"
"        Print the whole packet context (babeltrace hides timestamp_begin,\n"
"        timestamp_end, content_size, packet_size, packet_seq_num and\n"
"        events_discarded otherwise) and the event header.\n"
"    --no-delta\n"
"        Do not print the time since the previous event.\n"
"    --clock-cycles\n"
"        Print timestamps as raw clock values (cycles).\n"
"    --clock-seconds\n"
"        Print timestamps as seconds.nanoseconds since the epoch.\n"
"    --clock-date\n"
"        Print the date before the time of day.\n"
"    --clock-gmt\n"
"        Print times in UTC instead of the local time zone (TZ).\n"
"    --clock-offset SECONDS, --clock-offset-ns NS\n"
"        Add an offset to every printed time.\n"
"    --clock-force-correlate\n"
"        Accepted for compatibility; traces are always correlated.\n"
"    -b, --begin TIME\n"
"        Skip events before TIME.\n"
"    -E, --end TIME\n"
"        Skip events after TIME.\n"
"        TIME is SEC[.NS] since the epoch, HH:MM[:SS[.NS]] (on the day of\n"
"        the first event) or YYYY-MM-DD HH:MM[:SS[.NS]], in local time\n"
"        unless --clock-gmt.\n"
"    -e, --event GLOB\n"
"        Print only events whose name matches the shell pattern GLOB\n"
"        (e.g. 'sched_*'); repeat to allow several patterns.\n"
"    --from-now\n"
"        Live: only events recorded after attaching (babeltrace2's way);\n"
"        by default everything the relay still has is printed first.\n"
"    -d, --debug\n"
"        Accepted for compatibility; no effect.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 on success, 1 when a trace cannot be read (events decoded before\n"
"    the error are printed first), 2 on bad usage.\n"
"\n"
"EXAMPLES\n"
"    sonde view ~/lttng-traces/my-session\n"
"    TZ=UTC sonde view --clock-date -e 'sched_*' trace/\n"
"    sonde view --format=json trace/ | jq .payload\n";

enum {
	OPT_NO_DELTA = 256,
	OPT_CLOCK_CYCLES,
	OPT_CLOCK_SECONDS,
	OPT_CLOCK_DATE,
	OPT_CLOCK_GMT,
	OPT_CLOCK_OFFSET,
	OPT_CLOCK_OFFSET_NS,
	OPT_CLOCK_FORCE_CORRELATE,
	OPT_FORMAT,
	OPT_FROM_NOW,
};

static const struct option view_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "output-format", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'w' },
	{ "input-format", required_argument, NULL, 'i' },
	{ "names", required_argument, NULL, 'n' },
	{ "fields", required_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "debug", no_argument, NULL, 'd' },
	{ "no-delta", no_argument, NULL, OPT_NO_DELTA },
	{ "clock-cycles", no_argument, NULL, OPT_CLOCK_CYCLES },
	{ "clock-seconds", no_argument, NULL, OPT_CLOCK_SECONDS },
	{ "clock-date", no_argument, NULL, OPT_CLOCK_DATE },
	{ "clock-gmt", no_argument, NULL, OPT_CLOCK_GMT },
	{ "clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET },
	{ "clock-offset-ns", required_argument, NULL, OPT_CLOCK_OFFSET_NS },
	{ "clock-force-correlate", no_argument, NULL, OPT_CLOCK_FORCE_CORRELATE },
	{ "begin", required_argument, NULL, 'b' },
	{ "end", required_argument, NULL, 'E' },
	{ "event", required_argument, NULL, 'e' },
	{ "from-now", no_argument, NULL, OPT_FROM_NOW },
	{ NULL, 0, NULL, 0 },
};

struct time_bound {
	const char *text;        /* as given; parsed once --clock-gmt is known */
	bool set;
	bool time_of_day;        /* resolved against the first event's day */
	int64_t ns;
};

struct view_cmd {
	struct sonde_view_opts opts;
	bool ctf_metadata;
	const char *output_path;
	struct time_bound begin, end;
	const char **globs;
	size_t glob_count;
	bool bounds_resolved;
	bool from_now;           /* live: skip what the relay already has */
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sonde: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'sonde view --help')\n");
	return 2;
}

static int parse_names(const char *list, unsigned *names)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -1;
	*names = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all"))
			*names |= SONDE_VIEW_NAMES_PAYLOAD | SONDE_VIEW_NAMES_CONTEXT |
				  SONDE_VIEW_NAMES_HEADER | SONDE_VIEW_NAMES_SCOPE;
		else if (!strcmp(tok, "scope"))
			*names |= SONDE_VIEW_NAMES_SCOPE;
		else if (!strcmp(tok, "context") || !strcmp(tok, "ctx"))
			*names |= SONDE_VIEW_NAMES_CONTEXT;
		else if (!strcmp(tok, "header"))
			*names |= SONDE_VIEW_NAMES_HEADER;
		else if (!strcmp(tok, "payload") || !strcmp(tok, "args") ||
			 !strcmp(tok, "arg"))
			*names |= SONDE_VIEW_NAMES_PAYLOAD;
		else if (!strcmp(tok, "none"))
			*names = 0;
		else {
			usage_error("unknown field name type '%s'", tok);
			ret = -1;
			break;
		}
	}
	free(copy);
	return ret;
}

static int parse_fields(const char *list, unsigned *fields)
{
	static const struct { const char *name; unsigned bit; } known[] = {
		{ "all", SONDE_VIEW_FIELD_ALL },
		{ "trace", SONDE_VIEW_FIELD_TRACE },
		{ "trace:hostname", SONDE_VIEW_FIELD_HOSTNAME },
		{ "trace:domain", SONDE_VIEW_FIELD_DOMAIN },
		{ "trace:procname", SONDE_VIEW_FIELD_PROCNAME },
		{ "trace:vpid", SONDE_VIEW_FIELD_VPID },
		{ "loglevel", SONDE_VIEW_FIELD_LOGLEVEL },
		{ "emf", SONDE_VIEW_FIELD_EMF },
		{ "callsite", SONDE_VIEW_FIELD_CALLSITE },
	};
	char *copy = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -1;
	*fields = 0;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(tok, known[i].name))
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			usage_error("unknown field type '%s'", tok);
			ret = -1;
			break;
		}
		*fields |= known[i].bit;
	}
	free(copy);
	return ret;
}

static int parse_int_arg(const char *text, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(text, &end, 10);
	return errno || end == text || *end ? -1 : 0;
}

static int parse_format(struct view_cmd *cmd, const char *fmt)
{
	cmd->ctf_metadata = false;
	if (!strcmp(fmt, "text"))
		cmd->opts.format = SONDE_VIEW_TEXT;
	else if (!strcmp(fmt, "json"))
		cmd->opts.format = SONDE_VIEW_JSON;
	else if (!strcmp(fmt, "dummy"))
		cmd->opts.format = SONDE_VIEW_DUMMY;
	else if (!strcmp(fmt, "ctf-metadata"))
		cmd->ctf_metadata = true;
	else
		return usage_error("unknown output format '%s'", fmt);
	return 0;
}

static int add_glob(struct view_cmd *cmd, const char *glob)
{
	const char **g = realloc(cmd->globs,
				 (cmd->glob_count + 1) * sizeof(*g));

	if (!g)
		return -1;
	g[cmd->glob_count++] = glob;
	cmd->globs = g;
	return 0;
}

static bool name_selected(const struct view_cmd *cmd, const char *name)
{
	if (!cmd->glob_count)
		return true;
	for (size_t i = 0; i < cmd->glob_count; i++)
		if (!fnmatch(cmd->globs[i], name, 0))
			return true;
	return false;
}

static bool time_selected(struct view_cmd *cmd, struct sonde_view_printer *p,
			  const struct sonde_ctf_event *ev)
{
	int64_t ns;

	if (!cmd->begin.set && !cmd->end.set)
		return true;
	if (!sonde_view_event_time(p, ev, &ns))
		return true;   /* no clock: nothing to compare */
	if (!cmd->bounds_resolved) {
		int64_t day = sonde_view_day_start(ns, cmd->opts.clock_gmt);

		if (cmd->begin.time_of_day)
			cmd->begin.ns += day;
		if (cmd->end.time_of_day)
			cmd->end.ns += day;
		cmd->bounds_resolved = true;
	}
	if (cmd->begin.set && ns < cmd->begin.ns)
		return false;
	if (cmd->end.set && ns > cmd->end.ns)
		return false;
	return true;
}

static int open_output(struct view_cmd *cmd, int *fd)
{
	*fd = STDOUT_FILENO;
	if (!cmd->output_path)
		return 0;
	*fd = open(cmd->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		   0666);
	if (*fd >= 0)
		return 0;
	fprintf(stderr, "sonde: error: %s: %s\n", cmd->output_path,
		strerror(errno));
	return -1;
}

/* `sonde view net://RELAY`: the sessions, as babeltrace2 lists them. */
static int list_live(const char *text, const struct sonde_live_url *url)
{
	struct sonde_live_session_info *list;
	struct sonde_error err = { 0 };
	size_t count, base = strlen(text);

	if (sonde_live_list(url, &list, &count, &err)) {
		fprintf(stderr, "sonde: error: %s\n", err.msg);
		return 1;
	}
	while (base && text[base - 1] == '/')
		base--;
	for (size_t i = 0; i < count; i++)
		printf("%.*s/host/%s/%s (timer = %u, %u stream(s), %u client(s) connected)\n",
		       (int)base, text, list[i].hostname, list[i].name,
		       list[i].live_timer, list[i].streams, list[i].clients);
	free(list);
	return fflush(stdout) ? 1 : 0;
}

/* Sleep between polls of a relay that has nothing yet: babeltrace2 waits
 * 100 ms; shorter keeps the latency down at a negligible cost. */
#define LIVE_POLL_US 20000

/* `sonde view net://RELAY/host/HOSTNAME/SESSION`: events as they arrive,
 * until the session is destroyed. */
static int run_live(struct view_cmd *cmd, const char *text)
{
	struct sonde_error err = { 0 };
	struct sonde_live_url url;
	struct sonde_live_opts lopts = { .from_now = cmd->from_now };
	struct sonde_live_client *c = NULL;
	struct sonde_view_printer *p = NULL;
	const struct sonde_ctf_msg *msg;
	uint64_t generation = 0;
	int out_fd, status = 1, r;

	if (sonde_live_url_parse(text, &url, &err)) {
		fprintf(stderr, "sonde: error: %s\n", err.msg);
		return 2;
	}
	if (!url.hostname[0])
		return list_live(text, &url);
	if (cmd->ctf_metadata) {
		fprintf(stderr, "sonde: error: -o ctf-metadata reads trace directories, not live sessions\n");
		return 2;
	}
	if (open_output(cmd, &out_fd))
		return 1;
	r = sonde_live_open(&url, &lopts, &c, &err);
	if (!r)
		r = sonde_view_printer_create(&cmd->opts, sonde_live_trace_set(c),
					      out_fd, STDERR_FILENO, &p, &err);
	while (!r) {
		r = sonde_live_next(c, &msg, &err);
		if (r == SONDE_LIVE_AGAIN) {
			/* Show what we have before waiting. */
			r = sonde_view_printer_flush(p, &err);
			if (!r)
				usleep(LIVE_POLL_US);
			continue;
		}
		if (r <= 0)
			break;
		r = 0;
		if (sonde_live_generation(c) != generation) {
			generation = sonde_live_generation(c);
			r = sonde_view_printer_refresh(p, &err);
			if (r)
				break;
		}
		if (msg->kind == SONDE_CTF_MSG_EVENT &&
		    (!name_selected(cmd, msg->event->event_class->name) ||
		     !time_selected(cmd, p, msg->event)))
			continue;
		r = sonde_view_print(p, msg, &err);
	}
	if (p && sonde_view_printer_flush(p, r < 0 ? NULL : &err) && r >= 0)
		r = -1;
	if (r < 0)
		fprintf(stderr, "sonde: error: %s\n",
			err.msg[0] ? err.msg : sonde_strerror(err.status));
	else
		status = 0;
	sonde_view_printer_free(p);
	sonde_live_close(c);
	if (cmd->output_path && close(out_fd) && !status) {
		fprintf(stderr, "sonde: error: %s: %s\n", cmd->output_path,
			strerror(errno));
		status = 1;
	}
	return status;
}

static int run(struct view_cmd *cmd, char **paths, size_t npaths)
{
	struct sonde_error err = { 0 };
	struct sonde_ctf_trace_set *set = NULL;
	struct sonde_ctf_iter *it = NULL;
	struct sonde_view_printer *p = NULL;
	const struct sonde_ctf_msg *msg;
	int out_fd;
	int status = 1, r;

	if (open_output(cmd, &out_fd))
		return 1;
	r = sonde_ctf_trace_set_open((const char *const *)paths, npaths, &set,
				     &err);
	if (r)
		goto fail;
	cmd->opts.paths = (const char *const *)paths;
	cmd->opts.path_count = npaths;
	r = sonde_view_printer_create(&cmd->opts, set, out_fd, STDERR_FILENO,
				      &p, &err);
	if (r)
		goto fail;
	if (cmd->ctf_metadata) {
		if (sonde_view_print_metadata(p, &err))
			goto fail;
		status = 0;
		goto out;
	}
	r = sonde_ctf_iter_create(set, &it, &err);
	if (r)
		goto fail;
	while ((r = sonde_ctf_iter_next(it, &msg, &err)) > 0) {
		if (msg->kind == SONDE_CTF_MSG_EVENT &&
		    (!name_selected(cmd, msg->event->event_class->name) ||
		     !time_selected(cmd, p, msg->event)))
			continue;
		r = sonde_view_print(p, msg, &err);
		if (r)
			break;
	}
	/* Whatever was decoded before an error is printed first. */
	if (sonde_view_printer_flush(p, r < 0 ? NULL : &err) && r >= 0)
		r = -1;
	if (r < 0)
		goto fail;
	status = 0;
	goto out;
fail:
	if (p)
		sonde_view_printer_flush(p, NULL);
	fprintf(stderr, "sonde: error: %s\n",
		err.msg[0] ? err.msg : sonde_strerror(err.status));
	status = 1;
out:
	sonde_ctf_iter_free(it);
	sonde_view_printer_free(p);
	sonde_ctf_trace_set_free(set);
	if (cmd->output_path && close(out_fd) && !status) {
		fprintf(stderr, "sonde: error: %s: %s\n", cmd->output_path,
			strerror(errno));
		status = 1;
	}
	return status;
}

int cmd_view(int argc, char **argv)
{
	struct view_cmd cmd;
	struct sonde_error err = { 0 };
	int c, status;
	int64_t v;

	memset(&cmd, 0, sizeof(cmd));
	sonde_view_opts_init(&cmd.opts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:w:i:n:f:vdb:E:e:",
				view_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(view_help, stdout);
			free(cmd.globs);
			return 0;
		case 'o':
		case OPT_FORMAT:
			if (parse_format(&cmd, optarg))
				goto usage;
			break;
		case 'w':
			cmd.output_path = optarg;
			break;
		case 'i':
			if (strcmp(optarg, "ctf")) {
				usage_error("unsupported input format '%s'", optarg);
				goto usage;
			}
			break;
		case 'n':
			if (parse_names(optarg, &cmd.opts.names))
				goto usage;
			break;
		case 'f':
			if (parse_fields(optarg, &cmd.opts.fields))
				goto usage;
			break;
		case 'v':
			cmd.opts.verbose = true;
			break;
		case 'd':
		case OPT_CLOCK_FORCE_CORRELATE:
			break;
		case OPT_NO_DELTA:
			cmd.opts.no_delta = true;
			break;
		case OPT_CLOCK_CYCLES:
			cmd.opts.clock_cycles = true;
			break;
		case OPT_CLOCK_SECONDS:
			cmd.opts.clock_seconds = true;
			break;
		case OPT_CLOCK_DATE:
			cmd.opts.clock_date = true;
			break;
		case OPT_CLOCK_GMT:
			cmd.opts.clock_gmt = true;
			break;
		case OPT_CLOCK_OFFSET:
			if (parse_int_arg(optarg, &v)) {
				usage_error("invalid --clock-offset '%s'", optarg);
				goto usage;
			}
			cmd.opts.clock_offset_s = v;
			break;
		case OPT_CLOCK_OFFSET_NS:
			if (parse_int_arg(optarg, &v)) {
				usage_error("invalid --clock-offset-ns '%s'", optarg);
				goto usage;
			}
			cmd.opts.clock_offset_ns = v;
			break;
		case 'b':
		case 'E': {
			struct time_bound *b = c == 'b' ? &cmd.begin : &cmd.end;

			b->set = true;
			b->text = optarg;
			break;
		}
		case 'e':
			if (add_glob(&cmd, optarg))
				goto usage;
			break;
		case OPT_FROM_NOW:
			cmd.from_now = true;
			break;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			goto usage;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			goto usage;
		}
	}
	for (int k = 0; k < 2; k++) {
		struct time_bound *b = k ? &cmd.end : &cmd.begin;

		if (b->set && sonde_view_parse_time(b->text, cmd.opts.clock_gmt,
						    &b->ns, &b->time_of_day,
						    &err)) {
			fprintf(stderr, "sonde: error: %s\n", err.msg);
			goto usage;
		}
	}
	if (optind >= argc) {
		/* No path: the current session's trace, like `lttng view`. */
		char output[4096];
		char *current[1] = { output };

		if (!client_has_current_session()) {
			fprintf(stderr, "sonde: error: no trace path given and no current session (see 'sonde view --help')\n");
			goto usage;
		}
		if (client_current_output(output, sizeof(output))) {
			free(cmd.globs);
			return 1;
		}
		status = run(&cmd, current, 1);
		free(cmd.globs);
		return status;
	}
	for (int i = optind; i < argc; i++) {
		if (!sonde_live_is_url(argv[i]))
			continue;
		if (argc - optind > 1) {
			fprintf(stderr, "sonde: error: a live URL must be the only input (see 'sonde view --help')\n");
			goto usage;
		}
		status = run_live(&cmd, argv[i]);
		free(cmd.globs);
		return status;
	}
	status = run(&cmd, argv + optind, (size_t)(argc - optind));
	free(cmd.globs);
	return status;
usage:
	free(cmd.globs);
	return 2;
}
