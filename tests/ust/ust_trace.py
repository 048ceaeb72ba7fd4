#!/usr/bin/env python3
"""libsonde-ust end to end: tests/ust/ust-app records its own tracepoints
(in-process session) and the traces are read by sonde view, babeltrace 1.5
and babeltrace2.  Every field kind round-trips; threads, processes, a
killed writer; discard accounting is exact.
usage: ust_trace.py UST_APP SONDE DL_APP DL_LIBRARY STATIC_UST_APP"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import Tap  # noqa: E402

if __name__ == "__main__":
    APP, SONDE, DL_APP, DL_LIB, STATIC_APP = sys.argv[1:6]
# No daemon: these programs record themselves (in-process sessions).
ENV = dict(os.environ, TZ="UTC", LC_ALL="C", SONDE_UST_NO_DAEMON="1")

# What ust-app passes, as the viewers print it (after the stream context).
FIELDS = [
    "fields:ints: { s8 = -128, u8 = 255, s16 = -32768, u16 = 65535, s32 = -2147483648, u32 = 4294967295, s64 = -9223372036854775808, u64 = 18446744073709551615, x32 = 0xFFFFFFFF, x64 = 0xFFFFFFFFFFFFFFFF, n16 = 65535, n32 = -2147483648, nx64 = 0xFFFFFFFFFFFFFFFF }",
    "fields:ints: { s8 = 1, u8 = 2, s16 = 3, u16 = 4, s32 = 5, u32 = 6, s64 = 7, u64 = 8, x32 = 0x6, x64 = 0x8, n16 = 4, n32 = 5, nx64 = 0x8 }",
    "fields:ints: { s8 = -1, u8 = 0, s16 = -2, u16 = 4660, s32 = -3, u32 = 3735928559, s64 = -4, u64 = 81985529216486895, x32 = 0xDEADBEEF, x64 = 0x123456789ABCDEF, n16 = 4660, n32 = -3, nx64 = 0x123456789ABCDEF }",
    "fields:floats: { f = 1.5, d = 3.25 }",
    "fields:floats: { f = -0, d = 1e+300 }",
    'fields:texts: { s = "hello", a8 = "abcdefgh", _seq_length = 8, seq = "sequence" }',
    'fields:texts: { s = "x", a8 = "ab", _seq_length = 2, seq = "se" }',
    'fields:texts: { s = "with "quotes" and \\", a8 = "12345678", _seq_length = 0, seq = "" }',
    'fields:texts: { s = "(null)", a8 = "nullstr", _seq_length = 1, seq = "z" }',
    "fields:arrays: { a3 = [ [0] = -1, [1] = 0, [2] = 2147483647 ], _bytes_length = 4, bytes = [ [0] = 1, [1] = 2, [2] = 254, [3] = 255 ], _s64_length = 2, s64 = [ [0] = -9223372036854775808, [1] = 9223372036854775807 ] }",
    "fields:arrays: { a3 = [ [0] = -1, [1] = 0, [2] = 2147483647 ], _bytes_length = 0, bytes = [ ], _s64_length = 0, s64 = [ ] }",
    'fields:enums: { c = ( "RED" : container = 0 ), k = ( "GREEN" : container = 1 ) }',
    'fields:enums: { c = ( "MANY" : container = 15 ), k = ( "MANY" : container = 10 ) }',
    'fields:enums: { c = ( "GREEN" : container = 1 ), k = ( "MANY" : container = 19 ) }',
    "fields:empty: { }",
]

LINE = re.compile(r"^\[[0-9:.]+\] \(\S+\) \S+ (\S+): \{ cpu_id = \d+ \}, (?:\{ (.*?) \}, )?(\{.*\})$")


def run(args, env=ENV, timeout=120):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def record(tap, out, *args, env=None):
    rc, so, se = run([APP, out] + list(args), env=dict(ENV, **(env or {})))
    tap.check(rc == 0, "ust-app %s records" % " ".join(args), se)
    m = re.search(r"discarded=(\d+)", so)
    return int(m.group(1)) if m else -1


def parse(text):
    events = []
    for line in text.splitlines():
        m = LINE.match(line)
        events.append((m.group(1), m.group(2), m.group(3)) if m else (None, None, line))
    return events


def bt1_discarded(stderr):
    return sum(int(n) for n in re.findall(r"Tracer discarded (\d+) events", stderr))


def main():
    tap = Tap()
    have_bt1 = shutil.which("babeltrace") is not None
    have_bt2 = shutil.which("babeltrace2") is not None
    root = tempfile.mkdtemp(prefix="sonde-ust-")
    try:
        # 1. Every field kind, with and without contexts.
        out = os.path.join(root, "fields")
        record(tap, out, "fields")
        rc, view, err = run([SONDE, "view", out])
        tap.check(rc == 0 and err == "", "sonde view reads the trace", err)
        got = ["%s: %s" % (e[0], e[2]) for e in parse(view)]
        tap.check(got == FIELDS, "every field kind round-trips (sonde view)",
                  "\n".join(got))
        if have_bt1:
            rc, bt1, err = run(["babeltrace", out])
            tap.check(rc == 0 and err == "", "babeltrace 1.5 reads it, no warning", err)
            tap.check(bt1 == view, "babeltrace 1.5 prints the same bytes as sonde view")
        if have_bt2:
            rc, bt2, err = run(["babeltrace2", out])
            tap.check(rc == 0 and err == "", "babeltrace2 reads it, no warning", err)
            tap.check(len(bt2.splitlines()) == len(FIELDS), "babeltrace2 sees every event")
        if os.path.isdir(os.path.join(out, "ust", "uid", str(os.getuid()), "64-bit", "index")):
            tap.check(True, "layout ust/uid/UID/64-bit with index files")
        else:
            tap.check(False, "layout ust/uid/UID/64-bit with index files", os.listdir(out))

        out = os.path.join(root, "ctx")
        record(tap, out, "fields", env={"UST_APP_CONTEXTS": "1"})
        rc, view, err = run([SONDE, "view", out])
        ev = parse(view)
        ctx_ok = all(e[1] and re.match(r'vpid = \d+, vtid = \d+, procname = "ust-app", pthread_id = 0x[0-9A-F]+$', e[1]) for e in ev)
        tap.check(rc == 0 and len(ev) == len(FIELDS) and ctx_ok,
                  "contexts vpid, vtid, procname, pthread_id", view[:2000])
        if have_bt1:
            rc, bt1, err = run(["babeltrace", out])
            tap.check(bt1 == view and err == "", "babeltrace 1.5 agrees on the contexts", err)

        # 2. Disabled events: nothing recorded.
        out = os.path.join(root, "disabled")
        record(tap, out, "disabled")
        streams = [f for f in os.listdir(os.path.join(out, "ust", "uid", str(os.getuid()), "64-bit")) if f.startswith("channel")]
        tap.check(streams == [], "events that match no pattern are not recorded", streams)

        # 3. Threads and processes on small buffers: exact accounting.
        for mode, n, e, env in (("threads", 4, 50000, {}),
                                ("procs", 3, 20000, {"UST_APP_CONTEXTS": "1",
                                                      "UST_APP_SUBBUF": "1048576"})):
            out = os.path.join(root, mode)
            disc = record(tap, out, mode, str(n), str(e), env=env)
            rc, view, err = run([SONDE, "view", out])
            ev = parse(view)
            tap.check(rc == 0 and all(x[0] == "fields:seq" for x in ev),
                      "%s: sonde view reads every event" % mode, err[:500])
            tap.check(len(ev) + disc == n * e,
                      "%s: recorded %d + discarded %d == %d written" % (mode, len(ev), disc, n * e))
            seen = set()
            for x in ev:
                m = re.match(r"\{ thread = (\d+), i = (\d+) \}", x[2])
                seen.add((int(m.group(1)), int(m.group(2))) if m else None)
            tap.check(len(seen) == len(ev) and None not in seen,
                      "%s: no event twice, none garbled" % mode)
            if mode == "procs":
                pids = {re.match(r"vpid = (\d+)", x[1]).group(1) for x in ev if x[1]}
                tap.check(len(pids) == n, "procs: events of %d processes (vpid)" % n, pids)
            if have_bt1:
                rc, bt1, err = run(["babeltrace", out])
                tap.check(bt1 == view, "%s: babeltrace 1.5 prints the same" % mode)
                tap.check(bt1_discarded(err) == disc,
                          "%s: babeltrace 1.5 reports the %d discarded events" % (mode, disc), err[:1000])
            if have_bt2:
                rc, bt2, err = run(["babeltrace2", out])
                tap.check(rc == 0 and len(bt2.splitlines()) == len(ev),
                          "%s: babeltrace2 reads it" % mode, err[:500])

        # 4. dlopen, dlclose, dlopen again; a statically linked program.
        out = os.path.join(root, "dl")
        rc, so, se = run([DL_APP, out, os.path.abspath(DL_LIB)])
        tap.check(rc == 0, "dl-app records", se)
        rc, view, err = run([SONDE, "view", out])
        got = [" ".join(e[0::2]) for e in parse(view)]
        tap.check(got == ['dlprov:hit { round = 1, where = "library" }',
                          "fields:seq { thread = 0, i = 1 }",
                          'dlprov:hit { round = 2, where = "library" }',
                          "fields:seq { thread = 0, i = 2 }",
                          "fields:seq { thread = 0, i = 3 }"],
                  "a dlopen()ed provider records, across dlclose and a second dlopen", got)
        meta = subprocess.run(["babeltrace2", "--output-format=ctf-metadata",
                               os.path.join(out, "ust", "uid", str(os.getuid()), "64-bit")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) if have_bt2 else None
        if meta:
            tap.check(meta.stdout.decode().count('name = "dlprov:hit"') == 1,
                      "the event keeps its class after dlclose (one in the metadata)")
        out = os.path.join(root, "static")
        record_app = [STATIC_APP, out, "fields"]
        rc, so, se = run(record_app)
        rc2, view, err = run([SONDE, "view", out])
        got = ["%s: %s" % (e[0], e[2]) for e in parse(view)]
        tap.check(rc == 0 and got == FIELDS, "a program linked with libsonde-ust.a records", se + err)

        # 5. A writer killed with SIGKILL: what it committed is readable.
        out = os.path.join(root, "kill")
        disc = record(tap, out, "kill", "20000", env={"UST_APP_SUBBUF": "1048576"})
        rc, view, err = run([SONDE, "view", out])
        seqs = [int(m.group(1)) for m in re.finditer(r"i = (\d+) \}", view)]
        tap.check(rc == 0 and disc == 0 and len(seqs) >= 20000 and
                  seqs == list(range(len(seqs))),
                  "killed writer: %d events readable, contiguous from 0" % len(seqs),
                  err[:500])
        if have_bt1:
            rc, bt1, err = run(["babeltrace", out])
            tap.check(rc == 0 and bt1 == view and err == "",
                      "killed writer: babeltrace 1.5 reads the same, no warning", err[:500])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
