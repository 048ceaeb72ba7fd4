#!/usr/bin/env python3
"""Forked programs and the lifetime of per-PID buffers, through a private
sonde-sessiond: a fork child registers as a program of its own (its own
ust/pid/ trace with exactly its events; per-UID, the shared buffers with
its own vpid), also for a child's child, a child that execs, and children
forked while other threads write; a per-PID trace is final (packets
indexed, readable by babeltrace2) as soon as its program exits, killed or
not, while the session records; hundreds of short programs leave the
daemon's fds, threads, memory and /dev/shm as they were.
usage: ust_fork.py SONDE SONDE-SESSIOND UST_APP"""
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Sandbox, Tap  # noqa: E402

SONDE, SESSIOND, APP = sys.argv[1], sys.argv[2], sys.argv[3]
VPID = re.compile(r"vpid = (\d+)")


def written(stdout):
    """{pid: events} from the program's "pid=P events=N" lines."""
    out = {}
    for pid, n in re.findall(r"pid=(\d+) events=(\d+)", stdout):
        out[int(pid)] = out.get(int(pid), 0) + int(n)
    return out


def app(sb, *args, timeout=120):
    p = subprocess.run([APP, sb.path("unused")] + list(args), env=sb.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def session(tap, sb, name, per_pid, subbuf="64k", num="4"):
    trace = sb.path(name)
    cmds = [["create", name, "--output=" + trace]]
    cmds.append(["enable-channel", "-u", "--subbuf-size", subbuf,
                 "--num-subbuf", num] + (["--buffers-pid"] if per_pid else [])
                + ["channel0"])
    cmds += [["enable-event", "-u", "fields:seq"],
             ["add-context", "-u", "-t", "vpid", "-t", "vtid"], ["start"]]
    for args in cmds:
        rc, _, err = sb.run(*args)
        if not tap.check(rc == 0, "sonde %s" % " ".join(args[:3]), err):
            return None
    return trace


def pid_dirs(trace):
    d = os.path.join(trace, "ust", "pid")
    return sorted(os.path.join(d, x) for x in os.listdir(d)) \
        if os.path.isdir(d) else []


def dir_pid(path):
    m = re.match(r".*-(\d+)-\d{8}-\d{6}(-\d+)?$", path)
    return int(m.group(1)) if m else None


def vpid_counts(text):
    out = {}
    for v in VPID.findall(text):
        out[int(v)] = out.get(int(v), 0) + 1
    return out


def view(sb, path):
    rc, text, err = sb.run("view", path)
    return text if rc == 0 else ""


def bt1_discarded(path, env):
    """Events the tracer discarded, as babeltrace 1.5 reports them."""
    if not shutil.which("babeltrace"):
        return 0
    p = subprocess.run(["babeltrace", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    return sum(int(n) for n in re.findall(r"discarded (\d+) events",
                                          p.stderr.decode()))


def index_complete(path):
    """Every stream file of the trace is covered by its index, exactly."""
    streams = [f for f in os.listdir(path)
               if os.path.isfile(os.path.join(path, f)) and f != "metadata"]
    for f in streams:
        idx = os.path.join(path, "index", f + ".idx")
        if not os.path.exists(idx):
            return False
        data = open(idx, "rb").read()
        magic, _, _, entry = struct.unpack(">IIII", data[:16])
        entries = (len(data) - 16) // entry if entry else 0
        if magic != 0xC1F1DCC1 or entries == 0 or \
                16 + entries * entry != len(data):
            return False
        last = 16 + (entries - 1) * entry
        offset, size_bits = struct.unpack(">QQ", data[last:last + 16])
        if offset + size_bits // 8 != os.path.getsize(os.path.join(path, f)):
            return False
    return True


def bt2_reads(path, env):
    if not shutil.which("babeltrace2"):
        return True, ""
    p = subprocess.run(["babeltrace2", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    err = p.stderr.decode()
    # Discarded events are reported, not an error.
    bad = [l for l in err.splitlines() if l.strip() and "discarded" not in l]
    return p.returncode == 0 and not bad, err[:500]


def check_per_pid(tap, sb, tag, trace, wrote):
    """One final trace per process, holding exactly what it wrote, while
    the session still records."""
    wait_closed(sb)
    dirs = pid_dirs(trace)
    by_pid = {}
    for d in dirs:
        by_pid.setdefault(dir_pid(d), []).append(d)
    tap.check(set(by_pid) == set(wrote),
              "%s: a ust/pid/ trace per process (%d)" % (tag, len(wrote)),
              "dirs %s, processes %s" % ([os.path.basename(d) for d in dirs],
                                         sorted(wrote)))
    exact, final = True, True
    detail = []
    for pid, n in sorted(wrote.items()):
        got, lost = {}, 0
        for d in by_pid.get(pid, []):
            for k, v in vpid_counts(view(sb, d)).items():
                got[k] = got.get(k, 0) + v
            lost += bt1_discarded(d, sb.env)
            ok, err = bt2_reads(d, sb.env)
            final = final and ok and index_complete(d)
            if not ok:
                detail.append(err)
        if set(got) - {pid} or got.get(pid, 0) + lost != n:
            exact = False
            detail.append("pid %d wrote %d: trace %s, discarded %d"
                          % (pid, n, got, lost))
    tap.check(exact, "%s: each process's trace holds its events, and only "
              "them (recorded + discarded = written)" % tag, detail)
    tap.check(final, "%s: the traces of exited processes are final while "
              "the session records (index complete, babeltrace2 reads them)"
              % tag, detail)


def shm_files(sb):
    return [f for f in os.listdir("/dev/shm")
            if f.startswith("sonde-ust-%d-" % sb.daemon_pid())]


def wait_closed(sb):
    """Until the daemon has closed the per-PID buffers of every exited
    program (it removes their /dev/shm file last)."""
    end = time.time() + 20
    while shm_files(sb) and time.time() < end:
        time.sleep(0.05)


def test_per_pid(tap, sb):
    trace = session(tap, sb, "fork-pid", True)
    if not trace:
        return
    rc, out, err = app(sb, "daemon-fork", "2", "500")
    tap.check(rc == 0 and len(written(out)) == 3,
              "a process, its child and its grandchild write", err)
    check_per_pid(tap, sb, "fork per-PID", trace, written(out))
    tap.check(not shm_files(sb), "per-PID: the buffers of exited programs "
              "are removed at once", shm_files(sb))

    rc, out, err = app(sb, "daemon-fork-exec", "300")
    wrote = written(out)
    tap.check(rc == 0 and len(wrote) == 2, "fork + exec", err)
    wait_closed(sb)
    before = set(dir_pid(d) for d in pid_dirs(trace))
    # The child's first image registered too: its trace is empty.
    child = [p for p in wrote if wrote[p] == 300]
    got = {}
    for d in pid_dirs(trace):
        if child and dir_pid(d) == child[0]:
            for k, v in vpid_counts(view(sb, d)).items():
                got[k] = got.get(k, 0) + v
    tap.check(child and got == {child[0]: 300} and set(wrote) <= before,
              "fork + exec: the new image's events in the child's trace",
              "%s %s" % (wrote, got))

    # A SIGKILLed program's trace is closed too.
    p = subprocess.Popen([APP, sb.path("unused"), "daemon-loop", "100000", "1"],
                         env=sb.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    p.send_signal(signal.SIGKILL)
    p.wait()
    wait_closed(sb)
    killed = [d for d in pid_dirs(trace) if dir_pid(d) == p.pid]
    ok, err = bt2_reads(killed[0], sb.env) if killed else (False, "no trace")
    tap.check(killed and ok and index_complete(killed[0]) and
              vpid_counts(view(sb, killed[0])).get(p.pid, 0) > 0,
              "a SIGKILLed program's trace is final and readable", err)
    sb.run("stop")
    sb.run("destroy", "fork-pid")


def test_per_uid(tap, sb):
    trace = session(tap, sb, "fork-uid", False)
    if not trace:
        return
    rc, out, err = app(sb, "daemon-fork", "2", "500")
    wrote = written(out)
    tap.check(rc == 0 and len(wrote) == 3, "per-UID: three generations write",
              err)
    sb.run("stop")
    got = vpid_counts(view(sb, trace))
    lost = bt1_discarded(trace, sb.env)
    tap.check(got == wrote if not lost else
              sum(got.values()) + lost == sum(wrote.values()),
              "per-UID: one trace, every process's events under its own vpid",
              "wrote %s, got %s, discarded %d" % (wrote, got, lost))
    sb.run("destroy", "fork-uid")


def test_threads(tap, sb, per_pid):
    """Forks while two threads write: no deadlock, nothing lost uncounted."""
    tag = "per-PID" if per_pid else "per-UID"
    name = "fork-threads-" + tag.lower()
    trace = session(tap, sb, name, per_pid, subbuf="256k", num="8")
    if not trace:
        return
    try:
        rc, out, err = app(sb, "daemon-fork-threads", "2", "20000", "30",
                           timeout=240)
    except subprocess.TimeoutExpired:
        rc, out, err = -1, "", "timed out (deadlock?)"
    wrote = written(out)
    tap.check(rc == 0 and len(wrote) == 31,
              "%s: 30 forks while 2 threads write, no deadlock" % tag, err)
    if per_pid:
        check_per_pid(tap, sb, "fork under writers, " + tag, trace, wrote)
        sb.run("stop")
    else:
        sb.run("stop")
        got = vpid_counts(view(sb, trace))
        lost = bt1_discarded(trace, sb.env)
        tap.check(set(got) <= set(wrote) and
                  sum(got.values()) + lost == sum(wrote.values()) and
                  (lost or got == wrote),
                  "fork under writers, per-UID: recorded + discarded = "
                  "written, each under its vpid",
                  "wrote %d, got %d, discarded %d" %
                  (sum(wrote.values()), sum(got.values()), lost))
    sb.run("destroy", name)


def daemon_usage(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    threads = len(os.listdir("/proc/%d/task" % pid))
    status = open("/proc/%d/status" % pid).read()
    vm = int(re.search(r"VmSize:\s+(\d+)", status).group(1))
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    return fds, threads, vm, rss


def test_many_programs(tap, sb, count):
    """Short programs one after the other: the daemon does not grow."""
    trace = session(tap, sb, "many", True)
    if not trace:
        return
    for _ in range(20):
        app(sb, "daemon-seq", "10", "0")
    wait_closed(sb)
    pid = sb.daemon_pid()
    before = daemon_usage(pid)
    for _ in range(count):
        app(sb, "daemon-seq", "10", "0")
    wait_closed(sb)
    after = daemon_usage(pid)
    tap.check(after[0] == before[0] and after[1] == before[1] and
              after[2] - before[2] < 16384 and after[3] - before[3] < 16384,
              "%d more programs: the daemon's fds, threads and memory stay "
              "(fds, threads, VmSize kB, VmRSS kB: %s -> %s)"
              % (count, before, after))
    tap.check(not shm_files(sb) and len(pid_dirs(trace)) == count + 20,
              "each program had its trace; no buffers left in /dev/shm",
              "%d traces, shm %s" % (len(pid_dirs(trace)), shm_files(sb)))
    sb.run("stop")
    sb.run("destroy", "many")


def main():
    tap = Tap()
    sb = Sandbox(SONDE, SESSIOND)
    # A per-PID fork child waits this long for its buffers (as a program
    # does at start); events of a child that gave up are not recorded.
    # This loaded machine (and ASan) can take more than the default
    # 500 ms.
    sb.env["SONDE_UST_REGISTER_TIMEOUT"] = "20000"
    asan = "asan" in os.environ.get("LD_PRELOAD", "") or \
        b"__asan_init" in open(APP, "rb").read()
    try:
        test_per_pid(tap, sb)
        test_per_uid(tap, sb)
        test_threads(tap, sb, True)
        test_threads(tap, sb, False)
        test_many_programs(tap, sb, 100 if asan else 300)
    finally:
        sb.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
