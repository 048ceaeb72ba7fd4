/*
 * sonde-relayd: the relay daemon.  Receives traces streamed by LTTng (or
 * sonde) session daemons, writes them under an output directory as
 * lttng-relayd does, and serves them to live viewers.  Options and
 * daemonizing here; the server is src/relay/server.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "relay/server.h"

static const char relayd_help[] =
"NAME\n"
"    sonde-relayd - receive streamed traces and serve them live\n"
"\n"
"SYNOPSIS\n"
"    sonde-relayd [-C URL] [-D URL] [-L URL] [-o DIR] [-d | -b]\n"
"                 [--ports-file FILE] [--one-viewer-per-session]\n"
"\n"
"DESCRIPTION\n"
"    Speaks LTTng's relay protocols: session daemons (lttng-sessiond, or\n"
"    sonde's) stream traces to its control and data ports, and live\n"
"    viewers (babeltrace2 --input-format=lttng-live, sonde view) read them\n"
"    on its live port, several viewers per session if they wish.  Traces\n"
"    are written to DIR/HOSTNAME/SESSION-YYYYmmdd-HHMMSS/, as lttng-relayd\n"
"    writes them.  Messages go to standard error, one line each.\n"
"\n"
"OPTIONS\n"
"    -C, --control-port URL\n"
"        Producers' control connections (default tcp://0.0.0.0:5342).\n"
"    -D, --data-port URL\n"
"        Producers' data connections (default tcp://0.0.0.0:5343).\n"
"    -L, --live-port URL\n"
"        Live viewers (default tcp://localhost:5344).\n"
"        URL is tcp://ADDR[:PORT], tcp4://..., or tcp6://[ADDR][:PORT];\n"
"        port 0 lets the system choose (see --ports-file).\n"
"    -o, --output DIR\n"
"        Where traces go (default $HOME/sonde-traces).\n"
"    -d, --daemonize\n"
"        Run in the background, standard streams on /dev/null; return once\n"
"        the ports accept connections.\n"
"    -b, --background\n"
"        The same, keeping standard error for messages.\n"
"    --ports-file FILE\n"
"        Once listening, write the three ports to FILE (\"C D L\\n\").\n"
"    --one-viewer-per-session\n"
"        Refuse a second viewer on a session, as lttng-relayd does.\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGTERM or SIGINT, 1 if it cannot start, 2 on bad usage.\n";

static void relayd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sonde_vlog("sonde-relayd", fmt, ap);
	va_end(ap);
}

static const struct option options[] = {
	{ "control-port", required_argument, NULL, 'C' },
	{ "data-port", required_argument, NULL, 'D' },
	{ "live-port", required_argument, NULL, 'L' },
	{ "output", required_argument, NULL, 'o' },
	{ "daemonize", no_argument, NULL, 'd' },
	{ "background", no_argument, NULL, 'b' },
	{ "ports-file", required_argument, NULL, 'P' },
	{ "one-viewer-per-session", no_argument, NULL, '1' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int write_ports(const char *path, const int ports[3])
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d %d %d\n", ports[0], ports[1], ports[2]);
	if (fclose(f) || rename(tmp, path))
		return -1;
	return 0;
}

static int detach_from_terminal(bool keep_stderr)
{
	pid_t pid = fork();
	int null;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/"))
		return -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -1;
	dup2(null, 0);
	dup2(null, 1);
	if (!keep_stderr)
		dup2(null, 2);
	close(null);
	return 0;
}

int main(int argc, char **argv)
{
	struct relay_server_config cfg = { .core.log = relayd_log };
	const char *output = NULL, *ports_file = NULL;
	char out_dir[PATH_MAX], cwd[PATH_MAX];
	struct sonde_error err = { 0 };
	struct relay_server *srv;
	bool daemonize = false, background = false;
	int opt, ret, ports[3];

	while ((opt = getopt_long(argc, argv, "C:D:L:o:dbVh", options, NULL)) != -1) {
		switch (opt) {
		case 'C':
			cfg.control_url = optarg;
			break;
		case 'D':
			cfg.data_url = optarg;
			break;
		case 'L':
			cfg.live_url = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'd':
			daemonize = true;
			break;
		case 'b':
			background = true;
			break;
		case 'P':
			ports_file = optarg;
			break;
		case '1':
			cfg.core.one_viewer_per_session = true;
			break;
		case 'V':
			printf("sonde-relayd %s (%s)\n", SONDE_VERSION, SONDE_GIT_COMMIT);
			return 0;
		case 'h':
			fputs(relayd_help, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'sonde-relayd --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sonde-relayd: error: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (!output) {
		const char *home = getenv("HOME");

		if (!home || !home[0]) {
			fprintf(stderr, "sonde-relayd: error: HOME is not set: give -o DIR\n");
			return 2;
		}
		snprintf(out_dir, sizeof(out_dir), "%s/sonde-traces", home);
	} else if (output[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(out_dir, sizeof(out_dir), "%s/%s", cwd, output) >=
			    (int)sizeof(out_dir)) {
			fprintf(stderr, "sonde-relayd: error: %s: path too long\n", output);
			return 1;
		}
	} else {
		snprintf(out_dir, sizeof(out_dir), "%s", output);
	}
	cfg.core.output_dir = out_dir;
	sonde_raise_fd_limit();
	ret = relay_server_new(&cfg, &srv, &err);
	if (ret) {
		fprintf(stderr, "sonde-relayd: error: %s\n", err.msg);
		return 1;
	}
	relay_server_ports(srv, ports);
	if (ports_file && write_ports(ports_file, ports)) {
		fprintf(stderr, "sonde-relayd: error: %s: %s\n", ports_file,
			strerror(errno));
		relay_server_free(srv);
		return 1;
	}
	if ((daemonize || background) && detach_from_terminal(background)) {
		fprintf(stderr, "sonde-relayd: error: daemonize: %s\n", strerror(errno));
		relay_server_free(srv);
		return 1;
	}
	ret = relay_server_run(srv, &err);
	if (ret)
		relayd_log("error: %s", err.msg);
	relay_server_free(srv);
	return ret ? 1 : 0;
}
