#!/usr/bin/env python3
"""Runs one fuzz target over its seed corpus: the fuzz-smoke test.

The seeds are collected from the shared corpora (../shared/data) into
CORPUS the first time, never committed.  With --libfuzzer the target is a
libFuzzer binary: it replays the corpus, then fuzzes for SONDE_FUZZ_SECONDS
(default 10); new inputs go to CORPUS and crashes to
<CORPUS>/../../fuzz-artifacts/.  With --replay the target is built with
replay-main.c and runs every corpus file once.

Exit status: 0 ok, 1 crash or error, 77 (skip) when there is nothing to run.
"""
import argparse
import hashlib
import os
import struct
import subprocess
import sys

SEED_MAX = 64 * 1024
SKIP = 77
NOT_STREAMS = (".idx", ".expect", ".py", ".txt", ".md", ".sh", ".json")


def trace_dirs(data_dir):
    """Yields (directory, metadata path, [stream paths]) for each trace."""
    for dirpath, dirnames, filenames in os.walk(data_dir):
        dirnames.sort()
        if "metadata" not in filenames:
            continue
        streams = []
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if (name == "metadata" or name.startswith(".")
                    or name.endswith(NOT_STREAMS) or not os.path.isfile(path)):
                continue
            streams.append(path)
        yield dirpath, os.path.join(dirpath, "metadata"), streams


def read_prefix(path, limit):
    with open(path, "rb") as f:
        return f.read(limit)


def ctl_field(tag, value):
    return struct.pack("<HI", tag, len(value)) + value


def ctl_message(msg_type, payload):
    return struct.pack("<IHHI", 0x43444E53, 1, msg_type, len(payload)) + payload


def ctl_seeds():
    """Control-protocol messages (src/session/ctl-proto.h): a request of
    each kind and replies with nested records."""
    name = ctl_field(3, b"seed")
    yield ctl_message(2, name + ctl_field(4, b"/tmp/seed") + ctl_field(5, b"\x00"))
    yield ctl_message(5, name + ctl_field(7, b"sched_switch")
                      + ctl_field(7, b"sched_wakeup") + ctl_field(8, b"\x00"))
    yield ctl_message(4, name + ctl_field(6, b"channel0")
                      + ctl_field(10, struct.pack("<Q", 1 << 20))
                      + ctl_field(12, b"\x01"))
    for msg_type in (3, 7, 8, 9, 10, 11, 12):
        yield ctl_message(msg_type, name)
    event = ctl_field(25, ctl_field(7, b"sched_switch") + ctl_field(8, b"\x00")
                      + ctl_field(22, b"\x01"))
    channel = ctl_field(24, ctl_field(6, b"channel0") + event)
    session = ctl_field(23, name + ctl_field(14, b"started")
                        + ctl_field(16, struct.pack("<Q", 12345)) + channel)
    yield ctl_message(1, ctl_field(1, struct.pack("<q", 0)) + session)
    yield ctl_message(1, ctl_field(1, struct.pack("<q", -6))
                      + ctl_field(2, b"session 'seed' not found"))
    # TRACK (17): tracker records (58) of a name (59) and values (60), or
    # all (9); replies carry them inside the session record.
    pids = ctl_field(58, ctl_field(59, b"pid") + ctl_field(60, b"1234")
                     + ctl_field(60, b"5678"))
    cgroup = ctl_field(58, ctl_field(59, b"cgroup") + ctl_field(60, b"/a/b"))
    every = ctl_field(58, ctl_field(59, b"process-name") + ctl_field(9, b"\x01"))
    yield ctl_message(17, name + ctl_field(22, b"\x01") + pids + cgroup)
    yield ctl_message(17, name + ctl_field(22, b"\x00") + every)
    yield ctl_message(1, ctl_field(1, struct.pack("<q", 0))
                      + ctl_field(23, name + pids + every))
    # APP_EVENT (16): an event description from a traced program.
    def field(label, kind, int_type=0, length_type=0, count=0, float_bits=0, extra=b""):
        return ctl_field(44, ctl_field(51, label) + ctl_field(45, struct.pack("<Q", kind))
                         + ctl_field(46, struct.pack("<Q", int_type))
                         + ctl_field(47, struct.pack("<Q", length_type))
                         + ctl_field(48, struct.pack("<Q", count))
                         + ctl_field(49, struct.pack("<Q", float_bits)) + extra)
    s32 = 32 | 1 << 8 | 10 << 16
    u8 = 8 | 10 << 16
    entry = ctl_field(50, ctl_field(51, b"RED") + ctl_field(52, struct.pack("<q", 0))
                      + ctl_field(53, struct.pack("<q", 3)))
    yield ctl_message(16, ctl_field(26, b"prov:ev") + ctl_field(35, struct.pack("<q", 13))
                      + ctl_field(39, struct.pack("<Q", 0))
                      + field(b"a", 0, s32) + field(b"s", 3) + field(b"f", 2, float_bits=64)
                      + field(b"arr", 4, u8, count=4) + field(b"seq", 5, u8 | 1 << 32, u8)
                      + field(b"e", 1, s32, count=1, extra=entry))


def live_seeds():
    """Live viewer protocol messages (src/live/live-proto.h), each after
    the kind byte fuzz-live-proto.c dispatches on."""
    def cmd(number, payload):
        return b"\x00" + struct.pack(">QII", len(payload), number, 0) + payload
    yield cmd(1, struct.pack(">QIII", 2**64 - 1, 2, 4, 1))
    yield cmd(2, b"")
    yield cmd(3, struct.pack(">QQI", 1, 0, 2))
    yield cmd(4, struct.pack(">Q", 5))
    yield cmd(5, struct.pack(">QQI", 5, 4096, 4096))
    yield cmd(8, b"")
    yield b"\x01" + struct.pack(">QIII", 1, 2, 13, 0)
    yield b"\x02" + struct.pack(">I", 1)
    host, name = b"vm", b"livesess"
    yield (b"\x03" + struct.pack(">QIII", 1, 1000000, 0, 3)
           + host.ljust(64, b"\0") + name.ljust(255, b"\0"))
    yield (b"\x04" + struct.pack(">QIIIIII", 1, 1000000, 0, 3, len(host),
                                  len(name), 0) + host + name)
    yield b"\x05" + struct.pack(">II", 1, 2)
    yield b"\x06" + struct.pack(">II", 4, 0)
    yield (b"\x07" + struct.pack(">QQI", 3, 1, 1)
           + b"ust/uid/1000/64-bit".ljust(4096, b"\0")
           + b"metadata".ljust(255, b"\0"))
    yield b"\x08" + struct.pack(">QQQQQQQII", 0, 32768, 30000, 10, 20, 0, 0, 1, 1)
    yield b"\x08" + struct.pack(">QQQQQQQII", 0, 0, 0, 0, 99, 0, 0, 5, 2)
    yield b"\x09" + struct.pack(">III", 1, 4096, 0)
    yield b"\x0a" + struct.pack(">QI", 1234, 1)


def relay_message(minor, cmd, payload):
    return (struct.pack(">B", minor)
            + struct.pack(">QQII", 0, len(payload), cmd, 0) + payload)


def relay_seeds():
    """Relayd streaming-protocol messages (src/relay/relay-proto.h), each
    prefixed with the negotiated minor: what an LTTng 2.13 consumer sends
    in a live session, then older and newer layouts."""
    names = b"live\0host\0\0"
    session = (struct.pack(">IIII", 5, 5, 1, 100000) + b"\0\0" + b"\xab" * 16
               + struct.pack(">QQ", 1, 1700000000) + b"\0" + bytes(8))
    yield relay_message(13, 5, struct.pack(">II", 2, 13))
    yield relay_message(13, 22, bytes(8))
    yield relay_message(13, 2, session + names)
    yield relay_message(15, 2, session + struct.pack(">I", 1) + names)
    yield relay_message(10, 2, b"live".ljust(255, b"\0")
                        + b"host".ljust(64, b"\0") + struct.pack(">II", 0, 0))
    yield relay_message(13, 19, struct.pack(">QQI", 0, 1700000000, 0))
    yield relay_message(13, 1, struct.pack(">IIQQQ", 11, 20, 0, 0, 0)
                        + b"channel0_0\0ust/uid/1000/64-bit\0")
    yield relay_message(10, 1, b"metadata".ljust(264, b"\0")
                        + b"ust/uid/1000/64-bit".ljust(4096, b"\0") + bytes(16))
    yield relay_message(13, 16, b"")
    yield relay_message(13, 6, struct.pack(">QI", 3, 100) + b"/* CTF 1.8 */")
    yield relay_message(13, 13, struct.pack(">10Q", 1, 0, 32768, 2400, 10, 20,
                                            0, 0, 0, 0))
    yield relay_message(7, 13, struct.pack(">8Q", 1, 0, 0, 0, 0, 30, 0, 0))
    yield relay_message(13, 8, struct.pack(">QQ", 1, 0))
    yield relay_message(13, 10, struct.pack(">Q", 1))
    yield relay_message(13, 18, struct.pack(">IBQ", 1, 0, 0)
                        + struct.pack(">QQ", 1, 5))
    yield relay_message(13, 18, struct.pack(">IB7xQ", 1, 1, 2)
                        + struct.pack(">QQ", 1, 5))
    yield relay_message(13, 20, struct.pack(">QQBI", 0, 1700000001, 1, 1))
    yield relay_message(13, 21, struct.pack(">Q", 0))
    yield relay_message(13, 7, struct.pack(">QQ", 1, 2 ** 64 - 1))
    yield (b"\x0d" + struct.pack(">QQQII", 0, 1, 0, 4000, 96))


def relay_live_seeds():
    """Runs of live commands for fuzz-relay-live.c, whose relay holds one
    session (id 1): stream 1 (data, one packet) and stream 2 (metadata)."""
    def cmd(number, payload=b""):
        return struct.pack(">QII", len(payload), number, 0) + payload
    connect = cmd(1, struct.pack(">QIII", 2 ** 64 - 1, 2, 4, 1))
    attach = cmd(8) + cmd(3, struct.pack(">QQI", 1, 0, 1))
    yield connect + cmd(2)
    yield (connect + attach + cmd(7, struct.pack(">Q", 1))
           + cmd(6, struct.pack(">Q", 2)) + cmd(6, struct.pack(">Q", 2))
           + cmd(4, struct.pack(">Q", 1)) + cmd(5, struct.pack(">QQI", 1, 0, 4096))
           + cmd(4, struct.pack(">Q", 1)) + cmd(9, struct.pack(">Q", 1)))
    yield connect + attach + cmd(3, struct.pack(">QQI", 1, 0, 2))
    yield connect + cmd(3, struct.pack(">QQI", 1, 0, 2))
    yield connect + attach + cmd(5, struct.pack(">QQI", 1, 4000, 200))


def filter_seeds():
    """Expressions (a 0 byte first) and bytecode with a payload (1, u16
    length, bytecode, payload) for fuzz-ust-filter.c."""
    for expr in ('i == -7', 'i < 0 && n == 0x1234 || d >= 2.5', 's == "hel*"',
                 '!(a != "abc") && t == "x\\*z"', 'e == 12 || u > 98 || q == 1',
                 '$ctx.vpid == 1 && $ctx.procname == "f*"', '-(-i) != 7.5',
                 '((s)) == "a" || ((i == 1', '"x" == 1',
                 'q[0] == 1 && a[2] == 99 || t[0x10] > 0', 'q[0'):
        yield b"\0" + expr.encode()
    field_i = bytes([1, 1]) + b"i"
    int7 = bytes([3]) + struct.pack("<q", -7)
    string = bytes([5, 5, 0]) + b"hello"
    code = bytes([1]) + field_i + int7 + bytes([7])
    payload = struct.pack("<iH", -7, 0x1234) + struct.pack("<d", 2.5) + b"hello\0abc\0\0\0\0\0"
    yield bytes([1]) + struct.pack("<H", len(code)) + code + payload
    code = bytes([1]) + bytes([1, 1]) + b"s" + string + bytes([7]) + field_i + int7 + bytes([8, 15])
    yield bytes([1]) + struct.pack("<H", len(code)) + code + payload
    yield bytes([1]) + struct.pack("<H", len(code)) + code + payload[:9]
    elem_q0 = bytes([17, 1]) + b"q" + struct.pack("<I", 0)
    code = bytes([1]) + elem_q0 + int7 + bytes([7])
    yield bytes([1]) + struct.pack("<H", len(code)) + code + payload


def stat_seeds():
    """/proc/PID/stat lines as the statedump parses them (fuzz-kernel):
    a plain one, a comm with ') ' and spaces, and lines cut short."""
    tail = b" 0 0 0 0 0 0 0 0 20 0 1 0 100" + b" 0" * 16 + b" 1 0 0 0 0\n"
    yield b"1 (init) S 0 1 1 0 -1 4194560" + tail
    yield b"4242 (a) b (c) R 17 4242 4242 0 -1 2097216" + tail
    yield b"7 (x) S 1 7 7 0 -1 4194560 0 0 0"
    yield b"7 (x"


def seeds(kind, data_dir):
    if kind == "kernel":
        yield from stat_seeds()
        kind = "stream"
    if kind == "filter":
        yield from filter_seeds()
        return
    if kind == "ctl":
        yield from ctl_seeds()
        return
    if kind == "live":
        yield from live_seeds()
        return
    if kind == "relay":
        yield from relay_seeds()
        return
    if kind == "relay-live":
        yield from relay_live_seeds()
        return
    for _, metadata, streams in trace_dirs(data_dir):
        if kind == "metadata":
            yield read_prefix(metadata, 1 << 24)
        elif kind == "stream":
            for stream in streams:
                yield read_prefix(stream, SEED_MAX)
        elif kind == "trace":
            text = read_prefix(metadata, 1 << 24)
            for stream in streams:
                yield (struct.pack("<I", len(text)) + text
                       + read_prefix(stream, SEED_MAX))
        else:
            raise SystemExit("run-fuzz-smoke: unknown seed kind '%s'" % kind)


def collect(kind, shared_dir, corpus):
    """Fills CORPUS with the seeds of KIND once; returns how many it added."""
    stamp = corpus.rstrip("/") + ".seeded"
    os.makedirs(corpus, exist_ok=True)
    if os.path.exists(stamp):
        return 0
    data_dir = os.path.join(shared_dir, "data")
    added = 0
    if os.path.isdir(data_dir):
        for seed in seeds(kind, data_dir):
            name = os.path.join(corpus, hashlib.sha1(seed).hexdigest())
            if not os.path.exists(name):
                with open(name, "wb") as f:
                    f.write(seed)
                added += 1
        open(stamp, "w").close()
    else:
        print("run-fuzz-smoke: no corpora at '%s': no seeds" % data_dir)
    return added


def corpus_files(corpus):
    return sorted(os.path.join(corpus, n) for n in os.listdir(corpus)
                  if os.path.isfile(os.path.join(corpus, n)))


def run_libfuzzer(exe, corpus):
    seconds = int(os.environ.get("SONDE_FUZZ_SECONDS", "10"))
    artifacts = os.path.join(os.path.dirname(os.path.dirname(corpus)),
                             "fuzz-artifacts")
    os.makedirs(artifacts, exist_ok=True)
    prefix = os.path.join(artifacts, os.path.basename(exe) + "-")
    cmd = [exe, "-max_total_time=%d" % seconds, "-timeout=10",
           "-rss_limit_mb=2048", "-print_final_stats=1",
           "-artifact_prefix=" + prefix, corpus]
    print("run-fuzz-smoke: " + " ".join(cmd), flush=True)
    status = subprocess.call(cmd)
    if status != 0:
        print("run-fuzz-smoke: %s failed (exit %d); reproducer in %s*"
              % (os.path.basename(exe), status, prefix))
        return 1
    return 0


def run_replay(exe, corpus):
    files = corpus_files(corpus)
    if not files:
        print("run-fuzz-smoke: empty corpus, nothing to replay")
        return SKIP
    print("run-fuzz-smoke: replaying %d inputs through %s"
          % (len(files), os.path.basename(exe)), flush=True)
    chunk = 128
    for i in range(0, len(files), chunk):
        batch = files[i:i + chunk]
        try:
            status = subprocess.call([exe] + batch, timeout=300)
        except subprocess.TimeoutExpired:
            print("run-fuzz-smoke: timeout replaying %s .. %s"
                  % (batch[0], batch[-1]))
            return 1
        if status != 0:
            # Narrow the failure down to one input for the log.
            for path in batch:
                if subprocess.call([exe, path], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) != 0:
                    print("run-fuzz-smoke: %s fails on %s" % (exe, path))
                    break
            return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", required=True,
                        choices=("metadata", "stream", "kernel", "trace",
                                 "ctl", "live", "relay", "relay-live",
                                 "filter"))
    parser.add_argument("--shared", required=True)
    parser.add_argument("--corpus", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--libfuzzer", action="store_true")
    mode.add_argument("--replay", action="store_true")
    parser.add_argument("exe")
    args = parser.parse_args()

    added = collect(args.kind, args.shared, args.corpus)
    print("run-fuzz-smoke: corpus %s (%d new seeds of kind '%s')"
          % (args.corpus, added, args.kind))
    if args.libfuzzer:
        return run_libfuzzer(args.exe, args.corpus)
    return run_replay(args.exe, args.corpus)


if __name__ == "__main__":
    sys.exit(main())
