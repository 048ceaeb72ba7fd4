/*
 * The LTTng live viewer protocol (relay port 5344), both directions:
 * viewer commands and relay replies (../shared/docs/protocols.md §2).
 *
 * Strict request/response.  A command is a 16-byte header (u64 data_size,
 * u32 cmd, u32 cmd_version) and a payload whose size is fixed by `cmd`;
 * replies have no header, the viewer knows their layout from the command
 * it sent, and some are followed by a variable part whose length the
 * fixed part gives.  Every integer is big-endian; strings are fixed-size
 * NUL-padded fields (forced to end with a NUL when decoded).
 *
 * This is a codec only, with no I/O: encoders fill caller buffers of the
 * sizes below; decoders take the bytes read so far and check every size,
 * status code, flag-independent invariant and count against the limits
 * here, so a hostile peer gets a one-line error instead of a desynchronised
 * stream or an allocation it chose.
 */
#ifndef SONDE_LIVE_LIVE_PROTO_H
#define SONDE_LIVE_LIVE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

#define SONDE_LIVE_PORT 5344
#define SONDE_LIVE_MAJOR 2
/* What our viewer announces: every relay since 2.4 serves these layouts. */
#define SONDE_LIVE_VIEWER_MINOR 4
/* From this minor on, session list entries carry variable-length names. */
#define SONDE_LIVE_MINOR_NAMES 15

/* Wire sizes, in bytes. */
#define SONDE_LIVE_HEADER_SIZE 16
#define SONDE_LIVE_CONNECT_SIZE 20          /* CONNECT request and reply */
#define SONDE_LIVE_ATTACH_SIZE 20           /* ATTACH_SESSION request */
#define SONDE_LIVE_ID_SIZE 8                /* requests holding one id */
#define SONDE_LIVE_GET_PACKET_SIZE 20       /* GET_PACKET request */
#define SONDE_LIVE_REQUEST_MAX (SONDE_LIVE_HEADER_SIZE + 20)
#define SONDE_LIVE_STATUS_SIZE 4            /* CREATE_SESSION, DETACH replies */
#define SONDE_LIVE_COUNT_SIZE 4             /* LIST_SESSIONS reply */
#define SONDE_LIVE_SESSION_2_4_SIZE 339     /* one session entry, minor < 15 */
#define SONDE_LIVE_SESSION_2_15_SIZE 32     /* fixed part, minor >= 15 */
#define SONDE_LIVE_STREAMS_SIZE 8           /* ATTACH, GET_NEW_STREAMS replies */
#define SONDE_LIVE_STREAM_SIZE 4371         /* one stream record */
#define SONDE_LIVE_INDEX_SIZE 64            /* GET_NEXT_INDEX reply */
#define SONDE_LIVE_PACKET_SIZE 12           /* GET_PACKET reply, before data */
#define SONDE_LIVE_METADATA_SIZE 12         /* GET_METADATA reply, before data */

#define SONDE_LIVE_HOSTNAME_FIELD 64
#define SONDE_LIVE_SESSION_NAME_FIELD 255
#define SONDE_LIVE_PATH_FIELD 4096
#define SONDE_LIVE_CHANNEL_FIELD 255

/* Limits on what a peer may announce. */
#define SONDE_LIVE_SESSIONS_MAX 65536u      /* entries in one list */
#define SONDE_LIVE_STREAMS_MAX 65536u       /* records in one reply */
#define SONDE_LIVE_NAME_MAX 255u            /* 2.15 hostname / session name */
#define SONDE_LIVE_PACKET_MAX (256u << 20)  /* one GET_PACKET reply, bytes */
#define SONDE_LIVE_METADATA_MAX (64u << 20) /* one GET_METADATA reply, bytes */

/* LTTNG_ERR_UNK: the 4-byte reply of a relay to an unknown command. */
#define SONDE_LIVE_ERR_UNKNOWN_COMMAND 11

/* Numbers are part of the wire format. */
enum sonde_live_cmd {
	SONDE_LIVE_CMD_CONNECT = 1,
	SONDE_LIVE_CMD_LIST_SESSIONS = 2,
	SONDE_LIVE_CMD_ATTACH_SESSION = 3,
	SONDE_LIVE_CMD_GET_NEXT_INDEX = 4,
	SONDE_LIVE_CMD_GET_PACKET = 5,
	SONDE_LIVE_CMD_GET_METADATA = 6,
	SONDE_LIVE_CMD_GET_NEW_STREAMS = 7,
	SONDE_LIVE_CMD_CREATE_SESSION = 8,
	SONDE_LIVE_CMD_DETACH_SESSION = 9,
};

enum sonde_live_connection_type {
	SONDE_LIVE_CLIENT_COMMAND = 1,
	SONDE_LIVE_CLIENT_NOTIFICATION = 2,
};

enum sonde_live_seek {
	SONDE_LIVE_SEEK_BEGINNING = 1,
	SONDE_LIVE_SEEK_LAST = 2,
};

enum sonde_live_create_status {
	SONDE_LIVE_CREATE_OK = 1,
	SONDE_LIVE_CREATE_ERR = 2,
};

enum sonde_live_attach_status {
	SONDE_LIVE_ATTACH_OK = 1,
	SONDE_LIVE_ATTACH_ALREADY = 2,
	SONDE_LIVE_ATTACH_UNK = 3,
	SONDE_LIVE_ATTACH_NOT_LIVE = 4,
	SONDE_LIVE_ATTACH_SEEK_ERR = 5,
	SONDE_LIVE_ATTACH_NO_SESSION = 6,
};

enum sonde_live_new_streams_status {
	SONDE_LIVE_NEW_STREAMS_OK = 1,
	SONDE_LIVE_NEW_STREAMS_NO_NEW = 2,
	SONDE_LIVE_NEW_STREAMS_ERR = 3,
	SONDE_LIVE_NEW_STREAMS_HUP = 4,
};

enum sonde_live_index_status {
	SONDE_LIVE_INDEX_OK = 1,
	SONDE_LIVE_INDEX_RETRY = 2,
	SONDE_LIVE_INDEX_HUP = 3,
	SONDE_LIVE_INDEX_ERR = 4,
	SONDE_LIVE_INDEX_INACTIVE = 5,
	SONDE_LIVE_INDEX_EOF = 6,
};

enum sonde_live_packet_status {
	SONDE_LIVE_PACKET_OK = 1,
	SONDE_LIVE_PACKET_RETRY = 2,
	SONDE_LIVE_PACKET_ERR = 3,
	SONDE_LIVE_PACKET_EOF = 4,
};

enum sonde_live_metadata_status {
	SONDE_LIVE_METADATA_OK = 1,
	SONDE_LIVE_METADATA_NO_NEW = 2,
	SONDE_LIVE_METADATA_ERR = 3,
};

enum sonde_live_detach_status {
	SONDE_LIVE_DETACH_OK = 1,
	SONDE_LIVE_DETACH_UNK = 2,
	SONDE_LIVE_DETACH_ERR = 3,
};

/* Reply flags of GET_NEXT_INDEX and GET_PACKET. */
enum {
	SONDE_LIVE_FLAG_NEW_METADATA = 1u << 0,
	SONDE_LIVE_FLAG_NEW_STREAM = 1u << 1,
};

/* Commands ----------------------------------------------------------------- */

struct sonde_live_connect {
	uint64_t viewer_session_id;
	uint32_t major, minor;
	uint32_t type;                  /* enum sonde_live_connection_type; 0 in replies */
};

struct sonde_live_request {
	uint32_t cmd;                   /* enum sonde_live_cmd */
	union {
		struct sonde_live_connect connect;
		struct {
			uint64_t session_id;
			uint64_t offset;        /* unused, 0 */
			uint32_t seek;          /* enum sonde_live_seek */
		} attach;
		/* GET_NEXT_INDEX, GET_METADATA: a viewer stream id;
		 * GET_NEW_STREAMS, DETACH_SESSION: a relay session id. */
		uint64_t id;
		struct {
			uint64_t stream_id;
			uint64_t offset;        /* bytes, in the stream's data file */
			uint32_t len;           /* bytes wanted */
		} get_packet;
	} u;
};

/* The payload size fixed by `cmd`, or -1 for an unknown command. */
long sonde_live_payload_size(uint32_t cmd);
const char *sonde_live_cmd_name(uint32_t cmd);

/* Header and payload in `buf` (SONDE_LIVE_REQUEST_MAX bytes), so that a
 * sender can write them with one send() (protocols.md §1: no Nagle stall).
 * Returns the byte count; `data_size` is filled correctly. */
size_t sonde_live_request_encode(const struct sonde_live_request *req,
				 uint8_t *buf);

/*
 * Relay side: the command of a 16-byte header.  `data_size` is ignored
 * (babeltrace 1.x sends it in host byte order): the payload size comes
 * from the command.  An unknown command is SONDE_EUNSUPPORTED, to be
 * answered with SONDE_LIVE_ERR_UNKNOWN_COMMAND.
 */
int sonde_live_header_decode(const uint8_t *buf, size_t len, uint32_t *cmd,
			     struct sonde_error *err);
/* Relay side: the payload of `cmd`, exactly sonde_live_payload_size(cmd)
 * bytes.  A CONNECT of an unknown connection type is rejected. */
int sonde_live_request_decode(uint32_t cmd, const uint8_t *payload, size_t len,
			      struct sonde_live_request *out,
			      struct sonde_error *err);

/* Replies ------------------------------------------------------------------ */

void sonde_live_connect_encode(const struct sonde_live_connect *c, uint8_t *buf);
/* The relay's CONNECT reply; its major is the caller's to compare. */
int sonde_live_connect_decode(const uint8_t *buf, size_t len,
			      struct sonde_live_connect *out,
			      struct sonde_error *err);

/* CREATE_SESSION and DETACH_SESSION replies: one u32 status. */
void sonde_live_status_encode(uint32_t status, uint8_t *buf);
int sonde_live_create_status_decode(const uint8_t *buf, size_t len,
				    uint32_t *status, struct sonde_error *err);
int sonde_live_detach_status_decode(const uint8_t *buf, size_t len,
				    uint32_t *status, struct sonde_error *err);

/* LIST_SESSIONS reply: a u32 count, then that many entries. */
void sonde_live_count_encode(uint32_t count, uint8_t *buf);
int sonde_live_count_decode(const uint8_t *buf, size_t len, uint32_t *count,
			    struct sonde_error *err);

struct sonde_live_session {
	uint64_t id;
	uint32_t live_timer;            /* us; 0: not a live session */
	uint32_t clients;
	uint32_t streams;
	uint32_t trace_format;          /* minor >= 15: 0 CTF 1.8, 1 CTF 2 */
	char hostname[SONDE_LIVE_NAME_MAX + 1];
	char session_name[SONDE_LIVE_NAME_MAX + 1];
};

/*
 * Bytes of one entry at the effective `minor`, knowing the `len` bytes of
 * it at `buf` read so far: at minor >= 15 the names' lengths are in the
 * fixed part, so the answer grows once it is read.  A reader loops until
 * it has what this asks for.
 */
size_t sonde_live_session_wire_size(uint32_t minor, const uint8_t *buf,
				    size_t len);
/* Encodes into `buf` (at least sonde_live_session_max_size(minor) bytes);
 * names longer than the 2.4 fields are truncated there.  Returns bytes. */
size_t sonde_live_session_encode(uint32_t minor,
				 const struct sonde_live_session *s,
				 uint8_t *buf);
size_t sonde_live_session_max_size(uint32_t minor);
int sonde_live_session_decode(uint32_t minor, const uint8_t *buf, size_t len,
			      struct sonde_live_session *out,
			      struct sonde_error *err);

/* ATTACH_SESSION and GET_NEW_STREAMS replies: status and stream count,
 * then that many stream records.  Only OK may announce streams. */
struct sonde_live_streams_reply {
	uint32_t status;
	uint32_t count;
};

void sonde_live_streams_reply_encode(const struct sonde_live_streams_reply *r,
				     uint8_t *buf);
int sonde_live_attach_reply_decode(const uint8_t *buf, size_t len,
				   struct sonde_live_streams_reply *out,
				   struct sonde_error *err);
int sonde_live_new_streams_reply_decode(const uint8_t *buf, size_t len,
					struct sonde_live_streams_reply *out,
					struct sonde_error *err);

struct sonde_live_stream {
	uint64_t id;                    /* viewer stream id */
	uint64_t ctf_trace_id;          /* streams of one trace share it */
	bool metadata;
	char path_name[SONDE_LIVE_PATH_FIELD];       /* e.g. "ust/uid/1000/64-bit" */
	char channel_name[SONDE_LIVE_CHANNEL_FIELD]; /* e.g. "channel0_0", "metadata" */
};

void sonde_live_stream_encode(const struct sonde_live_stream *s, uint8_t *buf);
int sonde_live_stream_decode(const uint8_t *buf, size_t len,
			     struct sonde_live_stream *out,
			     struct sonde_error *err);

/* GET_NEXT_INDEX reply. */
struct sonde_live_index {
	uint64_t offset;                /* bytes */
	uint64_t packet_size;           /* bits */
	uint64_t content_size;          /* bits */
	uint64_t timestamp_begin;
	uint64_t timestamp_end;         /* INACTIVE: the beacon's time */
	uint64_t events_discarded;
	uint64_t stream_id;             /* CTF stream class id */
	uint32_t status;                /* enum sonde_live_index_status */
	uint32_t flags;                 /* SONDE_LIVE_FLAG_* */
};

void sonde_live_index_encode(const struct sonde_live_index *x, uint8_t *buf);
/* An OK index must describe a packet of whole bytes, content within it, at
 * most SONDE_LIVE_PACKET_MAX bytes, that ends after it begins. */
int sonde_live_index_decode(const uint8_t *buf, size_t len,
			    struct sonde_live_index *out,
			    struct sonde_error *err);

/* GET_PACKET reply, followed by `len` bytes of packet when OK. */
struct sonde_live_packet_reply {
	uint32_t status;                /* enum sonde_live_packet_status */
	uint32_t len;
	uint32_t flags;
};

void sonde_live_packet_reply_encode(const struct sonde_live_packet_reply *r,
				    uint8_t *buf);
int sonde_live_packet_reply_decode(const uint8_t *buf, size_t len,
				   struct sonde_live_packet_reply *out,
				   struct sonde_error *err);

/* GET_METADATA reply, followed by `len` bytes of metadata. */
struct sonde_live_metadata_reply {
	uint64_t len;
	uint32_t status;                /* enum sonde_live_metadata_status */
};

void sonde_live_metadata_reply_encode(const struct sonde_live_metadata_reply *r,
				      uint8_t *buf);
int sonde_live_metadata_reply_decode(const uint8_t *buf, size_t len,
				     struct sonde_live_metadata_reply *out,
				     struct sonde_error *err);

#endif /* SONDE_LIVE_LIVE_PROTO_H */
