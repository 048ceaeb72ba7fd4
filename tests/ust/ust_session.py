#!/usr/bin/env python3
"""User-space recording through sonde-sessiond: a private daemon (own
SONDE_RUNDIR and HOME), `sonde enable-event -u`, `add-context -u`, start,
an instrumented program that registers with the daemon, stop, and the
trace read by sonde view and babeltrace 1.5.  Also: log-level selection,
a program with no daemon runs untraced, CLI errors.
usage: ust_session.py SONDE SONDE-SESSIOND UST_APP"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Sandbox, Tap, one_error_line  # noqa: E402
from ust_trace import FIELDS  # noqa: E402

SONDE, SESSIOND, APP = sys.argv[1], sys.argv[2], sys.argv[3]
LEVELS = {"ints": 6, "floats": 14, "texts": 4, "arrays": 13, "enums": 3, "empty": 14}


def payloads(view):
    out = []
    for line in view.splitlines():
        m = re.match(r"^\[[0-9:.]+\] \(\S+\) \S+ (\S+): \{ cpu_id = \d+ \}, (?:\{ (.*?) \}, )?(\{.*\})$", line)
        out.append((m.group(1), m.group(2), m.group(3)) if m else (None, None, line))
    return out


def run_all(tap, sb, commands):
    """Runs sonde commands, one check each, up to the first failure."""
    for args in commands:
        rc, out, err = sb.run(*args)
        if not tap.check(rc == 0, "sonde %s" % " ".join(args), err):
            return False
    return True


def record(tap, sb, name, enable_args, contexts=()):
    trace = sb.path(name)
    for args in (["create", name, "--output=" + trace],
                 ["enable-event", "-u"] + enable_args) + \
            ((["add-context", "-u"] + [x for c in contexts for x in ("-t", c)],) if contexts else ()) + \
            (["start"],):
        rc, out, err = sb.run(*args)
        if not tap.check(rc == 0, "sonde %s" % " ".join(args), err):
            return None
    p = subprocess.run([APP, sb.path("unused"), "daemon-fields"], env=sb.env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    tap.check(p.returncode == 0, "the instrumented program runs", p.stderr)
    rc, out, err = sb.run("stop")
    tap.check(rc == 0, "sonde stop", err)
    return trace


# enable-event -u --filter: (pattern, expression, indexes of FIELDS kept).
FILTERS = [
    ("fields:ints", "s32 == 5", [1]),
    ("fields:ints", "(s16 < 0 && u8 == 255) || s32 == 5", [0, 1]),
    ("fields:ints", "n32 == -3 && x32 == 0xdeadbeef && u64 > 0", [2]),
    ("fields:*", 's == "hel*"', [5]),
    ("fields:texts", 's == "x" || seq == "z"', [6, 8]),
    ("fields:texts", 's != "*quotes*" && a8 == "ab"', [6]),
    ("fields:texts", 's == "*\\\\"', [7]),
    ("fields:floats", "d > 1e299 || f == 1.5", [3, 4]),
    ("fields:enums", "c >= 10 && c <= 19 || !(k != 19)", [12, 13]),
    ("fields:ints", '$ctx.procname == "ust-*" && !(s8 != -1) && $ctx.vpid > 0', [2]),
    ("fields:ints", "$ctx.vtid < 0 || missing == 1", []),
]


def filtered(tap, sb, name, enables):
    """Records the app with several `enable-event -u` calls; the view."""
    trace = sb.path(name)
    if not run_all(tap, sb, [["create", name, "--output=" + trace]] +
                   [["enable-event", "-u"] + e for e in enables] + [["start"]]):
        sb.run("destroy", name)
        return None
    subprocess.run([APP, sb.path("unused"), "daemon-fields"], env=sb.env,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    sb.run("stop")
    rc, view, err = sb.run("view", trace)
    sb.run("destroy", name)
    return ["%s: %s" % (e[0], e[2]) for e in payloads(view)] if rc == 0 or not view else None


def test_filters(tap, sb):
    for i, (pattern, expr, keep) in enumerate(FILTERS):
        got = filtered(tap, sb, "filter%d" % i, [[pattern, "--filter", expr]])
        tap.check(got == [FIELDS[k] for k in keep],
                  "--filter '%s' on %s keeps %s" % (expr, pattern, keep), got)
    # Patterns are alternatives: a filtered one and an unfiltered one.
    got = filtered(tap, sb, "filters-or", [["fields:ints", "--filter", "s8 == 1"],
                                           ["fields:enums"]])
    tap.check(got == [FIELDS[k] for k in (1, 11, 12, 13)],
              "a filtered and an unfiltered pattern: either records", got)
    sb.run("create", "badfilter")
    for expr, what in (("s32 ==", "column 7: unexpected end"),
                       ("s32 == 1 &&& x", "column 12:"),
                       ('s < "a*"', "glob"),
                       ('s == 1 || (t == "x"', "column 20: expected ')'"),
                       ("$ctx.nosuch == 1", "unknown context"),
                       ('"abc" == 3', "cannot compare a string with a number"),
                       ("(" * 40 + "a" + ")" * 40, "too deeply nested")):
        rc, out, err = sb.run("enable-event", "-u", "fields:*", "--filter", expr)
        tap.check(rc == 1 and one_error_line(err) and what in err,
                  "bad filter '%s' refused, one line naming the place" % expr[:20], err)
    rc, out, err = sb.run("enable-event", "-k", "sched_switch", "--filter", "a == 1")
    tap.check(rc == 2, "--filter without -u: usage error", err)
    sb.run("destroy", "badfilter")


def test_enable_disable_while_recording(tap, sb):
    """Patterns changed while a program records: fields:ints disabled,
    fields:texts enabled; fields:enums, enabled throughout, loses nothing."""
    trace = sb.path("live-patterns")
    run_all(tap, sb, (["create", "live-patterns", "--output=" + trace],
                      ["enable-event", "-u", "fields:ints,fields:enums"], ["start"]))
    loops = 60
    app = subprocess.Popen([APP, sb.path("unused"), "daemon-loop", str(loops), "20"], env=sb.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.4)
    rc, out, err = sb.run("disable-event", "-u", "fields:ints")
    tap.check(rc == 0 and "fields:ints disabled" in out, "disable-event -u while recording", err)
    time.sleep(0.4)
    rc, out, err = sb.run("enable-event", "-u", "fields:texts", "--filter", 's == "x"')
    tap.check(rc == 0, "enable-event -u while recording", err)
    app.wait(timeout=60)
    sb.run("stop")
    rc, view, err = sb.run("view", trace)
    names = [e[0] for e in payloads(view) if e[0] != "fields:seq"]
    ints, enums, texts = (names.count("fields:" + n) for n in ("ints", "enums", "texts"))
    last_int = max((i for i, n in enumerate(names) if n == "fields:ints"), default=-1)
    first_text = min((i for i, n in enumerate(names) if n == "fields:texts"), default=-1)
    tap.check(enums == 3 * loops, "the pattern enabled throughout lost no event (%d of %d)" % (enums, 3 * loops))
    tap.check(0 < ints < 3 * loops and 0 < texts < loops and last_int < first_text,
              "fields:ints recorded until disabled, fields:texts (filtered) from when enabled",
              "ints %d texts %d last int %d first text %d" % (ints, texts, last_int, first_text))
    tap.check(set(names) == {"fields:ints", "fields:enums", "fields:texts"}, "nothing else recorded", set(names))
    tap.check("fields:seq" not in view, "fields:seq (never enabled) not recorded")
    rc, out, err = sb.run("disable-event", "-u", "fields:nosuch")
    tap.check(rc == 1 and one_error_line(err) and "not enabled" in err,
              "disable-event -u of a pattern not enabled: one error line", err)
    rc, out, err = sb.run("disable-event", "-u", "-a")
    tap.check(rc == 0, "disable-event -u -a", err)
    rc, out, err = sb.run("start")
    subprocess.run([APP, sb.path("unused"), "daemon-fields"], env=sb.env, timeout=60)
    sb.run("stop")
    rc, view2, err = sb.run("view", trace)
    tap.check(view2 == view, "after -a nothing more is recorded", view2[len(view):][:300])
    sb.run("destroy", "live-patterns")


def seq_values(view):
    return [int(m) for m in re.findall(r"fields:seq: .*\{ thread = 0, i = (\d+) \}", view)]


def test_snapshot(tap, sb):
    """A snapshot session with user-space events: small overwrite buffers,
    snapshots while a program records and after it ended hold its newest
    events as complete traces that sonde view and babeltrace read."""
    trace = sb.path("usnap")
    run_all(tap, sb, (["create", "usnap", "--snapshot", "--output=" + trace],
                      ["enable-channel", "-u", "--subbuf-size", "4k", "--num-subbuf", "4", "snapchan"],
                      ["enable-event", "-u", "fields:*"], ["start"]))
    loops = 300
    app = subprocess.Popen([APP, sb.path("unused"), "daemon-loop", str(loops), "3"], env=sb.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    rc, out1, err = sb.run("snapshot", "record", "-n", "during")
    tap.check(rc == 0 and "Snapshot written to" in out1, "snapshot record while the program records", err)
    app.wait(timeout=60)
    rc, out2, err = sb.run("snapshot", "record", "-n", "after")
    tap.check(rc == 0, "snapshot record after it ended", err)
    tap.check(not os.path.exists(os.path.join(trace, "ust")),
              "nothing written to the session's output outside snapshots",
              os.listdir(trace) if os.path.isdir(trace) else None)
    views = []
    for out in (out1, out2):
        m = re.search(r"Snapshot written to (\S+)", out)
        path = m.group(1) if m else ""
        rc, view, err = sb.run("view", path)
        views.append(view)
        ok = tap.check(rc == 0 and os.path.isdir(os.path.join(path, "ust", "uid", str(os.getuid()), "64-bit", "index")),
                       "the snapshot is a ust/uid/UID/64-bit trace (%s)" % os.path.basename(path), err)
        if ok and shutil.which("babeltrace"):
            p = subprocess.run(["babeltrace", path], env=sb.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            tap.check(p.stdout.decode() == view, "babeltrace 1.5 prints the same", p.stderr[:300])
        if ok and shutil.which("babeltrace2"):
            p = subprocess.run(["babeltrace2", path], env=sb.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            tap.check(p.returncode == 0 and p.stdout.count(b"\n") == view.count("\n"),
                      "babeltrace2 reads it, as many events", p.stderr[:300])
    during, after = seq_values(views[0]), seq_values(views[1])
    tap.check(during and 0 < max(during) < loops - 1,
              "the first snapshot holds events of the running program (up to %s)" % (max(during) if during else None))
    tap.check(after and max(after) == loops - 1 and len(after) < loops and after == sorted(after),
              "the second holds the newest events (to iteration %d), the oldest overwritten (%d of %d kept)"
              % (loops - 1, len(after), loops), after[-5:])
    tap.check(all(len(payloads(v)) > 0 and all(e[0] for e in payloads(v)) for v in views),
              "every line of the snapshots is a complete event")
    rc, out, err = sb.run("stop")
    rc, out3, err = sb.run("snapshot", "record", "-n", "stopped")
    m = re.search(r"Snapshot written to (\S+)", out3)
    rc, view, err = sb.run("view", m.group(1) if m else "")
    tap.check(rc == 0 and seq_values(view) == after, "a snapshot after stop holds the same events", err)
    sb.run("destroy", "usnap")


def test_many_programs(tap, sb, count=150):
    """More traced programs at once than a small connection table would
    hold: each stays connected to the daemon while it runs, and every one
    of them is recorded."""
    trace = sb.path("many")
    if not run_all(tap, sb, (["create", "many", "--output=" + trace],
                             ["enable-event", "-u", "fields:seq"],
                             ["add-context", "-u", "-t", "vpid"], ["start"])):
        return
    env = dict(sb.env, SONDE_UST_REGISTER_TIMEOUT="30000")
    apps = [subprocess.Popen([APP, sb.path("unused"), "daemon-loop", "4", "500"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(count)]
    failed = [a.pid for a in apps if a.wait(timeout=120) != 0]
    tap.check(not failed, "%d programs run at once" % count, failed[:5])
    rc, out, err = sb.run("stop")
    tap.check(rc == 0, "sonde stop", err)
    rc, view, err = sb.run("view", trace)
    last = set(re.findall(r"vpid = (\d+) \}, \{ thread = 0, i = 3 \}", view))
    want = set(str(a.pid) for a in apps)
    tap.check(rc == 0 and last == want,
              "each of the %d programs recorded its last event (%d did)" % (count, len(last & want)),
              err[:300])
    sb.run("destroy", "many")


def main():
    tap = Tap()
    sb = Sandbox(SONDE, SESSIOND)
    try:
        # Every event, with contexts.
        trace = record(tap, sb, "all", ["fields:*"], ("vpid", "procname"))
        if trace:
            rc, view, err = sb.run("view", trace)
            ev = payloads(view)
            got = ["%s: %s" % (e[0], e[2]) for e in ev]
            tap.check(got == FIELDS, "every field kind recorded through the daemon",
                      "\n".join(got) + err)
            tap.check(all(e[1] and re.match(r'vpid = \d+, procname = "ust-app"$', e[1]) for e in ev),
                      "contexts vpid and procname", view[:1000])
            tap.check(os.path.isdir(os.path.join(trace, "ust", "uid", str(os.getuid()), "64-bit", "index")),
                      "ust/uid/UID/64-bit layout with index files")
            if shutil.which("babeltrace"):
                p = subprocess.run(["babeltrace", trace], env=sb.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
                tap.check(p.stdout.decode() == view and p.stderr == b"",
                          "babeltrace 1.5 prints the same, no warning", p.stderr)
            rc, out, err = sb.run("destroy", "all")
            tap.check(rc == 0, "destroy", err)
            tap.check(not [f for f in os.listdir("/dev/shm") if f.startswith("sonde-ust-%d-" % sb.daemon_pid())],
                      "the shared-memory buffers are removed")

        # Log levels: WARNING or more severe (texts 4, enums 3).
        trace = record(tap, sb, "levels", ["fields:*", "--loglevel", "TRACE_WARNING"])
        if trace:
            rc, view, err = sb.run("view", trace)
            names = [e[0] for e in payloads(view)]
            want = [e.split(":")[0] + ":" + e.split(":")[1] for e in FIELDS]
            want = [w for w in want if LEVELS[w.split(":")[1]] <= 4]
            tap.check(names == want, "--loglevel WARNING keeps only WARNING and more severe",
                      names)
            sb.run("destroy", "levels")
        trace = record(tap, sb, "single", ["fields:*", "--loglevel-only", "3"])
        if trace:
            rc, view, err = sb.run("view", trace)
            names = sorted(set(e[0] for e in payloads(view)))
            tap.check(names == ["fields:enums"], "--loglevel-only 3 keeps only ERR", names)
            sb.run("destroy", "single")

        # Per-PID buffers and a named channel: one trace per process.
        trace = sb.path("perpid")
        ok = True
        for args in (["create", "perpid", "--output=" + trace],
                     ["enable-channel", "-u", "--buffers-pid", "--subbuf-size", "16k",
                      "--num-subbuf", "4", "mychan"],
                     ["enable-event", "-u", "fields:ints"], ["start"]):
            rc, out, err = sb.run(*args)
            ok = tap.check(rc == 0, "sonde %s" % " ".join(args), err) and ok
        for _ in range(2):
            subprocess.run([APP, sb.path("unused"), "daemon-fields"], env=sb.env, timeout=60)
        rc, out, err = sb.run("stop")
        piddir = os.path.join(trace, "ust", "pid")
        dirs = sorted(os.listdir(piddir)) if os.path.isdir(piddir) else []
        tap.check(ok and len(dirs) == 2 and all(re.match(r"ust-app-\d+-\d{8}-\d{6}$", d) for d in dirs),
                  "--buffers-pid: ust/pid/PROCNAME-PID-DATETIME per process", dirs)
        files = [f for d in dirs for f in os.listdir(os.path.join(piddir, d))]
        tap.check(any(f.startswith("mychan_") for f in files), "stream files named after the channel", files)
        rc, view, err = sb.run("view", trace)
        ev = payloads(view)
        tap.check(rc == 0 and len(ev) == 6 and all(e[0] == "fields:ints" for e in ev),
                  "both processes' events, and only fields:ints", view[:500] + err)
        hosts = set(re.findall(r"\) (\S+) fields:", view))
        tap.check(len(hosts) == 2 and all(re.match(r"\S+:ust-app:\d+$", h) for h in hosts),
                  "per-PID traces name their process (vpid, procname env)", hosts)
        if shutil.which("babeltrace"):
            p = subprocess.run(["babeltrace", trace], env=sb.env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            tap.check(p.stdout.decode() == view and p.stderr == b"",
                      "per-PID: babeltrace 1.5 prints the same", p.stderr)
        sb.run("destroy", "perpid")

        # Errors.
        rc, out, err = sb.run("create", "e")
        rc, out, err = sb.run("add-context", "-u", "-t", "nosuch")
        tap.check(rc == 1 and one_error_line(err), "unknown context: one error line", err)
        rc, out, err = sb.run("enable-event", "-u", "x:*", "--loglevel", "LOUD")
        tap.check(rc == 2 and "log level" in err, "unknown log level: usage error", err)
        rc, out, err = sb.run("add-context", "-t", "vpid")
        tap.check(rc == 2, "add-context without -u: usage error", err)
        sb.run("destroy", "e")

        test_filters(tap, sb)
        test_enable_disable_while_recording(tap, sb)
        test_snapshot(tap, sb)
        test_many_programs(tap, sb)

        # No daemon: the program runs, untraced, without waiting.
        env = dict(sb.env, SONDE_RUNDIR=sb.path("nowhere"))
        p = subprocess.run([APP, sb.path("unused"), "daemon-fields"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        tap.check(p.returncode == 0 and p.stderr == b"", "without a daemon the program runs untraced")
    finally:
        sb.close()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
