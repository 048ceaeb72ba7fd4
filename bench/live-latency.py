#!/usr/bin/env python3
"""Live latency of `sonde view net://` against babeltrace2 -i lttng-live,
in one run: a private lttng-relayd (then sonde-relayd, when given) and
lttng-sessiond with two live sessions at a 100 ms live timer, fed by one
live-ust-app run (EVENTS events, one every PERIOD_MS); sonde reads one
session, babeltrace2 the other (lttng-relayd allows one viewer per
session).  Latency = when the viewer printed an event's line - the
event's timestamp (both print --clock-seconds); the viewer's CPU time
comes from its rusage.  Prints median and p90 per viewer and the ratios.

usage: live-latency.py SONDE LIVE_UST_APP [SONDE_RELAYD]   (needs root)
Environment: SONDE_BENCH_EVENTS (default 300), SONDE_BENCH_PERIOD_MS (10),
SONDE_BENCH_TIMER_US (100000).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from live_view import Peers  # noqa: E402  (the test's daemons, reused)

STAMP = re.compile(r"^\[(\d+)\.(\d+)\]")


def reader(proc, arrivals):
    for line in proc.stdout:
        now = time.time()
        m = STAMP.match(line.decode("utf-8", "replace"))
        if m:
            arrivals.append(now - (int(m.group(1)) + int(m.group(2)) / 1e9))


def stats(lat):
    lat = sorted(lat)
    if not lat:
        return float("nan"), float("nan")
    return lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.9))]


def run(relayd, sonde, app, events, period_ms, timer_us, root):
    peers = Peers(os.path.join(root, os.path.basename(relayd)), relayd)
    viewers = []
    try:
        if not peers.start():
            sys.exit("bench: the relay or session daemon did not start")
        for name in ("sa", "sb"):
            subprocess.run(peers.as_nobody(
                "lttng", "create", name, "--live=%d" % timer_us,
                "--set-url=net://127.0.0.1:%d:%d" % (peers.control, peers.data)),
                env=peers.env, stdout=subprocess.DEVNULL)
            peers.lttng("enable-event", "-u", "-s", name, "sonde_live_test:*")
            peers.lttng("start", name)
        host = socket.gethostname()
        base = "net://127.0.0.1:%d/host/%s/" % (peers.live, host)
        cmds = {"sonde view": [sonde, "view", "--clock-seconds", base + "sa"],
                "babeltrace2": ["babeltrace2", "-i", "lttng-live",
                                "--clock-seconds", base + "sb"]}
        lat, threads, procs = {}, [], {}
        for what, cmd in cmds.items():
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL)
            procs[what] = p
            viewers.append(p)
            lat[what] = []
            th = threading.Thread(target=reader, args=(p, lat[what]))
            th.start()
            threads.append(th)
        time.sleep(1.5)   # both attached, streams known
        subprocess.run(peers.as_nobody(app, str(events), str(period_ms)),
                       env=peers.env, check=True)
        time.sleep(2 * timer_us / 1e6 + 0.5)
        for name in ("sb", "sa"):
            peers.lttng("destroy", name)
        cpu = {}
        for what, p in procs.items():
            _, _, ru = os.wait4(p.pid, 0)
            p.returncode = 0
            cpu[what] = ru.ru_utime + ru.ru_stime
        for th in threads:
            th.join()
        return lat, cpu
    finally:
        for p in viewers:
            if p.returncode is None:
                p.kill()
                p.wait()
        peers.close()


def report(relayd, lat, cpu):
    med = {w: stats(l) for w, l in lat.items()}
    for what in lat:
        print("  %-12s via %-12s: %3d events, p50 %6.1f ms, p90 %6.1f ms, "
              "CPU %.3f s" % (what, os.path.basename(relayd),
                              len(lat[what]), med[what][0] * 1e3,
                              med[what][1] * 1e3, cpu[what]))
    s, b = med["sonde view"][0], med["babeltrace2"][0]
    print("  p50 latency ratio babeltrace2 / sonde view: %.2f" % (b / s))


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[-4], file=sys.stderr)
        return 2
    sonde, app = (os.path.abspath(a) for a in sys.argv[1:3])
    relays = ["lttng-relayd"] + [os.path.abspath(a) for a in sys.argv[3:]]
    events = int(os.environ.get("SONDE_BENCH_EVENTS", "300"))
    period_ms = int(os.environ.get("SONDE_BENCH_PERIOD_MS", "10"))
    timer_us = int(os.environ.get("SONDE_BENCH_TIMER_US", "100000"))
    if os.geteuid() != 0:
        sys.exit("bench: needs root (the session daemon runs as nobody)")
    root = tempfile.mkdtemp(prefix="sonde-bench-live-")
    os.chmod(root, 0o755)
    print("live latency, %d events every %d ms, live timer %d us"
          % (events, period_ms, timer_us))
    try:
        for relayd in relays:
            report(relayd, *run(relayd, sonde, app, events, period_ms,
                                timer_us, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
