#!/usr/bin/env python3
"""sonde-relayd with the real peers: a private lttng-sessiond streams a
live user-space session of live-ust-app into sonde-relayd while a local
session records the same run; two babeltrace2 live viewers attached at
once both get every event; babeltrace2 reads the stored trace and gets the
same events as from the local session; every index covers its stream.

usage: relayd_lttng.py SONDE-RELAYD LIVE-UST-APP   (TAP; exit 77 without the
peers)"""
import os
import re
import shutil
import subprocess
import sys
import time

from harness import Tap
from relayd_peers import (SKIP, Lttng, Relay, babeltrace2_events,
                          check_indexes, hostname, make_root, payload,
                          which_all)

EVENTS = 300


def per_pid(tap, relay, lttng, app, root, url, host):
    """Per-PID buffers: each short-lived app is a trace of its own, whose
    streams close when it exits, before a viewer may have asked for them
    (lttng-relayd 2.13 loses those events)."""
    lttng.lttng("create", "rpid", "--live=100000", "-U",
                "net://127.0.0.1:%d:%d" % (relay.control, relay.data))
    lttng.lttng("enable-channel", "-u", "--buffers-pid", "chan", "-s", "rpid")
    lttng.lttng("enable-event", "-u", "sonde_live_test:*", "-c", "chan",
                "-s", "rpid")
    lttng.lttng("start", "rpid")
    out = open(os.path.join(root, "pid-viewer.txt"), "w")
    viewer = subprocess.Popen(
        ["babeltrace2", "--input-format=lttng-live",
         "%s/host/%s/rpid" % (url, host)], stdout=out, stderr=subprocess.STDOUT)
    try:
        attached = relay.wait_log("(%s/rpid): viewer attached" % host)
        # Apart by more than a live-timer period: an app's last packet,
        # flushed after it exits, ends later than the next app's first
        # events otherwise, and babeltrace2 then sees time go backwards.
        for _ in range(3):
            lttng.run_cmd([app, "20", "0"])
            time.sleep(0.4)
        time.sleep(0.3)
        lttng.lttng("destroy", "rpid")
        viewer.wait(60)
    except subprocess.TimeoutExpired:
        viewer.kill()
        viewer.wait()
    with open(os.path.join(root, "pid-viewer.txt")) as f:
        text = f.read()
        got = [l for l in text.splitlines() if "sonde_live_test:tick" in l]
    tap.check(attached and viewer.returncode == 0 and len(got) == 60,
              "per-PID buffers: the live viewer gets the events of 3 short-lived apps",
              "exit %s, %d of 60 events\n%s" % (viewer.returncode, len(got),
                                                 text[-2000:]))
    pid_dirs = [d for d, _, files in os.walk(os.path.join(relay.out, host))
                if "/rpid-" in d and "metadata" in files]
    tap.check(len(pid_dirs) == 3 and all("/ust/pid/" in d for d in pid_dirs),
              "one ust/pid/PROC-PID-DATE trace per app", pid_dirs)


def main():
    relayd, app = map(os.path.abspath, sys.argv[1:3])
    missing = which_all("lttng", "lttng-sessiond", "babeltrace2")
    if missing or (os.geteuid() == 0 and not shutil.which("runuser")):
        print("1..0 # SKIP missing: %s" % " ".join(missing or ["runuser"]))
        return SKIP
    tap = Tap()
    root = make_root("sonde-relayd-lttng-")
    relay = lttng = None
    viewers = []
    try:
        relay = Relay(relayd, root)
        tap.check(relay.alive(), "sonde-relayd listens on ports %d %d %d"
                  % (relay.control, relay.data, relay.live))
        lttng = Lttng(root)
        local = os.path.join(root, "local")
        lttng.lttng("create", "rlive", "--live=100000", "-U",
                    "net://127.0.0.1:%d:%d" % (relay.control, relay.data))
        lttng.lttng("create", "rlocal", "--output=" + local)
        for name in ("rlive", "rlocal"):
            lttng.lttng("enable-event", "-u", "sonde_live_test:*", "-s", name)
            lttng.lttng("start", name)

        host = hostname()
        url = "net://127.0.0.1:%d" % relay.live
        listing = subprocess.run(
            ["babeltrace2", "--input-format=lttng-live", url],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        text = listing.stdout.decode(errors="replace")
        tap.check("%s/host/%s/rlive (timer = 100000" % (url, host) in text,
                  "babeltrace2 lists the live session", text)

        for i in range(2):
            out = open(os.path.join(root, "viewer%d.txt" % i), "w")
            viewers.append(subprocess.Popen(
                ["babeltrace2", "--input-format=lttng-live",
                 "%s/host/%s/rlive" % (url, host)],
                stdout=out, stderr=subprocess.STDOUT))
        tap.check(relay.wait_log("viewer attached", 2),
                  "two babeltrace2 viewers attached at once", relay.log())

        code, out = lttng.run_cmd([app, str(EVENTS), "1"])
        tap.check(code == 0, "live-ust-app ran", out)
        time.sleep(0.3)
        lttng.lttng("destroy", "rlive")
        lttng.lttng("destroy", "rlocal")

        seqs = list(range(EVENTS))
        lines = []
        for i, v in enumerate(viewers):
            try:
                v.wait(60)
            except subprocess.TimeoutExpired:
                v.kill()
                v.wait()
            with open(os.path.join(root, "viewer%d.txt" % i)) as f:
                lines.append([l for l in f.read().splitlines() if l])
            got = [int(m.group(1)) for m in
                   (re.search(r"seq = (\d+)", l) for l in lines[i]) if m]
            tap.check(v.returncode == 0 and got == seqs,
                      "live viewer %d exits 0 with all %d events in order"
                      % (i, EVENTS),
                      "exit %s, %d events; first lines:\n%s"
                      % (v.returncode, len(got), "\n".join(lines[i][:5])))

        traces = os.path.join(relay.out, host)
        sessions = [d for d in os.listdir(traces) if d.startswith("rlive-")]
        tap.check(len(sessions) == 1 and re.match(r"rlive-\d{8}-\d{6}$",
                                                  sessions[0]),
                  "stored as HOSTNAME/SESSION-YYYYmmdd-HHMMSS", sessions)
        stored = os.path.join(traces, sessions[0]) if sessions else traces
        tap.check(os.path.isdir(os.path.join(stored, "ust", "uid")) and
                  any(f == "metadata" for _, _, fs in os.walk(stored)
                      for f in fs),
                  "ust/uid/UID/64-bit with its metadata, as lttng-relayd")
        code, relayed, err = babeltrace2_events(stored)
        code2, localed, err2 = babeltrace2_events(local)
        tap.check(code == 0 and len(relayed) == EVENTS,
                  "babeltrace2 reads the %d events of the stored trace" % EVENTS,
                  "exit %d, %d events: %s" % (code, len(relayed), err))
        tap.check(code2 == 0 and [payload(l) for l in relayed] ==
                  [payload(l) for l in localed],
                  "same events as the local session of the same run",
                  "relayed %d, local %d" % (len(relayed), len(localed)))
        tap.check(all(l == r for l, r in zip(lines[0], relayed)) and
                  len(lines[0]) == len(relayed),
                  "live output is the stored trace's, line for line")
        problems = check_indexes(stored)
        tap.check(not problems, "every index covers its stream exactly",
                  "\n".join(problems))
        per_pid(tap, relay, lttng, app, root, url, host)
        tap.check(relay.alive() and "closed:" not in relay.log(),
                  "the relay logged no protocol error", relay.log())
    finally:
        for v in viewers:
            if v.poll() is None:
                v.kill()
                v.wait()
        if lttng:
            lttng.close()
        if relay:
            relay.close()
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
