/*
 * sonde-sessiond: the session daemon.  Owns the recording sessions of one
 * machine (as root) or one user, and serves the `sonde` CLI over a Unix
 * stream socket in its run directory (see src/session/rundir.h and
 * docs/internals/session.md).
 *
 * One thread runs one epoll loop over the listening socket, a signalfd and
 * the clients; each client sends one request at a time and gets one reply.
 * The kernel backend runs its consumer threads of its own between start and
 * stop.  SIGTERM and SIGINT stop every session, flushing its trace, then
 * destroy them (removing their ftrace instances) and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/daemon.h"
#include "common/log.h"
#include "session/rundir.h"
#include "sessiond.h"

#define TRACING_GROUP "tracing"
#define MAX_EVENTS 16
/* Every traced program stays connected, so a busy host has many clients;
 * only root and the tracing group get past the header, and each of them
 * may hold one request of up to SONDE_CTL_PAYLOAD_MAX bytes. */
#define MAX_CLIENTS 4096

static const char sessiond_help[] =
"NAME\n"
"    sonde-sessiond - the sonde session daemon\n"
"\n"
"SYNOPSIS\n"
"    sonde-sessiond [--daemonize] [--rundir DIR] [--tracefs DIR]\n"
"\n"
"DESCRIPTION\n"
"    Keeps the recording sessions that the 'sonde' command creates, starts\n"
"    and stops, and drives the kernel tracer for them.  One daemon runs per\n"
"    machine when started by root, or per user otherwise; 'sonde create'\n"
"    starts one when none is running, so starting it by hand is seldom\n"
"    needed.\n"
"\n"
"    It listens on RUNDIR/sessiond.sock and writes its pid to\n"
"    RUNDIR/sessiond.pid, where RUNDIR is $SONDE_RUNDIR, /run/sonde for\n"
"    root, or ~/.sonde/run.  A root daemon's socket is mode 0660, group\n"
"    'tracing' when that group exists: members of the group may trace\n"
"    without being root.  Every connection's peer credentials are checked\n"
"    too.\n"
"\n"
"    SIGTERM and SIGINT stop every started session, flush its trace to\n"
"    disk, destroy every session and exit.\n"
"\n"
"OPTIONS\n"
"    -d, --daemonize\n"
"        Run in the background; return once the daemon accepts commands\n"
"        (exit status 0), or print why it could not start (status 1).\n"
"        The background daemon logs to RUNDIR/sessiond.log.\n"
"    -f, --foreground\n"
"        Stay in the foreground and log to standard error (the default).\n"
"    --rundir DIR\n"
"        Use DIR as the run directory (same as SONDE_RUNDIR=DIR).\n"
"    --tracefs DIR\n"
"        Where tracefs is mounted (default: found, or mounted, by the\n"
"        kernel backend).\n"
"    -V, --version\n"
"        Print the version and exit.\n"
"    -h, --help\n"
"        Print this help.\n"
"\n"
"EXIT STATUS\n"
"    0 after a clean shutdown, 1 when the daemon cannot start (another\n"
"    daemon holds the run directory, the socket cannot be created...),\n"
"    2 on bad usage.\n";

struct client {
	int fd;
	uint64_t id;         /* a traced program's buffers name their connection */
	uid_t uid;
	bool allowed;
	bool closing;        /* close once the reply is sent */
	bool parked;         /* its request waits for a relay connection */
	uint8_t *in;
	size_t in_len, in_need;
	uint8_t *out;
	size_t out_len, out_off;
	struct client *next;
};

struct daemon {
	int epfd, listen_fd, signal_fd, pid_fd;
	int relay_fd;        /* eventfd: a relay connection finished */
	struct sonde_sessions *reg;
	struct client *clients;
	unsigned int client_count;
	uint64_t next_client_id;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char pid_path[4096];
	bool have_tracing_gid;
	gid_t tracing_gid;
	bool stop;
};

void sessiond_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sonde_vlog("sonde-sessiond", fmt, ap);
	va_end(ap);
}

static int mkdir_p(const char *path, mode_t mode, struct sonde_error *err)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return sonde_error_set(err, SONDE_EINVAL, "%s: path too long", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return sonde_error_set(err, SONDE_EIO, "%s: %s", buf,
					       strerror(errno));
		*p = saved;
		if (!saved)
			break;
	}
	return 0;
}

/* One daemon per run directory: the pid file stays locked while we live. */
static int lock_pidfile(struct daemon *d, struct sonde_error *err)
{
	char line[32];
	int n;

	d->pid_fd = open(d->pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (d->pid_fd < 0)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", d->pid_path,
				       strerror(errno));
	if (flock(d->pid_fd, LOCK_EX | LOCK_NB)) {
		ssize_t got = pread(d->pid_fd, line, sizeof(line) - 1, 0);

		line[got > 0 ? got : 0] = '\0';
		line[strcspn(line, "\n")] = '\0';
		return sonde_error_set(err, SONDE_EINVAL,
				       "a session daemon is already running (pid %s) in %s",
				       line[0] ? line : "unknown", d->pid_path);
	}
	n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (ftruncate(d->pid_fd, 0) || pwrite(d->pid_fd, line, (size_t)n, 0) != n)
		return sonde_error_set(err, SONDE_EIO, "%s: %s", d->pid_path,
				       strerror(errno));
	return 0;
}

static int open_socket(struct daemon *d, struct sonde_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct group *gr;
	mode_t mode = geteuid() == 0 ? 0660 : 0600;

	d->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->listen_fd < 0)
		return sonde_error_set(err, SONDE_EIO, "socket: %s", strerror(errno));
	memcpy(addr.sun_path, d->sock_path, strlen(d->sock_path) + 1);
	/* We hold the pid-file lock, so a socket file left here is stale. */
	unlink(d->sock_path);
	if (bind(d->listen_fd, (struct sockaddr *)&addr, sizeof(addr)))
		return sonde_error_set(err, SONDE_EIO, "%s: bind: %s", d->sock_path,
				       strerror(errno));
	gr = geteuid() == 0 ? getgrnam(TRACING_GROUP) : NULL;
	if (gr) {
		d->have_tracing_gid = true;
		d->tracing_gid = gr->gr_gid;
		if (chown(d->sock_path, (uid_t)-1, gr->gr_gid))
			return sonde_error_set(err, SONDE_EIO, "%s: chown: %s",
					       d->sock_path, strerror(errno));
	}
	if (chmod(d->sock_path, mode))
		return sonde_error_set(err, SONDE_EIO, "%s: chmod: %s", d->sock_path,
				       strerror(errno));
	if (listen(d->listen_fd, 64))
		return sonde_error_set(err, SONDE_EIO, "%s: listen: %s", d->sock_path,
				       strerror(errno));
	return 0;
}

static int open_signals(struct daemon *d, struct sonde_error *err)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return sonde_error_set(err, SONDE_EIO, "sigprocmask: %s", strerror(errno));
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->signal_fd < 0)
		return sonde_error_set(err, SONDE_EIO, "signalfd: %s", strerror(errno));
	return 0;
}

static int watch(struct daemon *d, int fd, uint32_t events, void *ptr, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(d->epfd, op, fd, &ev);
}

static int setup(struct daemon *d, const char *tracefs, struct sonde_error *err)
{
	char rundir[4096];
	int ret;

	ret = sonde_rundir(rundir, sizeof(rundir), err);
	if (!ret)
		ret = mkdir_p(rundir, geteuid() == 0 ? 0755 : 0700, err);
	if (!ret)
		ret = sonde_rundir_path(SONDE_SESSIOND_PIDFILE, d->pid_path,
					sizeof(d->pid_path), err);
	if (!ret)
		ret = sonde_rundir_path(SONDE_SESSIOND_SOCKET, d->sock_path,
					sizeof(d->sock_path), err);
	if (!ret)
		ret = lock_pidfile(d, err);
	if (!ret)
		ret = sonde_sessions_new(tracefs, &d->reg, err);
	if (!ret)
		ret = open_signals(d, err);
	if (!ret)
		ret = open_socket(d, err);
	if (ret)
		return ret;
	/* Relays are connected by threads, never on this one: a relay that
	 * does not answer would hold every client up. */
	d->relay_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->relay_fd < 0 || d->epfd < 0 ||
	    watch(d, d->listen_fd, EPOLLIN, &d->listen_fd, EPOLL_CTL_ADD) ||
	    watch(d, d->signal_fd, EPOLLIN, &d->signal_fd, EPOLL_CTL_ADD) ||
	    watch(d, d->relay_fd, EPOLLIN, &d->relay_fd, EPOLL_CTL_ADD))
		return sonde_error_set(err, SONDE_EIO, "epoll: %s", strerror(errno));
	sonde_sessions_set_notify(d->reg, d->relay_fd);
	return 0;
}

/* Members of the tracing group may use a root daemon, as its socket mode
 * says; the check is repeated here so that a socket whose mode was changed
 * by hand does not widen access. */
static bool in_tracing_group(const struct daemon *d, const struct ucred *cred)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	if (!d->have_tracing_gid)
		return false;
	if (cred->gid == d->tracing_gid)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cred->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line + 7, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (;;) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if (g == d->tracing_gid)
				found = true;
			p = end;
		}
	}
	fclose(f);
	return found;
}

static void client_free(struct daemon *d, struct client *c)
{
	for (struct client **pp = &d->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	d->client_count--;
	close(c->fd);   /* also removes it from the epoll set */
	/* A traced program that exited, crashed or exec'd: its per-PID
	 * buffers end with it. */
	sessiond_ust_app_gone(c->id);
	free(c->in);
	free(c->out);
	free(c);
}

static void accept_clients(struct daemon *d)
{
	for (;;) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct client *c;
		int fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				sessiond_log("accept: %s", strerror(errno));
			return;
		}
		if (d->client_count >= MAX_CLIENTS) {
			sessiond_log("%u clients connected: refusing one more",
				     d->client_count);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
			sessiond_log("client: %s", c ? strerror(errno) : "out of memory");
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->id = ++d->next_client_id;
		c->uid = cred.uid;
		c->allowed = cred.uid == 0 || cred.uid == geteuid() ||
			     in_tracing_group(d, &cred);
		if (watch(d, fd, EPOLLIN, c, EPOLL_CTL_ADD)) {
			sessiond_log("epoll: %s", strerror(errno));
			free(c);
			close(fd);
			continue;
		}
		c->next = d->clients;
		d->clients = c;
		d->client_count++;
	}
}

/* A reply that cannot be built (too large) still gets through as an error. */
static void error_reply(struct sonde_ctl_writer *w, int status, const char *msg)
{
	sonde_ctl_writer_release(w);
	sonde_ctl_writer_init(w, SONDE_CTL_REPLY);
	sonde_ctl_put_i64(w, SONDE_CTL_T_STATUS, status);
	sonde_ctl_put_str(w, SONDE_CTL_T_MESSAGE, msg);
}

static void queue_reply(struct daemon *d, struct client *c,
			struct sonde_ctl_writer *w)
{
	struct sonde_error err = { 0 };
	uint8_t *buf;
	size_t len;

	if (sonde_ctl_writer_finish(w, &buf, &len, &err)) {
		error_reply(w, err.status, err.msg);
		if (sonde_ctl_writer_finish(w, &buf, &len, &err)) {
			c->closing = true;
			return;
		}
	}
	free(c->out);
	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	watch(d, c->fd, EPOLLOUT, c, EPOLL_CTL_MOD);
}

static void handle_request(struct daemon *d, struct client *c)
{
	struct sonde_error err = { 0 };
	struct sonde_ctl_writer w;
	struct sonde_ctl_msg *req;

	sonde_ctl_writer_init(&w, SONDE_CTL_REPLY);
	if (!c->allowed) {
		char msg[160];

		snprintf(msg, sizeof(msg),
			 "permission denied: uid %u is not root, the daemon's user or in the '%s' group",
			 (unsigned int)c->uid, TRACING_GROUP);
		error_reply(&w, SONDE_EINVAL, msg);
		c->closing = true;
	} else if (sonde_ctl_decode(c->in, c->in_len, &req, &err)) {
		sessiond_log("client uid %u: %s", (unsigned int)c->uid, err.msg);
		error_reply(&w, err.status, err.msg);
		c->closing = true;
	} else {
		c->parked = sessiond_handle(d->reg, req, c->id, &w);
		sonde_ctl_msg_free(req);
		if (c->parked) {
			/* Handled again when a relay connection finishes;
			 * meanwhile only a hang-up is reported. */
			sonde_ctl_writer_release(&w);
			watch(d, c->fd, 0, c, EPOLL_CTL_MOD);
			return;
		}
	}
	c->in_len = 0;
	c->in_need = 0;
	queue_reply(d, c, &w);
}

/* Reads what is there; a whole message triggers its reply. */
static bool client_readable(struct daemon *d, struct client *c)
{
	for (;;) {
		size_t want = c->in_need ? c->in_need : SONDE_CTL_HEADER_SIZE;
		ssize_t n;

		if (!c->in) {
			c->in = malloc(SONDE_CTL_HEADER_SIZE);
			if (!c->in)
				return false;
		}
		n = read(c->fd, c->in + c->in_len, want - c->in_len);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		c->in_len += (size_t)n;
		if (c->in_len < want)
			continue;
		if (!c->in_need) {
			struct sonde_error err = { 0 };
			uint32_t payload;
			uint16_t type;
			uint8_t *p;

			if (sonde_ctl_header_parse(c->in, c->in_len, &type, &payload, &err)) {
				struct sonde_ctl_writer w;

				sessiond_log("client uid %u: %s", (unsigned int)c->uid, err.msg);
				sonde_ctl_writer_init(&w, SONDE_CTL_REPLY);
				error_reply(&w, err.status, err.msg);
				c->closing = true;
				queue_reply(d, c, &w);
				return true;
			}
			/* Refused peers are answered before they send a payload. */
			if (!c->allowed) {
				handle_request(d, c);
				return true;
			}
			c->in_need = SONDE_CTL_HEADER_SIZE + (size_t)payload;
			p = realloc(c->in, c->in_need);
			if (!p)
				return false;
			c->in = p;
			if (c->in_len < c->in_need)
				continue;
		}
		handle_request(d, c);
		return true;
	}
}

static bool client_writable(struct daemon *d, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->closing)
		return false;
	watch(d, c->fd, EPOLLIN, c, EPOLL_CTL_MOD);
	return true;
}

static void read_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		sessiond_log("signal %u: stopping every session and exiting",
			     si.ssi_signo);
		d->stop = true;
	}
}

/* A relay connection finished: the requests waiting for one go again. */
static void relay_ready(struct daemon *d)
{
	uint64_t n;

	if (read(d->relay_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		sessiond_log("eventfd: %s", strerror(errno));
	for (struct client *c = d->clients; c; c = c->next) {
		if (!c->parked)
			continue;
		c->parked = false;
		handle_request(d, c);
	}
}

static int run(struct daemon *d)
{
	struct epoll_event events[MAX_EVENTS];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, events, MAX_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sessiond_log("epoll_wait: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;
			struct client *c = ptr;
			bool keep;

			if (ptr == &d->listen_fd) {
				accept_clients(d);
				continue;
			}
			if (ptr == &d->signal_fd) {
				read_signals(d);
				continue;
			}
			if (ptr == &d->relay_fd) {
				relay_ready(d);
				continue;
			}
			if (c->parked) {
				if (events[i].events & (EPOLLHUP | EPOLLERR))
					client_free(d, c);
				continue;
			}
			if (c->out)
				keep = client_writable(d, c);
			else
				keep = !(events[i].events & (EPOLLERR)) &&
				       client_readable(d, c);
			if (keep && c->out && (events[i].events & EPOLLOUT))
				keep = client_writable(d, c);
			if (!keep)
				client_free(d, c);
		}
	}
	return 0;
}

static void shutdown_daemon(struct daemon *d)
{
	struct sonde_error err = { 0 };

	sessiond_ust_shutdown(); /* user-space traces first: no kernel part */
	if (d->reg && sonde_sessions_stop_all(d->reg, &err))
		sessiond_log("stopping: %s", err.msg);
	sonde_sessions_free(d->reg);   /* removes the ftrace instances */
	d->reg = NULL;
	while (d->clients)
		client_free(d, d->clients);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->sock_path);
	}
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->relay_fd >= 0)
		close(d->relay_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->pid_fd >= 0) {
		unlink(d->pid_path);
		close(d->pid_fd);
	}
}

/* The parent waits for "ok" or an error message on `pipe_fd`, so that
 * `sonde-sessiond --daemonize` returns only once clients can connect. */
static int wait_for_child(int pipe_fd)
{
	char msg[SONDE_ERROR_MSG_MAX + 1];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(msg) - 1 &&
	       (n = read(pipe_fd, msg + len, sizeof(msg) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	msg[len] = '\0';
	if (!strcmp(msg, "ok"))
		return 0;
	fprintf(stderr, "sonde-sessiond: error: %s\n",
		len ? msg : "the daemon exited while starting");
	return 1;
}

static void open_log(void)
{
	char path[4096];
	int fd;

	if (sonde_rundir_path(SONDE_SESSIOND_LOG, path, sizeof(path), NULL))
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	open_log();
}

enum { OPT_RUNDIR = 256, OPT_TRACEFS };

static const struct option options[] = {
	{ "daemonize", no_argument, NULL, 'd' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "rundir", required_argument, NULL, OPT_RUNDIR },
	{ "tracefs", required_argument, NULL, OPT_TRACEFS },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct daemon d = { .epfd = -1, .listen_fd = -1, .signal_fd = -1,
			    .pid_fd = -1, .relay_fd = -1 };
	struct sonde_error err = { 0 };
	const char *tracefs = NULL;
	bool daemonize = false;
	int pipe_fds[2] = { -1, -1 };
	int opt, status;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":dfVh", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			daemonize = true;
			break;
		case 'f':
			daemonize = false;
			break;
		case OPT_RUNDIR:
			if (setenv("SONDE_RUNDIR", optarg, 1))
				return 1;
			break;
		case OPT_TRACEFS:
			tracefs = optarg;
			break;
		case 'V':
			printf("sonde-sessiond %s (git %s)\n", SONDE_VERSION, SONDE_GIT_COMMIT);
			return 0;
		case 'h':
			fputs(sessiond_help, stdout);
			return 0;
		case ':':
			fprintf(stderr, "sonde-sessiond: error: option '%s' needs a value (see 'sonde-sessiond --help')\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, "sonde-sessiond: error: unknown option '%s' (see 'sonde-sessiond --help')\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sonde-sessiond: error: unexpected argument '%s' (see 'sonde-sessiond --help')\n",
			argv[optind]);
		return 2;
	}
	if (daemonize) {
		pid_t pid;

		if (pipe2(pipe_fds, O_CLOEXEC)) {
			perror("sonde-sessiond: error: pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("sonde-sessiond: error: fork");
			return 1;
		}
		if (pid > 0) {
			close(pipe_fds[1]);
			return wait_for_child(pipe_fds[0]);
		}
		close(pipe_fds[0]);
		setsid();
		if (chdir("/"))
			_exit(1);
	}
	sonde_raise_fd_limit();
	if (setup(&d, tracefs, &err)) {
		if (daemonize) {
			if (write(pipe_fds[1], err.msg, strlen(err.msg)) < 0)
				_exit(1);
		} else {
			fprintf(stderr, "sonde-sessiond: error: %s\n", err.msg);
		}
		/* Never unlink what another daemon owns. */
		if (d.pid_fd >= 0 && flock(d.pid_fd, LOCK_EX | LOCK_NB)) {
			d.pid_fd = -1;
			d.listen_fd = -1;
		}
		shutdown_daemon(&d);
		return 1;
	}
	if (daemonize) {
		detach_stdio();
		if (write(pipe_fds[1], "ok", 2) != 2)
			sessiond_log("cannot tell the parent we are ready: %s",
				     strerror(errno));
		close(pipe_fds[1]);
	}
	sessiond_log("ready on %s", d.sock_path);
	status = run(&d);
	shutdown_daemon(&d);
	sessiond_log("exited");
	return status;
}
