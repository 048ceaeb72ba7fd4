#!/usr/bin/env python3
"""lttnganalyses on a trace recorded through the CLI and a private daemon:
lttng-cputop's CPU time of a known busy loop agrees with the kernel's own
account of it within 2 %, and lttng-syscallstats and lttng-iolatencytop
read the same trace without error.  TAP output.

The busy loop shares one CPU with a second spinner for part of its life,
so its CPU time is not simply its lifetime.  Just before exiting it reads
its own account: /proc/self/schedstat (sum_exec_runtime, ns) and
utime + stime of /proc/self/stat (clock ticks).  lttng-cputop prints
each thread's usage as a percentage of the analysed time range (two
decimals: 0.01 % of ~2 s is 0.2 ms) and that range to the nanosecond,
which gives its CPU time back.

Skips (TAP plan 1..0 # SKIP, exit 0) when not root, tracefs is unavailable
or python3-lttnganalyses is not installed.
Usage: analyses_cpu.py SONDE SONDE-SESSIOND
"""
import calendar
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from harness import Sandbox, Tap, args_or_exit

TRACEFS = "/sys/kernel/tracing"
SESSION = "cputop-%d" % os.getpid()
TOOLS = ("lttng-cputop", "lttng-syscallstats", "lttng-iolatencytop")
SYSCALLS = "openat,read,write,close"
# 2 % of ~1.5 s is 30 ms: /proc/PID/stat's 10 ms ticks are well inside.
TOLERANCE = 0.02

# Spins until a deadline on CLOCK (monotonic: wall time; process_time:
# its own CPU time, so that a loaded machine does not shrink the figure
# compared), then prints its own CPU account and exits at once (the
# interpreter's teardown would add CPU time after it).
BUSY = """
import os, sys, time
clock = getattr(time, sys.argv[2])
end = clock() + float(sys.argv[1])
while clock() < end:
    pass
with open("/proc/self/schedstat") as f:
    run_ns = int(f.read().split()[0])
with open("/proc/self/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
ticks = int(fields[11]) + int(fields[12])
print(os.getpid(), run_ns, ticks, os.sysconf("SC_CLK_TCK"), flush=True)
os._exit(0)
"""


def tool_env(box):
    """The sandbox's environment without MALLOC_PERTURB_ (which meson
    sets): babeltrace 1.5's Python bindings read an event after freeing
    its iterator (TraceCollection._timestamp_at_pos, behind
    timestamp_end), and lttnganalyses then dies of SIGSEGV on LTTng's own
    traces too (the many-threads corpus) once freed memory is scribbled."""
    env = dict(box.env)
    env.pop("MALLOC_PERTURB_", None)
    return env


def instances():
    try:
        names = os.listdir(os.path.join(TRACEFS, "instances"))
    except OSError:
        return []
    return [n for n in names if n.startswith("sonde-%s-" % SESSION)]


def steal_ticks(cpu):
    """Time the hypervisor took from `cpu` (USER_HZ ticks, /proc/stat)."""
    with open("/proc/stat") as f:
        for line in f:
            fields = line.split()
            if fields[0] == "cpu%d" % cpu:
                return int(fields[8])
    return 0


def busy_loops(cpu):
    """The measured loop (1.5 s of CPU) and a rival (0.6 s of wall time)
    on the same CPU: ~1.8 s on a quiet machine."""
    def pin():
        os.sched_setaffinity(0, {cpu})
    steal = steal_ticks(cpu)
    loop = subprocess.Popen([sys.executable, "-c", BUSY, "1.5",
                             "process_time"],
                            stdout=subprocess.PIPE, text=True,
                            preexec_fn=pin)
    rival = subprocess.Popen([sys.executable, "-c", BUSY, "0.6",
                              "monotonic"],
                             stdout=subprocess.DEVNULL, preexec_fn=pin)
    out, _ = loop.communicate(timeout=30)
    rival.wait(timeout=30)
    steal = (steal_ticks(cpu) - steal) * 1e9 / os.sysconf("SC_CLK_TCK")
    print("# steal time on CPU %d while the loops ran: %.1f ms"
          % (cpu, steal / 1e6))
    pid, run_ns, ticks, hz = (int(x) for x in out.split())
    return pid, run_ns, ticks, hz, loop.returncode == 0


def stamp_ns(text):
    """'2026-11-22 04:50:35.371472380' (UTC) in ns since the epoch."""
    day, frac = text.split(".")
    secs = calendar.timegm(time.strptime(day, "%Y-%m-%d %H:%M:%S"))
    return secs * 10**9 + int(frac.ljust(9, "0"))


def cputop_ns(out, pid):
    """The thread's CPU time from lttng-cputop's text (-1 when missing)."""
    span = re.search(r"^Timerange: \[([^,\]]+), ([^\]]+)\]", out, re.M)
    row = re.search(r"([0-9.]+) %%\s+\S.* \(%d\)" % pid, out)
    if not span or not row:
        return -1
    duration = stamp_ns(span.group(2)) - stamp_ns(span.group(1))
    return float(row.group(1)) / 100 * duration


def agrees(t, what, traced_ns, kernel_ns, resolution_ns=0):
    """Within TOLERANCE of [kernel_ns, kernel_ns + resolution_ns): a
    figure counted in ticks is truncated by up to one tick."""
    if kernel_ns <= traced_ns <= kernel_ns + resolution_ns:
        gap = 0
    elif traced_ns < kernel_ns:
        gap = kernel_ns - traced_ns
    else:
        gap = traced_ns - kernel_ns - resolution_ns
    err = gap / kernel_ns if kernel_ns > 0 else 1
    t.check(err <= TOLERANCE,
            "lttng-cputop %.2f ms, %s %.2f ms: %.2f %% apart (at most %g %%)"
            % (traced_ns / 1e6, what, kernel_ns / 1e6, err * 100,
               TOLERANCE * 100))


def main():
    sonde, sessiond = args_or_exit()
    if os.geteuid() != 0:
        print("1..0 # SKIP not root: no kernel tracing")
        return 0
    missing = [x for x in TOOLS if not shutil.which(x)]
    if missing:
        print("1..0 # SKIP python3-lttnganalyses not installed (%s)"
              % " ".join(missing))
        return 0
    # meson's timeout sends SIGTERM: still destroy the daemon (and with
    # it the ftrace instance) in the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    t = Tap()
    box = Sandbox(sonde, sessiond)
    try:
        rc, out, err = box.run("create", SESSION)
        if rc != 0:
            print("1..0 # SKIP no session: %s" % err.strip())
            return 0
        rc, out, err = box.run("enable-event", "-k",
                               "sched_switch,sched_process_*")
        if rc != 0:
            print("1..0 # SKIP kernel events unavailable: %s" % err.strip())
            return 0
        # The system calls the loop makes, not all: lttnganalyses reads
        # ~30-40 k events/s, and a benchmark's getppid storm beside the
        # test would make it take minutes.
        rc, out, err = box.run("enable-event", "-k", "--syscall", SYSCALLS)
        t.check(rc == 0, "enable system calls %s" % SYSCALLS, out + err)
        rc, out, err = box.run("start")
        t.check(rc == 0, "session started", out + err)
        cpu = sorted(os.sched_getaffinity(0))[-1]
        pid, run_ns, ticks, hz, ok = busy_loops(cpu)
        t.check(ok, "busy loop %d ran on CPU %d" % (pid, cpu))
        rc, out, err = box.run("stop")
        t.check(rc == 0, "session stopped", out + err)
        rc, out, err = box.run("list", SESSION)
        trace = [l.split(": ", 1)[1] for l in out.splitlines()
                 if "Trace output:" in l][0]

        # Side by side: each tool reads the whole trace on one core.
        running = [(tool, subprocess.Popen(
            [tool, "--no-progress"] +
            (["--limit", "0"] if tool == "lttng-cputop" else []) + [trace],
            env=tool_env(box), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)) for tool in TOOLS]
        for tool, proc in running:
            try:
                out, err = proc.communicate(timeout=100)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            t.check(proc.returncode == 0 and "Traceback" not in err
                    and "Error" not in err,
                    "%s runs without error" % tool,
                    "exit %d: %s%s" % (proc.returncode, out[-1000:],
                                       err[-1500:]))
            if tool != "lttng-cputop":
                continue
            traced_ns = cputop_ns(out, pid)
            t.check(traced_ns > 0, "lttng-cputop lists the busy loop",
                    out[:3000])
            agrees(t, "/proc/PID/schedstat", traced_ns, run_ns)
            agrees(t, "/proc/PID/stat utime+stime (%d ticks of 1/%d s)"
                   % (ticks, hz), traced_ns, ticks * 1e9 / hz, 1e9 / hz)
        rc, out, err = box.run("destroy", SESSION)
        t.check(rc == 0 and instances() == [],
                "destroyed, no ftrace instance left", out + err)
    finally:
        box.close()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
