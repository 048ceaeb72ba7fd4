/*
 * The relay core of sonde-relayd: what producers stream in (relay
 * sessions, streams, metadata, packets and their indexes, written under an
 * output directory as lttng-relayd lays them out) and what live viewers
 * read back, each with its own position.  No sockets here: the server
 * (server.c) frames messages and calls these functions, which fill a
 * reply (struct relay_out) and never block on a peer.
 *
 * Ownership: the core owns sessions and streams; a session lives while
 * its producer connections or an attached viewer refer to it.  Producers
 * and viewers are per connection, owned by the server.
 */
#ifndef SONDE_RELAY_RELAY_H
#define SONDE_RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "relay/relay-proto.h"
#include "sonde/error.h"

struct relay_core;
struct relay_producer;
struct relay_viewer;
struct relay_stream;

/* A reply: bytes, then optionally `file_len` bytes of a file from
 * `file_off`, sent without copying them into memory. */
struct relay_out {
	uint8_t *buf;
	size_t len, off, cap;
	int file_fd;                    /* -1: none; owned (a dup) */
	off_t file_off;
	size_t file_len;
};

void relay_out_init(struct relay_out *o);
/* Room for `n` more bytes at o->buf + o->len, or NULL (out of memory). */
uint8_t *relay_out_reserve(struct relay_out *o, size_t n);
void relay_out_reset(struct relay_out *o);   /* drops content, keeps memory */
void relay_out_release(struct relay_out *o);
bool relay_out_empty(const struct relay_out *o);

/* Logs one line, prefixed like the daemon's other messages. */
typedef void (*relay_log_fn)(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

struct relay_config {
	const char *output_dir;         /* absolute; created if missing */
	relay_log_fn log;
	/* lttng-relayd's rule: one viewer per relay session (ATTACH_ALREADY
	 * for the next); ours allows any number unless this is set. */
	bool one_viewer_per_session;
};

int relay_core_new(const struct relay_config *cfg, struct relay_core **out,
		   struct sonde_error *err);
void relay_core_free(struct relay_core *core);

/* Producers ---------------------------------------------------------------- */

struct relay_producer *relay_producer_new(struct relay_core *core, bool data,
					  const char *peer);
/* The connection is gone: its session's streams stop at the last whole
 * packet, indexes half received are dropped, viewers get HUP once they
 * read the rest. */
void relay_producer_free(struct relay_producer *p);

/*
 * A control command other than SEND_METADATA, its payload whole.  Appends
 * the reply to `reply`.  Returns < 0 when the connection must close (after
 * the reply, if any, is sent): the reason is in `err`.
 */
int relay_control_command(struct relay_producer *p, uint32_t cmd,
			  const uint8_t *payload, size_t len,
			  struct relay_out *reply, struct sonde_error *err);

/*
 * SEND_METADATA and data packets arrive in pieces: begin with the fixed
 * part (metadata) or the data header, then write the `len` bytes as they
 * come, then end.  Only whole messages count: a viewer never sees part of
 * one.  Any failure closes the connection.
 */
int relay_metadata_begin(struct relay_producer *p, uint64_t stream_id,
			 uint32_t padding, uint64_t len, struct sonde_error *err);
int relay_data_begin(struct relay_producer *p,
		     const struct sonde_relay_data_header *h,
		     struct sonde_error *err);
int relay_payload_write(struct relay_producer *p, const uint8_t *bytes,
			size_t n, struct sonde_error *err);
int relay_payload_end(struct relay_producer *p, struct sonde_error *err);

/* Viewers ------------------------------------------------------------------ */

struct relay_viewer *relay_viewer_new(struct relay_core *core);
void relay_viewer_free(struct relay_viewer *v);
/*
 * One live command (header already decoded by the live codec, payload of
 * the size its command fixes).  Appends the reply.  Returns < 0 when the
 * connection must close (reason in `err`), after the reply if any.
 */
int relay_viewer_command(struct relay_viewer *v, uint32_t cmd,
			 const uint8_t *payload, size_t len,
			 struct relay_out *reply, struct sonde_error *err);

/* Names ------------------------------------------------------------------- */

/* A hostname, session or stream file name: one path component, not empty,
 * not starting with '.', no '/'. */
bool relay_name_ok(const char *name);
/* A relative directory under the output: components that are relay names
 * or dot-free words ("64-bit" passes, "..", "." and "" do not), no leading
 * '/', under SONDE_RELAY_PATH_MAX bytes. */
bool relay_path_ok(const char *path);

#endif /* SONDE_RELAY_RELAY_H */
