#!/usr/bin/env python3
"""Live reading throughput of `sonde view net://` against babeltrace2
-i lttng-live, in one run: a sonde-gen trace (EVENTS events on 4 CPUs) is
streamed as fast as the relay takes it (stream-trace, 100 ms live timer)
to lttng-relayd, then sonde-relayd, while one viewer reads it live as text
to /dev/null; one producer run per viewer (lttng-relayd serves one viewer
per session).  Prints each viewer's CPU time (user + system, from its
rusage: steadier than wall time on a shared machine), events per
CPU-second, and the ratio.

usage: live-throughput.py SONDE STREAM_TRACE SONDE_GEN [SONDE_RELAYD]
Environment: SONDE_BENCH_EVENTS (default 2000000).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from harness import free_ports, port_open  # noqa: E402


def one_run(sonde, relayd, viewer_cmd, stream_trace, trace, root, session):
    control, data, live = free_ports(3)
    out = os.path.join(root, session + "-out")
    relay = subprocess.Popen(
        [relayd, "-C", "tcp://127.0.0.1:%d" % control,
         "-D", "tcp://127.0.0.1:%d" % data, "-L", "tcp://127.0.0.1:%d" % live,
         "-o", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    procs = [relay]
    try:
        while not (port_open(live) and port_open(control)):
            time.sleep(0.05)
        go = os.path.join(root, session + ".go")
        producer = subprocess.Popen(
            [stream_trace, "127.0.0.1", str(control), str(data), session,
             "100000", trace, "kernel", "0", go], start_new_session=True)
        procs.append(producer)
        url = "net://127.0.0.1:%d/host/%s/%s" % (live, socket.gethostname(),
                                                session)
        while ("/%s " % session) not in subprocess.run(
                [sonde, "view", "net://127.0.0.1:%d" % live],
                stdout=subprocess.PIPE).stdout.decode():
            time.sleep(0.05)
        errors = os.path.join(root, session + ".err")
        viewer = subprocess.Popen(viewer_cmd + [url], stdout=subprocess.DEVNULL,
                                  stderr=open(errors, "w"))
        procs.append(viewer)
        time.sleep(0.5)
        open(go, "w").close()
        _, status, ru = os.wait4(viewer.pid, 0)
        viewer.returncode = status
        producer.wait()
        if status:
            sys.stderr.write(open(errors).read()[-2000:])
        return ru.ru_utime + ru.ru_stime, status
    finally:
        for p in procs:
            if p.returncode is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
                p.wait()
        shutil.rmtree(out, ignore_errors=True)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        return 2
    sonde, stream_trace, sonde_gen = (os.path.abspath(a) for a in sys.argv[1:4])
    relays = [shutil.which("lttng-relayd")] + [os.path.abspath(a)
                                               for a in sys.argv[4:]]
    events = int(os.environ.get("SONDE_BENCH_EVENTS", "2000000"))
    root = tempfile.mkdtemp(prefix="sonde-bench-live-")
    try:
        trace = os.path.join(root, "trace")
        subprocess.run([sonde_gen, "-o", trace, "-n", str(events), "-s", "4"],
                       check=True, stdout=subprocess.DEVNULL)
        print("live reading, %d events on 4 streams, text to /dev/null" % events)
        viewers = {"sonde view": [sonde, "view"],
                   "babeltrace2": ["babeltrace2", "-i", "lttng-live"]}
        for relayd in relays:
            cpu = {}
            for i, (what, cmd) in enumerate(viewers.items()):
                cpu[what], status = one_run(sonde, relayd, cmd, stream_trace, trace,
                                            root, "tp%d" % i)
                print("  %-12s via %-12s: CPU %6.2f s, %5.2f M events/CPU-s%s"
                      % (what, os.path.basename(relayd), cpu[what],
                         events / cpu[what] / 1e6,
                         "" if status == 0 else " (exit status %d)" % status))
            print("  ratio babeltrace2 / sonde view CPU: %.2f"
                  % (cpu["babeltrace2"] / cpu["sonde view"]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
