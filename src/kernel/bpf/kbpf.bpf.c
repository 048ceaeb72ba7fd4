/*
 * sonde's eBPF fast path: raw syscall and scheduler tracepoints (tp_btf)
 * that write finished CTF payloads (kbpf-abi.h) into one BPF ring buffer
 * per CPU.  Filters run before anything is reserved; the session's own
 * process is skipped by one compare.  See docs/internals/ebpf.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kbpf-abi.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Fixed at load time: the verifier prunes the filters that are off. */
const volatile __u32 own_tgid;
const volatile __u32 filter_tgid;
const volatile __u64 filter_cgroup;
const volatile char filter_comm[16];
const volatile __u64 wake_bytes = 1 << 20;

/* Set by the loader before it attaches sched_switch. */
__u32 sched_switch_id;

struct ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 21); /* resized by the loader */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1); /* resized to the number of CPUs */
	__type(key, __u32);
	__array(values, struct ring);
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KBPF_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct kbpf_syscall);
} syscalls SEC(".maps");

static __always_inline bool comm_filtered_out(void)
{
	char comm[16];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
	for (i = 0; i < 16; i++) {
		if (comm[i] != filter_comm[i])
			return true;
		if (!comm[i])
			break;
	}
	return false;
}

/* The session's filters, on the current task. */
static __always_inline bool filtered_out(__u64 pid_tgid)
{
	if (filter_tgid && (__u32)(pid_tgid >> 32) != filter_tgid)
		return true;
	if (filter_cgroup && bpf_get_current_cgroup_id() != filter_cgroup)
		return true;
	if (filter_comm[0] && comm_filtered_out())
		return true;
	return false;
}

static __always_inline void *cpu_ring(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&rings, &cpu);
}

static __always_inline void count_loss(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		(*n)++;
}

static __always_inline struct kbpf_rec *reserve(void *ring, __u32 size)
{
	struct kbpf_rec *r = bpf_ringbuf_reserve(ring, size, 0);

	if (!r)
		count_loss();
	return r;
}

/* Wakes the consumer only when this record makes the pending data cross
 * the watermark: one wake-up per batch, not per record. */
static __always_inline void submit(void *ring, struct kbpf_rec *r, __u32 size)
{
	__u64 avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
	bool cross = avail >= wake_bytes && avail < wake_bytes + size + 8;

	bpf_ringbuf_submit(r, cross ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

static __always_inline void read_args(struct pt_regs *regs, __u64 *a)
{
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

/* Integer arguments only: each is stored as 8 little-endian bytes and the
 * offset advances by its width, so the next one overwrites the excess. */
static __always_inline int enter_ints(void *ring, const struct kbpf_syscall *sc,
				      const __u64 *a, __u64 ts)
{
	__u32 size = sizeof(struct kbpf_rec) + KBPF_ARGS_BYTES;
	struct kbpf_rec *r;
	__u8 *p;
	__u32 off = 0;
	int i;

	if (!sc->nargs) {
		r = reserve(ring, sizeof(struct kbpf_rec));
		if (!r)
			return 0;
		r->ts = ts;
		r->id = sc->entry_id;
		r->len = 0;
		submit(ring, r, sizeof(struct kbpf_rec));
		return 0;
	}
	r = reserve(ring, size);
	if (!r)
		return 0;
	p = (__u8 *)(r + 1);
#pragma unroll
	for (i = 0; i < KBPF_MAX_ARGS; i++) {
		if (i >= sc->nargs || off > KBPF_ARGS_BYTES - 8)
			break;
		*(__u64 *)(p + off) = a[i];
		off += sc->size[i] & 15;
	}
	r->ts = ts;
	r->id = sc->entry_id;
	r->len = off;
	submit(ring, r, size);
	return 0;
}

/* Writes the arguments of a syscall with user strings (paths, names) at
 * `p`, as lttng-modules records them: each string truncated to
 * KBPF_STRING_MAX, "" if it cannot be read.  Returns the payload size. */
static __always_inline __u64 put_string_args(__u8 *p,
					     const struct kbpf_syscall *sc,
					     const __u64 *a)
{
	__u64 off = 0;
	int i;

#pragma unroll
	for (i = 0; i < KBPF_MAX_ARGS; i++) {
		long n;

		if (i >= sc->nargs)
			break;
		if (sc->size[i] & KBPF_ARG_STRING) {
			if (off > KBPF_STRING_PAYLOAD - KBPF_STRING_MAX)
				break;
			n = bpf_probe_read_user_str(p + off, KBPF_STRING_MAX,
						    (const void *)a[i]);
			if (n < 1 || n > KBPF_STRING_MAX) {
				p[off] = 0;
				n = 1;
			}
			off += n;
		} else {
			if (off > KBPF_STRING_PAYLOAD - 8)
				break;
			*(__u64 *)(p + off) = a[i];
			off += sc->size[i] & 15;
		}
	}
	return off;
}

/* Records with strings are built in a per-CPU scratch record and copied
 * at their exact size: reserving the largest possible one (~840 bytes)
 * for every openat filled the rings during a statedump.  `busy` guards
 * the scratch against a program that interrupts or preempts this one
 * on the same CPU, which then reserves the largest size instead. */
struct scratch {
	__u32 busy;
	__u32 pad;
	struct kbpf_rec rec;
	__u8 payload[KBPF_STRING_PAYLOAD + 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline int enter_strings(void *ring,
					 const struct kbpf_syscall *sc,
					 const __u64 *a, __u64 ts)
{
	__u32 zero = 0, max = sizeof(struct kbpf_rec) + KBPF_STRING_PAYLOAD + 8;
	__u64 len, size; /* 64-bit: a 32-bit copy would lose the bound */
	struct scratch *x = bpf_map_lookup_elem(&scratch, &zero);
	struct kbpf_rec *r;
	__u64 avail;

	if (x && !x->busy) {
		x->busy = 1;
		x->rec.ts = ts;
		x->rec.id = sc->entry_id;
		len = put_string_args(x->payload, sc, a);
		/* clang knows len's bound, the verifier does not: keep the
		 * check */
		barrier_var(len);
		if (len > KBPF_STRING_PAYLOAD)
			len = KBPF_STRING_PAYLOAD;
		x->rec.len = (__u32)len;
		size = sizeof(struct kbpf_rec) + len;
		avail = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) + size + 8;
		if (bpf_ringbuf_output(ring, &x->rec, size,
				       avail >= wake_bytes &&
						       avail < wake_bytes + size + 8 ?
					       BPF_RB_FORCE_WAKEUP :
					       BPF_RB_NO_WAKEUP))
			count_loss();
		x->busy = 0;
		return 0;
	}
	r = reserve(ring, max);
	if (!r)
		return 0;
	r->ts = ts;
	r->id = sc->entry_id;
	r->len = (__u32)put_string_args((__u8 *)(r + 1), sc, a);
	submit(ring, r, max);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(kbpf_sys_enter, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct kbpf_syscall *sc;
	__u32 nr = (__u32)id;
	__u64 a[KBPF_MAX_ARGS];
	void *ring;

	if ((__u32)(pid_tgid >> 32) == own_tgid || nr >= KBPF_MAX_SYSCALLS)
		return 0;
	sc = bpf_map_lookup_elem(&syscalls, &nr);
	if (!sc || !sc->entry_on || filtered_out(pid_tgid))
		return 0;
	ring = cpu_ring();
	if (!ring)
		return 0;
	read_args(regs, a);
	if (sc->strings)
		return enter_strings(ring, sc, a, bpf_ktime_get_ns());
	return enter_ints(ring, sc, a, bpf_ktime_get_ns());
}

SEC("tp_btf/sys_exit")
int BPF_PROG(kbpf_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 size = sizeof(struct kbpf_rec) + 8;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct kbpf_syscall *sc;
	__u32 nr = (__u32)regs->orig_ax;
	struct kbpf_rec *r;
	void *ring;

	if ((__u32)(pid_tgid >> 32) == own_tgid || nr >= KBPF_MAX_SYSCALLS)
		return 0;
	sc = bpf_map_lookup_elem(&syscalls, &nr);
	if (!sc || !sc->exit_on || filtered_out(pid_tgid))
		return 0;
	ring = cpu_ring();
	if (!ring)
		return 0;
	r = reserve(ring, size);
	if (!r)
		return 0;
	r->ts = bpf_ktime_get_ns();
	r->id = sc->exit_id;
	r->len = 8;
	*(__s64 *)(r + 1) = ret;
	submit(ring, r, size);
	return 0;
}

/* char[16] text as the ftrace path writes it: zeros after the first NUL. */
static __always_inline void put_comm(__u8 *dst, const char *comm)
{
	bool end = false;
	int i;

	__builtin_memcpy(dst, comm, 16);
#pragma unroll
	for (i = 0; i < 16; i++) {
		if (!dst[i])
			end = true;
		if (end)
			dst[i] = 0;
	}
}

/* The kernel's __trace_sched_switch_state(): the value ftrace records. */
static __always_inline long switch_state(bool preempt, unsigned int state,
					 const struct task_struct *prev)
{
	unsigned int s, bit = 0;
	int i;

	if (preempt)
		return 0x100; /* TASK_REPORT_MAX */
	s = (state | prev->exit_state) & 0x7f; /* TASK_REPORT */
	if ((state & 0x402) == 0x402)	       /* TASK_IDLE */
		s = 0x80;		       /* TASK_REPORT_IDLE */
	if (state & 0x1000)		       /* TASK_RTLOCK_WAIT */
		s = 0x2;		       /* TASK_UNINTERRUPTIBLE */
#pragma unroll
	for (i = 0; i < 8; i++)
		if (s & (1u << i))
			bit = i + 1; /* fls() */
	return bit ? 1L << (bit - 1) : 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(kbpf_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u32 size = sizeof(struct kbpf_rec) + KBPF_SCHED_SWITCH_PAYLOAD;
	struct kbpf_rec *r;
	__u8 *p;
	void *ring;

	if (filtered_out(bpf_get_current_pid_tgid()))
		return 0;
	ring = cpu_ring();
	if (!ring)
		return 0;
	r = reserve(ring, size);
	if (!r)
		return 0;
	p = (__u8 *)(r + 1);
	/* lttng-modules' sched_switch: comm, tid, prio - 100, state */
	put_comm(p, prev->comm);
	*(__s32 *)(p + 16) = prev->pid;
	*(__s32 *)(p + 20) = prev->prio - 100;
	*(__s64 *)(p + 24) = switch_state(preempt, prev_state, prev);
	put_comm(p + 32, next->comm);
	*(__s32 *)(p + 48) = next->pid;
	*(__s32 *)(p + 52) = next->prio - 100;
	r->ts = bpf_ktime_get_ns();
	r->id = sched_switch_id;
	r->len = KBPF_SCHED_SWITCH_PAYLOAD;
	submit(ring, r, size);
	return 0;
}
