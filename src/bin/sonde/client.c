/*
 * Talking to sonde-sessiond from the CLI (see client.h).
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "session/rundir.h"

extern char **environ;

int client_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sonde: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'sonde %s --help')\n", verb);
	return 2;
}

int client_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	if (!s[0] || s[0] == '-')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	}
	if (*end || (v && mult > ULLONG_MAX / v))
		return -1;
	*out = v * mult;
	return 0;
}

static int try_connect(const char *path, int *fd_out)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int e = errno;

		close(fd);
		return -e;
	}
	*fd_out = fd;
	return 0;
}

/* The daemon next to this program: installed side by side, or in the
 * build tree (src/bin/sonde/sonde and src/bin/sonde-sessiond/...). */
static int find_sessiond(char *buf, size_t size)
{
	const char *env = getenv("SONDE_SESSIOND");
	char self[PATH_MAX];
	ssize_t n;
	char *slash;

	if (env && env[0])
		return snprintf(buf, size, "%s", env) < (int)size ? 0 : -1;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (snprintf(buf, size, "%s/sonde-sessiond", self) < (int)size &&
			    !access(buf, X_OK))
				return 0;
			if (snprintf(buf, size, "%s/../sonde-sessiond/sonde-sessiond",
				     self) < (int)size && !access(buf, X_OK))
				return 0;
		}
	}
	return snprintf(buf, size, "sonde-sessiond") < (int)size ? 0 : -1;
}

static int spawn_daemon(void)
{
	char path[PATH_MAX];
	char *argv[] = { path, (char *)"--daemonize", NULL };
	int status;
	pid_t pid;

	if (find_sessiond(path, sizeof(path))) {
		fprintf(stderr, "sonde: error: cannot locate sonde-sessiond\n");
		return 1;
	}
	fprintf(stderr, "Spawning a session daemon\n");
	errno = posix_spawnp(&pid, path, NULL, NULL, argv, environ);
	if (errno) {
		fprintf(stderr, "sonde: error: cannot start %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	/* The daemon printed its reason on stderr already. */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int connect_daemon(bool autostart, int *fd)
{
	struct sonde_error err = { 0 };
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int ret;

	if (sonde_rundir_path(SONDE_SESSIOND_SOCKET, path, sizeof(path), &err)) {
		fprintf(stderr, "sonde: error: %s\n", err.msg);
		return 1;
	}
	ret = try_connect(path, fd);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		if (!autostart) {
			fprintf(stderr, "sonde: error: no session daemon is running (no %s); 'sonde create' starts one\n",
				path);
			return 1;
		}
		if (spawn_daemon())
			return 1;
		ret = try_connect(path, fd);
	}
	if (ret == -EACCES) {
		fprintf(stderr, "sonde: error: %s: permission denied (kernel tracing needs root or the 'tracing' group)\n",
			path);
		return 1;
	}
	if (ret) {
		fprintf(stderr, "sonde: error: %s: %s\n", path, strerror(-ret));
		return 1;
	}
	return 0;
}

int client_call(struct sonde_ctl_writer *w, bool autostart,
		struct sonde_ctl_msg **reply)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_msg *msg = NULL;
	const char *text;
	uint8_t *buf;
	size_t len;
	int64_t status = SONDE_EFORMAT;
	int fd = -1;

	*reply = NULL;
	if (sonde_ctl_writer_finish(w, &buf, &len, &err)) {
		fprintf(stderr, "sonde: error: %s\n", err.msg);
		return 1;
	}
	if (connect_daemon(autostart, &fd)) {
		free(buf);
		return 1;
	}
	if (sonde_ctl_write_all(fd, buf, len, &err) ||
	    sonde_ctl_read_msg(fd, &msg, &err)) {
		free(buf);
		close(fd);
		fprintf(stderr, "sonde: error: %s\n", err.msg);
		return 1;
	}
	free(buf);
	close(fd);
	if (msg->type != SONDE_CTL_REPLY ||
	    !sonde_ctl_get_i64(&msg->root, SONDE_CTL_T_STATUS, &status)) {
		sonde_ctl_msg_free(msg);
		fprintf(stderr, "sonde: error: the session daemon sent a reply without a status\n");
		return 1;
	}
	if (status) {
		text = sonde_ctl_get_str(&msg->root, SONDE_CTL_T_MESSAGE);
		fprintf(stderr, "sonde: error: %s\n",
			text ? text : sonde_strerror((int)status));
		sonde_ctl_msg_free(msg);
		return 1;
	}
	*reply = msg;
	return 0;
}

static int rc_path(char *buf, size_t size)
{
	const char *home = getenv("HOME");

	if (!home || !home[0])
		return -1;
	return snprintf(buf, size, "%s/.sonderc", home) < (int)size ? 0 : -1;
}

static int current_session_get(char *buf, size_t size)
{
	char path[PATH_MAX], line[256];
	int found = -1;
	FILE *f;

	if (rc_path(path, sizeof(path)))
		return -1;
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "session=", 8) && line[8] &&
		    snprintf(buf, size, "%s", line + 8) < (int)size)
			found = 0;
	}
	fclose(f);
	return found;
}

void current_session_set(const char *name)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	if (rc_path(path, sizeof(path)) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return;
	f = fopen(tmp, "we");
	if (!f) {
		fprintf(stderr, "sonde: warning: %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "session=%s\n", name);
	if (fclose(f) || rename(tmp, path))
		fprintf(stderr, "sonde: warning: %s: %s\n", path, strerror(errno));
}

void current_session_clear(const char *name)
{
	char path[PATH_MAX], current[256];

	if (current_session_get(current, sizeof(current)) || strcmp(current, name) ||
	    rc_path(path, sizeof(path)))
		return;
	if (unlink(path) && errno != ENOENT)
		fprintf(stderr, "sonde: warning: %s: %s\n", path, strerror(errno));
}

bool client_has_current_session(void)
{
	char name[256];

	return current_session_get(name, sizeof(name)) == 0;
}

const char *client_session_name(const char *arg, char *buf, size_t size)
{
	if (arg)
		return arg;
	if (current_session_get(buf, size)) {
		fprintf(stderr, "sonde: error: no current session: give a session name, or create one with 'sonde create'\n");
		return NULL;
	}
	return buf;
}

int client_current_output(char *buf, size_t size)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const struct sonde_ctl_rec *rec = NULL;
	const char *name, *output;
	char current[256];

	name = client_session_name(NULL, current, sizeof(current));
	if (!name)
		return 1;
	sonde_ctl_writer_init(&w, SONDE_CTL_SESSION_INFO);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	if (client_call(&w, false, &reply))
		return 1;
	for (size_t i = 0; i < reply->root.count; i++)
		if (reply->root.fields[i].tag == SONDE_CTL_T_SESSION_REC)
			rec = reply->root.fields[i].v.rec;
	output = rec ? sonde_ctl_get_str(rec, SONDE_CTL_T_OUTPUT) : NULL;
	if (!output || snprintf(buf, size, "%s", output) >= (int)size) {
		fprintf(stderr, "sonde: error: the session daemon gave no output directory for session '%s'\n",
			name);
		sonde_ctl_msg_free(reply);
		return 1;
	}
	sonde_ctl_msg_free(reply);
	return 0;
}

int client_parse_help_only(int argc, char **argv, const char *verb,
			   const char *help)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		return client_usage_error(verb, "unknown option '%s'",
					  argv[optind - 1]);
	}
	return -1;
}

int client_session_verb(int argc, char **argv, const char *verb,
			const char *help, int msg_type, const char *done)
{
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *reply;
	const char *name = NULL;
	char current[256];
	int ret = client_parse_help_only(argc, argv, verb, help);

	if (ret >= 0)
		return ret;
	if (optind < argc)
		name = argv[optind++];
	if (optind < argc)
		return client_usage_error(verb, "unexpected argument '%s'",
					  argv[optind]);
	name = client_session_name(name, current, sizeof(current));
	if (!name)
		return 1;
	sonde_ctl_writer_init(&w, msg_type);
	sonde_ctl_put_str(&w, SONDE_CTL_T_SESSION, name);
	if (client_call(&w, false, &reply))
		return 1;
	printf("Tracing %s for session %s\n", done, name);
	sonde_ctl_msg_free(reply);
	return 0;
}

/* "HOST[:PORT[:PORT]]" after the scheme, HOST possibly in brackets. */
static int parse_host_ports(const char *verb, const char *url, const char *p,
			    int max_ports, char *host, size_t host_size,
			    unsigned long *ports)
{
	const char *end;
	size_t len;

	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return client_usage_error(verb, "unclosed '[' in '%s'", url);
		len = (size_t)(end - p - 1);
		p++;
		end++;
	} else {
		end = p + strcspn(p, ":/");
		len = (size_t)(end - p);
	}
	if (!len || len >= host_size)
		return client_usage_error(verb, "no relay host in '%s'", url);
	memcpy(host, p, len);
	host[len] = '\0';
	for (int i = 0; *end == ':'; i++) {
		char *stop;

		if (i == max_ports)
			return client_usage_error(verb, "too many ports in '%s'", url);
		ports[i] = strtoul(end + 1, &stop, 10);
		if (stop == end + 1 || !ports[i] || ports[i] > 65535)
			return client_usage_error(verb, "invalid port in '%s'", url);
		end = stop;
	}
	if (*end && strcmp(end, "/"))
		return client_usage_error(verb, "unexpected '%s' in '%s'", end, url);
	return 0;
}

int client_parse_relay_url(const char *verb, int which, const char *url,
			   struct client_relay *t)
{
	static const char *const net[] = { "net://", "net4://", "net6://" };
	static const char *const tcp[] = { "tcp://", "tcp4://", "tcp6://" };
	const char *const *schemes = which == 'U' ? net : tcp;
	unsigned long ports[2] = { 0, 0 };
	char host[sizeof(t->host)];
	const char *p = NULL;

	for (size_t i = 0; i < 3 && !p; i++)
		if (!strncmp(url, schemes[i], strlen(schemes[i])))
			p = url + strlen(schemes[i]);
	if (!p)
		return client_usage_error(verb, which == 'U' ?
					  "'%s': expected net://RELAY[:C[:D]]" :
					  "'%s': -C and -D take tcp://RELAY:PORT",
					  url);
	if (parse_host_ports(verb, url, p, which == 'U' ? 2 : 1, host,
			     sizeof(host), ports))
		return 2;
	if (t->set && strcmp(t->host, host))
		return client_usage_error(verb, "the control and data URLs name two relays ('%s')",
					  url);
	snprintf(t->host, sizeof(t->host), "%s", host);
	t->set = true;
	if (which == 'U') {
		t->control = ports[0];
		t->data = ports[1];
	} else if (!ports[0]) {
		return client_usage_error(verb, "'%s': no port", url);
	} else if (which == 'C') {
		t->control = ports[0];
	} else {
		t->data = ports[0];
	}
	return 0;
}

void client_put_relay(struct sonde_ctl_writer *w, const struct client_relay *t)
{
	sonde_ctl_put_str(w, SONDE_CTL_T_RELAY, t->host);
	sonde_ctl_put_u64(w, SONDE_CTL_T_CONTROL_PORT, t->control);
	sonde_ctl_put_u64(w, SONDE_CTL_T_DATA_PORT, t->data);
}
