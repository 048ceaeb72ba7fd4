/*
 * The control protocol between the `sonde` CLI and sonde-sessiond.
 *
 * One request, one reply, over a Unix stream socket.  A message is a
 * 12-byte header followed by a payload of fields:
 *
 *   header:  u32 magic "SNDC" | u16 version | u16 type | u32 payload length
 *   field:   u16 tag | u32 length | value[length]
 *
 * all little-endian.  Every tag has one kind (string, u64, i64, bool or a
 * nested record of fields), known to both sides; the decoder rejects an
 * unknown tag, a length that does not fit the kind, a string holding a NUL,
 * a repeated tag that may not repeat, records nested too deep and payloads
 * over SONDE_CTL_PAYLOAD_MAX.  A peer speaking another version is refused
 * with a message naming both versions.
 *
 * Decoded strings are NUL-terminated copies owned by the message.
 */
#ifndef SONDE_SESSION_CTL_PROTO_H
#define SONDE_SESSION_CTL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "sonde/error.h"

#define SONDE_CTL_MAGIC 0x43444e53u        /* "SNDC" in file order */
#define SONDE_CTL_VERSION 1
#define SONDE_CTL_HEADER_SIZE 12
#define SONDE_CTL_PAYLOAD_MAX (4u << 20)   /* `list -k` replies are the big ones */
#define SONDE_CTL_STRING_MAX 4096
#define SONDE_CTL_DEPTH_MAX 4              /* message > session > channel > event */

/* Numbers are part of the wire format: append, never renumber. */
enum sonde_ctl_type {
	SONDE_CTL_REPLY = 1,
	SONDE_CTL_CREATE = 2,
	SONDE_CTL_DESTROY = 3,
	SONDE_CTL_ENABLE_CHANNEL = 4,
	SONDE_CTL_ENABLE_EVENT = 5,
	SONDE_CTL_DISABLE_EVENT = 6,
	SONDE_CTL_START = 7,
	SONDE_CTL_STOP = 8,
	SONDE_CTL_LIST_SESSIONS = 9,
	SONDE_CTL_SESSION_INFO = 10,
	SONDE_CTL_LIST_KERNEL_EVENTS = 11,
	SONDE_CTL_SNAPSHOT_RECORD = 12,
	SONDE_CTL_ADD_CONTEXT = 13,
	/* From traced programs (libsonde-ust), see src/ust/client.c. */
	SONDE_CTL_APP_HELLO = 14,  /* registration; reply: the recording state */
	SONDE_CTL_APP_POLL = 15,   /* has the recording state changed? */
	SONDE_CTL_APP_EVENT = 16,  /* an event to record: its description; reply: id */
	/* sonde track (ENABLED true) / untrack (false): TRACKER_RECs */
	SONDE_CTL_TRACK = 17,
	SONDE_CTL_TYPE_END = 18,
};

enum sonde_ctl_kind {
	SONDE_CTL_KIND_STR = 1,
	SONDE_CTL_KIND_U64,
	SONDE_CTL_KIND_I64,
	SONDE_CTL_KIND_BOOL,
	SONDE_CTL_KIND_RECORD,
};

enum sonde_ctl_tag {
	SONDE_CTL_T_STATUS = 1,         /* i64: 0 or a negative SONDE_E* code */
	SONDE_CTL_T_MESSAGE = 2,        /* str: the error, one line */
	SONDE_CTL_T_SESSION = 3,        /* str: session name */
	SONDE_CTL_T_OUTPUT = 4,         /* str: absolute directory */
	SONDE_CTL_T_SNAPSHOT = 5,       /* bool: snapshot session */
	SONDE_CTL_T_CHANNEL = 6,        /* str: channel name */
	SONDE_CTL_T_EVENT = 7,          /* str: event name or glob; repeats */
	SONDE_CTL_T_SYSCALL = 8,        /* bool: the events are syscalls */
	SONDE_CTL_T_ALL = 9,            /* bool: every event (of the kind) */
	SONDE_CTL_T_SUBBUF_SIZE = 10,   /* u64 bytes */
	SONDE_CTL_T_NUM_SUBBUF = 11,    /* u64 */
	SONDE_CTL_T_OVERWRITE = 12,     /* bool */
	SONDE_CTL_T_SWITCH_TIMER = 13,  /* u64 microseconds */
	SONDE_CTL_T_STATE = 14,         /* str: created, started, stopped */
	SONDE_CTL_T_CREATED = 15,       /* u64: creation time, s since the epoch */
	SONDE_CTL_T_EVENTS_RECORDED = 16, /* u64 */
	SONDE_CTL_T_EVENTS_DISCARDED = 17, /* u64 */
	SONDE_CTL_T_PACKETS_LOST = 18,  /* u64 */
	SONDE_CTL_T_BYTES_WRITTEN = 19, /* u64 */
	SONDE_CTL_T_SNAPSHOT_NAME = 20, /* str */
	SONDE_CTL_T_PATH = 21,          /* str: where a snapshot was written */
	SONDE_CTL_T_ENABLED = 22,       /* bool */
	SONDE_CTL_T_SESSION_REC = 23,   /* record: one session; repeats */
	SONDE_CTL_T_CHANNEL_REC = 24,   /* record: one channel; repeats */
	SONDE_CTL_T_EVENT_REC = 25,     /* record: one enabled event; repeats */
	SONDE_CTL_T_NAME = 26,          /* str: an available kernel event; repeats */
	SONDE_CTL_T_SWITCHES_REPAIRED = 27, /* u64: sched_switch the kernel omitted */
	SONDE_CTL_T_BACKEND = 28,       /* str: kernel backend asked (auto, ftrace,
					   ebpf) or, in replies, in use */
	SONDE_CTL_T_BACKEND_WHY = 29,   /* str: why eBPF is not in use */
	SONDE_CTL_T_RELAY = 30,         /* str: relay host the session streams to */
	SONDE_CTL_T_CONTROL_PORT = 31,  /* u64: the relay's control port */
	SONDE_CTL_T_DATA_PORT = 32,     /* u64: the relay's data port */
	SONDE_CTL_T_LIVE_TIMER = 33,    /* u64 microseconds; 0: not live */
	SONDE_CTL_T_USERSPACE = 34,     /* bool: user-space (UST) events/contexts */
	SONDE_CTL_T_LOGLEVEL = 35,      /* i64: a log level */
	SONDE_CTL_T_LOGLEVEL_MATCH = 36, /* u64: enum sonde_ust_loglevel_match */
	SONDE_CTL_T_CONTEXT = 37,       /* str: a context name; repeats */
	SONDE_CTL_T_PID = 38,           /* u64 */
	SONDE_CTL_T_UID = 39,           /* u64 */
	SONDE_CTL_T_PROCNAME = 40,      /* str */
	SONDE_CTL_T_GENERATION = 41,    /* u64: version of an app's recording state */
	SONDE_CTL_T_SHM_PATH = 42,      /* str: the ring buffers an app writes */
	SONDE_CTL_T_ENABLER_REC = 43,   /* record: EVENT pattern + log level; repeats */
	SONDE_CTL_T_FIELD_REC = 44,     /* record: one event field; repeats */
	SONDE_CTL_T_KIND = 45,          /* u64: enum sonde_ctfw_field_kind */
	SONDE_CTL_T_INT_TYPE = 46,      /* u64: size | signed << 8 | base << 16 |
					   order << 24 | encoding << 32 */
	SONDE_CTL_T_LENGTH_TYPE = 47,   /* u64: same, of a sequence's length */
	SONDE_CTL_T_COUNT = 48,         /* u64: array length */
	SONDE_CTL_T_FLOAT_BITS = 49,    /* u64 */
	SONDE_CTL_T_ENUM_REC = 50,      /* record: LABEL, LO, HI; repeats */
	SONDE_CTL_T_LABEL = 51,         /* str */
	SONDE_CTL_T_LO = 52,            /* i64 */
	SONDE_CTL_T_HI = 53,            /* i64 */
	SONDE_CTL_T_ID = 54,            /* u64: an event class id */
	SONDE_CTL_T_BUFFERS_PID = 55,   /* bool: per-process user-space buffers */
	SONDE_CTL_T_FILTER = 56,        /* str: a filter expression (enable-event -u) */
	SONDE_CTL_T_FILTER_CODE = 57,   /* str: its bytecode in hex (src/ust/filter.h) */
	SONDE_CTL_T_TRACKER_REC = 58,   /* record: TRACKER, ALL, VALUEs; repeats */
	SONDE_CTL_T_TRACKER = 59,       /* str: pid, uid, gid, process-name, cgroup */
	SONDE_CTL_T_VALUE = 60,         /* str: a tracked value; repeats */
	SONDE_CTL_TAG_END = 61,
};

struct sonde_ctl_rec;

struct sonde_ctl_field {
	uint16_t tag;
	uint8_t kind;
	union {
		const char *str;
		uint64_t u64;
		int64_t i64;
		bool b;
		const struct sonde_ctl_rec *rec;
	} v;
};

struct sonde_ctl_rec {
	size_t count;
	const struct sonde_ctl_field *fields;
};

struct sonde_ctl_msg {
	uint16_t type;
	struct sonde_ctl_rec root;
	struct sonde_arena arena;   /* owns fields and strings */
};

/* What a tag holds; 0 for an unknown tag. */
enum sonde_ctl_kind sonde_ctl_tag_kind(unsigned int tag);
const char *sonde_ctl_type_name(unsigned int type);

/* Checks a 12-byte header; on success gives the type and payload length. */
int sonde_ctl_header_parse(const uint8_t *hdr, size_t len, uint16_t *type,
			   uint32_t *payload_len, struct sonde_error *err);

/* Decodes one whole message (header and payload, exactly `len` bytes). */
int sonde_ctl_decode(const uint8_t *buf, size_t len, struct sonde_ctl_msg **out,
		     struct sonde_error *err);
void sonde_ctl_msg_free(struct sonde_ctl_msg *msg);

/* Lookups: the first field with `tag` in `rec` (not nested ones). */
const char *sonde_ctl_get_str(const struct sonde_ctl_rec *rec, unsigned int tag);
bool sonde_ctl_get_u64(const struct sonde_ctl_rec *rec, unsigned int tag,
		       uint64_t *out);
bool sonde_ctl_get_i64(const struct sonde_ctl_rec *rec, unsigned int tag,
		       int64_t *out);
bool sonde_ctl_get_bool(const struct sonde_ctl_rec *rec, unsigned int tag,
			bool dflt);

/*
 * Encoder.  Calls after a failure are no-ops; sonde_ctl_writer_finish()
 * reports the first failure.  Records nest with rec_begin/rec_end.
 */
struct sonde_ctl_writer {
	uint8_t *buf;
	size_t len, cap;
	size_t open[SONDE_CTL_DEPTH_MAX]; /* offsets of open record lengths */
	int depth;
	int status;
};

void sonde_ctl_writer_init(struct sonde_ctl_writer *w, enum sonde_ctl_type type);
void sonde_ctl_put_str(struct sonde_ctl_writer *w, unsigned int tag, const char *s);
void sonde_ctl_put_u64(struct sonde_ctl_writer *w, unsigned int tag, uint64_t v);
void sonde_ctl_put_i64(struct sonde_ctl_writer *w, unsigned int tag, int64_t v);
void sonde_ctl_put_bool(struct sonde_ctl_writer *w, unsigned int tag, bool v);
void sonde_ctl_rec_begin(struct sonde_ctl_writer *w, unsigned int tag);
void sonde_ctl_rec_end(struct sonde_ctl_writer *w);
/* Closes the message; on success *buf (malloc'd, caller frees) holds it. */
int sonde_ctl_writer_finish(struct sonde_ctl_writer *w, uint8_t **buf,
			    size_t *len, struct sonde_error *err);
void sonde_ctl_writer_release(struct sonde_ctl_writer *w);

/* Blocking I/O for the CLI side: whole messages, EINTR retried. */
int sonde_ctl_write_all(int fd, const uint8_t *buf, size_t len,
			struct sonde_error *err);
int sonde_ctl_read_msg(int fd, struct sonde_ctl_msg **out,
		       struct sonde_error *err);

#endif /* SONDE_SESSION_CTL_PROTO_H */
