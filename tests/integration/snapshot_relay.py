#!/usr/bin/env python3
"""Snapshot sessions sent to a relay, through the CLI and a private daemon:
`sonde create --snapshot -U net://...` against lttng-relayd, then
sonde-relayd (free loopback ports, own output dirs), with user-space
events of the test program (tests/ust/ust-app) and, as root with tracefs,
kernel sched_switch.

Checks, per relay: once the session is stopped (its buffers frozen), a
local snapshot (`snapshot record -o DIR`) and one to the session's relay
hold the same traces, which babeltrace2 and `sonde view` read alike; the
relay put it in HOSTNAME/SESSION-DATE/snapshot-N-DATE-M/ as lttng does,
without index files, and the staging copy under the session's output is
gone; a second snapshot named with -n and sent with -C/-D lands next to
the first; a relay that is not there fails `snapshot record` with one line
at once, and the daemon goes on.

Skips (TAP plan 1..0 # SKIP, exit 0) without babeltrace2 or lttng-relayd.
Usage: snapshot_relay.py SONDE SONDE-SESSIOND SONDE-RELAYD UST-APP
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from harness import Sandbox, Tap, free_ports, kill_groups, one_error_line
from live_ust import start_relay, traces

TRACEFS = "/sys/kernel/tracing"


def bt2(path):
    p = subprocess.run(["babeltrace2", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def written_to(out):
    m = re.search(r"Snapshot written to (\S+)", out)
    return m.group(1) if m else ""


def compare(t, tag, box, local, stored):
    """The relay's snapshot holds the local one's traces, which read
    alike with babeltrace2 and sonde view."""
    want = traces(local)
    got = traces(stored) if stored and os.path.isdir(stored) else []
    t.check(want and got == want, tag + "the relay's snapshot holds the "
            "traces %s" % " ".join(want), "relay: %s" % got)
    for d in want:
        rc_l, text_l, err_l = bt2(os.path.join(local, d))
        rc_s, text_s, err_s = (bt2(os.path.join(stored, d)) if d in got
                               else (1, "", "missing"))
        t.check(rc_l == 0 and rc_s == 0 and text_l and text_s == text_l,
                tag + "babeltrace2 reads %s on the relay as the local one "
                "(%d events)" % (d, text_l.count("\n")),
                "%d vs %d lines: %s" % (text_s.count("\n"),
                                         text_l.count("\n"), err_s[-300:]))
    rc_l, view_l, _ = box.run("view", local)
    rc_s, view_s, err = box.run("view", stored or box.path("none"))
    t.check(rc_l == 0 and rc_s == 0 and view_l and view_s == view_l,
            tag + "sonde view reads the relay's snapshot as the local one",
            err)
    index = [d for d, _, _ in os.walk(stored or box.path("none"))
             if os.path.basename(d) == "index"]
    t.check(not index, tag + "no index files in the relay's snapshot, as "
            "with lttng", index)


def one_relay(t, box, app, relayd, session, kernel):
    name = os.path.basename(relayd)
    tag = "[%s] " % name
    relay, out, control, data, _ = start_relay(box, relayd, session + name)
    procs = [relay]
    output = box.path(session + "-output")
    try:
        rc, stdout, err = box.run("create", session, "--snapshot", "-U",
                                  "net://127.0.0.1:%d:%d" % (control, data),
                                  "-o", output)
        t.check(rc == 0 and "snapshots will be sent to net://127.0.0.1:%d"
                % control in stdout, tag + "sonde create --snapshot -U", err)
        rc, _, err = box.run("enable-event", "-u", "fields:*")
        t.check(rc == 0, tag + "enable-event -u", err)
        if kernel:
            rc, _, err = box.run("enable-event", "-k", "sched_switch")
            t.check(rc == 0, tag + "enable-event -k", err)
        rc, _, err = box.run("start")
        t.check(rc == 0, tag + "start", err)
        for _ in range(2):
            p = subprocess.run([app, box.path("unused"), "daemon-fields"],
                               env=box.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            if p.returncode:
                t.check(False, tag + "the test program runs", p.stderr)
        time.sleep(0.2)
        rc, _, err = box.run("stop")
        t.check(rc == 0, tag + "stop", err)

        local_dir = box.path(session + "-snaps")
        rc, stdout, err = box.run("snapshot", "record", "-o", local_dir)
        local = written_to(stdout)
        t.check(rc == 0 and os.path.isdir(local),
                tag + "a local snapshot with -o", err)
        t0 = time.time()
        rc, stdout, err = box.run("snapshot", "record")
        took = time.time() - t0
        host = socket.gethostname()
        m = re.search(r"Snapshot written to (\S+) on relay net://127.0.0.1:"
                      r"%d:%d" % (control, data), stdout)
        rel = m.group(1) if m else ""
        pattern = r"^%s/%s-\d{8}-\d{6}/snapshot-2-\d{8}-\d{6}-1$" % (
            re.escape(host), re.escape(session))
        t.check(rc == 0 and re.match(pattern, rel),
                tag + "snapshot record to the session's relay: %s (%.2f s)"
                % (rel, took), stdout + err)
        stored = os.path.join(out, rel) if rel else None
        compare(t, tag, box, local, stored)
        left = sorted(os.listdir(output)) if os.path.isdir(output) else []
        t.check(not left, tag + "the staging copy is gone", left)

        rc, stdout, err = box.run("snapshot", "record", "-n", "again", "-C",
                                  "tcp://127.0.0.1:%d" % control, "-D",
                                  "tcp://127.0.0.1:%d" % data)
        m = re.search(r"Snapshot written to (\S+) on relay", stdout)
        again = os.path.join(out, m.group(1)) if m else ""
        t.check(rc == 0 and m and os.path.dirname(again) ==
                os.path.dirname(stored or "") and
                re.match(r"again-\d{8}-\d{6}-2$", os.path.basename(again)) and
                traces(again) == traces(local),
                tag + "a second snapshot, -n again -C -D, next to the first",
                stdout + err)

        dead = free_ports(2)
        t0 = time.time()
        rc, _, err = box.run("snapshot", "record",
                             "net://127.0.0.1:%d:%d" % tuple(dead))
        took = time.time() - t0
        t.check(rc == 1 and one_error_line(err) and "relay" in err and
                took < 5, tag + "a relay that is not there: one line at "
                "once (%.2f s)" % took, err)
        rc, _, err = box.run("destroy", session)
        t.check(rc == 0, tag + "destroy", err)
    finally:
        kill_groups(procs)


def main():
    if len(sys.argv) != 5:
        print("usage: snapshot_relay.py SONDE SONDE-SESSIOND SONDE-RELAYD "
              "UST-APP")
        return 2
    sonde, sessiond, relayd, app = sys.argv[1:]
    for tool in ("lttng-relayd", "babeltrace2"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s is not installed" % tool)
            return 0
    kernel = os.geteuid() == 0 and os.path.isdir(
        os.path.join(TRACEFS, "instances"))
    t = Tap()
    box = Sandbox(sonde, sessiond)
    tag = "sr%d" % os.getpid()
    try:
        for i, relayd_exe in enumerate((shutil.which("lttng-relayd"),
                                        os.path.abspath(relayd))):
            one_relay(t, box, app, relayd_exe, "%s%d" % (tag, i), kernel)
    finally:
        box.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
