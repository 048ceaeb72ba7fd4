#!/usr/bin/env python3
"""Tests of the eBPF fast path against the ftrace backend.

Usage: ebpf_trace.py BUILD_ROOT TEST

  compare   one workload recorded at the same time by an ftrace session and
            an eBPF session: the workload's syscalls and context switches
            are the same events with the same field values, except the
            user strings only eBPF reads (which must be the paths used)
  filters   in-kernel trackers (process name, pid) keep only that process
  fallback  a forced ftrace backend, and eBPF refused: the session uses
            ftrace and says why

Exits 77 when not root, without tracefs, or when eBPF cannot load.
"""
import os
import re
import subprocess
import sys
import shutil
import time

import kernel_trace as kt
from kernel_trace import check, Failure

FIELD = re.compile(r'(\w+) = ("(?:[^"\\]|\\.)*"|[^,}]+)')


def parse(line):
    """(cpu, event name, {field: text}) of a `sonde view` line."""
    m = re.match(r"\[[^\]]+\] \([^)]+\) \S+ (\w+): \{ cpu_id = (\d+) \}, "
                 r"\{ (.*) \}$", line)
    if not m:
        m = re.match(r"\[[^\]]+\] \([^)]+\) \S+ (\w+): \{ cpu_id = (\d+) \}",
                     line)
        return (int(m.group(2)), m.group(1), {}) if m else None
    return (int(m.group(2)), m.group(1),
            {k: v.strip() for k, v in FIELD.findall(m.group(3))})


def events_of_task(lines, tid):
    """The syscall events run by `tid` (current task from sched_switch,
    per CPU) and the context switches from or to it, in trace order."""
    current, out = {}, []
    for line in lines:
        ev = parse(line)
        if not ev:
            continue
        cpu, name, fields = ev
        if name == "sched_switch":
            if str(tid) in (fields.get("prev_tid"), fields.get("next_tid")):
                out.append((name, fields))
            current[cpu] = int(fields.get("next_tid", -1))
        elif name.startswith("syscall_") and current.get(cpu) == tid:
            out.append((name, fields))
    return out


def start_record(name, out, backend, extra):
    p = subprocess.Popen([kt.RECORD, "-N", name, "-o", out, "-B", backend,
                          "-t", "2500", "-e", "sched_switch", "-a"] + extra,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=kt.ENV)
    first = p.stdout.readline()
    if not first.startswith("backend="):
        err = p.communicate()[1]
        if backend == "ebpf" and "eBPF" in err:
            print("eBPF unavailable: %s" % err.strip())
            sys.exit(77)
        raise Failure("kernel-record -B %s: %s" % (backend, err.strip()))
    return p


def finish(p):
    # communicate() would read the pipes past readline()'s buffer
    stdout, stderr = p.stdout.read(), p.stderr.read()
    p.wait(timeout=60)
    if p.returncode != 0:
        raise Failure("kernel-record failed: %s" % stderr.strip())
    return {k: int(v) for k, v in
            re.findall(r"(recorded|discarded|lost)=(\d+)", stdout)}


def view(out):
    r = kt.run([kt.SONDE, "view", out])
    check(r.returncode == 0, "sonde view reads %s" % os.path.basename(out))
    return r.stdout.splitlines()


def test_compare(tmp):
    n = 20
    path = os.path.join(tmp, "known-file-%d" % os.getpid())
    with open(path, "w") as f:
        f.write("x" * 1000)
    fout, eout = os.path.join(tmp, "f"), os.path.join(tmp, "e")
    pf = start_record("cf%d" % os.getpid(), fout, "ftrace", [])
    pe = start_record("ce%d" % os.getpid(), eout, "ebpf", [])
    time.sleep(0.8)  # both started: statedump and ~720 syscall events
    w = kt.run([kt.WORKLOAD, "files", path, str(n)])
    pid = int(re.search(r"pid=(\d+)", w.stdout).group(1))
    sf, se = finish(pf), finish(pe)
    check(sf["discarded"] == 0 and se["discarded"] == 0,
          "no event discarded (ftrace %d, eBPF %d)"
          % (sf["discarded"], se["discarded"]))
    streams = os.listdir(os.path.join(eout, "kernel"))
    check(any(s.startswith("ebpf_") for s in streams),
          "the eBPF session has ebpf_N streams")
    b2 = kt.run(["babeltrace2", eout])
    check(b2.returncode == 0 and b2.stderr == "",
          "babeltrace2 reads the eBPF trace without warning (%s)"
          % b2.stderr[:200])
    ft = events_of_task(view(fout), pid)
    eb = events_of_task(view(eout), pid)
    check(len(ft) > 4 * n, "ftrace: %d events of the workload" % len(ft))
    check([e[0] for e in ft] == [e[0] for e in eb],
          "same event sequence (%d ftrace, %d eBPF)" % (len(ft), len(eb)))
    strings = differ = compared = 0
    for (name, f), (_, e) in zip(ft, eb):
        if f.keys() != e.keys():
            raise Failure("%s: fields %s vs %s" % (name, list(f), list(e)))
        for k in f:
            if e[k].startswith('"') and not f[k].startswith('"'):
                strings += 1  # only eBPF reads user strings
                continue
            compared += 1
            if (name == "sched_switch" and k.endswith("_comm") and
                    f[k] == '"kernel-workload"' and e[k].startswith('"python')):
                # A switch ftrace hid and the consumer restored names the
                # thread as the consumer finds it: already exec'd
                # (switch-repair.c); eBPF saw the fork child's name.
                print("# restored %s.%s: ftrace %s, eBPF %s" % (name, k, f[k], e[k]))
                continue
            if f[k] != e[k]:
                differ += 1
                print("# %s.%s: ftrace %s, eBPF %s" % (name, k, f[k], e[k]))
    check(differ == 0, "%d field values equal, %d user strings"
          % (compared, strings))
    opens = [e for name, e in eb if name == "syscall_entry_openat"
             and e.get("filename") == '"%s"' % path]
    check(len(opens) == n, "eBPF: openat shows the filename %d times (%d)"
          % (n, len(opens)))
    switches = [f for name, f in ft if name == "sched_switch"]
    check(len(switches) >= 2, "context switches compared (%d)"
          % len(switches))


def test_filters(tmp):
    out = os.path.join(tmp, "c")
    # A name of its own (the kernel takes comm from the path executed):
    # other tests running kernel-workload at the same time must not pass
    # the filter.
    comm = "kw%d" % (os.getpid() % 10000000)
    workload = os.path.join(tmp, comm)
    os.symlink(kt.WORKLOAD, workload)
    r = kt.run([kt.RECORD, "-N", "fc%d" % os.getpid(), "-o", out, "-B", "ebpf",
                "-C", comm, "-a", "-e", "sched_switch", "--",
                workload, "getppid", "1000"])
    if r.returncode != 0 and "eBPF" in r.stderr:
        print("eBPF unavailable: %s" % r.stderr.strip())
        sys.exit(77)
    check(r.returncode == 0, "records with a process-name filter (%s)"
          % r.stderr.strip())
    lines = view(out)
    sw = [parse(l)[2] for l in lines if " sched_switch: " in l]
    # switches from or to the workload (LTTng's rule)
    other = [f for f in sw if f["prev_comm"] != '"%s"' % comm and
             f["next_comm"] != '"%s"' % comm]
    check(sw and not other, "comm filter: only the workload's context "
          "switches (%d; others: %s)" % (len(sw), other[:2]))
    calls = [l for l in lines if " syscall_entry_getppid: " in l]
    check(len(calls) == 1000, "comm filter: its 1000 getppid calls (%d)"
          % len(calls))
    others = [l for l in lines if " syscall_entry_" in l
              and "ebpf" not in l and " syscall_entry_getppid: " not in l]
    check(len(others) < 200, "comm filter: few other syscalls (%d: the "
          "workload's start)" % len(others))
    out = os.path.join(tmp, "p")
    r = kt.run([kt.RECORD, "-N", "fp%d" % os.getpid(), "-o", out, "-B", "ebpf",
                "-P", "1", "-s", "getppid", "-t", "200", "--",
                kt.WORKLOAD, "getppid", "1000"])
    check(r.returncode == 0, "records with a pid filter")
    calls = [l for l in view(out) if " syscall_entry_getppid: " in l]
    check(len(calls) == 0, "pid filter (pid 1): the workload is not "
          "recorded (%d)" % len(calls))


def test_fallback(tmp):
    r = kt.run([kt.RECORD, "-N", "fb%d" % os.getpid(), "-o",
                os.path.join(tmp, "f"), "-B", "ftrace", "-s", "getppid",
                "--", kt.WORKLOAD, "getppid", "100"])
    check(r.returncode == 0 and "backend=ftrace why=\n" in r.stdout,
          "forced ftrace: the ftrace backend, no reason given")
    check(not [s for s in os.listdir(os.path.join(tmp, "f", "kernel"))
               if s.startswith("ebpf_")], "forced ftrace: no ebpf_N stream")
    # snapshot sessions need overwrite buffers: ftrace, and the reason
    r = kt.run([kt.RECORD, "-N", "fs%d" % os.getpid(), "-o",
                os.path.join(tmp, "s"), "-s", "getppid", "-S",
                os.path.join(tmp, "snap"), "--", kt.WORKLOAD, "getppid", "10"])
    check(r.returncode == 0 and "backend=ftrace why=overwrite" in r.stdout,
          "snapshot session: ftrace, and why (%s)" % r.stdout.splitlines()[0])
    # eBPF refused: root without capabilities may still use its tracefs
    # files, but not load BPF programs
    setpriv = shutil.which("setpriv")
    if setpriv:
        r = kt.run([setpriv, "--inh-caps=-all", "--bounding-set=-all",
                    kt.RECORD, "-N", "fu%d" % os.getpid(), "-o",
                    os.path.join(tmp, "u"), "-s", "getppid", "--",
                    kt.WORKLOAD, "getppid", "100"])
        check(r.returncode == 0 and "backend=ftrace why=eBPF programs: "
              "load: permission denied" in r.stdout,
              "eBPF refused: ftrace is used, and why (%s)"
              % r.stdout.strip()[:160])
        r = kt.run([setpriv, "--inh-caps=-all", "--bounding-set=-all",
                    kt.RECORD, "-N", "fv%d" % os.getpid(), "-o",
                    os.path.join(tmp, "v"), "-B", "ebpf", "-s", "getppid"])
        check(r.returncode == 1 and "permission denied" in r.stderr,
              "eBPF forced but refused: a clear error (%s)"
              % r.stderr.strip())


def test_cli(tmp):
    """sonde enable-channel --backend, and what sonde status says."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                    "integration"))
    import harness
    box = harness.Sandbox(kt.SONDE, os.path.join(
        kt.BUILD, "src", "bin", "sonde-sessiond", "sonde-sessiond"))
    try:
        rc, out, err = box.run("create", "b1", "-o", box.path("b1"))
        check(rc == 0, "create (%s)" % err.strip())
        rc, out, err = box.run("enable-channel", "-k", "--backend", "nope",
                               "channel0")
        check(rc == 2 and "--backend 'nope'" in err,
              "unknown backend: usage error (%s)" % err.strip())
        box.run("enable-channel", "-k", "--backend", "ftrace", "channel0")
        box.run("enable-event", "-k", "--syscall", "getppid")
        rc, out, err = box.run("status")
        check("Backend: ftrace\n" in out, "forced ftrace: status says "
              "'Backend: ftrace'")
        box.run("create", "b2", "-o", box.path("b2"))
        box.run("enable-event", "-k", "--syscall", "getppid")
        rc, out, err = box.run("status")
        if "Backend: ftrace (eBPF not used: " in out:
            print("eBPF unavailable: %s" % out)
            sys.exit(77)
        check("Backend: ebpf\n" in out, "default: status says "
              "'Backend: ebpf'")
        box.run("create", "b3", "--snapshot")
        box.run("enable-event", "-k", "--syscall", "getppid")
        rc, out, err = box.run("status")
        check("Backend: ftrace (eBPF not used: overwrite mode needs the "
              "ftrace ring buffer)" in out,
              "snapshot session: ftrace, and why")
        # channels of more than 2 MiB per CPU: eBPF takes up to 256 MiB

        def session_of_channel(name, *channel_opts):
            """A session of one channel recording getppid: the answer of
            its enable-event."""
            box.run("create", name, "-o", box.path(name))
            box.run("enable-channel", "-k", *channel_opts, "channel0")
            return box.run("enable-event", "-k", "--syscall", "getppid")

        session_of_channel("b4", "--subbuf-size", "16M", "--num-subbuf", "4")
        box.run("start")
        kt.run([kt.WORKLOAD, "getppid", "200000"])
        box.run("stop")
        rc, out, err = box.run("list", "b4")
        recorded = re.search(r"Events recorded: (\d+)", out)
        check("Backend: ebpf\n" in out and recorded and
              int(recorded.group(1)) >= 400000 and
              "Events discarded: 0\n" in out,
              "64 MiB per CPU: eBPF records every event (%s)"
              % (recorded.group(0) if recorded else out.strip()[:200]))
        too_big = ("--subbuf-size", "64M", "--num-subbuf", "8")
        session_of_channel("b5", *too_big)
        rc, out, err = box.run("status")
        check("Backend: ftrace (eBPF not used: the channel's 536870912 "
              "bytes per CPU are over the 268435456 eBPF takes)" in out,
              "512 MiB per CPU: ftrace, and why")
        rc, out, err = session_of_channel("b6", "--backend", "ebpf",
                                          *too_big)
        check(rc == 1 and "are over the 268435456 eBPF takes" in err,
              "512 MiB per CPU with --backend ebpf: a clear error (%s)"
              % err.strip())
        box.run("destroy", "-a")
    finally:
        box.close()


TESTS = {"compare": test_compare, "filters": test_filters,
         "fallback": test_fallback, "cli": test_cli}


def main():
    if os.geteuid() != 0:
        print("not root: kernel tracing unavailable")
        return 77
    return kt.run_in_tmp(TESTS[sys.argv[2]], "sonde-ebpf-")


if __name__ == "__main__":
    sys.exit(main())
