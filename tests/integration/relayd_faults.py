#!/usr/bin/env python3
"""sonde-relayd against hostile and failing peers, while it serves a
well-behaved producer and a babeltrace2 live viewer: a producer killed
with SIGKILL in the middle of a packet, a viewer that stops reading in the
middle of a packet and is then killed, and malformed messages on every
port (names climbing out of the output directory, absolute paths, huge
sizes, unknown commands and streams).  The relay must keep serving the
others, close only the offending connection with a logged one-line
reason, and leave every trace on disk readable.

usage: relayd_faults.py SONDE-RELAYD SONDE-GEN   (TAP)"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

from harness import Tap
from relay_wire import Producer, Viewer, replay
from relayd_peers import (Relay, babeltrace2_events, check_indexes,
                          make_root, which_all)

HERE = os.path.dirname(os.path.abspath(__file__))
HOST = "faulty-host"


def closed_by_relay(sock, seconds=5):
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def malformed(tap, relay):
    """Each hostile message closes its own connection only."""
    out_parent = os.path.dirname(relay.out)
    p = Producer("127.0.0.1", relay.control, relay.data)
    p.version()
    sid, ret, _ = p.create_session(b"..", b"evil")
    tap.check(ret != 10 and closed_by_relay(p.c),
              "create-session named '..' refused, connection closed")
    p.close()

    p = Producer("127.0.0.1", relay.control, relay.data)
    p.version()
    sid, ret, _ = p.create_session(b"s", b"../../escape")
    tap.check(ret != 10 and closed_by_relay(p.c),
              "hostname '../../escape' refused")
    p.close()

    p = Producer("127.0.0.1", relay.control, relay.data)
    p.version()
    sid, ret, _ = p.create_session(b"s", b"h", base_path=b"/etc/evil")
    tap.check(ret != 10 and closed_by_relay(p.c), "absolute base path refused")
    p.close()

    p = Producer("127.0.0.1", relay.control, relay.data)
    p.version()
    sid, ret, _ = p.create_session(b"climb", b"h")
    p.create_chunk()
    handle, ret = p.add_stream(b"chan_0", b"ust/../../../../escape")
    tap.check(ret != 10 and closed_by_relay(p.c), "stream path with '..' refused")
    p.close()

    p = Producer("127.0.0.1", relay.control, relay.data)
    p.version()
    p.create_session(b"nul", b"h")
    p.create_chunk()
    payload = (struct.pack(">IIQQQ", 5, 4, 0, 0, 0) + b"a\0b\0\0" + b"ust\0")
    p.c.sendall(struct.pack(">QQII", 0, len(payload), 1, 0) + payload)
    tap.check(closed_by_relay(p.c), "channel name with a NUL inside refused")
    p.close()

    s = socket.create_connection(("127.0.0.1", relay.control))
    s.sendall(struct.pack(">QQII", 0, 1 << 30, 5, 0))
    tap.check(closed_by_relay(s), "control header announcing 1 GiB refused")
    s.close()

    s = socket.create_connection(("127.0.0.1", relay.control))
    s.sendall(struct.pack(">QQII", 0, 8, 1, 0) + bytes(8))
    tap.check(closed_by_relay(s), "add-stream before version refused")
    s.close()

    s = socket.create_connection(("127.0.0.1", relay.data))
    s.sendall(struct.pack(">QQQII", 0, 999999, 0, 16, 0) + bytes(16))
    tap.check(closed_by_relay(s), "data for an unknown stream refused")
    s.close()

    v = Viewer("127.0.0.1", relay.live)
    v.connect()
    v.send(99)
    tap.check(struct.unpack(">I", v.recv(4))[0] == 11 and closed_by_relay(v.s),
              "unknown live command answered 11 (unknown), then closed")
    v.close()

    v = Viewer("127.0.0.1", relay.live)
    v.send(4, struct.pack(">Q", 1))
    tap.check(closed_by_relay(v.s), "live command before connect refused")
    v.close()

    escaped = [n for n in os.listdir(out_parent)
               if n not in ("out", "relayd.log", "ports", "gen", "viewer.txt",
                            "go")]
    tap.check(not escaped and not os.path.exists("/etc/evil"),
              "nothing written outside the output directory", escaped)
    tap.check(relay.alive(), "the relay is still up")


def main():
    relayd, gen = map(os.path.abspath, sys.argv[1:3])
    if which_all("babeltrace2"):
        print("1..0 # SKIP babeltrace2 missing")
        return 77
    tap = Tap()
    root = make_root("sonde-relayd-faults-")
    relay = None
    procs = []
    try:
        trace = os.path.join(root, "gen")
        subprocess.run([gen, "-o", trace, "--ust", "-n", "3000", "-s", "2",
                        "--packet-size", "4"], check=True,
                       stdout=subprocess.DEVNULL)
        relay = Relay(relayd, root)
        url = "net://127.0.0.1:%d/host/%s/good" % (relay.live, HOST)

        # The well-behaved pair: the producer creates its session and
        # streams, babeltrace2 attaches, then the producer replays the
        # trace slowly enough for the faults below to happen meanwhile.
        good = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "relay_wire.py"), "replay",
             "127.0.0.1", str(relay.control), str(relay.data), trace, "good",
             HOST, "--pace-ms", "2", "--index-first-every", "3",
             "--go-file", os.path.join(root, "go")],
            start_new_session=True)
        procs.append(good)
        relay.wait_log("(%s/good)" % HOST)
        out = open(os.path.join(root, "viewer.txt"), "w")
        viewer = subprocess.Popen(["babeltrace2", "--input-format=lttng-live",
                                   url], stdout=out,
                                  stderr=subprocess.STDOUT)
        procs.append(viewer)
        tap.check(relay.wait_log("viewer attached"),
                  "babeltrace2 attached to the good session", relay.log())
        open(os.path.join(root, "go"), "w").close()

        # A producer killed mid-packet.
        doomed = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "relay_wire.py"), "replay",
             "127.0.0.1", str(relay.control), str(relay.data), trace,
             "doomed", HOST, "--stall-after-packets", "5"],
            stdout=subprocess.PIPE, start_new_session=True)
        procs.append(doomed)
        tap.check(doomed.stdout.readline().strip() == b"stalled",
                  "second producer stalls in the middle of a packet")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        tap.check(relay.wait_log("producer 127.0.0.1", 1),
                  "its session is marked gone", relay.log())

        # A viewer that stops reading in the middle of a packet, then dies.
        stuck = Viewer("127.0.0.1", relay.live, rcvbuf=4096)
        stuck.connect()
        stuck.create_session()
        sessions = {name: sid for sid, _, name, _, _ in stuck.list_sessions()}
        status, streams = stuck.attach(sessions.get("good", 0), seek=1)
        data = [vid for vid, _, meta in streams if not meta]
        if data:
            # Ask for a whole megabyte-sized run of packets, read nothing.
            stuck.send(5, struct.pack(">QQI", data[0], 0, 4096))
            stuck.send(5, struct.pack(">QQI", data[0], 0, 4096))
        time.sleep(0.3)
        stuck.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                           struct.pack("ii", 1, 0))
        stuck.close()   # a reset, as a killed viewer's kernel sends

        malformed(tap, relay)

        good.wait(120)
        tap.check(good.returncode == 0, "the good producer streamed everything")
        try:
            viewer.wait(60)
        except subprocess.TimeoutExpired:
            viewer.kill()
            viewer.wait()
        code, offline, err = babeltrace2_events(trace)
        with open(os.path.join(root, "viewer.txt")) as f:
            live = [l for l in f.read().splitlines() if l]
        tap.check(viewer.returncode == 0 and live == offline and len(live) == 3000,
                  "the live viewer got all 3000 events, as babeltrace2 reads the source",
                  "exit %s, %d of %d lines" % (viewer.returncode, len(live),
                                               len(offline)))
        host_dir = os.path.join(relay.out, HOST)
        dirs = {d.split("-")[0]: os.path.join(host_dir, d)
                for d in os.listdir(host_dir)}
        code, stored, err = babeltrace2_events(dirs.get("good", host_dir))
        tap.check(code == 0 and stored == offline,
                  "the good session's stored trace is the source's", err)
        tap.check(not check_indexes(dirs.get("good", host_dir)),
                  "its indexes cover its streams",
                  check_indexes(dirs.get("good", host_dir)))
        code, partial, err = babeltrace2_events(dirs.get("doomed", host_dir))
        tap.check(code == 0 and 0 < len(partial) < 3000,
                  "the killed producer's trace is readable up to its last whole packet",
                  "exit %d, %d events: %s" % (code, len(partial), err[-500:]))
        tap.check(not check_indexes(dirs.get("doomed", host_dir)),
                  "and its indexes cover exactly what was written",
                  check_indexes(dirs.get("doomed", host_dir)))
        tap.check(relay.alive(), "the relay survived it all")
        lines = [l for l in relay.log().splitlines()
                 if "connection 127.0.0.1" in l]
        tap.check(len(lines) >= 10 and all("sonde-relayd[" in l for l in lines),
                  "each refusal logged on one line", relay.log())
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait()
        if relay:
            relay.close()
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
