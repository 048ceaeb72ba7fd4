/*
 * What the eBPF programs (kbpf.bpf.c) and their loader (kbpf.c) share: the
 * per-CPU buffers, the record the programs write into them, and the
 * per-syscall configuration the loader writes into the `syscalls` map.
 *
 * A record is a 16-byte header and the CTF payload of one event, already in
 * the session's layout (lttng-modules fields, host byte order, packed as
 * LTTng's byte-aligned integers are): the consumer only writes the CTF event
 * header and copies the payload.
 */
#ifndef SONDE_KBPF_ABI_H
#define SONDE_KBPF_ABI_H

#define KBPF_MAX_SYSCALLS 512 /* x86-64 numbers are below 470 */
#define KBPF_MAX_ARGS 6
#define KBPF_MAX_STRINGS 3  /* mount(2) has three */
#define KBPF_STRING_MAX 256 /* bytes of a user string, NUL included */
#define KBPF_ARGS_BYTES (KBPF_MAX_ARGS * 8)
#define KBPF_STRING_PAYLOAD \
	(KBPF_ARGS_BYTES + KBPF_MAX_STRINGS * KBPF_STRING_MAX)
#define KBPF_SCHED_SWITCH_PAYLOAD 56

struct kbpf_rec {
	__u64 ts;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 id;  /* CTF event class id, or KBPF_PAD */
	__u32 len; /* payload bytes after this header */
};

/* Records take 8-byte multiples and never wrap: one that would is written
 * at the start of the ring, after a KBPF_PAD header (or, with less than a
 * header's room left, nothing) up to the end. */
#define KBPF_PAD 0xffffffffu
#define KBPF_REC_ALIGN 8
#define KBPF_REC_MAX 1024 /* beyond the data: room the verifier can see */

/*
 * One CPU's buffer: an element of the BPF_F_MMAPABLE array `bufs`, that
 * the consumer maps.  `head` and `tail` count bytes since the start; the
 * data is a ring of `ring_size` (a power of two).  The programs of one CPU
 * write in turn (they run with migration off, and sched_switch with
 * interrupts off); `busy` makes one that would interrupt or preempt
 * another drop its event as lost instead of writing over it.
 */
struct kbpf_buf {
	__u64 head; /* written by the programs, after the record */
	__u64 lost; /* events the buffer had no room for */
	__u64 busy;
	__u64 current;	    /* tid + 1 of the task running here; 0 unknown */
	__u64 repaired;	    /* sched_switch events put back */
	char idle_comm[16]; /* this CPU's idle task ("swapper/N") */
	__u64 pad0;
	__u64 tail; /* written by the consumer: the bytes it has read */
	__u64 pad1[7];
	__u8 data[];
};

/* An argument's `size` byte: its CTF integer width in bytes, or this flag
 * for a user string read with bpf_probe_read_user_str. */
#define KBPF_ARG_STRING 0x80

struct kbpf_syscall {
	__u32 entry_id, exit_id; /* CTF ids */
	__u8 entry_on, exit_on;
	__u8 nargs;
	__u8 strings; /* some argument is KBPF_ARG_STRING */
	__u8 size[KBPF_MAX_ARGS];
	__u8 pad[2];
};

/* Tracker maps (bits of track_on), as enum sonde_kernel_tracker. */
#define KBPF_TRACK_PID 0
#define KBPF_TRACK_UID 1
#define KBPF_TRACK_GID 2
#define KBPF_TRACK_PROCNAME 3
#define KBPF_TRACK_CGROUP 4
#define KBPF_TRACK_MAX 1024 /* entries of a tracker map */

struct kbpf_comm {
	char name[16]; /* zero-padded */
};

#endif /* SONDE_KBPF_ABI_H */
