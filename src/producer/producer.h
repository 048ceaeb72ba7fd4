/*
 * The producer side of LTTng's relayd protocol (protocols.md §3): streams
 * one trace (a domain: `kernel`, `ust/uid/0/64-bit`...) of a tracing
 * session to a relay daemon, lttng-relayd or sonde-relayd, as an
 * lttng-consumerd does: a control connection for commands, metadata and
 * packet indexes, a data connection for the packets.
 *
 * Sequence: open (VERSION, GET_CONFIGURATION, CREATE_SESSION with the 2.11
 * layout, CREATE_TRACE_CHUNK 0), add the streams and publish them, then
 * metadata before the packets that need it, packets (data, then index),
 * live beacons for idle streams; close waits until the relay has every
 * packet (data pending) and closes the streams, so a live viewer gets HUP
 * once it has read everything.
 *
 * A snapshot producer (opts.snapshot) writes one snapshot, as
 * lttng-consumerd does to a network snapshot output: the relay session is
 * a snapshot one, the snapshot is a trace chunk with a name of its own
 * (sonde_producer_snapshot_chunk(), before the streams), which the relay
 * makes a directory of the session's; packets go without index entries
 * (snapshots have none) and close closes the streams, then the chunk.
 *
 * Not thread-safe: one thread talks to one producer (callers lock).
 */
#ifndef SONDE_PRODUCER_PRODUCER_H
#define SONDE_PRODUCER_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

struct sonde_producer_opts {
	const char *relay;              /* host name or address */
	uint16_t control_port;          /* 0: 5342 */
	uint16_t data_port;             /* 0: 5343 */
	const char *session_name;
	const char *hostname;           /* NULL: gethostname() */
	uint32_t live_timer_us;         /* 0: not a live session */
	uint64_t creation_time;         /* s since the Epoch; 0: now */
	int io_timeout_ms;              /* 0: 10 s */
	bool snapshot;                  /* one snapshot, see above */
};

/* One packet as its index entry describes it. */
struct sonde_producer_packet {
	uint64_t packet_size;           /* bits, whole bytes */
	uint64_t content_size;          /* bits */
	uint64_t timestamp_begin, timestamp_end;
	uint64_t events_discarded;
	uint64_t stream_class_id;
	uint64_t stream_instance_id;
	uint64_t packet_seq_num;
};

struct sonde_producer;

int sonde_producer_open(const struct sonde_producer_opts *opts,
			struct sonde_producer **out, struct sonde_error *err);

/* A snapshot producer's trace chunk, `name` its directory on the relay
 * (NAME-YYYYMMDD-HHMMSS-N); once, before the first stream. */
int sonde_producer_snapshot_chunk(struct sonde_producer *p, uint64_t chunk_id,
				  const char *name, struct sonde_error *err);

/* The directory (relative to the session's, e.g. "kernel") and file name
 * ("channel0_0", or "metadata" for the metadata stream) of a stream. */
int sonde_producer_add_stream(struct sonde_producer *p, const char *pathname,
			      const char *channel, uint64_t *handle,
			      struct sonde_error *err);
/* Shows the streams added so far to live viewers. */
int sonde_producer_streams_sent(struct sonde_producer *p,
				struct sonde_error *err);

/* Appends whole metadata packets (or plain TSDL) to the metadata stream. */
int sonde_producer_send_metadata(struct sonde_producer *p, uint64_t handle,
				 const uint8_t *bytes, size_t len,
				 struct sonde_error *err);

/* `data` holds the whole packet (packet_size / 8 bytes); the padding after
 * the content is not sent, the relay writes it. */
int sonde_producer_send_packet(struct sonde_producer *p, uint64_t handle,
			       const uint8_t *data,
			       const struct sonde_producer_packet *pkt,
			       struct sonde_error *err);

/* A live beacon: the stream has no event up to `timestamp` (clock cycles),
 * which must not be before the end of its last packet sent. */
int sonde_producer_send_beacon(struct sonde_producer *p, uint64_t handle,
			       uint64_t timestamp, uint64_t stream_class_id,
			       struct sonde_error *err);

/* Closes one stream (its program exited): the relay ends it once it has
 * every packet sent, and live viewers then get HUP for it.  The handle
 * is no longer valid. */
int sonde_producer_close_stream(struct sonde_producer *p, uint64_t handle,
				struct sonde_error *err);

/* Waits until the relay has every packet, closes the streams and the
 * connections; the producer is then only good for sonde_producer_free(). */
int sonde_producer_close(struct sonde_producer *p, struct sonde_error *err);

/* Where the relay wrote the trace, relative to its output directory:
 * the session's directory, or after a snapshot producer's close, the
 * snapshot's. */
const char *sonde_producer_relay_path(const struct sonde_producer *p);

/* Closes the connections if still open (the relay sees a producer that
 * went away) and frees; NULL is accepted. */
void sonde_producer_free(struct sonde_producer *p);

#endif /* SONDE_PRODUCER_PRODUCER_H */
