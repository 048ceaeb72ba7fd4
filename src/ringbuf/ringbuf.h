/*
 * libsonde-ringbuf: per-CPU ring buffers of CTF packets in shared memory.
 *
 * One buffer set ("channel") is one file (in /dev/shm or a memfd) holding
 * a header page, then per CPU a control block and N sub-buffers.  A
 * sub-buffer is one CTF packet: the writer that opens it writes the LTTng
 * packet header and context, events follow, and the writer that closes it
 * (the first event that does not fit, or a flush) patches the end fields.
 * The consumer writes complete sub-buffers to disk as they are.
 *
 * Writers (any thread, any process mapping the file, signal handlers):
 * lock-free reserve / commit.  The per-CPU write position and the last
 * timestamp are updated together by one 16-byte compare-and-swap, so
 * timestamps never go backwards within a buffer and the event header form
 * (compact or extended) is chosen against the exact previous timestamp.
 * Per sub-buffer commit counters count committed bytes cumulatively over
 * the buffer's laps: sub-buffer i of lap g is complete when its counter
 * reaches (g + 1) * subbuf_size.  The writer that completes a sub-buffer
 * bumps a futex word and wakes the consumer only if it sleeps: no system
 * call on the fast path.
 *
 * Modes: discard (a full buffer drops new events, counted and reported in
 * the packet context's events_discarded) and overwrite (flight recorder:
 * the oldest sub-buffer is reused; the consumer copies a sub-buffer and
 * checks afterwards that no writer reached it, so it never delivers
 * half-overwritten data; lost packets show as packet_seq_num gaps).
 *
 * The consumer never trusts the shared memory: geometry is validated once
 * when mapping and kept privately; packet fields read from shared memory
 * are checked and the fields it knows (magic, uuid, ids, sizes, sequence
 * number) are rewritten before delivery.
 */
#ifndef SONDE_RINGBUF_H
#define SONDE_RINGBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ringbuf/clock.h"
#include "sonde/ctf-writer.h"
#include "sonde/error.h"

#define SONDE_RB_MAGIC 0x31425245444e4f53ull /* "SONDERB1" */
#define SONDE_RB_VERSION 1u
#define SONDE_RB_DEFAULT_SUBBUF_SIZE (512u * 1024u)
#define SONDE_RB_DEFAULT_NUM_SUBBUF 4u
#define SONDE_RB_MAX_SUBBUF_SIZE (256u * 1024u * 1024u)
#define SONDE_RB_MAX_NUM_SUBBUF 1024u
#define SONDE_RB_MAX_CPUS 4096u

enum sonde_rb_mode {
	SONDE_RB_DISCARD = 0,
	SONDE_RB_OVERWRITE = 1,
};

struct sonde_rb_config {
	uint32_t ncpu;	      /* 0: the configured CPUs */
	uint64_t subbuf_size; /* power of two >= 4096; 0: 512 KiB */
	uint32_t num_subbuf;  /* power of two >= 2; 0: 4 */
	enum sonde_rb_mode mode;
	const uint8_t *uuid; /* 16 bytes, the trace's; NULL: zeros */
	uint32_t stream_id;
	bool no_tsc; /* stamp with clock_gettime even if the TSC is usable */
};

/* Shared memory layout (all little details private to the library). */
struct sonde_rb_shm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t ncpu;
	uint64_t subbuf_size;
	uint32_t num_subbuf;
	uint32_t mode;
	uint32_t stream_id;
	uint32_t ctl_size;
	uint8_t uuid[16];
	uint64_t cpu_stride;
	uint64_t total_size;
	_Alignas(64) struct sonde_clock_shared clock;
	/* Set by the consumer when recording stops: probes give up (the
	 * same cache line as the clock, which they read anyway). */
	uint32_t writers_stop;
	/* Futex word, bumped whenever a sub-buffer becomes complete. */
	_Alignas(64) uint32_t wake_seq;
	uint32_t consumer_waiting;
};

struct sonde_rb_cpu_ctl {
	/* {write_offset, last_ts}, compared-and-swapped together. */
	_Alignas(64) uint64_t write_offset; /* virtual, never wraps */
	uint64_t last_ts;
	_Alignas(64) uint64_t consumed; /* virtual offset the consumer reads */
	_Alignas(64) uint64_t discarded; /* events, cumulative */
	_Alignas(64) uint64_t commit[]; /* per sub-buffer, cumulative bytes */
};

/* A mapped buffer set (writer or consumer side); process-local. */
struct sonde_rb {
	uint8_t *base;
	size_t map_size;
	struct sonde_rb_shm_header *hdr;
	uint32_t ncpu;
	uint32_t num_subbuf;
	uint64_t subbuf_size;
	uint64_t buf_mask; /* num_subbuf * subbuf_size - 1 */
	unsigned int subbuf_shift, lap_shift;
	uint64_t cpu_base, cpu_stride, ctl_size;
	enum sonde_rb_mode mode;
	uint32_t stream_id;
	uint8_t uuid[16];
	struct sonde_clock_calib calib; /* creator's */
};

/* The LTTng x86 event header type used by every sonde UST channel. */
#define SONDE_RB_HEADER SONDE_CTFW_HEADER_LARGE
#define SONDE_RB_PACKET_HEADER_SIZE SONDE_CTFW_PKT_HEADER_SIZE

/*
 * Creates the buffer set in a new file `path` (O_EXCL; NULL: an anonymous
 * memfd) and maps it.  *fd_out (may be NULL) receives the file descriptor
 * to pass to other processes; else it is closed.
 */
int sonde_rb_create(const char *path, const struct sonde_rb_config *cfg,
		    struct sonde_rb **out, int *fd_out,
		    struct sonde_error *err);
/* Maps an existing buffer set from a descriptor (validated: geometry,
 * sizes against the file size). */
int sonde_rb_map_fd(int fd, struct sonde_rb **out, struct sonde_error *err);
int sonde_rb_map_path(const char *path, struct sonde_rb **out,
		      struct sonde_error *err);
void sonde_rb_unmap(struct sonde_rb *rb);
/*
 * For buffers writers may still touch for a moment (a probe that loaded
 * the buffer just before tracing stopped): replaces the shared memory by
 * private zero pages, so the memory is released and a late writer writes
 * harmlessly; the handle stays allocated on purpose.
 */
void sonde_rb_retire(struct sonde_rb *rb);

static inline struct sonde_rb_cpu_ctl *sonde_rb_ctl(const struct sonde_rb *rb,
						    unsigned int cpu)
{
	return (struct sonde_rb_cpu_ctl *)(rb->base + rb->cpu_base +
					   (uint64_t)cpu * rb->cpu_stride);
}

static inline uint8_t *sonde_rb_data(const struct sonde_rb *rb,
				     unsigned int cpu)
{
	return (uint8_t *)sonde_rb_ctl(rb, cpu) + rb->ctl_size;
}

/* Writer side --------------------------------------------------------------*/

/* A reserved event: write the stream event context and payload at
 * `payload` (exactly the size reserved), then sonde_rb_commit(). */
struct sonde_rb_slot {
	uint8_t *payload;
	uint64_t *commit;  /* the sub-buffer's counter */
	uint64_t gen_end;  /* its value once the sub-buffer is complete */
	uint32_t size;	   /* bytes to commit */
	uint64_t ts;
};

struct sonde_rb_state {
	uint64_t offset;
	uint64_t last_ts;
} __attribute__((aligned(16)));

/* Compare-and-swap of {write_offset, last_ts}; on failure *expected gets
 * the current value. */
static inline bool sonde_rb_cas_state(struct sonde_rb_cpu_ctl *ctl,
				      struct sonde_rb_state *expected,
				      struct sonde_rb_state desired)
{
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && \
	!defined(SONDE_RB_PORTABLE_CAS)
	bool ok;

	__asm__ __volatile__("lock cmpxchg16b %1"
			     : "=@ccz"(ok), "+m"(ctl->write_offset),
			       "+a"(expected->offset), "+d"(expected->last_ts)
			     : "b"(desired.offset), "c"(desired.last_ts),
			       "m"(ctl->last_ts)
			     : "memory");
	return ok;
#else
	unsigned __int128 *p = (unsigned __int128 *)&ctl->write_offset;
	unsigned __int128 exp = (unsigned __int128)expected->last_ts << 64 |
				expected->offset;
	unsigned __int128 des = (unsigned __int128)desired.last_ts << 64 |
				desired.offset;
	bool ok = __atomic_compare_exchange_n(p, &exp, des, false,
					      __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED);

	expected->offset = (uint64_t)exp;
	expected->last_ts = (uint64_t)(exp >> 64);
	return ok;
#endif
}

static inline void sonde_rb_load_state(const struct sonde_rb_cpu_ctl *ctl,
				       struct sonde_rb_state *s)
{
	/* Two loads may tear; the compare-and-swap then fails and reloads. */
	s->offset = __atomic_load_n(&ctl->write_offset, __ATOMIC_RELAXED);
	s->last_ts = __atomic_load_n(&ctl->last_ts, __ATOMIC_RELAXED);
}

/*
 * Writes the event header (large form; `ext`: extended) at `p`, the event
 * reserved at virtual offset `at`, and describes the reservation
 * (`size`: bytes to commit, headers included).
 */
static inline void sonde_rb_fill_slot(struct sonde_rb *rb, unsigned int cpu,
				      uint8_t *p, uint64_t at, uint32_t event_id,
				      uint64_t ts, bool ext, uint32_t size,
				      struct sonde_rb_slot *slot)
{
	const unsigned int bo = SONDE_CTFW_HOST_ORDER;

	if (__builtin_expect(!ext, 1)) {
		sonde_ctfw_store_u16(p, (uint16_t)event_id, bo);
		sonde_ctfw_store_u32(p + 2, (uint32_t)ts, bo);
		slot->payload = p + 6;
	} else {
		sonde_ctfw_store_u16(p, 65535, bo);
		sonde_ctfw_store_u32(p + 2, event_id, bo);
		sonde_ctfw_store_u64(p + 6, ts, bo);
		slot->payload = p + 14;
	}
	slot->commit = &sonde_rb_ctl(rb, cpu)->commit[(at >> rb->subbuf_shift) &
						      (rb->num_subbuf - 1)];
	slot->gen_end = ((at >> rb->lap_shift) + 1) * rb->subbuf_size;
	slot->size = size;
	slot->ts = ts;
}

int sonde_rb_reserve_slow(struct sonde_rb *rb, unsigned int cpu,
			  uint32_t event_id, uint32_t payload_size,
			  struct sonde_rb_state cur, struct sonde_rb_slot *slot);

/*
 * Reserves an event of `payload_size` bytes (context + fields) on `cpu`'s
 * buffer and writes its event header.  Returns 0, or -1 if the event was
 * discarded (buffer full in discard mode, event larger than a packet):
 * it is then counted in the buffer's events_discarded.
 */
static inline int sonde_rb_reserve(struct sonde_rb *rb, unsigned int cpu,
				   uint32_t event_id, uint32_t payload_size,
				   struct sonde_rb_slot *slot)
{
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	uint64_t mask = rb->subbuf_size - 1;
	struct sonde_rb_state cur, next;
	uint64_t ts, pos;
	uint32_t hsize;
	bool ext;

	sonde_rb_load_state(ctl, &cur);
	for (;;) {
		ts = sonde_clock_now(&rb->hdr->clock);
		if (__builtin_expect(ts < cur.last_ts, 0))
			ts = cur.last_ts;
		pos = cur.offset & mask;
		ext = sonde_ctfw_header_needs_extended(SONDE_RB_HEADER,
						       event_id, ts,
						       cur.last_ts);
		hsize = ext ? 14 : 6;
		if (__builtin_expect(pos == 0 || pos + hsize + payload_size >
							 rb->subbuf_size,
				     0))
			return sonde_rb_reserve_slow(rb, cpu, event_id,
						     payload_size, cur, slot);
		next.offset = cur.offset + hsize + payload_size;
		next.last_ts = ts;
		if (__builtin_expect(sonde_rb_cas_state(ctl, &cur, next), 1))
			break;
	}
	sonde_rb_fill_slot(rb, cpu, sonde_rb_data(rb, cpu) +
				    (cur.offset & rb->buf_mask),
			   cur.offset, event_id, ts, ext,
			   hsize + payload_size, slot);
	return 0;
}

void sonde_rb_wake_consumer(struct sonde_rb *rb);

static inline void sonde_rb_commit(struct sonde_rb *rb,
				   const struct sonde_rb_slot *slot)
{
	uint64_t old = __atomic_fetch_add(slot->commit, slot->size,
					  __ATOMIC_RELEASE);

	if (__builtin_expect(old + slot->size == slot->gen_end, 0))
		sonde_rb_wake_consumer(rb);
}

/* Events dropped so far on one CPU buffer (both modes). */
uint64_t sonde_rb_discarded(const struct sonde_rb *rb, unsigned int cpu);

/* Consumer side ------------------------------------------------------------*/

/*
 * Closes `cpu`'s open packet if it holds events (switch timer, live timer,
 * stop): the next event opens a new one.  Safe while writers run.
 * Returns 1 if a packet was closed, else 0.
 */
int sonde_rb_flush(struct sonde_rb *rb, unsigned int cpu);

/*
 * Writes a packet holding no event on `cpu` if no packet is open (a live
 * stream's first packet: lttng-relayd 2.13 ignores the beacons of a
 * stream that never sent data).  Returns 1 if written, else 0.
 */
int sonde_rb_empty_packet(struct sonde_rb *rb, unsigned int cpu);

/* The consumer's private read state. */
struct sonde_rb_reader;

struct sonde_rb_packet {
	const uint8_t *data;   /* packet_size bytes, header patched */
	uint64_t content_size; /* bytes */
	uint64_t packet_size;  /* bytes (content rounded up to a page) */
	uint64_t seq;
	uint64_t ts_begin, ts_end;
	uint64_t events_discarded; /* cumulative, never decreasing */
};

struct sonde_rb_reader_stats {
	uint64_t packets;	  /* delivered */
	uint64_t packets_lost;	  /* overwritten before being read */
	uint64_t packets_corrupt; /* malformed in shared memory, skipped */
};

int sonde_rb_reader_create(struct sonde_rb *rb, struct sonde_rb_reader **out,
			   struct sonde_error *err);
/*
 * A reader that leaves the packets to the writers (snapshots of overwrite
 * buffers nobody consumes): it reads from the oldest packet still intact
 * and sonde_rb_put() does not release anything, so a later snapshot reads
 * the same packets again if the writers have not reused them.
 */
int sonde_rb_reader_create_peek(struct sonde_rb *rb,
				struct sonde_rb_reader **out,
				struct sonde_error *err);
void sonde_rb_reader_free(struct sonde_rb_reader *r);

/*
 * The next complete packet of `cpu`: 1 and *pkt filled (valid until
 * sonde_rb_put), or 0 if none is ready.  Malformed packets are skipped
 * and counted.
 */
int sonde_rb_get(struct sonde_rb_reader *r, unsigned int cpu,
		 struct sonde_rb_packet *pkt);
/* Gives the packet back to the writers. */
void sonde_rb_put(struct sonde_rb_reader *r, unsigned int cpu);

/*
 * For a buffer whose writers are gone (killed): closes the open packet and
 * counts its reserved-but-never-committed tail as not written, so the
 * events committed before it become readable.  Exact when at most one
 * writer was inside the buffer when it died (one thread per CPU).
 */
void sonde_rb_salvage(struct sonde_rb_reader *r, unsigned int cpu);

void sonde_rb_reader_stats(const struct sonde_rb_reader *r, unsigned int cpu,
			   struct sonde_rb_reader_stats *st);

/*
 * A live beacon's time for `cpu`: when every byte written to its buffer
 * has been read (no open packet, none pending), moves the buffer's last
 * timestamp to now and returns it; else 0.  Every event recorded later on
 * that CPU is at or after the returned time: a writer that read the clock
 * before loses its compare-and-swap and reads the clock again.
 */
uint64_t sonde_rb_reader_idle(struct sonde_rb_reader *r, unsigned int cpu);

/*
 * Waits until a sub-buffer completes or `timeout_ns` passes (the read
 * timer).  `*seq` is the wake-up counter last seen (start with 0).
 */
void sonde_rb_wait(struct sonde_rb *rb, uint32_t *seq, uint64_t timeout_ns);

/* Re-calibrates the clock mapping (the buffers' creator, ~1/s). */
int64_t sonde_rb_clock_update(struct sonde_rb *rb);

#endif
