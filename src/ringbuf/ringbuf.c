/* Ring buffer set: creation, mapping, slow paths and the consumer side. */
#include "ringbuf/ringbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define PAGE 4096u

static uint64_t page_round(uint64_t n)
{
	return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static unsigned int log2u(uint64_t v)
{
	return (unsigned int)__builtin_ctzll(v);
}

static uint64_t ctl_size_for(uint32_t num_subbuf)
{
	return page_round(sizeof(struct sonde_rb_cpu_ctl) +
			  (uint64_t)num_subbuf * sizeof(uint64_t));
}

/* Derives the private geometry from header values, checking each. */
static int set_geometry(struct sonde_rb *rb, uint32_t ncpu,
			uint64_t subbuf_size, uint32_t num_subbuf,
			struct sonde_error *err)
{
	if (ncpu == 0 || ncpu > SONDE_RB_MAX_CPUS)
		return sonde_error_set(err, SONDE_EINVAL,
				       "ring buffer: %u CPUs out of range", ncpu);
	if (!is_pow2(subbuf_size) || subbuf_size < PAGE ||
	    subbuf_size > SONDE_RB_MAX_SUBBUF_SIZE)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"ring buffer: sub-buffer size %llu is not a power of two in [4096, 256 MiB]",
			(unsigned long long)subbuf_size);
	if (!is_pow2(num_subbuf) || num_subbuf < 2 ||
	    num_subbuf > SONDE_RB_MAX_NUM_SUBBUF)
		return sonde_error_set(
			err, SONDE_EINVAL,
			"ring buffer: %u sub-buffers is not a power of two in [2, 1024]",
			num_subbuf);
	rb->ncpu = ncpu;
	rb->subbuf_size = subbuf_size;
	rb->num_subbuf = num_subbuf;
	rb->subbuf_shift = log2u(subbuf_size);
	rb->lap_shift = rb->subbuf_shift + log2u(num_subbuf);
	rb->buf_mask = ((uint64_t)num_subbuf << rb->subbuf_shift) - 1;
	rb->ctl_size = ctl_size_for(num_subbuf);
	rb->cpu_base = page_round(sizeof(struct sonde_rb_shm_header));
	rb->cpu_stride = rb->ctl_size + rb->buf_mask + 1;
	if ((uint64_t)ncpu * rb->cpu_stride > (1ull << 40))
		return sonde_error_set(err, SONDE_EINVAL,
				       "ring buffer: %llu bytes is too large",
				       (unsigned long long)ncpu *
					       rb->cpu_stride);
	rb->map_size = rb->cpu_base + ncpu * rb->cpu_stride;
	return 0;
}

static int map_file(int fd, struct sonde_rb *rb, struct sonde_error *err)
{
	void *p = mmap(NULL, rb->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);

	if (p == MAP_FAILED)
		return sonde_error_set(err, SONDE_EIO,
				       "ring buffer: mmap of %zu bytes: %s",
				       rb->map_size, strerror(errno));
	rb->base = p;
	rb->hdr = p;
	return 0;
}

int sonde_rb_create(const char *path, const struct sonde_rb_config *cfg,
		    struct sonde_rb **out, int *fd_out,
		    struct sonde_error *err)
{
	struct sonde_rb *rb = calloc(1, sizeof(*rb));
	struct sonde_rb_shm_header *h;
	int fd = -1, ret;

	if (!rb)
		return sonde_error_set(err, SONDE_ENOMEM, "ring buffer: out of memory");
	ret = set_geometry(rb,
			   cfg->ncpu ? cfg->ncpu : (uint32_t)get_nprocs_conf(),
			   cfg->subbuf_size ? cfg->subbuf_size :
					      SONDE_RB_DEFAULT_SUBBUF_SIZE,
			   cfg->num_subbuf ? cfg->num_subbuf :
					     SONDE_RB_DEFAULT_NUM_SUBBUF,
			   err);
	if (ret)
		goto fail;
	if (path)
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	else
		fd = memfd_create("sonde-ringbuf", MFD_CLOEXEC);
	if (fd < 0) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: %s",
				      path ? path : "memfd", strerror(errno));
		goto fail;
	}
	if (ftruncate(fd, (off_t)rb->map_size) < 0) {
		ret = sonde_error_set(err, SONDE_EIO, "%s: %zu bytes: %s",
				      path ? path : "memfd", rb->map_size,
				      strerror(errno));
		goto fail_unlink;
	}
	ret = map_file(fd, rb, err);
	if (ret)
		goto fail_unlink;
	rb->mode = cfg->mode;
	rb->stream_id = cfg->stream_id;
	if (cfg->uuid)
		memcpy(rb->uuid, cfg->uuid, 16);
	h = rb->hdr;
	h->version = SONDE_RB_VERSION;
	h->ncpu = rb->ncpu;
	h->subbuf_size = rb->subbuf_size;
	h->num_subbuf = rb->num_subbuf;
	h->mode = rb->mode;
	h->stream_id = rb->stream_id;
	h->ctl_size = (uint32_t)rb->ctl_size;
	memcpy(h->uuid, rb->uuid, 16);
	h->cpu_stride = rb->cpu_stride;
	h->total_size = rb->map_size;
	sonde_clock_init(&h->clock, &rb->calib, !cfg->no_tsc, 10000000);
	/* Published last: a mapper that sees the magic sees the rest. */
	__atomic_store_n(&h->magic, SONDE_RB_MAGIC, __ATOMIC_RELEASE);
	if (fd_out)
		*fd_out = fd;
	else
		close(fd);
	*out = rb;
	return 0;

fail_unlink:
	if (path)
		unlink(path);
fail:
	if (fd >= 0)
		close(fd);
	free(rb);
	return ret;
}

int sonde_rb_map_fd(int fd, struct sonde_rb **out, struct sonde_error *err)
{
	struct sonde_rb_shm_header h;
	struct sonde_rb *rb;
	struct stat st;
	ssize_t n;
	int ret;

	if (fstat(fd, &st) < 0)
		return sonde_error_set(err, SONDE_EIO, "ring buffer: %s",
				       strerror(errno));
	n = pread(fd, &h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h) ||
	    __atomic_load_n(&h.magic, __ATOMIC_ACQUIRE) != SONDE_RB_MAGIC)
		return sonde_error_set(err, SONDE_EFORMAT,
				       "ring buffer: not a sonde ring buffer");
	if (h.version != SONDE_RB_VERSION)
		return sonde_error_set(err, SONDE_EUNSUPPORTED,
				       "ring buffer: version %u (want %u)",
				       h.version, SONDE_RB_VERSION);
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return sonde_error_set(err, SONDE_ENOMEM, "ring buffer: out of memory");
	ret = set_geometry(rb, h.ncpu, h.subbuf_size, h.num_subbuf, err);
	if (ret)
		goto fail;
	if (h.mode > SONDE_RB_OVERWRITE || h.ctl_size != rb->ctl_size ||
	    h.cpu_stride != rb->cpu_stride || h.total_size != rb->map_size ||
	    (uint64_t)st.st_size != rb->map_size) {
		ret = sonde_error_set(err, SONDE_EFORMAT,
				      "ring buffer: inconsistent geometry");
		goto fail;
	}
	rb->mode = h.mode;
	rb->stream_id = h.stream_id;
	memcpy(rb->uuid, h.uuid, 16);
	ret = map_file(fd, rb, err);
	if (ret)
		goto fail;
	*out = rb;
	return 0;
fail:
	free(rb);
	return ret;
}

int sonde_rb_map_path(const char *path, struct sonde_rb **out,
		      struct sonde_error *err)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return sonde_error_set(err, errno == ENOENT ? SONDE_ENOENT :
							     SONDE_EIO,
				       "%s: %s", path, strerror(errno));
	ret = sonde_rb_map_fd(fd, out, err);
	close(fd);
	if (ret)
		sonde_error_prefix(err, "%s", path);
	return ret;
}

void sonde_rb_unmap(struct sonde_rb *rb)
{
	if (!rb)
		return;
	munmap(rb->base, rb->map_size);
	free(rb);
}

void sonde_rb_retire(struct sonde_rb *rb)
{
	if (!rb)
		return;
	if (mmap(rb->base, rb->map_size, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
		return; /* keep the shared mapping: still harmless */
	rb->hdr = (struct sonde_rb_shm_header *)rb->base;
}

uint64_t sonde_rb_discarded(const struct sonde_rb *rb, unsigned int cpu)
{
	return __atomic_load_n(&sonde_rb_ctl(rb, cpu)->discarded,
			       __ATOMIC_RELAXED);
}

/* Writer slow paths ---------------------------------------------------------*/

static uint8_t *packet_at(const struct sonde_rb *rb, unsigned int cpu,
			  uint64_t offset)
{
	return sonde_rb_data(rb, cpu) + (offset & rb->buf_mask);
}

static uint64_t *commit_of(const struct sonde_rb *rb, unsigned int cpu,
			   uint64_t offset)
{
	return &sonde_rb_ctl(rb, cpu)
			->commit[(offset >> rb->subbuf_shift) &
				 (rb->num_subbuf - 1)];
}

static uint64_t gen_end_of(const struct sonde_rb *rb, uint64_t offset)
{
	return ((offset >> rb->lap_shift) + 1) * rb->subbuf_size;
}

static void commit_bytes(struct sonde_rb *rb, unsigned int cpu,
			 uint64_t offset, uint64_t n)
{
	uint64_t *c = commit_of(rb, cpu, offset);
	uint64_t old = __atomic_fetch_add(c, n, __ATOMIC_RELEASE);

	if (old + n == gen_end_of(rb, offset))
		sonde_rb_wake_consumer(rb);
}

/*
 * The opener writes only the fields the closer never touches, so the two
 * may run in either order (the opener can be preempted after its CAS).
 */
static void open_packet(struct sonde_rb *rb, unsigned int cpu,
			uint64_t offset, uint64_t ts)
{
	uint8_t *p = packet_at(rb, cpu, offset);
	const unsigned int bo = SONDE_CTFW_HOST_ORDER;

	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_MAGIC, SONDE_CTFW_PACKET_MAGIC,
			     bo);
	memcpy(p + SONDE_CTFW_PKT_UUID, rb->uuid, 16);
	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_STREAM_ID, rb->stream_id, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_STREAM_INSTANCE_ID, cpu, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_TIMESTAMP_BEGIN, ts, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_PACKET_SIZE,
			     rb->subbuf_size * 8, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_SEQ_NUM,
			     offset >> rb->subbuf_shift, bo);
	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_CPU_ID, cpu, bo);
}

/* Patches the end fields of the packet starting at `start`, holding
 * `content` bytes, then commits its padding. */
static void close_packet(struct sonde_rb *rb, unsigned int cpu,
			 uint64_t start, uint64_t content, uint64_t ts)
{
	uint8_t *p = packet_at(rb, cpu, start);
	const unsigned int bo = SONDE_CTFW_HOST_ORDER;

	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_TIMESTAMP_END, ts, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_CONTENT_SIZE, content * 8, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_EVENTS_DISCARDED,
			     sonde_rb_discarded(rb, cpu), bo);
	commit_bytes(rb, cpu, start, rb->subbuf_size - content);
}

static void discard_event(struct sonde_rb *rb, unsigned int cpu)
{
	__atomic_fetch_add(&sonde_rb_ctl(rb, cpu)->discarded, 1,
			   __ATOMIC_RELAXED);
}

/* Can a new packet start at virtual offset `at`? */
static bool slot_free(struct sonde_rb *rb, unsigned int cpu, uint64_t at)
{
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);

	if (rb->mode == SONDE_RB_DISCARD)
		return at - __atomic_load_n(&ctl->consumed, __ATOMIC_ACQUIRE) <
		       (uint64_t)rb->num_subbuf * rb->subbuf_size;
	/* Overwrite: only once the previous lap is completely committed,
	 * so that the cumulative commit counts stay exact. */
	return __atomic_load_n(commit_of(rb, cpu, at), __ATOMIC_ACQUIRE) ==
	       (at >> rb->lap_shift) * rb->subbuf_size;
}

int sonde_rb_reserve_slow(struct sonde_rb *rb, unsigned int cpu,
			  uint32_t event_id, uint32_t payload_size,
			  struct sonde_rb_state cur, struct sonde_rb_slot *slot)
{
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	uint64_t mask = rb->subbuf_size - 1;
	const uint64_t hdr = SONDE_RB_PACKET_HEADER_SIZE;

	for (;;) {
		uint64_t ts = sonde_clock_now(&rb->hdr->clock);
		uint64_t pos = cur.offset & mask, at, hsize;
		struct sonde_rb_state next;
		bool ext;
		uint8_t *p;

		if (ts < cur.last_ts)
			ts = cur.last_ts;
		if (pos) {
			ext = sonde_ctfw_header_needs_extended(
				SONDE_RB_HEADER, event_id, ts, cur.last_ts);
			hsize = ext ? 14 : 6;
			if (pos + hsize + payload_size <= rb->subbuf_size) {
				/* It fits after all (raced with a flush or
				 * another writer): the ordinary path. */
				next.offset = cur.offset + hsize + payload_size;
				next.last_ts = ts;
				if (!sonde_rb_cas_state(ctl, &cur, next))
					continue;
				p = packet_at(rb, cpu, cur.offset);
				at = cur.offset;
				goto write_header;
			}
			at = cur.offset - pos + rb->subbuf_size;
		} else {
			at = cur.offset;
		}
		/* A new packet: its first event is relative to
		 * timestamp_begin, which is this event's time. */
		ext = sonde_ctfw_header_needs_extended(SONDE_RB_HEADER,
						       event_id, ts, ts);
		hsize = ext ? 14 : 6;
		if (hdr + hsize + payload_size > rb->subbuf_size ||
		    !slot_free(rb, cpu, at)) {
			discard_event(rb, cpu);
			return -1;
		}
		next.offset = at + hdr + hsize + payload_size;
		next.last_ts = ts;
		if (!sonde_rb_cas_state(ctl, &cur, next))
			continue;
		if (pos)
			close_packet(rb, cpu, cur.offset - pos, pos, ts);
		open_packet(rb, cpu, at, ts);
		/* The packet header is committed with the event. */
		p = packet_at(rb, cpu, at) + hdr;
		payload_size += (uint32_t)hdr;
write_header:
		sonde_rb_fill_slot(rb, cpu, p, at, event_id, ts, ext,
				   (uint32_t)hsize + payload_size, slot);
		return 0;
	}
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *timeout)
{
	return syscall(SYS_futex, uaddr, op, val, timeout, NULL, 0);
}

void sonde_rb_wake_consumer(struct sonde_rb *rb)
{
	struct sonde_rb_shm_header *h = rb->hdr;

	__atomic_fetch_add(&h->wake_seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&h->consumer_waiting, __ATOMIC_SEQ_CST))
		futex(&h->wake_seq, FUTEX_WAKE, INT_MAX, NULL);
}

void sonde_rb_wait(struct sonde_rb *rb, uint32_t *seq, uint64_t timeout_ns)
{
	struct sonde_rb_shm_header *h = rb->hdr;
	struct timespec ts = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};

	__atomic_store_n(&h->consumer_waiting, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&h->wake_seq, __ATOMIC_SEQ_CST) == *seq)
		futex(&h->wake_seq, FUTEX_WAIT, *seq, &ts);
	__atomic_store_n(&h->consumer_waiting, 0, __ATOMIC_SEQ_CST);
	*seq = __atomic_load_n(&h->wake_seq, __ATOMIC_SEQ_CST);
}

int64_t sonde_rb_clock_update(struct sonde_rb *rb)
{
	return sonde_clock_update(&rb->hdr->clock, &rb->calib);
}

int sonde_rb_flush(struct sonde_rb *rb, unsigned int cpu)
{
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	uint64_t mask = rb->subbuf_size - 1;
	struct sonde_rb_state cur, next;

	sonde_rb_load_state(ctl, &cur);
	for (;;) {
		uint64_t pos = cur.offset & mask;
		uint64_t ts = sonde_clock_now(&rb->hdr->clock);

		if (!pos)
			return 0;
		if (ts < cur.last_ts)
			ts = cur.last_ts;
		next.offset = cur.offset - pos + rb->subbuf_size;
		next.last_ts = ts;
		if (sonde_rb_cas_state(ctl, &cur, next)) {
			close_packet(rb, cpu, cur.offset - pos, pos, ts);
			return 1;
		}
	}
}

int sonde_rb_empty_packet(struct sonde_rb *rb, unsigned int cpu)
{
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	const uint64_t hdr = SONDE_RB_PACKET_HEADER_SIZE;
	struct sonde_rb_state cur, next;

	sonde_rb_load_state(ctl, &cur);
	for (;;) {
		uint64_t ts = sonde_clock_now(&rb->hdr->clock);

		if ((cur.offset & (rb->subbuf_size - 1)) ||
		    !slot_free(rb, cpu, cur.offset))
			return 0;
		if (ts < cur.last_ts)
			ts = cur.last_ts;
		/* Opened and closed at once: no writer gets into it. */
		next.offset = cur.offset + rb->subbuf_size;
		next.last_ts = ts;
		if (sonde_rb_cas_state(ctl, &cur, next))
			break;
	}
	open_packet(rb, cpu, cur.offset, next.last_ts);
	close_packet(rb, cpu, cur.offset, hdr, next.last_ts);
	commit_bytes(rb, cpu, cur.offset, hdr);
	return 1;
}

/* Consumer ------------------------------------------------------------------*/

struct reader_cpu {
	uint64_t next;	    /* virtual offset of the next packet to read */
	uint64_t discarded; /* last events_discarded delivered */
	uint64_t last_ts_end;
	bool holding;
	struct sonde_rb_reader_stats stats;
};

struct sonde_rb_reader {
	struct sonde_rb *rb;
	bool peek; /* never releases packets (sonde_rb_reader_create_peek) */
	uint8_t *bounce; /* overwrite mode: a private copy of the packet */
	struct reader_cpu cpu[];
};

int sonde_rb_reader_create(struct sonde_rb *rb, struct sonde_rb_reader **out,
			   struct sonde_error *err)
{
	struct sonde_rb_reader *r;
	uint32_t i;

	r = calloc(1, sizeof(*r) + rb->ncpu * sizeof(r->cpu[0]));
	if (!r)
		return sonde_error_set(err, SONDE_ENOMEM, "ring buffer: out of memory");
	r->rb = rb;
	if (rb->mode == SONDE_RB_OVERWRITE) {
		r->bounce = malloc(rb->subbuf_size);
		if (!r->bounce) {
			free(r);
			return sonde_error_set(err, SONDE_ENOMEM,
					       "ring buffer: out of memory");
		}
	}
	for (i = 0; i < rb->ncpu; i++)
		r->cpu[i].next = __atomic_load_n(&sonde_rb_ctl(rb, i)->consumed,
						 __ATOMIC_ACQUIRE);
	*out = r;
	return 0;
}

int sonde_rb_reader_create_peek(struct sonde_rb *rb,
				struct sonde_rb_reader **out,
				struct sonde_error *err)
{
	int rc;

	/* Discard-mode packets are patched in place: a peeking reader would
	 * write into memory the writers own. */
	if (rb->mode != SONDE_RB_OVERWRITE)
		return sonde_error_set(err, SONDE_EINVAL,
				       "ring buffer: peeking needs overwrite mode");
	rc = sonde_rb_reader_create(rb, out, err);
	if (!rc)
		(*out)->peek = true;
	return rc;
}

void sonde_rb_reader_free(struct sonde_rb_reader *r)
{
	if (!r)
		return;
	free(r->bounce);
	free(r);
}

void sonde_rb_reader_stats(const struct sonde_rb_reader *r, unsigned int cpu,
			   struct sonde_rb_reader_stats *st)
{
	*st = r->cpu[cpu].stats;
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/*
 * Copies a packet that writers may be overwriting; the caller validates
 * the copy afterwards (a seqlock read).  A word loop through volatile, not
 * memcpy, so that ThreadSanitizer (which intercepts memcpy) leaves this
 * intended race alone.
 */
__attribute__((no_sanitize("thread"))) static void
copy_racy(uint8_t *dst, const uint8_t *src, size_t n)
{
	const volatile uint64_t *s = (const volatile uint64_t *)(const void *)src;
	uint64_t *d = (uint64_t *)(void *)dst;
	size_t i;

	for (i = 0; i < n / 8; i++)
		d[i] = s[i];
}

/*
 * Checks and completes the packet header in `p` (private to the consumer
 * by now): the sizes must make sense; the fields the consumer knows are
 * rewritten whatever the writer left there.
 */
static bool fix_packet(struct sonde_rb_reader *r, unsigned int cpu,
		       uint8_t *p, uint64_t offset, struct sonde_rb_packet *pkt)
{
	struct sonde_rb *rb = r->rb;
	struct reader_cpu *rc = &r->cpu[cpu];
	const unsigned int bo = SONDE_CTFW_HOST_ORDER;
	uint64_t content_bits = load_u64(p + SONDE_CTFW_PKT_CONTENT_SIZE);
	uint64_t content, size, disc;

	if (content_bits % 8 || content_bits / 8 < SONDE_RB_PACKET_HEADER_SIZE ||
	    content_bits / 8 > rb->subbuf_size)
		return false;
	content = content_bits / 8;
	size = sonde_ctfw_page_round(content);
	disc = load_u64(p + SONDE_CTFW_PKT_EVENTS_DISCARDED);
	if (disc < rc->discarded)
		disc = rc->discarded; /* closers can race: keep it monotonic */
	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_MAGIC, SONDE_CTFW_PACKET_MAGIC,
			     bo);
	memcpy(p + SONDE_CTFW_PKT_UUID, rb->uuid, 16);
	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_STREAM_ID, rb->stream_id, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_STREAM_INSTANCE_ID, cpu, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_PACKET_SIZE, size * 8, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_SEQ_NUM,
			     offset >> rb->subbuf_shift, bo);
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_EVENTS_DISCARDED, disc, bo);
	sonde_ctfw_store_u32(p + SONDE_CTFW_PKT_CPU_ID, cpu, bo);
	memset(p + content, 0, size - content);
	pkt->data = p;
	pkt->content_size = content;
	pkt->packet_size = size;
	pkt->seq = offset >> rb->subbuf_shift;
	pkt->ts_begin = load_u64(p + SONDE_CTFW_PKT_TIMESTAMP_BEGIN);
	pkt->ts_end = load_u64(p + SONDE_CTFW_PKT_TIMESTAMP_END);
	if (pkt->ts_end < pkt->ts_begin) {
		pkt->ts_end = pkt->ts_begin;
		sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_TIMESTAMP_END,
				     pkt->ts_end, bo);
	}
	pkt->events_discarded = disc;
	rc->discarded = disc;
	rc->last_ts_end = pkt->ts_end;
	return true;
}

static void advance(struct sonde_rb_reader *r, unsigned int cpu)
{
	struct reader_cpu *rc = &r->cpu[cpu];

	rc->next += r->rb->subbuf_size;
	if (!r->peek)
		__atomic_store_n(&sonde_rb_ctl(r->rb, cpu)->consumed, rc->next,
				 __ATOMIC_RELEASE);
}

int sonde_rb_get(struct sonde_rb_reader *r, unsigned int cpu,
		 struct sonde_rb_packet *pkt)
{
	struct sonde_rb *rb = r->rb;
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	struct reader_cpu *rc = &r->cpu[cpu];
	uint64_t span = (uint64_t)rb->num_subbuf * rb->subbuf_size;
	uint32_t tries;

	/* Bounded: writers (maybe hostile) could keep the state moving. */
	for (tries = 0; tries < 4 * rb->num_subbuf; tries++) {
		uint64_t at = rc->next;
		uint64_t want = gen_end_of(rb, at);
		uint64_t cc = __atomic_load_n(commit_of(rb, cpu, at),
					      __ATOMIC_ACQUIRE);
		uint64_t w = __atomic_load_n(&ctl->write_offset,
					     __ATOMIC_ACQUIRE);
		uint8_t *p;

		if (rb->mode == SONDE_RB_OVERWRITE && w > at + span) {
			/* Lapped: skip to the oldest packet that may still
			 * be intact (the one after the writers' open one). */
			uint64_t pos = w & (rb->subbuf_size - 1);
			uint64_t oldest = w - pos - span +
					  (pos ? rb->subbuf_size : 0);

			if (oldest > at) {
				rc->stats.packets_lost +=
					(oldest - at) >> rb->subbuf_shift;
				rc->next = oldest;
				continue;
			}
		}
		if (w < at + rb->subbuf_size && (w & (rb->subbuf_size - 1)))
			return 0; /* the writers' open packet */
		if (cc < want)
			return 0;
		if (cc != want || w < at + rb->subbuf_size) {
			/* Counters the writers could not have produced. */
			rc->stats.packets_corrupt++;
			advance(r, cpu);
			continue;
		}
		p = packet_at(rb, cpu, at);
		if (rb->mode == SONDE_RB_OVERWRITE) {
			copy_racy(r->bounce, p, rb->subbuf_size);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&ctl->write_offset,
					    __ATOMIC_RELAXED) > at + span) {
				rc->stats.packets_lost++;
				advance(r, cpu);
				continue;
			}
			p = r->bounce;
		}
		if (!fix_packet(r, cpu, p, at, pkt)) {
			rc->stats.packets_corrupt++;
			advance(r, cpu);
			continue;
		}
		rc->holding = true;
		rc->stats.packets++;
		return 1;
	}
	return 0;
}

void sonde_rb_put(struct sonde_rb_reader *r, unsigned int cpu)
{
	if (!r->cpu[cpu].holding)
		return;
	r->cpu[cpu].holding = false;
	advance(r, cpu);
}

uint64_t sonde_rb_reader_idle(struct sonde_rb_reader *r, unsigned int cpu)
{
	struct sonde_rb *rb = r->rb;
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	struct sonde_rb_state cur, next;

	sonde_rb_load_state(ctl, &cur);
	for (;;) {
		uint64_t ts = sonde_clock_now(&rb->hdr->clock);

		if (cur.offset != r->cpu[cpu].next || r->cpu[cpu].holding)
			return 0;
		next.offset = cur.offset;
		next.last_ts = ts > cur.last_ts ? ts : cur.last_ts;
		/* The next event opens a packet, whose first header is
		 * relative to its own time: moving last_ts changes no
		 * header form. */
		if (sonde_rb_cas_state(ctl, &cur, next))
			return next.last_ts ? next.last_ts : 1;
	}
}

void sonde_rb_salvage(struct sonde_rb_reader *r, unsigned int cpu)
{
	struct sonde_rb *rb = r->rb;
	struct sonde_rb_cpu_ctl *ctl = sonde_rb_ctl(rb, cpu);
	uint64_t w, start, want, cc, missing, content;
	uint8_t *p;

	sonde_rb_flush(rb, cpu);
	w = __atomic_load_n(&ctl->write_offset, __ATOMIC_ACQUIRE);
	if (w < rb->subbuf_size)
		return;
	/* The last packet: the one just closed, or the last one written. */
	start = (w - 1) & ~(rb->subbuf_size - 1);
	if (start < r->cpu[cpu].next)
		return;
	want = gen_end_of(rb, start);
	cc = __atomic_load_n(commit_of(rb, cpu, start), __ATOMIC_ACQUIRE);
	if (cc >= want || want - cc >= rb->subbuf_size)
		return;
	missing = want - cc;
	p = packet_at(rb, cpu, start);
	content = load_u64(p + SONDE_CTFW_PKT_CONTENT_SIZE) / 8;
	if (content < SONDE_RB_PACKET_HEADER_SIZE + missing ||
	    content > rb->subbuf_size)
		return;
	/* The never-committed bytes are the packet's tail. */
	sonde_ctfw_store_u64(p + SONDE_CTFW_PKT_CONTENT_SIZE,
			     (content - missing) * 8, SONDE_CTFW_HOST_ORDER);
	__atomic_fetch_add(commit_of(rb, cpu, start), missing, __ATOMIC_RELEASE);
}
