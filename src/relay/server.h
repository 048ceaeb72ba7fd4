/*
 * sonde-relayd's server: three listening sockets (control, data, live),
 * one epoll loop, non-blocking connections with bounded buffers, over the
 * relay core (relay.h).
 */
#ifndef SONDE_RELAY_SERVER_H
#define SONDE_RELAY_SERVER_H

#include <sys/socket.h>

#include "relay/relay.h"

#define SONDE_RELAY_LIVE_PORT 5344

struct relay_server;

struct relay_server_config {
	struct relay_config core;
	/* tcp://ADDR:PORT, tcp6://[ADDR]:PORT or NULL for the default
	 * (0.0.0.0:5342, 0.0.0.0:5343, localhost:5344).  Port 0: any. */
	const char *control_url, *data_url, *live_url;
};

/* Binds the sockets (so a caller that forks afterwards knows they are up). */
int relay_server_new(const struct relay_server_config *cfg,
		     struct relay_server **out, struct sonde_error *err);
/* The bound ports: control, data, live. */
void relay_server_ports(const struct relay_server *srv, int ports[3]);
/* Serves until SIGTERM or SIGINT (blocked and read through a signalfd). */
int relay_server_run(struct relay_server *srv, struct sonde_error *err);
void relay_server_free(struct relay_server *srv);

/* Parses a listening URL; `port` keeps its value when the URL has none. */
int relay_parse_url(const char *url, const char *default_host, int default_port,
		    struct sockaddr_storage *addr, socklen_t *len,
		    struct sonde_error *err);

#endif /* SONDE_RELAY_SERVER_H */
