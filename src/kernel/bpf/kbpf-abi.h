/*
 * What the eBPF programs (kbpf.bpf.c) and their loader (kbpf.c) share: the
 * record the programs write into the per-CPU ring buffers, and the
 * per-syscall configuration the loader writes into the `syscalls` map.
 *
 * A record is a 16-byte header and the CTF payload of one event, already in
 * the session's layout (lttng-modules fields, host byte order, packed as
 * LTTng's byte-aligned integers are): the consumer only writes the CTF event
 * header and copies the payload.
 */
#ifndef SONDE_KBPF_ABI_H
#define SONDE_KBPF_ABI_H

#define KBPF_MAX_SYSCALLS 512  /* x86-64 numbers are below 470 */
#define KBPF_MAX_ARGS 6
#define KBPF_MAX_STRINGS 3     /* mount(2) has three */
#define KBPF_STRING_MAX 256    /* bytes of a user string, NUL included */
#define KBPF_ARGS_BYTES (KBPF_MAX_ARGS * 8)
#define KBPF_STRING_PAYLOAD (KBPF_ARGS_BYTES + KBPF_MAX_STRINGS * KBPF_STRING_MAX)
#define KBPF_SCHED_SWITCH_PAYLOAD 56

struct kbpf_rec {
	__u64 ts;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 id;  /* CTF event class id */
	__u32 len; /* payload bytes after this header */
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

#endif /* SONDE_KBPF_ABI_H */
