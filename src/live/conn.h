/*
 * A TCP connection to a relay daemon with blocking semantics and a
 * timeout: shared by the live viewer (live-client.c) and the producer
 * (producer.c).  A peer silent for the whole timeout, or that closes, is
 * an error naming it ("relay HOST:PORT ...").
 */
#ifndef SONDE_LIVE_CONN_H
#define SONDE_LIVE_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

struct relay_conn {
	int fd;
	char name[300];          /* "HOST:PORT", for messages */
	int timeout_ms;
};

int relay_conn_open(struct relay_conn *c, const char *host, uint16_t port,
	      int timeout_ms, struct sonde_error *err);
void relay_conn_close(struct relay_conn *c);
int relay_conn_send(struct relay_conn *c, const void *buf, size_t len,
	      struct sonde_error *err);
int relay_conn_recv(struct relay_conn *c, void *dst, size_t len,
	      struct sonde_error *err);

#endif /* SONDE_LIVE_CONN_H */
