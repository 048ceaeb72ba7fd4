#!/usr/bin/env python3
"""A sonde kernel session streamed live to a relay, through the CLI and a
private daemon: `sonde create --live=100000 -U net://...` against
lttng-relayd, then sonde-relayd (free loopback ports, own output dirs),
sched_switch for about a second.

Checks, per relay: `sonde view net://...` attached before the start
prints every event the local trace holds (compared without the delta
column and sorted: events with equal timestamps come in babeltrace2's tie
order live) and exits when the session is destroyed; on sonde-relayd,
babeltrace2 attached after the start reads live to the end too; the trace the relay
stored reads, with babeltrace 1.5, exactly as the local one.  Also: a
relay that is not there fails enable-event with one line.

Skips (TAP plan 1..0 # SKIP, exit 0) when not root or tracefs is unavailable.
Usage: live_kernel.py SONDE SONDE-SESSIOND SONDE-RELAYD
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from harness import (Sandbox, Tap, babeltrace, free_ports, kill_groups,
                     one_error_line, port_open)

TRACEFS = "/sys/kernel/tracing"


def normalized(text):
    return sorted(re.sub(r"^(\[[^]]*\]) \([^)]*\)", r"\1", line)
                  for line in text.splitlines())


def one_relay(t, box, relayd, tag_session):
    name = os.path.basename(relayd)
    ours = name == "sonde-relayd"
    tag = "[%s] " % name
    out = box.path(name + "-out")
    control, data, live = free_ports(3)
    relay = subprocess.Popen(
        [relayd, "-C", "tcp://127.0.0.1:%d" % control,
         "-D", "tcp://127.0.0.1:%d" % data, "-L", "tcp://127.0.0.1:%d" % live,
         "-o", out], stdout=subprocess.DEVNULL,
        stderr=open(box.path(name + ".log"), "w"), start_new_session=True)
    procs = [relay]
    session = tag_session + name.split("-")[0]
    local = box.path(session + "-local")
    try:
        for _ in range(100):
            if port_open(live) and port_open(control):
                break
            time.sleep(0.05)
        rc, _, err = box.run("create", session, "--live=100000", "-U",
                             "net://127.0.0.1:%d:%d" % (control, data),
                             "-o", local)
        t.check(rc == 0, tag + "sonde create --live -U", err)
        rc, _, err = box.run("enable-event", "-k", "sched_switch")
        t.check(rc == 0, tag + "enable-event connects to the relay", err)
        url = "net://127.0.0.1:%d/host/%s/%s" % (live, socket.gethostname(),
                                                 session)
        live_out = box.path(session + "-live.txt")
        viewer = subprocess.Popen([box.sonde, "view", url, "-w", live_out],
                                  env=box.env, stderr=subprocess.PIPE,
                                  start_new_session=True)
        procs.append(viewer)
        time.sleep(0.3)
        rc, _, err = box.run("start")
        t.check(rc == 0, tag + "start", err)
        # A second viewer, on sonde-relayd only (lttng-relayd allows one).
        # babeltrace2 only polls for new streams when a stream it has
        # says so: like with LTTng kernel sessions, attach after start.
        time.sleep(0.5)
        bt2 = None
        if ours:
            bt2 = subprocess.Popen(["babeltrace2", "-i", "lttng-live", url],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE,
                                   start_new_session=True)
            procs.append(bt2)
        time.sleep(1)
        rc, _, err = box.run("stop")
        t.check(rc == 0, tag + "stop", err)
        rc, _, err = box.run("destroy")
        t.check(rc == 0, tag + "destroy finishes the streamed trace", err)
        try:
            rc = viewer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        t.check(rc == 0, tag + "sonde view exits 0 after destroy",
                "exit %s: %s" % (rc, viewer.stderr.read().decode()
                                 if rc is not None else ""))
        rc_local, local_text = babeltrace(os.path.join(local, "kernel"),
                                          box.env)
        live_text = open(live_out).read() if os.path.exists(live_out) else ""
        n = local_text.count("\n")
        t.check(rc_local == 0 and n > 0 and
                normalized(live_text) == normalized(local_text),
                tag + "sonde view printed the %d events of the local trace"
                % n, "live %d lines" % live_text.count("\n"))
        if bt2:
            try:
                bt2_out, bt2_err = bt2.communicate(timeout=30)
                rc = bt2.returncode
            except subprocess.TimeoutExpired:
                rc, bt2_out, bt2_err = None, b"", b""
            t.check(rc == 0 and 0 < bt2_out.count(b"\n") <= n,
                    tag + "babeltrace2 read live to the end too (%d events)"
                    % bt2_out.count(b"\n"),
                    "exit %s: %s" % (rc, bt2_err.decode()[-1000:]))
        host = os.path.join(out, socket.gethostname())
        stored = [os.path.join(host, d) for d in os.listdir(host)
                  if d.startswith(session + "-")] if os.path.isdir(host) else []
        rc, stored_text = (babeltrace(os.path.join(stored[0], "kernel"),
                                      box.env) if stored else (1, ""))
        t.check(rc == 0 and stored_text == local_text,
                tag + "the relay's trace reads as the local one",
                "%s: %d vs %d lines" % (stored, stored_text.count("\n"), n))
    finally:
        kill_groups(procs)


def main():
    if len(sys.argv) != 4:
        print("usage: live_kernel.py SONDE SONDE-SESSIOND SONDE-RELAYD")
        return 2
    sonde, sessiond, relayd = sys.argv[1:]
    if os.geteuid() != 0 or not os.path.isdir(os.path.join(TRACEFS, "instances")):
        print("1..0 # SKIP not root or no tracefs: no kernel tracing")
        return 0
    for tool in ("lttng-relayd", "babeltrace", "babeltrace2"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s is not installed" % tool)
            return 0
    t = Tap()
    box = Sandbox(sonde, sessiond)
    tag = "live%d" % os.getpid()
    try:
        dead = free_ports(2)
        rc, _, err = box.run("create", tag + "x", "--live", "-U",
                             "net://127.0.0.1:%d:%d" % tuple(dead),
                             "-o", box.path("x"))
        t.check(rc == 0, "create does not connect yet", err)
        rc, _, err = box.run("enable-event", "-k", "sched_switch")
        t.check(rc == 1 and one_error_line(err) and "relay" in err,
                "enable-event without a relay: one-line error", err)
        box.run("destroy")
        for relayd_exe in (shutil.which("lttng-relayd"),
                           os.path.abspath(relayd)):
            one_relay(t, box, relayd_exe, tag)
    finally:
        box.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
