#!/usr/bin/env python3
"""Test clients for sonde-relayd, speaking just enough of LTTng's relay
protocols (../shared/docs/protocols.md): a producer that replays a CTF
trace directory (metadata, streams and their index files) as an LTTng
2.13 consumer would, and a raw live viewer.  Test tools only, able to
misbehave on purpose; the relay's own codecs are in src/relay and
src/live.

As a program: relay_wire.py replay HOST CONTROL DATA TRACE_DIR SESSION
HOSTNAME [--pace-ms N] [--index-first-every N] [--stall-after-packets N]
[--go-file F] replays the trace (stalling forever after N packets, for
kill -9 tests; sending data only once F exists)."""
import argparse
import os
import socket
import struct
import sys
import time

OK = 10


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("relay closed the connection")
        buf += chunk
    return buf


class Producer:
    def __init__(self, host, control, data, minor=13):
        self.c = socket.create_connection((host, control))
        self.d = socket.create_connection((host, data))
        self.minor = minor
        self.seq = {}

    def command(self, cmd, payload, reply_size):
        self.c.sendall(struct.pack(">QQII", 0, len(payload), cmd, 0) + payload)
        return recv_exact(self.c, reply_size) if reply_size else b""

    def version(self):
        major, minor = struct.unpack(">II", self.command(
            5, struct.pack(">II", 2, self.minor), 8))
        self.minor = min(self.minor, minor)
        return major, minor

    def create_session(self, name, hostname, live_timer=100000, base_path=b"",
                       creation_time=None):
        names = name + b"\0" + hostname + b"\0" + base_path + b"\0"
        payload = (struct.pack(">IIII", len(name) + 1, len(hostname) + 1,
                               len(base_path) + 1, live_timer)
                   + b"\0\0" + b"\x5a" * 16
                   + struct.pack(">QQ", 1, int(creation_time or time.time()))
                   + b"\0" + bytes(8) + names)
        head = self.command(2, payload, 16)
        sid, ret, plen = struct.unpack(">QII", head)
        path = recv_exact(self.c, plen) if plen else b""
        return sid, ret, path.rstrip(b"\0").decode()

    def create_chunk(self, chunk_id=0):
        return self.ret(self.command(19, struct.pack(">QQI", chunk_id,
                                                     int(time.time()), 0), 4))

    def add_stream(self, channel, path):
        payload = (struct.pack(">IIQQQ", len(channel) + 1, len(path) + 1, 0, 0, 0)
                   + channel + b"\0" + path + b"\0")
        handle, ret = struct.unpack(">QI", self.command(1, payload, 12))
        self.seq[handle] = 0
        return handle, ret

    @staticmethod
    def ret(reply):
        return struct.unpack(">I", reply[:4])[0]

    def streams_sent(self):
        return self.ret(self.command(16, b"", 4))

    def send_metadata(self, handle, data):
        self.command(6, struct.pack(">QI", handle, 0) + data, 0)

    def send_data(self, handle, packet, padding=0):
        seq = self.seq[handle]
        self.d.sendall(struct.pack(">QQQII", 0, handle, seq, len(packet),
                                   padding) + packet)
        self.seq[handle] = seq + 1
        return seq

    def send_index(self, handle, seq, entry):
        """entry: the 72-byte .idx entry (offset first, then the fields)."""
        fields = entry[8:72]
        return self.ret(self.command(13, struct.pack(">QQ", handle, seq)
                                     + fields, 4))

    def close_stream(self, handle):
        last = self.seq[handle] - 1 if self.seq[handle] else 2 ** 64 - 1
        return self.ret(self.command(7, struct.pack(">QQ", handle, last), 4))

    def close(self):
        self.c.close()
        self.d.close()


def trace_streams(trace_dir):
    """(name, data path, [72-byte index entries]) of each data stream."""
    out = []
    for name in sorted(os.listdir(trace_dir)):
        path = os.path.join(trace_dir, name)
        idx = os.path.join(trace_dir, "index", name + ".idx")
        if name == "metadata" or not os.path.isfile(path) or not os.path.exists(idx):
            continue
        with open(idx, "rb") as f:
            data = f.read()
        esize = struct.unpack(">I", data[12:16])[0]
        entries = [data[o:o + esize].ljust(72, b"\0")
                   for o in range(16, len(data) - esize + 1, esize)]
        out.append((name, path, entries))
    return out


def replay(host, control, data, trace_dir, session, hostname, pace_ms=0,
           index_first_every=0, stall_after=-1, live_timer=100000,
           go_file=None):
    p = Producer(host, control, data)
    p.version()
    sid, ret, _ = p.create_session(session.encode(), hostname.encode(), live_timer)
    if ret != OK:
        raise RuntimeError("create-session refused: %d" % ret)
    p.create_chunk()
    streams = []
    for name, path, entries in trace_streams(trace_dir):
        handle, ret = p.add_stream(name.encode(), b"ust/uid/0/64-bit")
        streams.append((handle, path, entries))
    meta, _ = p.add_stream(b"metadata", b"ust/uid/0/64-bit")
    p.streams_sent()
    while go_file and not os.path.exists(go_file):
        time.sleep(0.02)
    with open(os.path.join(trace_dir, "metadata"), "rb") as f:
        p.send_metadata(meta, f.read())
    sent = 0
    longest = max(len(e) for _, _, e in streams)
    for k in range(longest):
        for handle, path, entries in streams:
            if k >= len(entries):
                continue
            offset, size = struct.unpack(">QQ", entries[k][:16])
            with open(path, "rb") as f:
                f.seek(offset)
                packet = f.read(size // 8)
            if sent == stall_after:
                # Half a packet, then nothing: the test kills us here.
                p.d.sendall(struct.pack(">QQQII", 0, handle, p.seq[handle],
                                        len(packet), 0) + packet[:len(packet) // 2])
                print("stalled", flush=True)
                time.sleep(3600)
            if index_first_every and k % index_first_every == 0:
                p.send_index(handle, p.seq[handle], entries[k])
                p.send_data(handle, packet)
            else:
                seq = p.send_data(handle, packet)
                p.send_index(handle, seq, entries[k])
            sent += 1
            if pace_ms:
                time.sleep(pace_ms / 1000.0)
    for handle, _, _ in streams:
        p.close_stream(handle)
    p.close_stream(meta)
    p.close()
    return sid


class Viewer:
    def __init__(self, host, port, rcvbuf=0):
        self.s = socket.socket()
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect((host, port))

    def send(self, cmd, payload=b""):
        self.s.sendall(struct.pack(">QII", len(payload), cmd, 0) + payload)

    def recv(self, n):
        return recv_exact(self.s, n)

    def connect(self, minor=4):
        self.send(1, struct.pack(">QIII", 2 ** 64 - 1, 2, minor, 1))
        return struct.unpack(">QIII", self.recv(20))

    def list_sessions(self):
        self.send(2)
        count = struct.unpack(">I", self.recv(4))[0]
        out = []
        for _ in range(count):
            e = self.recv(339)
            sid, timer, clients, streams = struct.unpack(">QIII", e[:20])
            out.append((sid, e[20:84].rstrip(b"\0").decode(),
                        e[84:].rstrip(b"\0").decode(), clients, streams))
        return out

    def create_session(self):
        self.send(8)
        return struct.unpack(">I", self.recv(4))[0]

    def attach(self, sid, seek=1):
        self.send(3, struct.pack(">QQI", sid, 0, seek))
        status, count = struct.unpack(">II", self.recv(8))
        streams = []
        for _ in range(count):
            r = self.recv(4371)
            vid, trace, meta = struct.unpack(">QQI", r[:20])
            streams.append((vid, trace, meta))
        return status, streams

    def next_index(self, vid):
        self.send(4, struct.pack(">Q", vid))
        return struct.unpack(">QQQQQQQII", self.recv(64))

    def get_metadata(self, vid):
        self.send(6, struct.pack(">Q", vid))
        length, status = struct.unpack(">QI", self.recv(12))
        return status, self.recv(length) if length else b""

    def close(self):
        self.s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["replay"])
    ap.add_argument("host")
    ap.add_argument("control", type=int)
    ap.add_argument("data", type=int)
    ap.add_argument("trace")
    ap.add_argument("session")
    ap.add_argument("hostname")
    ap.add_argument("--pace-ms", type=float, default=0)
    ap.add_argument("--index-first-every", type=int, default=0)
    ap.add_argument("--stall-after-packets", type=int, default=-1)
    ap.add_argument("--go-file", help="wait for this file before sending data")
    a = ap.parse_args()
    replay(a.host, a.control, a.data, a.trace, a.session, a.hostname,
           a.pace_ms, a.index_first_every, a.stall_after_packets,
           go_file=a.go_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
