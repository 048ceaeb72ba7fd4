/*
 * The server loop of sonde-relayd.  Every socket is non-blocking and
 * watched by one epoll instance (level-triggered); each connection owns
 * an input buffer of IN_SIZE bytes, a control payload of at most
 * CONTROL_PAYLOAD_MAX bytes, and one reply at a time: it reads no new
 * request until its reply is sent.  Packet and metadata bytes go to their
 * files as they arrive, never held whole, and replies carrying file
 * contents are sent from the file (sendfile).  A connection gets at most
 * READ_BUDGET bytes of service per wakeup, so no peer, fast or stalled,
 * holds the others up, and memory stays bounded per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "live/live-proto.h"
#include "relay/server.h"

#define IN_SIZE (64u << 10)
#define READ_BUDGET (256u << 10)
#define CONTROL_PAYLOAD_MAX (1u << 20)
#define MAX_EVENTS 64

enum conn_kind { CONTROL, DATA, LIVE, LISTENER, SIGNALS };

enum conn_state {
	WANT_HEADER,
	WANT_PAYLOAD,                   /* a whole payload, into `payload` */
	WANT_METADATA_FIXED,            /* SEND_METADATA's 12 bytes */
	STREAMING,                      /* bytes go straight to a file */
};

struct conn {
	enum conn_kind kind;
	enum conn_kind listens;         /* LISTENER: what it accepts */
	int fd;
	char peer[64];
	struct relay_producer *producer;
	struct relay_viewer *viewer;
	uint8_t *in;
	size_t in_len;
	enum conn_state state;
	uint32_t cmd;
	uint8_t *payload;
	size_t payload_len, payload_have;
	uint64_t stream_left;
	struct relay_out out;
	bool closing;                   /* close once `out` is sent */
	bool watching_out;
	struct conn *prev, *next;
};

struct relay_server {
	struct relay_core *core;
	relay_log_fn log;
	char output_dir[SONDE_RELAY_PATH_MAX];
	int epfd;
	int spare_fd;                   /* given up to refuse a peer on EMFILE */
	struct conn listeners[3];
	struct conn signals;
	struct conn *conns;
	int ports[3];
};

static const char *const kind_names[] = { "control", "data", "live" };

int relay_parse_url(const char *url, const char *default_host, int default_port,
		    struct sockaddr_storage *addr, socklen_t *len,
		    struct sonde_error *err)
{
	char host[256], *end;
	const char *rest = url, *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	long port = default_port;
	char port_str[16];
	size_t n;
	int ret;

	if (!strncmp(rest, "tcp://", 6) || !strncmp(rest, "tcp4://", 7)) {
		rest = strchr(rest, '/') + 2;
		hints.ai_family = AF_INET;
	} else if (!strncmp(rest, "tcp6://", 7)) {
		rest += 7;
		hints.ai_family = AF_INET6;
	} else {
		return sonde_error_set(err, SONDE_EINVAL,
				       "'%s': not a tcp://ADDR:PORT URL", url);
	}
	if (*rest == '[') {
		end = strchr(rest, ']');
		if (!end || (size_t)(end - rest - 1) >= sizeof(host))
			return sonde_error_set(err, SONDE_EINVAL, "'%s': bad address", url);
		n = (size_t)(end - rest - 1);
		memcpy(host, rest + 1, n);
		colon = end + 1;
		hints.ai_family = AF_INET6;
	} else {
		colon = strchr(rest, ':');
		n = colon ? (size_t)(colon - rest) : strcspn(rest, "/");
		if (n >= sizeof(host))
			return sonde_error_set(err, SONDE_EINVAL, "'%s': bad address", url);
		memcpy(host, rest, n);
	}
	host[n] = '\0';
	if (colon && *colon == ':') {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || (*end && *end != '/') || port < 0 ||
		    port > 65535)
			return sonde_error_set(err, SONDE_EINVAL, "'%s': bad port", url);
	} else if (colon && *colon && *colon != '/') {
		return sonde_error_set(err, SONDE_EINVAL, "'%s': bad address", url);
	}
	snprintf(port_str, sizeof(port_str), "%ld", port);
	if (!host[0] && hints.ai_family == AF_INET6)
		default_host = strcmp(default_host, "localhost") ? "::" : "::1";
	ret = getaddrinfo(host[0] ? host : default_host, port_str, &hints, &res);
	if (ret)
		return sonde_error_set(err, SONDE_EINVAL, "'%s': %s", url,
				       gai_strerror(ret));
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void conn_peer(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (!getpeername(fd, (struct sockaddr *)&ss, &len)) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(buf, size, "%s:%d", host, port);
}

static int watch(struct relay_server *srv, struct conn *c, uint32_t events, int op)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	return epoll_ctl(srv->epfd, op, c->fd, &ev);
}

static int listen_on(struct relay_server *srv, int i, const char *url,
		     const char *default_host, int default_port,
		     struct sonde_error *err)
{
	struct conn *l = &srv->listeners[i];
	struct sockaddr_storage addr;
	socklen_t len;
	int one = 1, ret;

	ret = relay_parse_url(url ? url : "tcp://", default_host, default_port,
			      &addr, &len, err);
	if (ret)
		return sonde_error_prefix(err, "%s port", kind_names[i]);
	l->kind = LISTENER;
	l->listens = (enum conn_kind)i;
	l->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return sonde_error_set(err, SONDE_EIO, "socket: %s", strerror(errno));
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&addr, len) || listen(l->fd, 128))
		return sonde_error_set(err, SONDE_EIO, "%s port %s: %s", kind_names[i],
				       url ? url : "(default)", strerror(errno));
	if (getsockname(l->fd, (struct sockaddr *)&addr, &len) == 0)
		srv->ports[i] = ntohs(addr.ss_family == AF_INET6 ?
				      ((struct sockaddr_in6 *)&addr)->sin6_port :
				      ((struct sockaddr_in *)&addr)->sin_port);
	if (watch(srv, l, EPOLLIN, EPOLL_CTL_ADD))
		return sonde_error_set(err, SONDE_EIO, "epoll: %s", strerror(errno));
	return 0;
}

int relay_server_new(const struct relay_server_config *cfg,
		     struct relay_server **out, struct sonde_error *err)
{
	struct relay_server *srv = calloc(1, sizeof(*srv));
	int ret;

	*out = NULL;
	if (!srv)
		return sonde_error_set(err, SONDE_ENOMEM, "relay: out of memory");
	for (int i = 0; i < 3; i++)
		srv->listeners[i].fd = -1;
	srv->signals.fd = -1;
	srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	srv->log = cfg->core.log;
	snprintf(srv->output_dir, sizeof(srv->output_dir), "%.4000s",
		 cfg->core.output_dir);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		ret = sonde_error_set(err, SONDE_EIO, "epoll: %s", strerror(errno));
		goto fail;
	}
	ret = listen_on(srv, CONTROL, cfg->control_url, "0.0.0.0",
			SONDE_RELAY_CONTROL_PORT, err);
	if (!ret)
		ret = listen_on(srv, DATA, cfg->data_url, "0.0.0.0",
				SONDE_RELAY_DATA_PORT, err);
	if (!ret)
		ret = listen_on(srv, LIVE, cfg->live_url, "localhost",
				SONDE_RELAY_LIVE_PORT, err);
	if (!ret)
		ret = relay_core_new(&cfg->core, &srv->core, err);
	if (ret)
		goto fail;
	*out = srv;
	return 0;
fail:
	relay_server_free(srv);
	return ret;
}

void relay_server_ports(const struct relay_server *srv, int ports[3])
{
	memcpy(ports, srv->ports, sizeof(srv->ports));
}

static void conn_free(struct relay_server *srv, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd);
	relay_producer_free(c->producer);
	relay_viewer_free(c->viewer);
	relay_out_release(&c->out);
	free(c->in);
	free(c->payload);
	free(c);
}

void relay_server_free(struct relay_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_free(srv, srv->conns);
	for (int i = 0; i < 3; i++)
		if (srv->listeners[i].fd >= 0)
			close(srv->listeners[i].fd);
	if (srv->signals.fd >= 0)
		close(srv->signals.fd);
	if (srv->spare_fd >= 0)
		close(srv->spare_fd);
	if (srv->epfd >= 0)
		close(srv->epfd);
	relay_core_free(srv->core);
	free(srv);
}

static void accept_all(struct relay_server *srv, struct conn *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;
		struct conn *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
		    srv->spare_fd >= 0) {
			/* Out of descriptors: accept and drop the peer with the
			 * spare one, or epoll would wake us for it forever. */
			close(srv->spare_fd);
			fd = accept(l->fd, NULL, NULL);
			if (fd >= 0)
				close(fd);
			srv->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return;   /* nobody was waiting after all */
			srv->log("%s connection refused: out of file descriptors",
				 kind_names[l->listens]);
			continue;
		}
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				srv->log("accept on the %s port: %s",
					 kind_names[l->listens], strerror(errno));
			return;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->in = malloc(IN_SIZE);
		if (!c || !c->in) {
			srv->log("%s connection refused: out of memory",
				 kind_names[l->listens]);
			if (c)
				free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->kind = l->listens;
		relay_out_init(&c->out);
		conn_peer(fd, c->peer, sizeof(c->peer));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (c->kind == LIVE)
			c->viewer = relay_viewer_new(srv->core);
		else
			c->producer = relay_producer_new(srv->core, c->kind == DATA,
							 c->peer);
		if ((!c->viewer && !c->producer) || watch(srv, c, EPOLLIN, EPOLL_CTL_ADD)) {
			srv->log("%s connection from %s refused: out of resources",
				 kind_names[c->kind], c->peer);
			relay_producer_free(c->producer);
			relay_viewer_free(c->viewer);
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->next = srv->conns;
		if (c->next)
			c->next->prev = c;
		srv->conns = c;
	}
}

static size_t header_size(const struct conn *c)
{
	switch (c->kind) {
	case CONTROL:
		return SONDE_RELAY_HEADER_SIZE;
	case DATA:
		return SONDE_RELAY_DATA_HEADER_SIZE;
	default:
		return SONDE_LIVE_HEADER_SIZE;
	}
}

static int expect_payload(struct conn *c, enum conn_state state, size_t len,
			  struct sonde_error *err)
{
	if (len > CONTROL_PAYLOAD_MAX)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "%s: payload of %zu bytes (at most %u)",
				       sonde_relay_cmd_name(c->cmd), len,
				       CONTROL_PAYLOAD_MAX);
	free(c->payload);
	c->payload = len ? malloc(len) : NULL;
	if (len && !c->payload)
		return sonde_error_set(err, SONDE_ENOMEM, "payload: out of memory");
	c->payload_len = len;
	c->payload_have = 0;
	c->state = state;
	return 0;
}

/* A header is whole in `hdr`: decides what follows. */
static int on_header(struct conn *c, const uint8_t *hdr, struct sonde_error *err)
{
	struct sonde_relay_header h;
	struct sonde_relay_data_header d;
	long size;

	switch (c->kind) {
	case CONTROL:
		if (sonde_relay_header_decode(hdr, SONDE_RELAY_HEADER_SIZE, &h, err))
			return -1;
		c->cmd = h.cmd;
		if (h.cmd != SONDE_RELAY_SEND_METADATA)
			return expect_payload(c, WANT_PAYLOAD, h.data_size, err);
		if (h.data_size < SONDE_RELAY_METADATA_FIXED_SIZE)
			return sonde_error_set(err, SONDE_EFORMAT,
					       "send-metadata: %" PRIu64 "-byte payload",
					       h.data_size);
		c->stream_left = h.data_size - SONDE_RELAY_METADATA_FIXED_SIZE;
		return expect_payload(c, WANT_METADATA_FIXED,
				      SONDE_RELAY_METADATA_FIXED_SIZE, err);
	case DATA:
		if (sonde_relay_data_header_decode(hdr, SONDE_RELAY_DATA_HEADER_SIZE,
						   &d, err) ||
		    relay_data_begin(c->producer, &d, err))
			return -1;
		c->stream_left = d.data_size;
		c->state = STREAMING;
		return 0;
	default:
		if (sonde_live_header_decode(hdr, SONDE_LIVE_HEADER_SIZE, &c->cmd, err)) {
			uint8_t *p = relay_out_reserve(&c->out, 4);

			/* lttng-relayd's answer to an unknown command. */
			if (p && err->status == SONDE_EUNSUPPORTED) {
				sonde_live_status_encode(SONDE_LIVE_ERR_UNKNOWN_COMMAND, p);
				c->out.len += 4;
			}
			return -1;
		}
		size = sonde_live_payload_size(c->cmd);
		return expect_payload(c, WANT_PAYLOAD, (size_t)size, err);
	}
}

/* A payload is whole: runs the command. */
static int on_payload(struct conn *c, struct sonde_error *err)
{
	struct sonde_relay_request req;

	c->state = WANT_HEADER;
	if (c->kind == LIVE)
		return relay_viewer_command(c->viewer, c->cmd, c->payload,
					    c->payload_len, &c->out, err);
	if (c->cmd != SONDE_RELAY_SEND_METADATA)
		return relay_control_command(c->producer, c->cmd, c->payload,
					     c->payload_len, &c->out, err);
	if (sonde_relay_request_decode(0, c->cmd, c->payload, c->payload_len,
				       &req, err) ||
	    relay_metadata_begin(c->producer, req.u.metadata.stream_id,
				 req.u.metadata.padding_size, c->stream_left, err))
		return -1;
	c->state = STREAMING;
	return 0;
}

/* Consumes what `in` holds; stops at a reply to send.  Returns < 0 to
 * close the connection. */
static int process(struct conn *c, struct sonde_error *err)
{
	size_t pos = 0;
	int ret = 0;

	while (!ret && relay_out_empty(&c->out) && pos < c->in_len) {
		size_t avail = c->in_len - pos, n;

		switch (c->state) {
		case WANT_HEADER:
			if (avail < header_size(c))
				goto done;
			pos += header_size(c);
			ret = on_header(c, c->in + pos - header_size(c), err);
			if (!ret && c->state != STREAMING && c->payload_len == 0)
				ret = on_payload(c, err);
			break;
		case WANT_PAYLOAD:
		case WANT_METADATA_FIXED:
			n = c->payload_len - c->payload_have;
			if (n > avail)
				n = avail;
			memcpy(c->payload + c->payload_have, c->in + pos, n);
			c->payload_have += n;
			pos += n;
			if (c->payload_have == c->payload_len)
				ret = on_payload(c, err);
			break;
		case STREAMING:
			n = c->stream_left < avail ? (size_t)c->stream_left : avail;
			ret = relay_payload_write(c->producer, c->in + pos, n, err);
			pos += n;
			c->stream_left -= n;
			break;
		}
		/* A stream whose bytes all arrived ends here, even if empty. */
		if (!ret && c->state == STREAMING && c->stream_left == 0) {
			ret = relay_payload_end(c->producer, err);
			c->state = WANT_HEADER;
		}
	}
done:
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return ret;
}

/* Sends what it can of the reply; returns < 0 on a dead peer. */
static int flush_out(struct relay_server *srv, struct conn *c)
{
	struct relay_out *o = &c->out;

	while (o->off < o->len) {
		ssize_t n = send(c->fd, o->buf + o->off, o->len - o->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			goto wait;
		if (n <= 0)
			return -1;
		o->off += (size_t)n;
	}
	while (o->file_len) {
		ssize_t n = sendfile(c->fd, o->file_fd, &o->file_off, o->file_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			goto wait;
		if (n <= 0) {
			srv->log("%s connection %s: sending a file: %s",
				 kind_names[c->kind], c->peer,
				 n ? strerror(errno) : "file shorter than announced");
			return -1;
		}
		o->file_len -= (size_t)n;
	}
	relay_out_reset(o);
	if (c->watching_out) {
		c->watching_out = false;
		watch(srv, c, EPOLLIN, EPOLL_CTL_MOD);
	}
	return 0;
wait:
	if (!c->watching_out) {
		c->watching_out = true;
		watch(srv, c, EPOLLOUT, EPOLL_CTL_MOD);
	}
	return 0;
}

static void close_conn(struct relay_server *srv, struct conn *c, const char *why)
{
	if (why)
		srv->log("%s connection %s closed: %s", kind_names[c->kind],
			 c->peer, why);
	conn_free(srv, c);
}

/* Serves one connection for one wakeup. */
static void serve(struct relay_server *srv, struct conn *c, uint32_t events)
{
	struct sonde_error err = { 0 };
	size_t budget = READ_BUDGET;

	if (!relay_out_empty(&c->out) || (events & EPOLLOUT)) {
		if (flush_out(srv, c)) {
			close_conn(srv, c, c->closing ? NULL : "peer gone");
			return;
		}
		if (!relay_out_empty(&c->out))
			return;
		if (c->closing) {
			close_conn(srv, c, NULL);
			return;
		}
	}
	/* Input already buffered is served before reading more. */
	while (budget) {
		size_t room = IN_SIZE - c->in_len;
		ssize_t n = 0;

		if (room) {
			n = recv(c->fd, c->in + c->in_len, room, 0);
			if (n == 0) {
				close_conn(srv, c, c->in_len || c->state != WANT_HEADER ?
					   "peer gone mid-message" : NULL);
				return;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				close_conn(srv, c, strerror(errno));
				return;
			}
			if (n > 0)
				c->in_len += (size_t)n;
		}
		if (process(c, &err)) {
			c->closing = true;
			srv->log("%s connection %s: %s", kind_names[c->kind],
				 c->peer, err.msg);
		}
		if (!relay_out_empty(&c->out)) {
			if (flush_out(srv, c) || (c->closing && relay_out_empty(&c->out))) {
				close_conn(srv, c, NULL);
				return;
			}
			if (!relay_out_empty(&c->out))
				return;   /* the rest when the peer reads */
		} else if (c->closing) {
			close_conn(srv, c, NULL);
			return;
		}
		/* A short read emptied the socket: no need to ask again. */
		if (n <= 0 || (size_t)n < room)
			return;
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
	}
}

/*
 * Here rather than in relay_server_new(): a signalfd created before the
 * daemon forks would not wake the child's epoll (its wait queue is the
 * parent's).
 */
static int watch_signals(struct relay_server *srv, struct sonde_error *err)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (srv->signals.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return sonde_error_set(err, SONDE_EIO, "signalfd: %s", strerror(errno));
	srv->signals.kind = SIGNALS;
	if (watch(srv, &srv->signals, EPOLLIN, EPOLL_CTL_ADD))
		return sonde_error_set(err, SONDE_EIO, "epoll: %s", strerror(errno));
	return 0;
}

int relay_server_run(struct relay_server *srv, struct sonde_error *err)
{
	struct epoll_event events[MAX_EVENTS];

	if (srv->signals.fd < 0 && watch_signals(srv, err))
		return -1;

	srv->log("listening: control port %d, data port %d, live port %d, output %s",
		 srv->ports[0], srv->ports[1], srv->ports[2],
		 srv->output_dir);
	for (;;) {
		int n = epoll_wait(srv->epfd, events, MAX_EVENTS, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sonde_error_set(err, SONDE_EIO, "epoll_wait: %s",
					       strerror(errno));
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;

			if (c->kind == SIGNALS) {
				srv->log("signal received, exiting");
				return 0;
			}
			if (c->kind == LISTENER)
				accept_all(srv, c);
			else
				serve(srv, c, events[i].events);
		}
	}
}
