/*
 * Relay connections: non-blocking sockets driven with poll(), so that
 * every wait is bounded by the connection's timeout.
 */
#include "live/conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int relay_conn_open(struct relay_conn *c, const char *host, uint16_t port,
	      int timeout_ms, struct sonde_error *err)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	char service[8];
	int gai, last_errno = ECONNREFUSED;

	c->fd = -1;
	c->timeout_ms = timeout_ms;
	snprintf(c->name, sizeof(c->name), strchr(host, ':') ?
		 "[%s]:%u" : "%s:%u", host, port);
	snprintf(service, sizeof(service), "%u", port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(host, service, &hints, &res);
	if (gai)
		return sonde_error_set(err, SONDE_EIO, "relay %s: %s", c->name,
				       gai_strerror(gai));
	for (ai = res; ai; ai = ai->ai_next) {
		struct pollfd pfd;
		socklen_t len = sizeof(last_errno);
		int fd = socket(ai->ai_family,
				ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1) {
			last_errno = ETIMEDOUT;
			close(fd);
			continue;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &last_errno, &len) ||
		    last_errno) {
			close(fd);
			continue;
		}
		c->fd = fd;
		break;
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return sonde_error_set(err, SONDE_EIO,
				       "cannot connect to relay %s: %s", c->name,
				       strerror(last_errno));
	/* Requests are small and answered at once: no Nagle delay. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	return 0;
}

void relay_conn_close(struct relay_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits for the socket; a relay silent for the whole timeout is an error. */
static int relay_conn_wait(struct relay_conn *c, short events,
		     struct sonde_error *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int r;

	do
		r = poll(&pfd, 1, c->timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return sonde_error_set(err, SONDE_EIO, "relay %s: poll: %s",
				       c->name, strerror(errno));
	if (!r)
		return sonde_error_set(err, SONDE_EIO,
				       "relay %s did not answer within %d ms",
				       c->name, c->timeout_ms);
	return 0;
}

int relay_conn_send(struct relay_conn *c, const void *src, size_t len,
	      struct sonde_error *err)
{
	const uint8_t *buf = src;

	while (len) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			int ret = relay_conn_wait(c, POLLOUT, err);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sonde_error_set(err, SONDE_EIO,
					       "relay %s: send: %s", c->name,
					       strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int relay_conn_recv(struct relay_conn *c, void *dst, size_t len,
	      struct sonde_error *err)
{
	uint8_t *buf = dst;

	while (len) {
		ssize_t n = recv(c->fd, buf, len, 0);

		if (n < 0 && errno == EAGAIN) {
			int ret = relay_conn_wait(c, POLLIN, err);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sonde_error_set(err, SONDE_EIO,
					       "relay %s: receive: %s", c->name,
					       strerror(errno));
		if (!n)
			return sonde_error_set(err, SONDE_EIO,
					       "relay %s closed the connection",
					       c->name);
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}
