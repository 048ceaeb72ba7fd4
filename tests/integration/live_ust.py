#!/usr/bin/env python3
"""A sonde user-space session streamed to a relay, through the CLI and a
private daemon: `sonde create --live=100000 -U net://...` against
lttng-relayd, then sonde-relayd (free loopback ports, own output dirs),
the instrumented test program (tests/ust/ust-app) run three times, with
per-UID buffers, then per-PID buffers (one trace per run, closed when its
program exits; the programs run 0.6 s each, long enough for a viewer to
poll: lttng-relayd never shows a viewer streams that closed before it
asked); and as root with tracefs, a mixed session (kernel sched_switch
and user space).

Checks, per relay and buffer kind: `sonde view net://...` attached before
the start prints every event the local trace holds (compared without the
delta column, sorted: equal timestamps come in babeltrace2's tie order)
and exits when the session is destroyed; on sonde-relayd, babeltrace2
reads live to the end, attached after the first run (per-UID), or during
it (per-PID), and then gets every event of the later programs; the traces the relay
stored read, with babeltrace 1.5, exactly as the local ones (each
ust/... directory); a session streamed without --live stores the same.

Skips (TAP plan 1..0 # SKIP, exit 0) without babeltrace, babeltrace2 or lttng-relayd.
Usage: live_ust.py SONDE SONDE-SESSIOND SONDE-RELAYD UST-APP
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

from harness import (Sandbox, Tap, babeltrace, finish, free_ports,
                     kill_groups, port_open)

TRACEFS = "/sys/kernel/tracing"
RUNS = 3


def normalized(text, times=True):
    """Lines without the delta column (and without the time when several
    traces are merged: babeltrace 1.5 and the viewer each apply the clock
    offset of the trace they met first), sorted."""
    pattern = r"^(\[[^]]*\]) \([^)]*\)" if times else r"^\[[^]]*\] \([^)]*\)"
    return sorted(re.sub(pattern, r"\1" if times else "", line)
                  for line in text.splitlines())


def traces(root):
    """The trace directories (holding metadata) below root, relative."""
    out = []
    for d, _, files in os.walk(root):
        if "metadata" in files:
            out.append(os.path.relpath(d, root))
    return sorted(out)


def start_relay(box, relayd, name):
    out = box.path(name + "-out")
    control, data, live = free_ports(3)
    relay = subprocess.Popen(
        [relayd, "-C", "tcp://127.0.0.1:%d" % control,
         "-D", "tcp://127.0.0.1:%d" % data, "-L", "tcp://127.0.0.1:%d" % live,
         "-o", out], stdout=subprocess.DEVNULL,
        stderr=open(box.path(name + ".log"), "w"), start_new_session=True)
    for _ in range(100):
        if port_open(live) and port_open(control):
            break
        time.sleep(0.05)
    return relay, out, control, data, live


def stored_dir(out, session):
    host = os.path.join(out, socket.gethostname())
    stored = [os.path.join(host, d) for d in os.listdir(host)
              if d.startswith(session + "-")] if os.path.isdir(host) else []
    return stored[0] if len(stored) == 1 else None


def compare_stored(t, tag, box, local, stored):
    """Every trace of the local copy, read by babeltrace 1.5, equals the
    relay's; the relay holds no other trace."""
    want = traces(local)
    got = traces(stored) if stored else []
    t.check(want and got == want, tag + "the relay stored the traces %s"
            % " ".join(want), "relay: %s" % got)
    for d in want:
        rc_l, text_l = babeltrace(os.path.join(local, d), box.env)
        rc_s, text_s = (babeltrace(os.path.join(stored, d), box.env)
                        if stored else (1, ""))
        t.check(rc_l == 0 and rc_s == 0 and text_l and text_s == text_l,
                tag + "%s on the relay reads as the local one (%d events)"
                % (d, text_l.count("\n")),
                "%d vs %d lines" % (text_s.count("\n"), text_l.count("\n")))


def one_session(t, box, app, relayd, session, pid_buffers=False,
                kernel=False, live=True):
    name = os.path.basename(relayd)
    ours = name == "sonde-relayd"
    tag = "[%s%s%s%s] " % (name, " per-PID" if pid_buffers else "",
                           " +kernel" if kernel else "",
                           "" if live else " not live")
    relay, out, control, data, live_port = start_relay(box, relayd,
                                                       session + name)
    procs = [relay]
    local = box.path(session + "-local")
    try:
        rc, _, err = box.run("create", session,
                             *(["--live=100000"] if live else []), "-U",
                             "net://127.0.0.1:%d:%d" % (control, data),
                             "-o", local)
        t.check(rc == 0, tag + "sonde create -U", err)
        if pid_buffers:
            rc, _, err = box.run("enable-channel", "-u", "--buffers-pid",
                                 "channel0")
            t.check(rc == 0, tag + "enable-channel -u --buffers-pid", err)
            rc, _, err = box.run("add-context", "-u", "-t", "vpid")
            t.check(rc == 0, tag + "add-context -u -t vpid", err)
        rc, _, err = box.run("enable-event", "-u", "fields:*")
        t.check(rc == 0, tag + "enable-event -u connects to the relay", err)
        if kernel:
            rc, _, err = box.run("enable-event", "-k", "sched_switch")
            t.check(rc == 0, tag + "enable-event -k", err)
        viewer = None
        url = "net://127.0.0.1:%d/host/%s/%s" % (live_port,
                                                 socket.gethostname(), session)
        live_out = box.path(session + "-live.txt")
        if live:
            viewer = subprocess.Popen([box.sonde, "view", url, "-w", live_out],
                                      env=box.env, stderr=subprocess.PIPE,
                                      start_new_session=True)
            procs.append(viewer)
            time.sleep(0.3)
        rc, _, err = box.run("start")
        t.check(rc == 0, tag + "start", err)
        bt2 = None
        per_run = 4 * 16 if pid_buffers else 15
        pids = []
        for i in range(RUNS):
            p = subprocess.Popen(
                [app, box.path("unused")] +
                (["daemon-loop", "4", "150"] if pid_buffers
                 else ["daemon-fields"]),
                env=box.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            pids.append(p.pid)
            # babeltrace2 polls for new streams only once it has one: it
            # attaches once the first program's trace exists.  Per-PID,
            # that trace ends with its program, and babeltrace2 then
            # asks for the next programs' traces.
            if i == 0 and live and ours:
                if not pid_buffers:
                    p.wait(timeout=60)
                time.sleep(0.3)
                bt2 = subprocess.Popen(["babeltrace2", "-i", "lttng-live",
                                        url], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE,
                                       start_new_session=True)
                procs.append(bt2)
            _, err = p.communicate(timeout=60)
            if p.returncode:
                t.check(False, tag + "the test program runs", err)
            time.sleep(0.3)
        rc, _, err = box.run("stop")
        t.check(rc == 0, tag + "stop", err)
        rc, _, err = box.run("destroy")
        t.check(rc == 0, tag + "destroy finishes the streamed traces", err)
        local_text = ""
        for d in traces(local):
            local_text += babeltrace(os.path.join(local, d), box.env)[1]
        n = local_text.count("\n")
        if viewer:
            rc, _, err = finish(viewer, 30)
            t.check(rc == 0, tag + "sonde view exits 0 after destroy",
                    "exit %s: %s" % (rc, err))
            live_text = open(live_out).read() if os.path.exists(live_out) \
                else ""
            one = len(traces(local)) == 1
            t.check(n >= RUNS * per_run and normalized(live_text, one) ==
                    normalized(local_text, one),
                    tag + "sonde view printed the %d events of the local "
                    "traces" % n, "live %d lines" % live_text.count("\n"))
        if bt2:
            rc, bt2_out, bt2_err = finish(bt2, 30)
            # It attached after (or during) the first run: the later
            # runs' events.
            got = bt2_out.count("fields:")
            t.check(rc == 0 and (RUNS - 1) * per_run <= got,
                    tag + "babeltrace2 read live to the end (%d user-space "
                    "events)" % got, "exit %s: %s" % (rc, bt2_err[-1000:]))
            if pid_buffers:
                want = [len(re.findall(r"vpid = %d\b" % pid, local_text))
                        for pid in pids[1:]]
                have = [len(re.findall(r"vpid = %d\b" % pid, bt2_out))
                        for pid in pids[1:]]
                t.check(have == want == [per_run] * (RUNS - 1),
                        tag + "babeltrace2 got every event of the programs "
                        "run after it attached", "%s of %s" % (have, want))
        compare_stored(t, tag, box, local, stored_dir(out, session))
    finally:
        kill_groups(procs)


def main():
    if len(sys.argv) != 5:
        print("usage: live_ust.py SONDE SONDE-SESSIOND SONDE-RELAYD UST-APP")
        return 2
    sonde, sessiond, relayd, app = sys.argv[1:]
    for tool in ("lttng-relayd", "babeltrace", "babeltrace2"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s is not installed" % tool)
            return 0
    kernel = os.geteuid() == 0 and os.path.isdir(
        os.path.join(TRACEFS, "instances"))
    t = Tap()
    box = Sandbox(sonde, sessiond)
    tag = "lu%d" % os.getpid()
    try:
        n = 0
        for relayd_exe in (shutil.which("lttng-relayd"),
                           os.path.abspath(relayd)):
            for pid_buffers in (False, True):
                n += 1
                one_session(t, box, app, relayd_exe, "%s%d" % (tag, n),
                            pid_buffers=pid_buffers)
            n += 1
            one_session(t, box, app, relayd_exe, "%s%d" % (tag, n),
                        live=False)
            if kernel:
                n += 1
                one_session(t, box, app, relayd_exe, "%s%d" % (tag, n),
                            kernel=True)
    finally:
        box.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
