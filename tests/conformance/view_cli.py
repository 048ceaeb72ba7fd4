#!/usr/bin/env python3
"""Behaviour of the `sonde` command line that babeltrace does not define:
verbs, --version/--help, usage errors, exit statuses, event-name and time
filters, --format=json, -w.  TAP output.

Usage: view_cli.py SONDE   (corpora from SONDE_SHARED_DIR, default
../shared beside the source root; exit 77 when they are missing)
"""
import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
n = 0
failed = 0


def check(cond, what, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, what))
    else:
        failed += 1
        print("not ok %d - %s" % (n, what))
        if detail:
            print("# " + str(detail).replace("\n", "\n# ")[:2000])


# `sonde view` without a path reads the current session from $HOME/.sonderc
# and asks the daemon in SONDE_RUNDIR: both private, so that a session or
# daemon of the machine's user never changes the verdicts.
PRIVATE = tempfile.mkdtemp(prefix="sonde-view-cli-")
atexit.register(shutil.rmtree, PRIVATE, True)


def run(args, tz="UTC"):
    env = dict(os.environ, TZ=tz, LC_ALL="C", HOME=PRIVATE,
               SONDE_RUNDIR=os.path.join(PRIVATE, "run"))
    p = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def one_error_line(err):
    lines = [l for l in err.split("\n") if l]
    return len(lines) == 1 and lines[0].startswith("sonde: error: ")


DELTA = re.compile(r"\(\+[0-9?]+\.[0-9?]+\) ")


def main():
    sonde = os.path.abspath(sys.argv[1])
    shared = os.environ.get("SONDE_SHARED_DIR") or os.path.join(
        HERE, "..", "..", "..", "shared")
    data = os.path.join(os.path.abspath(shared), "data")
    kernel = os.path.join(data, "traces", "many-threads")
    ust = os.path.join(data, "traces", "lttng-ust-sample")
    if not os.path.isdir(kernel):
        print("1..0 # SKIP corpora not found in %s" % data)
        return 77

    rc, out, err = run([sonde, "--version"])
    check(rc == 0 and re.match(r"sonde \S+ \(git \S+\)\n$", out),
          "--version prints version and commit", out)
    rc, out, err = run([sonde, "--help"])
    check(rc == 0 and "view" in out and "usage:" in out, "--help lists verbs")
    rc, out, err = run([sonde])
    check(rc == 2 and "usage:" in err, "no verb: usage, exit 2")
    rc, out, err = run([sonde, "frobnicate"])
    check(rc == 2 and one_error_line(err), "unknown verb: one error line", err)
    for args in (["view", "--help"], ["view", "-h"], ["help", "view"]):
        rc, out, err = run([sonde] + args)
        check(rc == 0 and "SYNOPSIS" in out and "--clock-date" in out,
              "%s prints the manual" % " ".join(args))

    usage_errors = [
        ["view"],
        ["view", "--bogus", kernel],
        ["view", "-n", "nope", kernel],
        ["view", "-f", "nope", kernel],
        ["view", "-o", "nope", kernel],
        ["view", "--clock-offset", "x", kernel],
        ["view", "--begin", "yesterday", kernel],
        ["view", "-i", "lttng-live", kernel],
        ["view", kernel, "-n"],
    ]
    for args in usage_errors:
        rc, out, err = run([sonde] + args)
        check(rc == 2 and one_error_line(err) and out == "",
              "usage error exits 2 with one line: %s" % " ".join(args[1:2] + args[2:3]),
              "rc=%d err=%r" % (rc, err))

    rc, out, err = run([sonde, "view", os.path.join(data, "no-such-trace")])
    check(rc == 1 and one_error_line(err), "missing path: exit 1, one line", err)
    bad = os.path.join(data, "ctf", "babeltrace-ctf-traces", "fail",
                       "valid-events-then-invalid-events")
    if os.path.isdir(bad):
        rc, out, err = run([sonde, "view", bad])
        check(rc == 1 and one_error_line(err) and out.count("\n") == 2,
              "decode error: events before it printed, then one error line",
              "rc=%d out=%r err=%r" % (rc, out, err))

    # Event-name filters.
    rc, full, err = run([sonde, "view", "--no-delta", kernel])
    check(rc == 0 and full.count("\n") == 240644, "many-threads: 240644 events")
    lines = full.split("\n")[:-1]
    names = [re.search(r"\] wilbrod ([^:]+):", l).group(1) for l in lines]
    rc, out, err = run([sonde, "view", "--no-delta", "-e", "sched_*",
                        "--event", "irq_handler_entry", kernel])
    want = [l for l, nm in zip(lines, names)
            if nm.startswith("sched_") or nm == "irq_handler_entry"]
    check(rc == 0 and out.split("\n")[:-1] == want,
          "-e GLOB --event NAME keeps exactly the matching events")
    rc, out, err = run([sonde, "view", "-e", "no_such_event", kernel])
    check(rc == 0 and out == "", "-e with no match prints nothing")

    # Time filters, in the three syntaxes.
    rc, secs, err = run([sonde, "view", "--no-delta", "--clock-seconds",
                         kernel])
    stamps = [int(m.group(1)) * 10**9 + int(m.group(2)) for m in
              (re.match(r"\[ *(\d+)\.(\d{9})\]", l) for l in
               secs.split("\n")[:-1])]
    begin, end = stamps[1000], stamps[5000]
    want = [l for l, t in zip(lines, stamps) if begin <= t <= end]
    bs = "%d.%09d" % divmod(begin, 10**9)
    es = "%d.%09d" % divmod(end, 10**9)
    rc, out, err = run([sonde, "view", "--no-delta", "--begin", bs,
                        "--end", es, kernel])
    check(rc == 0 and out.split("\n")[:-1] == want,
          "--begin/--end SEC.NS select the range (%d events)" % len(want))
    first_line = lines[1000]
    clock = re.match(r"\[(\d\d:\d\d:\d\d\.\d{9})\]", first_line).group(1)
    last_clock = re.match(r"\[(\d\d:\d\d:\d\d\.\d{9})\]",
                          lines[5000]).group(1)
    rc, out, err = run([sonde, "view", "--no-delta", "-b", clock, "-E",
                        last_clock, kernel])
    check(rc == 0 and out.split("\n")[:-1] == want,
          "-b/-E HH:MM:SS.NS (time of day, UTC)")
    rc, out, err = run([sonde, "view", "--no-delta", "--clock-date",
                        "--clock-gmt", "--begin", "2016-03-04 " + clock,
                        "--end", "2016-03-04T" + last_clock, kernel],
                       tz="Asia/Tokyo")
    rc2, dated, err2 = run([sonde, "view", "--no-delta", "--clock-date",
                            "--clock-gmt", kernel], tz="Asia/Tokyo")
    want_dated = dated.split("\n")[1000:5001]
    check(rc == 0 and out.split("\n")[:-1] == want_dated,
          "--begin/--end with dates and --clock-gmt in another zone")
    rc, out, err = run([sonde, "view", "--begin", bs, "--end", es, kernel])
    check(rc == 0 and "(+?.?????????)" in out.split("\n")[0],
          "the first printed event has no delta")

    # JSON.
    rc, out, err = run([sonde, "view", "--format=json", ust])
    objs = []
    try:
        objs = [json.loads(l) for l in out.split("\n")[:-1]]
        ok = True
    except ValueError as e:
        ok = False
    check(rc == 0 and ok and objs, "--format=json: one valid object per line")
    if objs:
        o = objs[0]
        keys = ["type", "name", "ts", "cycles", "trace", "host",
                "stream_class", "stream", "cpu", "packet_context",
                "stream_context", "event_context", "payload"]
        check(all(k in o for k in keys) and o["type"] == "event" and
              isinstance(o["ts"], int) and isinstance(o["payload"], dict),
              "JSON event has the documented keys and types", o)
        rc, text, err = run([sonde, "view", "--clock-seconds", ust])
        m = re.match(r"\[ *(\d+)\.(\d{9})\]", text)
        check(m and int(m.group(1)) * 10**9 + int(m.group(2)) == o["ts"],
              "JSON ts equals the printed time")
    rc, out2, err = run([sonde, "view", "-o", "json", ust])
    check(out2 == out, "-o json is --format=json")

    # -w and dummy.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.txt")
        rc, out, err = run([sonde, "view", "-w", path, ust])
        rc2, ref, err2 = run([sonde, "view", ust])
        with open(path, encoding="utf-8") as f:
            check(rc == 0 and out == "" and f.read() == ref,
                  "-w PATH writes the output there")
    rc, out, err = run([sonde, "view", "-o", "dummy", kernel])
    check(rc == 0 and out == "", "-o dummy prints nothing")
    rc, out, err = run([sonde, "view", "-o", "ctf-metadata", ust])
    check(rc == 0 and out.startswith("/* CTF 1.8 */") and "event {" in out,
          "-o ctf-metadata prints the metadata")

    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
