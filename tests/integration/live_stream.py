#!/usr/bin/env python3
"""libsonde-producer against the real relays: stream-trace sends a trace
directory to lttng-relayd, then to sonde-relayd, live (packets paced,
beacons for idle streams), as a consumer daemon would; `sonde view
net://...` reads it live meanwhile (two viewers at once on sonde-relayd).

Checks, per relay and trace (lttng-ust-sample from ../shared/data, and a
4-CPU kernel-like trace from sonde-gen): the producer ends cleanly; every
viewer prints every event and exits when the producer is gone; its lines
are babeltrace 1.5's for the original trace (compared without the delta
column and sorted: events with equal timestamps come in babeltrace2's
tie order live, in babeltrace 1.5's heap order offline); the trace the
relay stored reads, with babeltrace 1.5, exactly as the original.

usage: live_stream.py SONDE STREAM_TRACE SONDE_RELAYD SONDE_GEN
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import SKIP, Tap, free_ports, port_open

USTSAMPLE = os.path.join("data", "traces", "lttng-ust-sample", "ust", "uid",
                         "0", "64-bit")


def normalized(text):
    """Event lines without the (+delta) column, sorted."""
    return sorted(re.sub(r"^(\[[^]]*\]) \([^)]*\)", r"\1", line)
                  for line in text.splitlines())


def babeltrace(path):
    r = subprocess.run(["babeltrace", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=dict(os.environ, TZ="UTC"),
                       timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def run_relay(tap, args, relayd, root, traces):
    name = os.path.basename(relayd)
    ours = name == "sonde-relayd"
    out = os.path.join(root, name + "-out")
    control, data, live = free_ports(3)
    relay = subprocess.Popen(
        [relayd, "-C", "tcp://127.0.0.1:%d" % control,
         "-D", "tcp://127.0.0.1:%d" % data, "-L", "tcp://127.0.0.1:%d" % live,
         "-o", out], stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(root, name + ".log"), "w"),
        start_new_session=True)
    procs = [relay]
    try:
        for _ in range(100):
            if port_open(live) and port_open(control):
                break
            time.sleep(0.05)
        host = socket.gethostname()
        for session, (trace, domain) in traces.items():
            tag = "[%s, %s] " % (name, session)
            go = os.path.join(root, session + "-" + name + ".go")
            producer = subprocess.Popen(
                [args.stream_trace, "127.0.0.1", str(control), str(data),
                 session, "100000", trace, domain, "2000", go],
                stderr=subprocess.PIPE, start_new_session=True)
            procs.append(producer)
            url = "net://127.0.0.1:%d/host/%s/%s" % (live, host, session)
            listed = False
            for _ in range(100):
                r = subprocess.run([args.sonde, "view",
                                    "net://127.0.0.1:%d" % live],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
                if ("/%s (timer = 100000" % session) in r.stdout.decode():
                    listed = True
                    break
                time.sleep(0.05)
            tap.check(listed, tag + "the streamed session is listed")
            outs = [os.path.join(root, "%s-%s-%d.txt" % (name, session, i))
                    for i in range(2 if ours else 1)]
            viewers = [subprocess.Popen([args.sonde, "view", url, "-w", o],
                                        stderr=subprocess.PIPE,
                                        start_new_session=True)
                       for o in outs]
            procs += viewers
            time.sleep(0.3)
            open(go, "w").close()
            try:
                rc = producer.wait(timeout=60)
            except subprocess.TimeoutExpired:
                rc = None
            tap.check(rc == 0, tag + "the producer streamed and closed",
                      producer.stderr.read().decode() if rc is not None else
                      "timeout")
            rc_orig, orig = babeltrace(trace)
            for i, (v, o) in enumerate(zip(viewers, outs)):
                try:
                    rc = v.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    rc = None
                tap.check(rc == 0, tag + "viewer %d exits 0 at the end" % i,
                          "exit %s: %s" % (rc, v.stderr.read().decode()
                                           if rc is not None else ""))
                live_text = open(o).read()
                tap.check(rc_orig == 0 and live_text.count("\n") ==
                          orig.count("\n") and
                          normalized(live_text) == normalized(orig),
                          tag + "viewer %d printed every event as babeltrace "
                          "does (%d)" % (i, orig.count("\n")),
                          "live %d lines, babeltrace %d" % (
                              live_text.count("\n"), orig.count("\n")))
            stored = [os.path.join(out, host, d)
                      for d in os.listdir(os.path.join(out, host))
                      if d.startswith(session + "-")]
            rc_stored, text = babeltrace(stored[0]) if stored else (1, "")
            tap.check(rc_stored == 0 and text == orig and orig,
                      tag + "the stored trace reads as the original",
                      "%d vs %d lines" % (text.count("\n"), orig.count("\n")))
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


class Args:
    pass


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    args = Args()
    args.sonde, args.stream_trace, sonde_relayd, sonde_gen = (
        os.path.abspath(a) for a in sys.argv[1:])
    for tool in ("lttng-relayd", "babeltrace"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s is not installed" % tool)
            return SKIP
    shared = os.environ.get("SONDE_SHARED_DIR", "../shared")
    ust = os.path.join(shared, USTSAMPLE)
    if not os.path.isdir(ust):
        print("1..0 # SKIP %s not found" % ust)
        return SKIP
    tap = Tap()
    root = tempfile.mkdtemp(prefix="sonde-stream-")
    try:
        kernel = os.path.join(root, "gen")
        subprocess.run([sonde_gen, "-o", kernel, "-n", "3000", "-s", "4",
                        "--packet-size", "4"], check=True,
                       stdout=subprocess.DEVNULL)
        traces = {"ustsample": (ust, "ust/uid/0/64-bit"),
                  "gen": (kernel, "kernel")}
        for relayd in (shutil.which("lttng-relayd"), sonde_relayd):
            run_relay(tap, args, relayd, root, traces)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
