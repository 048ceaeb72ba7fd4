/*
 * The eBPF fast path of libsonde-kernel, as session.c sees it: programs on
 * the raw syscall and sched_switch tracepoints that write the payloads of
 * the session's CTF events into per-CPU BPF ring buffers, and one consumer
 * thread that turns them into packets of their own streams (ebpf_N) in the
 * session's trace.  The events keep the classes session.c declares (the
 * ftrace format files compiled by map.c), except that syscall string
 * arguments become strings.  See docs/internals/ebpf.md.
 */
#ifndef SONDE_KERNEL_KBPF_H
#define SONDE_KERNEL_KBPF_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/kernel-internal.h"
#include "kernel/kernel.h"

struct kbpf;

struct kbpf_config {
	uint64_t ring_bytes; /* per CPU; rounded up to a power of two */
	uint32_t own_tgid;   /* never recorded (syscalls) */
};

/* Loads and verifies the programs.  Fails with a one-line reason (not
 * built, not root, no BTF, refused by the verifier) for `sonde status`. */
int kbpf_create(const struct kbpf_config *cfg, struct kbpf **out,
		struct sonde_error *err);
void kbpf_free(struct kbpf *b);

/* Whether eBPF can record this ftrace event (system, event). */
bool kbpf_handles(const struct kbpf *b, const char *system, const char *event);

/* Before `m` (compiled from `fmt`) is declared: the user-string arguments
 * of a syscall entry become CTF strings, as lttng-modules records them. */
void kbpf_prepare(const struct kbpf *b, const struct kfmt_event *fmt,
		  struct kmap_event *m);

/* Records the event from now on (or from start), with the CTF id found
 * at *ctf_id when tracing starts; `on` false stops recording it. */
int kbpf_enable(struct kbpf *b, const char *system, const char *event,
		const struct kmap_event *m, const uint32_t *ctf_id, bool on,
		struct sonde_error *err);

/* sonde_kernel_track() for the events the programs record: the set's map
 * and its bit of track_on, updated so that no event in both the old and
 * the new set is lost. */
int kbpf_track(struct kbpf *b, enum sonde_kernel_tracker attr, bool all,
	       const uint64_t *ids, const char *const *names, size_t n,
	       struct sonde_error *err);

struct kbpf_output {
	const char *dir; /* the trace's kernel/ directory */
	const uint8_t *uuid;
	enum sonde_ctf_byte_order bo;
	enum sonde_ctfw_header_type header;
	size_t packet_size;
	uint32_t instance_base; /* stream_instance_id = base + CPU */
	uint64_t switch_timer_us;
	/* live copies: packets and idle beacons of stream base + CPU */
	const struct sonde_kernel_output_hook *hook;
};

/* Creates the streams (first start), attaches, starts the consumer. */
int kbpf_start(struct kbpf *b, const struct kbpf_output *o,
	       struct sonde_error *err);
/* Detaches, drains every ring and closes the packets at `end`. */
int kbpf_stop(struct kbpf *b, uint64_t end, struct sonde_error *err);
/* Adds this backend's counts to `st`. */
void kbpf_add_stats(const struct kbpf *b, struct sonde_kernel_stats *st);

struct kbpf_buf;

/* Copies the records between `buf`'s tail and head (`ring_bytes`, a power
 * of two) into `sink` and advances the tail; malformed records and the
 * programs' losses since *lost_seen become discarded events.  Returns the
 * bytes consumed. */
uint64_t kbpf_consume(struct kbpf_buf *buf, uint64_t ring_bytes,
		      struct ksink *sink, uint64_t *lost_seen);

#endif /* SONDE_KERNEL_KBPF_H */
