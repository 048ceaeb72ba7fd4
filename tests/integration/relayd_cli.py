#!/usr/bin/env python3
"""sonde-relayd's command line and attach rules, without any peer: --help,
bad options and URLs, a port in use, -d (returns once listening), and
several viewers on one session (allowed by default, refused with
--one-viewer-per-session as lttng-relayd does).

usage: relayd_cli.py SONDE-RELAYD   (TAP)"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from harness import Tap
from relay_wire import Producer, Viewer
from relayd_peers import Relay, make_root


def run(argv, timeout=20):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def one_error_line(err):
    lines = [l for l in err.splitlines() if l]
    return len(lines) == 1 and lines[0].startswith("sonde-relayd: error: ")


def pids_with(text):
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if text.encode() in f.read():
                    out.append(int(pid))
        except OSError:
            pass
    return out


def attach_twice(tap, relayd, root, extra, want_second):
    relay = Relay(relayd, root, *extra)
    try:
        p = Producer("127.0.0.1", relay.control, relay.data)
        p.version()
        p.create_session(b"multi", b"cli-host")
        p.create_chunk()
        p.add_stream(b"channel0_0", b"ust/uid/0/64-bit")
        p.add_stream(b"metadata", b"ust/uid/0/64-bit")
        p.streams_sent()
        statuses = []
        viewers = []
        for _ in range(2):
            v = Viewer("127.0.0.1", relay.live)
            v.connect()
            v.create_session()
            sid = [s[0] for s in v.list_sessions() if s[2] == "multi"][0]
            status, streams = v.attach(sid, seek=2)
            statuses.append((status, len(streams)))
            viewers.append(v)
        label = " ".join(extra) or "default"
        tap.check(statuses[0] == (1, 2) and statuses[1][0] == want_second,
                  "%s: second viewer's attach status %d" % (label, want_second),
                  statuses)
        for v in viewers:
            v.close()
        p.close()
    finally:
        relay.close()


def main():
    relayd = os.path.abspath(sys.argv[1])
    tap = Tap()
    root = make_root("sonde-relayd-cli-")
    try:
        code, out, err = run([relayd, "--help"])
        tap.check(code == 0 and "--live-port" in out, "--help")
        code, out, err = run([relayd, "--no-such-option"])
        tap.check(code == 2, "an unknown option exits 2", err)
        code, out, err = run([relayd, "-C", "udp://1.2.3.4:5", "-o", root])
        tap.check(code == 1 and one_error_line(err) and "udp://" in err,
                  "a bad URL: one error line, exit 1", err)
        code, out, err = run([relayd, "-L", "tcp://127.0.0.1:99999", "-o", root])
        tap.check(code == 1 and one_error_line(err), "a bad port: exit 1", err)

        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, out, err = run([relayd, "-C", "tcp://127.0.0.1:%d" % port,
                              "-D", "tcp://127.0.0.1:0", "-L", "tcp://127.0.0.1:0",
                              "-o", root])
        tap.check(code == 1 and one_error_line(err) and "control port" in err,
                  "a port in use: exit 1 naming the port", err)
        busy.close()

        out_dir = os.path.join(root, "daemon-out")
        ports = os.path.join(root, "daemon-ports")
        start = time.time()
        code, out, err = run([relayd, "-d", "-C", "tcp://127.0.0.1:0", "-D",
                              "tcp://127.0.0.1:0", "-L", "tcp://127.0.0.1:0",
                              "-o", out_dir, "--ports-file", ports])
        pids = pids_with(out_dir)
        listening = False
        if code == 0 and os.path.exists(ports):
            with open(ports) as f:
                live = int(f.read().split()[2])
            try:
                socket.create_connection(("127.0.0.1", live), 2).close()
                listening = True
            except OSError:
                pass
        tap.check(code == 0 and listening and len(pids) == 1 and
                  time.time() - start < 10,
                  "-d returns 0 with the daemon listening", (code, err, pids))
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        end = time.time() + 10
        while pids_with(out_dir) and time.time() < end:
            time.sleep(0.05)
        tap.check(not pids_with(out_dir), "the daemon exits on SIGTERM")

        for sub, extra, want in (("a", [], 1),
                                 ("b", ["--one-viewer-per-session"], 2)):
            os.mkdir(os.path.join(root, sub))
            attach_twice(tap, relayd, os.path.join(root, sub), extra, want)
    finally:
        for pid in pids_with(root):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
