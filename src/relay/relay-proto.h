/*
 * The LTTng relayd streaming protocol, producer to relay (ports 5342
 * control and 5343 data), both directions, as LTTng 2.1 .. 2.16 speak it
 * (../shared/docs/protocols.md §3).
 *
 * Control connection: each command is a 24-byte header (u64 circuit_id,
 * u64 data_size, u32 cmd, u32 cmd_version) followed by exactly data_size
 * payload bytes; the relay answers every command but SEND_METADATA with a
 * reply whose layout the command (and the negotiated minor) fixes.  Data
 * connection: a one-way run of 32-byte data headers, each followed by
 * data_size packet bytes.  Every integer is big-endian.  Payload layouts
 * depend on the minor version both ends agreed on (the smaller of the two
 * announced by VERSION); every function here takes that `minor`.
 *
 * This is a codec only, with no I/O: encoders fill caller buffers;
 * decoders check sizes, lengths, NUL terminations and counts against the
 * limits below and fail with a one-line SONDE_EFORMAT error, so a hostile
 * peer can neither desynchronise a reader nor make it allocate.  Whether a
 * name is safe to use as a file name is the relay's business, not the
 * codec's.
 */
#ifndef SONDE_RELAY_RELAY_PROTO_H
#define SONDE_RELAY_RELAY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sonde/error.h"

#define SONDE_RELAY_CONTROL_PORT 5342
#define SONDE_RELAY_DATA_PORT 5343
#define SONDE_RELAY_MAJOR 2
/* What our relay announces: producers then use the 2.11 layouts and trace
 * chunks, and never CTF 2 (which needs 15). */
#define SONDE_RELAY_MINOR 13

/* Minors from which layouts or features change. */
#define SONDE_RELAY_MINOR_SESSION_2_4 4   /* CREATE_SESSION has a payload */
#define SONDE_RELAY_MINOR_ADD_STREAM_2_2 2 /* ADD_STREAM tracefile fields */
#define SONDE_RELAY_MINOR_INDEX_1_1 8     /* SEND_INDEX: 80 B, index v1.1 */
#define SONDE_RELAY_MINOR_CHUNKS 11       /* 2.11 layouts, trace chunks */
#define SONDE_RELAY_MINOR_CONFIG 12       /* GET_CONFIGURATION */
#define SONDE_RELAY_MINOR_FORMAT 15       /* CREATE_SESSION trace_format */

/* Wire sizes, in bytes. */
#define SONDE_RELAY_HEADER_SIZE 24
#define SONDE_RELAY_DATA_HEADER_SIZE 32
#define SONDE_RELAY_METADATA_FIXED_SIZE 12  /* SEND_METADATA before its bytes */
#define SONDE_RELAY_ROTATE_POSITION_SIZE 16
/* Room for any request but the tails of SEND_METADATA and ROTATE_STREAMS,
 * header included, and for any reply. */
#define SONDE_RELAY_MESSAGE_MAX 8192

/* Limits.  Name lengths count the terminating NUL. */
#define SONDE_RELAY_PAYLOAD_MAX (128u << 20) /* lttng-relayd's default too */
#define SONDE_RELAY_SESSION_NAME_MAX 255
#define SONDE_RELAY_HOSTNAME_MAX 256
#define SONDE_RELAY_CHANNEL_NAME_MAX 264
#define SONDE_RELAY_PATH_MAX 4096
#define SONDE_RELAY_CHUNK_NAME_MAX 255
#define SONDE_RELAY_ROTATE_STREAMS_MAX 65536u

/* Numbers are part of the wire format. */
enum sonde_relay_cmd {
	SONDE_RELAY_ADD_STREAM = 1,
	SONDE_RELAY_CREATE_SESSION = 2,
	SONDE_RELAY_START_DATA = 3,
	SONDE_RELAY_UPDATE_SYNC_INFO = 4,   /* reserved, never implemented */
	SONDE_RELAY_VERSION = 5,
	SONDE_RELAY_SEND_METADATA = 6,
	SONDE_RELAY_CLOSE_STREAM = 7,
	SONDE_RELAY_DATA_PENDING = 8,
	SONDE_RELAY_QUIESCENT_CONTROL = 9,
	SONDE_RELAY_BEGIN_DATA_PENDING = 10,
	SONDE_RELAY_END_DATA_PENDING = 11,
	SONDE_RELAY_ADD_INDEX = 12,         /* reserved */
	SONDE_RELAY_SEND_INDEX = 13,
	SONDE_RELAY_CLOSE_INDEX = 14,       /* reserved */
	SONDE_RELAY_LIST_SESSIONS = 15,     /* reserved */
	SONDE_RELAY_STREAMS_SENT = 16,
	SONDE_RELAY_RESET_METADATA = 17,
	SONDE_RELAY_ROTATE_STREAMS = 18,
	SONDE_RELAY_CREATE_TRACE_CHUNK = 19,
	SONDE_RELAY_CLOSE_TRACE_CHUNK = 20,
	SONDE_RELAY_TRACE_CHUNK_EXISTS = 21,
	SONDE_RELAY_GET_CONFIGURATION = 22,
};

/* lttng_error_code values carried by replies. */
enum sonde_relay_ret {
	SONDE_RELAY_RET_OK = 10,
	SONDE_RELAY_RET_UNKNOWN = 11,
	SONDE_RELAY_RET_FATAL = 25,
	SONDE_RELAY_RET_NOMEM = 26,
	SONDE_RELAY_RET_INVALID = 97,
	SONDE_RELAY_RET_INVALID_PROTOCOL = 152,
	SONDE_RELAY_RET_FILE_CREATION = 153,
};

/* CLOSE_TRACE_CHUNK's close command. */
enum sonde_relay_chunk_close {
	SONDE_RELAY_CHUNK_MOVE_TO_COMPLETED = 0,
	SONDE_RELAY_CHUNK_NO_OPERATION = 1,
	SONDE_RELAY_CHUNK_DELETE = 2,
};

/* GET_CONFIGURATION reply flags. */
#define SONDE_RELAY_CONFIG_CLEAR_ALLOWED (1u << 0)

/* CREATE_SESSION trace_format (minor >= 15). */
#define SONDE_RELAY_FORMAT_CTF_1_8 1
#define SONDE_RELAY_FORMAT_CTF_2 2

const char *sonde_relay_cmd_name(uint32_t cmd);

/* Headers -------------------------------------------------------------------- */

struct sonde_relay_header {
	uint64_t circuit_id;            /* unused, 0 */
	uint64_t data_size;             /* payload bytes that follow */
	uint32_t cmd;                   /* enum sonde_relay_cmd */
	uint32_t cmd_version;           /* unused, 0 */
};

void sonde_relay_header_encode(const struct sonde_relay_header *h, uint8_t *buf);
/* A payload over SONDE_RELAY_PAYLOAD_MAX is refused; the command is not
 * checked (an unknown one is answered, not a framing error). */
int sonde_relay_header_decode(const uint8_t *buf, size_t len,
			      struct sonde_relay_header *out,
			      struct sonde_error *err);

struct sonde_relay_data_header {
	uint64_t circuit_id;            /* unused, 0 */
	uint64_t stream_id;             /* relay stream handle */
	uint64_t net_seq_num;           /* per stream: 0, 1, 2... */
	uint32_t data_size;             /* packet bytes that follow */
	uint32_t padding_size;          /* zero bytes the relay appends */
};

void sonde_relay_data_header_encode(const struct sonde_relay_data_header *h,
				    uint8_t *buf);
/* Refuses a packet whose content plus padding exceeds
 * SONDE_RELAY_PAYLOAD_MAX. */
int sonde_relay_data_header_decode(const uint8_t *buf, size_t len,
				   struct sonde_relay_data_header *out,
				   struct sonde_error *err);

/* Requests ------------------------------------------------------------------ */

struct sonde_relay_create_session {
	char session_name[SONDE_RELAY_SESSION_NAME_MAX];
	char hostname[SONDE_RELAY_HOSTNAME_MAX];
	char base_path[SONDE_RELAY_PATH_MAX]; /* minor >= 11; "" usually */
	uint32_t live_timer;            /* us; 0: not live (minor >= 4) */
	bool snapshot;
	/* The rest: minor >= 11. */
	bool name_contains_creation_time;
	uint8_t sessiond_uuid[16];      /* never all zero */
	uint64_t session_id;            /* the sessiond's id of the session */
	uint64_t creation_time;         /* s since the Epoch */
	bool has_current_chunk_id;
	uint64_t current_chunk_id;
	uint32_t trace_format;          /* minor >= 15; else CTF 1.8 */
};

struct sonde_relay_add_stream {
	char channel_name[SONDE_RELAY_CHANNEL_NAME_MAX]; /* file name */
	char pathname[SONDE_RELAY_PATH_MAX]; /* directory */
	uint64_t tracefile_size;        /* minor >= 2; 0: unlimited */
	uint64_t tracefile_count;       /* minor >= 2 */
	uint64_t trace_chunk_id;        /* minor >= 11 */
};

struct sonde_relay_index {
	uint64_t relay_stream_id;
	uint64_t net_seq_num;
	uint64_t packet_size;           /* bits; 0: a live beacon */
	uint64_t content_size;          /* bits */
	uint64_t timestamp_begin;
	uint64_t timestamp_end;         /* a beacon's: the clock now */
	uint64_t events_discarded;
	uint64_t stream_id;             /* CTF stream class id */
	uint64_t stream_instance_id;    /* minor >= 8 */
	uint64_t packet_seq_num;        /* minor >= 8 */
};

struct sonde_relay_request {
	uint32_t cmd;                   /* enum sonde_relay_cmd */
	union {
		struct sonde_relay_version {
			uint32_t major, minor;
		} version;
		struct sonde_relay_create_session create_session;
		struct sonde_relay_add_stream add_stream;
		/* SEND_METADATA: `len` metadata bytes follow the fixed
		 * part.  Decoded, `data` and `len` cover the bytes given
		 * after the fixed part (none when a relay that streams
		 * metadata to disk passes the fixed part alone); the encoder
		 * counts `len` in data_size but writes the fixed part only:
		 * the caller sends the bytes. */
		struct {
			uint64_t stream_id;
			uint32_t padding_size;
			const uint8_t *data;
			uint64_t len;
		} metadata;
		struct sonde_relay_index index;
		/* CLOSE_STREAM and DATA_PENDING. */
		struct {
			uint64_t stream_id;
			uint64_t last_net_seq_num; /* UINT64_MAX: none sent */
		} stream_seq;
		/* QUIESCENT_CONTROL: a stream handle; BEGIN/END_DATA_PENDING:
		 * a relay session id; TRACE_CHUNK_EXISTS: a chunk id;
		 * GET_CONFIGURATION: query flags (0). */
		uint64_t id;
		struct {
			uint64_t stream_id;
			uint64_t version;
		} reset_metadata;
		/* ROTATE_STREAMS: `count` positions of 16 bytes follow the
		 * header; decoded, `positions` points at them (read them with
		 * sonde_relay_rotate_position()); the encoder writes the
		 * packed 13-byte header only, the caller appends positions
		 * with sonde_relay_rotate_position_encode(). */
		struct {
			uint32_t count;
			bool has_new_chunk;
			uint64_t new_chunk_id;
			const uint8_t *positions;
		} rotate;
		struct {
			uint64_t chunk_id;
			uint64_t creation_time;  /* s since the Epoch */
			char override_name[SONDE_RELAY_CHUNK_NAME_MAX]; /* "": none */
		} create_chunk;
		struct {
			uint64_t chunk_id;
			uint64_t close_time;
			bool has_command;
			uint32_t command;        /* enum sonde_relay_chunk_close */
		} close_chunk;
	} u;
};

/*
 * Encodes header and payload into `buf` (SONDE_RELAY_MESSAGE_MAX bytes) at
 * the negotiated `minor`, so that they go out in one send(); returns the
 * byte count, or 0 if the command has no encoding at that minor or a name
 * does not fit its limit.  Only the commands lttng producers send have
 * one.
 */
size_t sonde_relay_request_encode(uint32_t minor,
				  const struct sonde_relay_request *req,
				  uint8_t *buf);

/*
 * Decodes the payload of `cmd` (`len` bytes, as framed by data_size) at
 * the negotiated `minor`.  Fixed-size payloads may carry extra bytes
 * (ignored, as lttng-relayd does); names must be NUL-terminated within
 * their announced lengths and within the limits above.  An unknown or
 * reserved command is SONDE_EUNSUPPORTED.
 */
int sonde_relay_request_decode(uint32_t minor, uint32_t cmd,
			       const uint8_t *payload, size_t len,
			       struct sonde_relay_request *out,
			       struct sonde_error *err);

void sonde_relay_rotate_position(const struct sonde_relay_request *rotate,
				 uint32_t i, uint64_t *stream_id,
				 uint64_t *rotate_at_seq_num);
void sonde_relay_rotate_position_encode(uint64_t stream_id,
					uint64_t rotate_at_seq_num,
					uint8_t *buf);

/* Replies ------------------------------------------------------------------- */

/*
 * One structure for every reply; the command decides which fields are on
 * the wire:
 *   generic (most commands)       ret_code
 *   VERSION                       major, minor
 *   CREATE_SESSION                id (relay session), ret_code, path (>= 11)
 *   ADD_STREAM                    id (stream handle), ret_code
 *   GET_CONFIGURATION             ret_code, flags
 *   CLOSE_TRACE_CHUNK             ret_code, path (only when OK)
 *   TRACE_CHUNK_EXISTS            ret_code, exists
 *   DATA_PENDING, END_DATA_PENDING ret_code is 1 (pending) or 0
 *   SEND_METADATA                 no reply
 */
struct sonde_relay_reply {
	uint32_t ret_code;              /* enum sonde_relay_ret */
	uint64_t id;
	uint32_t major, minor;
	uint64_t flags;
	bool exists;
	char path[SONDE_RELAY_PATH_MAX];
};

/* Bytes of the reply to `cmd`, knowing the `len` bytes of it read so far
 * (a path length is in the fixed part); 0 for SEND_METADATA.  A reader
 * loops until it has what this asks for. */
size_t sonde_relay_reply_wire_size(uint32_t minor, uint32_t cmd,
				   const uint8_t *buf, size_t len);
/* Into `buf` (SONDE_RELAY_MESSAGE_MAX bytes); returns the byte count (0
 * for SEND_METADATA or an unknown command: answer those with
 * sonde_relay_generic_encode()). */
size_t sonde_relay_reply_encode(uint32_t minor, uint32_t cmd,
				const struct sonde_relay_reply *r,
				uint8_t *buf);
/* The generic 4-byte reply. */
size_t sonde_relay_generic_encode(uint32_t ret_code, uint8_t *buf);
int sonde_relay_reply_decode(uint32_t minor, uint32_t cmd, const uint8_t *buf,
			     size_t len, struct sonde_relay_reply *out,
			     struct sonde_error *err);

#endif /* SONDE_RELAY_RELAY_PROTO_H */
