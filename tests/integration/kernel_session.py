#!/usr/bin/env python3
"""The kernel session end to end, through the CLI and a private daemon:
the seed session (create, enable-event -k sched_switch, --syscall -a,
start, sleep 2, stop, view, destroy) read back by babeltrace 1.5,
babeltrace2 and `sonde view`; unknown events; snapshots; `sonde summary`'s
CPU time of a process against the kernel's own account; SIGTERM flushing
a started session; no ftrace instance left behind.  TAP output.

Skips (TAP plan 1..0 # SKIP, exit 0) when not root or tracefs is unavailable.
Usage: kernel_session.py SONDE SONDE-SESSIOND
"""
import os
import signal
import subprocess
import sys
import time

from harness import SKIP, Sandbox, Tap, one_error_line, args_or_exit

TRACEFS = "/sys/kernel/tracing"
# Other builds may run this test at the same time on the same tracefs:
# session (hence instance) names carry our pid.
TAG = "-%d" % os.getpid()


def instances(session):
    try:
        names = os.listdir(os.path.join(TRACEFS, "instances"))
    except OSError:
        return []
    return [n for n in names if n.startswith("sonde-%s%s-" % (session, TAG))]


def read_with_all(t, box, trace, what):
    """babeltrace, babeltrace2 and sonde view agree on `trace`."""
    env = box.env
    b1 = subprocess.run(["babeltrace", trace], env=env, capture_output=True,
                        text=True, timeout=120)
    b2 = subprocess.run(["babeltrace2", trace], env=env, capture_output=True,
                        text=True, timeout=120)
    rc, sv, err = box.run("view", trace, timeout=120)
    t.check(b1.returncode == 0 and b1.stderr == "",
            "%s: babeltrace reads it with no warning" % what, b1.stderr[:500])
    t.check(b2.returncode == 0 and b2.stderr == "",
            "%s: babeltrace2 reads it with no warning" % what, b2.stderr[:500])
    n1, n2 = b1.stdout.count("\n"), b2.stdout.count("\n")
    t.check(n1 == n2, "%s: babeltrace and babeltrace2 print %d and %d events"
            % (what, n1, n2))
    t.check(rc == 0 and sv == b1.stdout,
            "%s: sonde view prints what babeltrace prints" % what, err[:500])
    return n1


def main():
    sonde, sessiond = args_or_exit()
    if os.geteuid() != 0:
        print("1..0 # SKIP not root: no kernel tracing")
        return 0  # a TAP test skips by its plan; meson calls exit 77 an error
    t = Tap()
    box = Sandbox(sonde, sessiond)
    try:
        rc, out, err = box.run("list", "-k")
        if rc != 0:
            print("1..0 # SKIP kernel events unavailable: %s" % err.strip())
            return 0
        t.check(" sched_switch\n" in out and out.count("\n") > 100,
                "list -k names the kernel events", out[:500])
        seed(t, box)
        errors(t, box)
        snapshot(t, box)
        summary_cpu(t, box)
        sigterm(t, box)
    finally:
        box.close()
    return t.done()


def seed(t, box):
    steps = (("create", "seed" + TAG), ("enable-event", "-k", "sched_switch"),
             ("enable-event", "-k", "--syscall", "-a"), ("start",))
    for args in steps:
        rc, out, err = box.run(*args)
        t.check(rc == 0, "seed: sonde %s" % " ".join(args), out + err)
    t.check(len(instances("seed")) == 1, "seed: one ftrace instance while it lives")
    time.sleep(2)
    rc, out, err = box.run("status")
    recorded = [l for l in out.splitlines() if "Events recorded:" in l]
    t.check(rc == 0 and "[active]" in out and recorded
            and int(recorded[0].split()[-1]) > 0,
            "seed: status shows live counts while started", out + err)
    rc, out, err = box.run("stop")
    t.check(rc == 0 and ("Tracing stopped for session seed" + TAG) in out, "seed: stop",
            out + err)
    rc, out, err = box.run("view", timeout=120)
    lines = out.count("\n")
    t.check(rc == 0 and lines > 1000,
            "seed: sonde view (no path) prints thousands of events (%d)" % lines,
            err)
    t.check("sched_switch:" in out and "syscall_entry_" in out
            and "syscall_exit_" in out, "seed: switches and syscalls recorded")
    rc, out, err = box.run("list", "seed" + TAG)
    output = [l.split(": ", 1)[1] for l in out.splitlines()
              if "Trace output:" in l][0]
    t.check(os.path.isdir(os.path.join(output, "kernel")),
            "seed: trace in OUTPUT/kernel", output)
    n = read_with_all(t, box, output, "seed")
    t.check(n == lines, "seed: view of the session = view of its directory")
    rc, out, err = box.run("summary")
    t.check(rc == 0 and "Top processes by CPU time:" in out
            and "events on" in out, "seed: summary", out + err)
    rc, out, err = box.run("destroy")
    t.check(rc == 0 and ("Session seed" + TAG + " destroyed") in out, "seed: destroy",
            out + err)
    t.check(instances("seed") == [], "seed: no ftrace instance after destroy",
            instances("seed"))


def errors(t, box):
    box.run("create", "errs" + TAG)
    rc, out, err = box.run("enable-event", "-k", "no_such_event_xyz")
    t.check(rc == 1 and one_error_line(err) and "no_such_event_xyz" in err,
            "unknown event: one-line error naming it", err)
    rc, out, err = box.run("enable-event", "-k", "--syscall", "no_such_syscall_xyz")
    t.check(rc == 1 and one_error_line(err) and "no_such_syscall_xyz" in err,
            "unknown syscall: one-line error naming it", err)
    rc, out, err = box.run("enable-event", "-k", "sched_switch")
    rc, out, err = box.run("enable-event", "-k", "sched_switch")
    t.check(rc == 1 and one_error_line(err) and "already enabled" in err,
            "event enabled twice", err)
    rc, out, err = box.run("disable-event", "-k", "sched_switch")
    t.check(rc == 0 and "disabled" in out, "disable-event", out + err)
    rc, out, err = box.run("list", "errs" + TAG)
    t.check("sched_switch (type: tracepoint) [disabled]" in out,
            "list shows the disabled event", out)
    rc, out, err = box.run("destroy", "errs" + TAG)
    t.check(rc == 0 and instances("errs") == [], "errs: destroyed, no instance")


def snapshot(t, box):
    rc, out, err = box.run("create", "snap" + TAG, "--snapshot")
    t.check(rc == 0 and "Snapshot mode" in out, "snapshot: create --snapshot",
            out + err)
    box.run("enable-event", "-k", "sched_switch,sched_wakeup")
    rc, out, err = box.run("start")
    time.sleep(0.5)
    rc, out, err = box.run("snapshot", "record", "-n", "first")
    path = out.strip().rsplit(" ", 1)[-1] if rc == 0 else ""
    t.check(rc == 0 and "/first-" in path and path.endswith("-0")
            and os.path.isdir(path), "snapshot record -n first", out + err)
    if rc == 0:
        n = read_with_all(t, box, path, "snapshot")
        t.check(n > 0, "snapshot: holds events (%d)" % n)
    rc, out, err = box.run("destroy", "snap" + TAG)
    t.check(rc == 0 and instances("snap") == [], "snapshot: destroyed, no instance")


def summary_cpu(t, box):
    """sonde summary's CPU time of a process = what the kernel charged it."""
    box.run("create", "cpu" + TAG)
    box.run("enable-event", "-k", "sched_switch,sched_process_fork")
    rc, out, err = box.run("start")
    t.check(rc == 0, "summary: session started", err)
    began = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\n"
                              "while time.process_time() < 0.3:\n"
                              "    pass\n"])
    _, status, usage = os.wait4(child.pid, 0)
    wall_ms = (time.monotonic() - began) * 1000
    charged_ms = (usage.ru_utime + usage.ru_stime) * 1000
    box.run("stop")
    rc, out, err = box.run("summary", "-n", "0")
    row = [l.split() for l in out.splitlines()
           if l.split()[:1] == [str(child.pid)]]
    measured_ms = float(row[0][2]) if row else -1
    # Time between switch-in and switch-out also holds what the kernel
    # does not charge the task (interrupts, a VM's steal time), so it lies
    # between the task's charged CPU time and its lifetime.
    t.check(rc == 0 and status == 0 and row
            and charged_ms - 20 <= measured_ms <= wall_ms + 20,
            "summary: on-CPU time of a spinning process, %.1f ms "
            "(kernel charged %.1f ms, lived %.1f ms)"
            % (measured_ms, charged_ms, wall_ms), out + err)
    rc, out, err = box.run("summary", "-n", "1", "--sort", "events")
    t.check(rc == 0 and "Top processes by events:" in out, "summary --sort events",
            out + err)
    box.run("destroy", "cpu" + TAG)


def sigterm(t, box):
    box.run("create", "term" + TAG)
    box.run("enable-event", "-k", "sched_switch")
    rc, out, err = box.run("start")
    t.check(rc == 0, "sigterm: session started", err)
    rc, out, err = box.run("list", "term" + TAG)
    output = [l.split(": ", 1)[1] for l in out.splitlines()
              if "Trace output:" in l][0]
    time.sleep(1)
    pid = box.daemon_pid()
    os.kill(pid, signal.SIGTERM)
    t.check(box.wait_gone(pid), "sigterm: the daemon exits")
    t.check(instances("term") == [], "sigterm: its ftrace instance is gone")
    n = read_with_all(t, box, output, "sigterm")
    t.check(n > 0, "sigterm: the started session was flushed (%d events)" % n)


if __name__ == "__main__":
    sys.exit(main())
