/*
 * libsonde-kernel internals: the pieces below the session API, each
 * testable alone on synthetic input.
 *
 *   format  parses tracefs `format` files (one event's binary layout)
 *   page    walks one ring-buffer sub-buffer read from trace_pipe_raw
 *   map     turns an ftrace event into an lttng-modules-shaped CTF event
 *   sink    builds CTF packets per CPU and hands them to a file or a ring
 */
#ifndef SONDE_KERNEL_INTERNAL_H
#define SONDE_KERNEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"
#include "sonde/ctf-writer.h"
#include "sonde/error.h"

/* ------------------------------------------------------------------------ */
/* format files                                                             */

enum kfmt_loc {
	KFMT_PLAIN = 0,	  /* the value is at offset, size bytes */
	KFMT_DATA_LOC,	  /* u32: offset (from payload start) | length << 16 */
	KFMT_REL_LOC,	  /* same, offset relative to the end of the field */
};

#define KFMT_NAME_MAX 64
#define KFMT_TYPE_MAX 64

struct kfmt_field {
	char name[KFMT_NAME_MAX];
	char type[KFMT_TYPE_MAX]; /* C type without the name or [N] */
	uint32_t offset, size;
	uint32_t array_len; /* [N]; 0 if not a fixed array */
	bool is_signed;
	bool is_pointer;
	bool is_char;	    /* char elements (text) */
	enum kfmt_loc loc;
};

struct kfmt_event {
	char system[KFMT_NAME_MAX];
	char name[KFMT_NAME_MAX];
	uint32_t id;
	uint32_t nr_fields; /* excluding common_* */
	uint32_t common_pid_offset;
	struct kfmt_field *fields;
};

/* Parses a `format` file's text; `system` names the subsystem (the format
 * file does not).  `what` prefixes errors (the file's path). */
int kfmt_parse(const char *text, size_t len, const char *system,
	       const char *what, struct kfmt_event *ev,
	       struct sonde_error *err);
void kfmt_event_release(struct kfmt_event *ev);
const struct kfmt_field *kfmt_find(const struct kfmt_event *ev,
				   const char *name);

/* ------------------------------------------------------------------------ */
/* ring-buffer pages                                                        */

#define KPAGE_HEADER_SIZE 16u
#define KPAGE_MISSED_EVENTS (1ull << 31)
#define KPAGE_MISSED_STORED (1ull << 30)
#define KPAGE_COMMIT_MASK ((1ull << 27) - 1)

struct kpage_iter {
	const uint8_t *page;
	uint32_t commit; /* bytes of event data after the header */
	uint32_t off;	 /* next record, relative to the data start */
	uint64_t ts;
	bool missed;	       /* events were lost before this page */
	int64_t missed_count; /* -1 unknown */
};

struct kpage_event {
	uint64_t ts;
	const uint8_t *payload;
	uint32_t len;
};

/* Validates the page header of `len` bytes read from trace_pipe_raw. */
int kpage_iter_init(struct kpage_iter *it, const uint8_t *page, size_t len,
		    struct sonde_error *err);
/* 1: *ev is the next event; 0: end of page; <0: malformed record. */
int kpage_iter_next(struct kpage_iter *it, struct kpage_event *ev,
		    struct sonde_error *err);

/* ------------------------------------------------------------------------ */
/* event mapping                                                            */

struct kmap_event; /* one ftrace event compiled to a CTF event class */

/* Compiles the conversion of `ev` (an ftrace event) into an lttng-modules
 * event: name and fields (table for the events LTTng knows, typed syscall
 * events as syscall_entry_ / syscall_exit_, everything else passed through
 * with its ftrace name and fields). */
int kmap_compile(const struct kfmt_event *ev, struct kmap_event **out,
		 struct sonde_error *err);
void kmap_free(struct kmap_event *m);
const char *kmap_name(const struct kmap_event *m);
/* Renames (the ftrace name collided with another system's event). */
int kmap_rename(struct kmap_event *m, const char *name);
const struct sonde_ctfw_field *kmap_fields(const struct kmap_event *m,
					   size_t *count);
/* Upper bound of the encoding of a `len`-byte ftrace payload. */
size_t kmap_payload_max(const struct kmap_event *m, uint32_t len);
/* true for syscall entry/exit events (dropped for our own threads). */
bool kmap_is_syscall(const struct kmap_event *m);
/* The lttng-modules name for an ftrace event "system:event" (without
 * compiling it): writes it into out; used by list_events and globs. */
void kmap_lttng_name(const char *system, const char *event, char *out,
		     size_t size);

/* Makes field `i` a CTF string (a syscall's user-string argument, which
 * only the eBPF backend reads). */
void kmap_set_string(struct kmap_event *m, size_t i);

/* Serializes one payload at the cursor (after the event header). */
void kmap_encode(const struct kmap_event *m, const uint8_t *payload,
		 uint32_t len, struct sonde_ctfw_cursor *c);

/* ------------------------------------------------------------------------ */
/* sched_switch repair (switch-repair.c)                                    */

/* Knows the sched_switch layout and, shared by every consumer, the comm and
 * priority each thread last had in a switch. */
struct kswitch_repair;

int kswitch_repair_create(const struct kfmt_event *sched_switch,
			  const char *tracefs, struct kswitch_repair **out,
			  struct sonde_error *err);
void kswitch_repair_free(struct kswitch_repair *r);
/* Learns from one sched_switch record; returns next_pid (-1: too short). */
int32_t kswitch_repair_learn(struct kswitch_repair *r, const uint8_t *rec,
			     uint32_t len);
/* Writes into `rec` the sched_switch record the kernel omitted: `prev`
 * (0: the idle task of `cpu`) switching to `next`.  Returns its size, 0 if
 * `size` is too small. */
uint32_t kswitch_repair_build(struct kswitch_repair *r, unsigned int cpu,
			      int32_t prev, int32_t next, uint8_t *rec,
			      uint32_t size);

/* ------------------------------------------------------------------------ */
/* packet building                                                          */

struct ksink;

/* Where finished packets go: a stream file (+ index) or a memory ring. */
struct ksink_packet {
	uint8_t *data;
	size_t size; /* packet_size */
	struct sonde_ctfw_packet_info info;
};

struct ksink_opts {
	const uint8_t *uuid;
	enum sonde_ctf_byte_order bo;
	enum sonde_ctfw_header_type header;
	uint32_t cpu;
	uint32_t instance_base; /* stream_instance_id and the hook's stream
				   number = base + cpu */
	size_t packet_size;
	/* file mode: the stream and index files (owned by the sink) */
	int stream_fd, index_fd;
	/* ring mode (stream_fd < 0): packets kept at most */
	size_t ring_packets;
	/* file mode: each packet written is also handed to this (or NULL) */
	const struct sonde_kernel_output_hook *hook;
};

int ksink_create(const struct ksink_opts *o, struct ksink **out,
		 struct sonde_error *err);
/* Closes the current packet (if any event); a stream that never had one
 * gets an empty packet.  The sink stays usable (a restart); ksink_free
 * closes the files. */
int ksink_close(struct ksink *k, uint64_t ts_end, struct sonde_error *err);
void ksink_free(struct ksink *k);
/* Starts an event of `payload_max` bytes at most; returns the cursor. */
struct sonde_ctfw_cursor *ksink_event_begin(struct ksink *k, uint32_t id,
					    uint64_t ts, size_t payload_max,
					    struct sonde_error *err);
int ksink_event_commit(struct ksink *k, struct sonde_error *err);
/* begin + copy + commit of an event whose payload is already in the
 * trace's layout (the eBPF records); one that cannot be written (larger
 * than a packet, a packet that cannot be delivered) is counted discarded. */
int ksink_put_encoded(struct ksink *k, uint32_t id, uint64_t ts,
		      const void *payload, size_t len);

/*
 * A run of such events written by the caller straight into the open
 * packet, with no call and no cursor per event: the eBPF consumer's copy
 * loop, where ksink_event_begin() and _commit() were most of the cost.
 * The run is a value (kept in registers): ksink_run_begin() returns an
 * empty one when no packet is open or the trace or host is not
 * little-endian, and ksink_run_put() fails when the event does not fit or
 * its time goes back.  Either way ksink_put_encoded() takes the event (it opens and
 * switches packets and keeps time monotonic) after ksink_run_end(), and a
 * new run begins.  ksink_run_end() accounts for the run's events.
 */
struct ksink_run {
	uint8_t *pos, *end; /* NULL: no run */
	uint64_t last_ts, events;
	uint32_t max_compact_id;
	bool large; /* SONDE_CTFW_HEADER_LARGE */
};

struct ksink_run ksink_run_begin(struct ksink *k);
void ksink_run_end(struct ksink *k, struct ksink_run run);

/* `payload` must be readable up to `len` rounded up to 8 bytes: it is
 * copied in 8-byte words where the packet has room for them (the bytes
 * past `len` are overwritten by the next event or cleared when the packet
 * closes). */
static inline bool ksink_run_put(struct ksink_run *run, uint32_t id,
				 uint64_t ts, const void *payload, size_t len)
{
	uint8_t *p = run->pos;
	const uint8_t *src = (const uint8_t *)payload;
	uint64_t w;
	uint32_t v32;
	uint16_t v16;
	size_t i;

	/* the room ksink_event_begin() asks for: packets end where they
	 * would have */
	if (ts < run->last_ts ||
	    (size_t)(run->end - p) < SONDE_CTFW_EVENT_HEADER_MAX + len)
		return false;
	/* sonde_ctfw_put_event_header(), little-endian */
	if (id > run->max_compact_id || ((ts - run->last_ts) >> 27) != 0) {
		if (run->large) {
			v16 = 65535u;
			memcpy(p, &v16, 2);
			p += 2;
		} else {
			*p++ = 31u;
		}
		memcpy(p, &id, 4);
		memcpy(p + 4, &ts, 8);
		p += 12;
	} else if (run->large) {
		v16 = (uint16_t)id;
		v32 = (uint32_t)ts;
		memcpy(p, &v16, 2);
		memcpy(p + 2, &v32, 4);
		p += 6;
	} else {
		v32 = ((uint32_t)ts & 0x7FFFFFFu) << 5 | id;
		memcpy(p, &v32, 4);
		p += 4;
	}
	if ((size_t)(run->end - p) >= len + 7) {
		for (i = 0; i < len; i += 8) {
			memcpy(&w, src + i, 8);
			memcpy(p + i, &w, 8);
		}
	} else {
		memcpy(p, src, len);
	}
	run->pos = p + len;
	run->last_ts = ts;
	run->events++;
	return true;
}

/* Closes the current packet now (switch timer, snapshot). */
int ksink_flush(struct ksink *k, uint64_t ts, struct sonde_error *err);
void ksink_discard(struct ksink *k, uint64_t n);
void ksink_lose_packets(struct ksink *k, uint64_t n, uint64_t ts);
uint64_t ksink_last_ts(const struct ksink *k);
/* Packets delivered so far. */
uint64_t ksink_packets(const struct ksink *k);

struct ksink_stats {
	uint64_t events, packets, bytes, discarded, packets_lost;
};
void ksink_get_stats(const struct ksink *k, struct ksink_stats *st);

/* Ring mode: writes the kept packets to `fd` and their index to `index_fd`
 * (may be -1).  Holds no lock: the caller serializes with the producer. */
int ksink_ring_write(const struct ksink *k, int fd, int index_fd,
		     struct sonde_error *err);

/* ------------------------------------------------------------------------ */
/* statedump                                                                */

struct kstatedump_class {
	const char *name;
	const struct sonde_ctfw_field *fields;
	size_t count;
};

/* The lttng_statedump_* event classes, in the order they are declared. */
const struct kstatedump_class *kstatedump_classes(size_t *count);

/* One field value: integers in `i`, strings and text arrays in `s`. */
struct kstatedump_value {
	int64_t i;
	const char *s;
};

/* Called for each statedump event in order (`cls` indexes the classes). */
typedef int (*kstatedump_emit_fn)(void *arg, size_t cls,
				  const struct kstatedump_value *v);

/* Reads /proc and /sys and emits lttng_statedump_start, the state events
 * and lttng_statedump_end. */
int kstatedump_run(kstatedump_emit_fn emit, void *arg,
		   struct sonde_error *err);
/* Largest encoding of an event of class `cls` with these values. */
size_t kstatedump_size(size_t cls, const struct kstatedump_value *v);
void kstatedump_encode(size_t cls, const struct kstatedump_value *v,
		       struct sonde_ctfw_cursor *c);
/* What the statedump takes from a /proc stat line. */
struct kstatedump_stat {
	char comm[17];
	char state;
	int ppid;
	unsigned long flags;
	int threads;
	int cpu;
};

/* Parses a /proc/PID/stat or /proc/PID/task/TID/stat line (`buf`, a
 * string); -1 when it is malformed or cut before the state.  Fields the
 * line is cut before are 0. */
int kstatedump_parse_stat(char *buf, struct kstatedump_stat *st);

#endif /* SONDE_KERNEL_INTERNAL_H */
