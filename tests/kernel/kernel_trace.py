#!/usr/bin/env python3
"""Integration tests of libsonde-kernel on this machine's tracefs.

Usage: kernel_trace.py BUILD_ROOT TEST

Each test records a real trace with kernel-record around kernel-workload
(a known workload), in its own ftrace instance, and checks the result
with babeltrace 1.5, babeltrace2 and `sonde view`.  Exits 77 (skip) when
not root or tracefs is unavailable, 0 on success, 1 on failure.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = sys.argv[1]
RECORD = os.path.join(BUILD, "tests", "kernel", "kernel-record")
WORKLOAD = os.path.join(BUILD, "tests", "kernel", "kernel-workload")
SONDE = os.path.join(BUILD, "src", "bin", "sonde", "sonde")
TRACEFS = "/sys/kernel/tracing"
ENV = dict(os.environ, TZ="UTC")
# The backend of the syscall and sched_switch events (meson registers the
# tests once per backend); every other event goes through ftrace anyway.
BACKEND = os.environ.get("SONDE_TEST_BACKEND", "ftrace")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok - %s" % what)


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=ENV, **kw)


def record(out, args, name="t%d" % os.getpid(), stall=False):
    """kernel-record; with `stall`, its consumer threads are frozen
    (SIGSTOP; the workload, a child, keeps running) for 0.5 s shortly after
    it starts, so that small buffers overflow whatever the machine's load."""
    p = subprocess.Popen([RECORD, "-N", name, "-o", out, "-B", BACKEND] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=ENV)
    if stall:
        time.sleep(0.3)
        os.kill(p.pid, signal.SIGSTOP)
        time.sleep(0.5)
        os.kill(p.pid, signal.SIGCONT)
    stdout, stderr = p.communicate(timeout=60)
    r = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
    if r.returncode == 77:
        print("tracefs unavailable: %s" % r.stderr.strip())
        sys.exit(77)
    if BACKEND == "ebpf" and r.returncode != 0 and "eBPF" in r.stderr:
        print("eBPF unavailable: %s" % r.stderr.strip())
        sys.exit(77)
    if r.returncode != 0:
        raise Failure("kernel-record failed: %s" % r.stderr.strip())
    m = re.search(r"recorded=(\d+) discarded=(\d+) lost=(\d+)", r.stdout)
    check(m is not None, "kernel-record prints its statistics")
    return r.stdout, {k: int(v) for k, v in zip(
        ("recorded", "discarded", "lost"), m.groups())}


def read_with_all(trace, allow_stderr=False):
    """babeltrace, babeltrace2 and sonde view on `trace`: the text lines."""
    b1 = run(["babeltrace", trace])
    b2 = run(["babeltrace2", trace])
    sv = run([SONDE, "view", trace])
    check(b1.returncode == 0 and b2.returncode == 0,
          "babeltrace and babeltrace2 read the trace")
    if not allow_stderr:
        check(b1.stderr == "", "babeltrace: no warning (%s)" % b1.stderr[:200])
        check(b2.stderr == "", "babeltrace2: no warning (%s)" % b2.stderr[:200])
    lines = b1.stdout.splitlines()
    check(len(lines) == len(b2.stdout.splitlines()),
          "babeltrace and babeltrace2 print the same number of events (%d)"
          % len(lines))
    check(sv.returncode == 0 and sv.stdout == b1.stdout,
          "sonde view prints what babeltrace prints")
    return lines, b1.stderr


def events_of(lines, name, tid_field=None, tid=None):
    out = []
    for line in lines:
        if (" %s: " % name) not in line:
            continue
        if tid is not None and ("%s = %d," % (tid_field, tid)) not in line \
                and ("%s = %d }" % (tid_field, tid)) not in line:
            continue
        out.append(line)
    return out


def own_instances(name):
    try:
        return [d for d in os.listdir(os.path.join(TRACEFS, "instances"))
                if d.startswith("sonde-%s-" % name)]
    except OSError:
        return []


def switched_in(lines):
    """tids switched in, from sched_switch next_tid."""
    tids = set()
    for line in events_of(lines, "sched_switch"):
        m = re.search(r"next_tid = (\d+)", line)
        if m:
            tids.add(int(m.group(1)))
    return tids


def switch_chain_breaks(lines):
    """sched_switch pairs on one CPU where prev_tid is not the previous
    next_tid: a switch the trace lacks.  Some kernels omit switches out of
    the idle task; the consumer must have put them back."""
    last = {}
    breaks = []
    for line in events_of(lines, "sched_switch"):
        m = re.search(r"cpu_id = (\d+).*prev_tid = (\d+).*next_tid = (\d+)",
                      line)
        if not m:
            continue
        cpu, prev, nxt = (int(g) for g in m.groups())
        if cpu in last and last[cpu] != prev:
            breaks.append(line)
        last[cpu] = nxt
    return breaks


def test_files(tmp):
    """open/read/close N times: syscall arguments and return values."""
    n = 50
    path = "/etc/services" if os.path.exists("/etc/services") else "/etc/passwd"
    size = os.path.getsize(path)
    out = os.path.join(tmp, "s")
    stdout, st = record(out, ["-e", "sched_switch", "-e", "sched_process_*",
                              "-s", "openat", "-s", "read", "-s", "close",
                              "--", WORKLOAD, "files", path, str(n)])
    pid = int(re.search(r"pid=(\d+)", stdout).group(1))
    check(st["discarded"] == 0, "no event discarded")
    lines, _ = read_with_all(out)
    check(len(lines) == st["recorded"],
          "every recorded event is read back (%d)" % len(lines))
    check(len(events_of(lines, "lttng_statedump_start")) == 1 and
          len(events_of(lines, "lttng_statedump_end")) == 1,
          "statedump start and end")
    check(len(events_of(lines, "lttng_statedump_process_state")) > 10,
          "statedump lists processes")
    check(len(events_of(lines, "sched_switch")) > 0, "sched_switch events")
    check(pid in switched_in(lines),
          "sched_switch to the workload (tid %d)" % pid)
    breaks = switch_chain_breaks(lines)
    check(not breaks, "every CPU's sched_switch chain is unbroken (%s)"
          % (breaks[:1],))
    # The events of the workload's CPU(s): syscalls carry no tid, so
    # follow sched_switch per CPU to attribute them.
    current = {}
    opens = reads = closes = 0
    pending = {}
    for line in lines:
        m = re.search(r"cpu_id = (\d+)", line)
        if not m:
            continue
        cpu = int(m.group(1))
        sw = re.search(r"next_tid = (\d+)", line)
        if " sched_switch: " in line and sw:
            current[cpu] = int(sw.group(1))
            continue
        if current.get(cpu) != pid:
            continue
        if " syscall_entry_read: " in line:
            pending[cpu] = "read"
        elif " syscall_exit_read: " in line:
            if re.search(r"ret = %d }" % size, line):
                reads += 1
        elif " syscall_exit_openat: " in line:
            opens += 1
        elif " syscall_entry_close: " in line:
            closes += 1
    check(reads == n, "%d reads of %d bytes returned %d (got %d)"
          % (n, size, size, reads))
    check(opens >= n, "at least %d openat exits (got %d)" % (n, opens))
    check(closes >= n, "at least %d close entries (got %d)" % (n, closes))
    entry = [l for l in events_of(lines, "syscall_entry_openat")
             if "dfd = -100" in l]
    check(len(entry) >= n, "openat(AT_FDCWD, ...): dfd = -100 (s32)")
    check(not own_instances("t%d" % os.getpid()), "instance removed")


def test_spin(tmp):
    """a busy loop: sched_switch shows the workload on a CPU for ~300 ms."""
    out = os.path.join(tmp, "s")
    stdout, st = record(out, ["-e", "sched_switch", "-e", "sched_wakeup",
                              "--", WORKLOAD, "spin", "300"])
    pid = int(re.search(r"pid=(\d+)", stdout).group(1))
    lines, _ = read_with_all(out)
    check(pid in switched_in(lines),
          "the busy loop is switched in")
    prio = [l for l in events_of(lines, "sched_switch")
            if "next_tid = %d," % pid in l]
    check(all("next_prio = 20" in l for l in prio),
          "prio as lttng-modules records it (120 - 100)")


def test_late_enable(tmp):
    """an event enabled while tracing: metadata appended, events readable;
    a switch timer closes packets on its own."""
    out = os.path.join(tmp, "s")
    stdout, st = record(out, ["-e", "sched_switch", "-T", "20000", "-t", "150",
                              "-E", "syscall_entry_getppid",
                              "-E", "syscalls:sys_exit_getppid",
                              "--", WORKLOAD, "getppid", "1000"])
    lines, _ = read_with_all(out)
    check(len(events_of(lines, "syscall_entry_getppid")) >= 1000,
          "events of the late event class (%d)"
          % len(events_of(lines, "syscall_entry_getppid")))
    check(len(events_of(lines, "syscall_exit_getppid")) >= 1000,
          "syscall_exit_getppid too")
    packets = sum(os.path.getsize(os.path.join(out, "kernel", "index", f))
                  for f in os.listdir(os.path.join(out, "kernel", "index")))
    check(packets > 2 * (16 + 72), "switch timer: several packets")
    # stop and start again: one trace, two statedumps, both runs
    out = os.path.join(tmp, "r")
    stdout, st = record(out, ["-e", "sched_switch", "-s", "getppid", "-R",
                              "--", WORKLOAD, "getppid", "500"])
    lines, _ = read_with_all(out)
    check(len(events_of(lines, "lttng_statedump_start")) == 2,
          "restart: a statedump per start")
    check(len(events_of(lines, "syscall_exit_getppid")) >= 1000,
          "restart: the events of both runs")


def test_snapshot(tmp):
    """flight recorder: two snapshots while tracing, both complete traces."""
    out = os.path.join(tmp, "unused")
    snaps = [os.path.join(tmp, "snap%d" % i) for i in range(2)]
    stdout, st = record(out, ["-e", "sched_switch", "-e", "irq_*",
                              "-s", "read", "-b", "16384", "-n", "4",
                              "-S", snaps[0], "-S", snaps[1],
                              "--", WORKLOAD, "files", "/etc/passwd", "3000"])
    last = []
    for s in snaps:
        check(os.path.exists(os.path.join(s, "kernel", "metadata")),
              "%s/kernel/metadata written" % os.path.basename(s))
        lines, _ = read_with_all(s, allow_stderr=True)
        check(len(lines) > 0, "snapshot holds events")
        for cpu_file in os.listdir(os.path.join(s, "kernel")):
            if cpu_file.startswith("channel0_"):
                size = os.path.getsize(os.path.join(s, "kernel", cpu_file))
                check(size <= 4 * 16384,
                      "%s bounded by the ring (%d bytes)" % (cpu_file, size))
        last.append(lines[-1][:20])
    check(last[1] >= last[0], "the second snapshot ends later")
    check(not os.path.exists(out), "snapshot sessions write nothing else")


def test_losses(tmp):
    """tiny buffers under load: kernel drops reach events_discarded."""
    out = os.path.join(tmp, "s")
    stdout, st = record(out, ["-a", "-e", "sched_switch", "-b", "4096",
                              "-n", "2", "--", WORKLOAD, "files",
                              "/etc/passwd", "200000"], stall=True)
    b1 = run(["babeltrace", out])
    check(b1.returncode == 0, "babeltrace reads a trace with losses")
    told = sum(int(x) for x in re.findall(r"discarded (\d+) events", b1.stderr))
    check(st["discarded"] > 0, "losses reported (%d)" % st["discarded"])
    check(told == st["discarded"],
          "babeltrace reports the same discarded count (%d vs %d)"
          % (told, st["discarded"]))
    check(len(b1.stdout.splitlines()) == st["recorded"],
          "recorded events all readable")
    if BACKEND == "ebpf":
        r = run([RECORD, "-N", "w%d" % os.getpid(), "-o",
                 os.path.join(tmp, "w"), "-B", "ebpf", "-w", "-a"])
        check(r.returncode == 1 and "cannot overwrite" in r.stderr,
              "eBPF with overwrite: a clear error (%s)" % r.stderr.strip())
        return
    # overwrite mode: the kernel overwrites old sub-buffers; the gap shows
    # as skipped packet sequence numbers at the page that saw it
    out = os.path.join(tmp, "w")
    stdout, st = record(out, ["-w", "-a", "-e", "sched_switch", "-b", "4096",
                              "-n", "2", "--", WORKLOAD, "files",
                              "/etc/passwd", "200000"], stall=True)
    b1 = run(["babeltrace", out])
    b2 = run(["babeltrace2", out])
    check(b1.returncode == 0 and b2.returncode == 0,
          "both babeltraces read an overwrite-mode trace with losses")
    # babeltrace 1.5 reports only the discarded events of a packet that
    # also follows a gap; babeltrace2 reports both
    lost = sum(int(x) for x in re.findall(r"discarded (\d+) packets?",
                                          b2.stderr))
    check((st["lost"] > 0 or st["discarded"] > 0) and lost == st["lost"],
          "lost packets: %d reported, babeltrace2 counts %d"
          % (st["lost"], lost))


def test_cleanup(tmp):
    """destroy removes the instance; stale instances of dead pids go too."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = os.path.join(TRACEFS, "instances", "sonde-stale-%d" % dead.pid)
    try:
        os.mkdir(stale)
    except OSError as e:
        print("cannot create an instance: %s" % e)
        sys.exit(77)
    name = "c%d" % os.getpid()
    record(os.path.join(tmp, "s"), ["-e", "sched_switch", "-t", "50"],
           name=name)
    check(not os.path.exists(stale), "stale instance of a dead pid removed")
    check(not own_instances(name), "no instance of the session remains")
    r = run([RECORD, "-N", name, "-o", os.path.join(tmp, "x"),
             "-e", "no_such_event_xyz"])
    check(r.returncode == 1 and "no_such_event_xyz: no such kernel event"
          in r.stderr, "unknown event: clear error")
    r = run([RECORD, "-N", name, "-o", os.path.join(tmp, "y"),
             "-s", "no_such_syscall"])
    check(r.returncode == 1 and "no such system call" in r.stderr,
          "unknown syscall: clear error")
    check(not own_instances(name), "failed sessions leave no instance")
    r = run([RECORD, "-L"])
    names = set(r.stdout.split())
    check(r.returncode == 0 and {"sched_switch", "irq_softirq_entry",
                                 "syscall_entry_read", "syscall_exit_read",
                                 "timer_hrtimer_start"} <= names,
          "list_events gives lttng-modules names (%d events)" % len(names))


def test_analyses(tmp):
    """lttnganalyses reads our traces (given the session dir)."""
    tools = ["lttng-cputop", "lttng-syscallstats", "lttng-iolatencytop"]
    if not all(shutil.which(t) for t in tools):
        print("python3-lttnganalyses not installed")
        sys.exit(77)
    out = os.path.join(tmp, "s")
    record(out, ["-a", "-e", "sched_*", "-e", "irq_*", "-e", "block_rq_*",
                 "--", WORKLOAD, "files", "/etc/passwd", "200"])
    for t in tools:
        r = run([t, "--no-progress", out], timeout=120)
        check(r.returncode == 0 and "Traceback" not in r.stderr and
              "Error" not in r.stderr,
              "%s runs (%s)" % (t, r.stderr.strip()[-300:]))
        if t == "lttng-syscallstats":
            check(re.search(r"kernel-workload .*\n(.*\n)*? - read +200 ",
                            r.stdout) is not None or
                  " - read " in r.stdout,
                  "syscallstats counts the workload's reads")


def run_in_tmp(test, prefix):
    """Runs test(tmp) in a fresh directory that the workloads' users may
    read, removed after: 0, or 1 with the reason printed."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    os.chmod(tmp, 0o755)
    try:
        test(tmp)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


TESTS = {
    "files": test_files,
    "spin": test_spin,
    "snapshot": test_snapshot,
    "late-enable": test_late_enable,
    "losses": test_losses,
    "cleanup": test_cleanup,
    "analyses": test_analyses,
}


def main():
    if os.geteuid() != 0:
        print("not root: kernel tracing unavailable")
        return 77
    if not os.path.isdir(os.path.join(TRACEFS, "instances")):
        # kernel-record mounts tracefs when it can; skip only if it can't
        r = run([RECORD, "-o", "/nonexistent/x", "-N", "probe"])
        if not os.path.isdir(os.path.join(TRACEFS, "instances")):
            print("tracefs unavailable: %s" % r.stderr.strip())
            return 77
    return run_in_tmp(TESTS[sys.argv[2]], "sonde-kernel-")


if __name__ == "__main__":
    sys.exit(main())
