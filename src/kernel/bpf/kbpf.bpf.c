/*
 * sonde's eBPF fast path: raw syscall and scheduler tracepoints (tp_btf)
 * that write finished CTF payloads (kbpf-abi.h) into a buffer per CPU that
 * the consumer maps: plain stores, no lock, no helper call to write.
 * The trackers run before anything is reserved, behind one load of
 * track_on; the session's own process is skipped by one compare.  See
 * docs/internals/ebpf.md.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "kbpf-abi.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Fixed at load time. */
const volatile __u32 own_tgid;
const volatile __u64 ring_size = 1 << 21; /* per CPU, a power of two */
const volatile __u64 wake_mark = 1 << 19; /* bytes pending that wake */

/* Set by the loader before it attaches sched_switch. */
__u32 sched_switch_id;
bool sched_switch_on;
/* Bit KBPF_TRACK_X: the X set does not hold every value, and the
 * track_X map holds it (filled before the bit is set). */
__u32 track_on;

#define TRACK_MAP(name, key_type)                        \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_HASH);         \
		__uint(max_entries, KBPF_TRACK_MAX);     \
		__type(key, key_type);                   \
		__type(value, __u8);                     \
	} name SEC(".maps")

TRACK_MAP(track_pid, __u32);
TRACK_MAP(track_uid, __u32);
TRACK_MAP(track_gid, __u32);
TRACK_MAP(track_comm, struct kbpf_comm);
TRACK_MAP(track_cgroup, __u64);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* resized to the number of CPUs */
	__type(key, __u32);
	__type(value, struct kbpf_buf); /* resized: + ring + KBPF_REC_MAX */
} bufs SEC(".maps");

/* Only to wake the consumer when a buffer crosses wake_mark: one 8-byte
 * record per crossing, never per event. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} wake SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KBPF_MAX_SYSCALLS);
	__type(key, __u32);
	__type(value, struct kbpf_syscall);
} syscalls SEC(".maps");

/* Whether task `t` is in every restricted set of `on` (track_on). */
static __always_inline bool tracked(const struct task_struct *t, __u32 on)
{
	struct kbpf_comm comm;
	__u32 k;
	__u64 cg;
	int i;

	if (on & (1u << KBPF_TRACK_PID)) {
		k = t->tgid;
		if (!bpf_map_lookup_elem(&track_pid, &k))
			return false;
	}
	if (on & (1u << KBPF_TRACK_UID)) {
		k = BPF_CORE_READ(t, real_cred, uid.val);
		if (!bpf_map_lookup_elem(&track_uid, &k))
			return false;
	}
	if (on & (1u << KBPF_TRACK_GID)) {
		k = BPF_CORE_READ(t, real_cred, gid.val);
		if (!bpf_map_lookup_elem(&track_gid, &k))
			return false;
	}
	if (on & (1u << KBPF_TRACK_PROCNAME)) {
		bool end = false;

		/* the key is the name and zeros, whatever follows the NUL */
		__builtin_memcpy(comm.name, t->comm, sizeof(comm.name));
#pragma unroll
		for (i = 0; i < (int)sizeof(comm.name); i++) {
			if (!comm.name[i])
				end = true;
			if (end)
				comm.name[i] = 0;
		}
		if (!bpf_map_lookup_elem(&track_comm, &comm))
			return false;
	}
	if (on & (1u << KBPF_TRACK_CGROUP)) {
		/* what bpf_get_current_cgroup_id() returns, for any task */
		cg = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
		if (!bpf_map_lookup_elem(&track_cgroup, &cg))
			return false;
	}
	return true;
}

static __always_inline struct kbpf_buf *cpu_buf(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&bufs, &cpu);
}

/*
 * Room for a record of at most `max` bytes (a multiple of 8) at the head
 * of `b`; NULL (the event counted as lost) when the consumer is that far
 * behind or another program of this CPU is writing.  The caller then
 * fills the record in and calls commit() with its size.
 */
static __always_inline struct kbpf_rec *reserve(struct kbpf_buf *b, __u64 max)
{
	__u64 head = b->head, tail = *(volatile __u64 *)&b->tail;
	__u64 off = head & (ring_size - 1), skip = 0;

	if (b->busy) {
		b->lost++;
		return NULL;
	}
	if (off + max > ring_size)
		skip = ring_size - off;
	if (head + skip + max - tail > ring_size) {
		b->lost++;
		return NULL;
	}
	b->busy = 1;
	if (skip) {
		if (skip >= sizeof(struct kbpf_rec))
			((struct kbpf_rec *)(b->data + off))->id = KBPF_PAD;
		asm volatile("" ::: "memory"); /* the pad before the head */
		b->head = head + skip;
		off = 0;
	}
	return (struct kbpf_rec *)(b->data + off);
}

static __always_inline void commit(struct kbpf_buf *b, __u64 size)
{
	__u64 head, used, cpu;

	size = (size + KBPF_REC_ALIGN - 1) & ~(__u64)(KBPF_REC_ALIGN - 1);
	/* the record before the head that publishes it (x86 keeps stores
	 * in order; the compiler must too) */
	asm volatile("" ::: "memory");
	head = b->head + size;
	b->head = head;
	b->busy = 0;
	used = head - *(volatile __u64 *)&b->tail;
	if (used >= wake_mark && used - size < wake_mark) {
		cpu = bpf_get_smp_processor_id();
		bpf_ringbuf_output(&wake, &cpu, sizeof(cpu),
				   BPF_RB_FORCE_WAKEUP);
	}
}

/* 64-bit user code segment: a 32-bit (compat) syscall has other numbers,
 * and ftrace leaves those out too. */
#define USER64_CS 0x33

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
static __always_inline int enter_ints(struct kbpf_buf *b,
				      const struct kbpf_syscall *sc,
				      const __u64 *a, __u64 ts)
{
	struct kbpf_rec *r = reserve(b, sizeof(*r) + KBPF_ARGS_BYTES);
	__u8 *p;
	__u32 off = 0;
	int i;

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
	commit(b, sizeof(*r) + off);
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

static __always_inline int enter_strings(struct kbpf_buf *b,
					 const struct kbpf_syscall *sc,
					 const __u64 *a, __u64 ts)
{
	struct kbpf_rec *r = reserve(b, sizeof(*r) + KBPF_STRING_PAYLOAD);
	__u64 len;

	if (!r)
		return 0;
	len = put_string_args((__u8 *)(r + 1), sc, a);
	r->ts = ts;
	r->id = sc->entry_id;
	r->len = (__u32)len;
	commit(b, sizeof(*r) + len);
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

/*
 * `t` is the current task, `tid` its id.
 * This kernel omits some sched_switch events out of the idle task (see
 * docs/internals/kernel.md, which the ftrace consumer repairs from
 * common_pid).  Here the programs follow the task current on each CPU:
 * when the last switch went to idle and an event comes from another
 * task, the switch the kernel left out is written first, stamped with
 * that event's time, with the task's own comm and priority.
 */
static __always_inline void
follow_current(struct kbpf_buf *b, const struct task_struct *t, __u32 tid)
{
	struct kbpf_rec *r;
	__u8 *p;

	if (b->current == 1 && tid != 0 && sched_switch_on &&
	    (r = reserve(b, sizeof(*r) + KBPF_SCHED_SWITCH_PAYLOAD))) {
		p = (__u8 *)(r + 1);
		put_comm(p, b->idle_comm);
		*(__s32 *)(p + 16) = 0;
		*(__s32 *)(p + 20) = 20; /* the idle task's 120 - 100 */
		*(__s64 *)(p + 24) = 0;	 /* TASK_RUNNING */
		put_comm(p + 32, t->comm);
		*(__s32 *)(p + 48) = tid;
		*(__s32 *)(p + 52) = t->prio - 100;
		r->ts = bpf_ktime_get_ns();
		r->id = sched_switch_id;
		r->len = KBPF_SCHED_SWITCH_PAYLOAD;
		commit(b, sizeof(*r) + KBPF_SCHED_SWITCH_PAYLOAD);
		b->repaired++;
	}
	if (b->current)
		b->current = (__u64)tid + 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(kbpf_sys_enter, struct pt_regs *regs, long id)
{
	/* a helper call (~8 ns here), not inlined on 6.18; the per-CPU
	 * current_task cannot be read instead (docs/internals/ebpf.md) */
	struct task_struct *t = bpf_get_current_task_btf();
	const struct kbpf_syscall *sc;
	__u32 nr = (__u32)id, tgid = t->tgid;
	__u64 a[KBPF_MAX_ARGS];
	struct kbpf_buf *b;

	if (tgid == own_tgid || nr >= KBPF_MAX_SYSCALLS ||
	    regs->cs != USER64_CS)
		return 0;
	sc = bpf_map_lookup_elem(&syscalls, &nr);
	if (!sc || !sc->entry_on || (track_on && !tracked(t, track_on)))
		return 0;
	b = cpu_buf();
	if (!b)
		return 0;
	follow_current(b, t, t->pid);
	read_args(regs, a);
	if (sc->strings)
		return enter_strings(b, sc, a, bpf_ktime_get_ns());
	return enter_ints(b, sc, a, bpf_ktime_get_ns());
}

SEC("tp_btf/sys_exit")
int BPF_PROG(kbpf_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 size = sizeof(struct kbpf_rec) + 8;
	struct task_struct *t = bpf_get_current_task_btf();
	const struct kbpf_syscall *sc;
	__u32 nr = (__u32)regs->orig_ax, tgid = t->tgid;
	struct kbpf_rec *r;
	struct kbpf_buf *b;

	if (tgid == own_tgid || nr >= KBPF_MAX_SYSCALLS ||
	    regs->cs != USER64_CS)
		return 0;
	sc = bpf_map_lookup_elem(&syscalls, &nr);
	if (!sc || !sc->exit_on || (track_on && !tracked(t, track_on)))
		return 0;
	b = cpu_buf();
	if (!b)
		return 0;
	follow_current(b, t, t->pid);
	r = reserve(b, size);
	if (!r)
		return 0;
	r->ts = bpf_ktime_get_ns();
	r->id = sc->exit_id;
	r->len = 8;
	*(__s64 *)(r + 1) = ret;
	commit(b, size);
	return 0;
}

/* The kernel's __trace_sched_switch_state(): the value ftrace records. */
static __always_inline long switch_state(bool preempt, unsigned int state,
					 const struct task_struct *prev)
{
	unsigned int s, bit = 0;
	int i;

	if (preempt)
		return 0x100;		       /* TASK_REPORT_MAX */
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
	struct kbpf_buf *b;
	__u32 on = track_on;
	bool prev_in = !on || tracked(prev, on);
	__u8 *p;

	b = cpu_buf();
	if (!b)
		return 0;
	/* The switch the kernel left out before this one is put back only
	 * for a tracked task; the CPU's current task is followed always. */
	if (prev_in)
		follow_current(b, prev, prev->pid);
	b->current = (__u64)next->pid + 1;
	if (!next->pid)
		__builtin_memcpy(b->idle_comm, next->comm, 16);
	/* LTTng's rule: a switch from or to a tracked task */
	if (!prev_in && !tracked(next, on))
		return 0;
	r = reserve(b, size);
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
	commit(b, size);
	return 0;
}
