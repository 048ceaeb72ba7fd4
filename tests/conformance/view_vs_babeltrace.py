#!/usr/bin/env python3
"""`sonde view` against `babeltrace` 1.5 on every trace of the corpora.

For each trace babeltrace 1.5 reads with exit status 0, runs both tools with
the same arguments (default options in TZ=UTC and in a non-UTC zone, then
each option) and requires identical stdout, and the same discarded-event /
lost-packet / unknown-enum warnings on stderr (as a multiset: babeltrace
interleaves them with its own parser chatter).  Traces babeltrace rejects
must make sonde fail too.  Known, documented differences are listed in
view-exceptions.txt ("TRACE-GLOB<TAB>OPTIONS-GLOB<TAB>reason"); such cases
pass with the reason in their description.

Usage: view_vs_babeltrace.py SONDE [--sonde-gen SONDE_GEN] [--quick]
With --sonde-gen, traces written by sonde-gen (losses of both kinds,
per-PID UST, big-endian, several channels) are compared too.
Environment: SONDE_SHARED_DIR (default: ../shared beside the source root),
BABELTRACE (default: babeltrace).  TAP output; exit 77 when babeltrace or
the corpora are missing.
"""
import fnmatch
import hashlib
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile

import gen_traces

HERE = os.path.dirname(os.path.abspath(__file__))

# Every option of babeltrace 1.5 that changes the text output.
OPTION_SETS = [
    [],
    ["--clock-seconds"],
    ["--clock-date"],
    ["--clock-gmt"],
    ["--clock-cycles"],
    ["--no-delta"],
    ["--clock-offset", "3"],
    ["--clock-offset-ns", "5"],
    ["-n", "none"],
    ["-n", "all"],
    ["-n", "payload"],
    ["-n", "scope"],
    ["-n", "header"],
    ["-n", "context"],
    ["--names", "payload,scope"],
    ["-f", "all"],
    ["-f", "trace"],
    ["-f", "trace:domain"],
    ["-f", "trace:hostname,trace:vpid"],
    ["-f", "loglevel"],
    ["-f", "emf"],
    ["--fields", "trace:procname"],
    ["-v"],
    ["-v", "-n", "all", "--clock-date", "-f", "all"],
    ["--clock-cycles", "--no-delta", "-n", "none"],
    ["-o", "ctf-metadata"],
]
# Every option on these traces (they cover all field kinds, env forms,
# several traces at once, losses, no clock); the others get the default
# options and a few option sets only, to keep the suite short.
FULL_MATRIX = {
    "traces/lttng-ust-sample",
    "ctf/babeltrace-ctf-traces/succeed/multi-domains",
    "ctf/babeltrace-ctf-traces/succeed/session-rotation",
    "ctf/babeltrace-ctf-traces/succeed/meta-variant-one-underscore",
    "ctf/babeltrace-ctf-traces/succeed/ev-disc-no-ts-begin-end",
    "ctf/babeltrace-ctf-traces/packet-seq-num/2-streams-lost-in-2",
    "ctf/ctf-testsuite/tests/1.8/regression/stream/pass/in-bound-variant-selected-element",
}
SHORT_OPTION_SETS = [[], ["-v", "-n", "all", "-f", "all"],
                     ["-o", "ctf-metadata"]]
BIG_TRACES = {"traces/many-threads"}
OTHER_TZ = "America/Montreal"
SONDE_GEN_TRACES = [
    ("sg-lost", ["--lost", "-n", "20000", "--packet-size", "4"]),
    ("sg-lost-mixed", ["--lost-mixed", "-n", "20000", "--packet-size", "4"]),
    ("sg-ust-pid", ["--ust-pid", "--context", "-n", "3000"]),
    ("sg-big-endian", ["--big-endian", "--header", "large", "-n", "3000"]),
    ("sg-channels", ["--context", "--channels", "2", "-n", "5000",
                     "--plain-metadata"]),
]
MULTI = [
    ("ctf/babeltrace-ctf-traces/succeed/wk-heartbeat-u",
     "ctf/babeltrace-ctf-traces/succeed/multi-domains"),
    ("traces/lttng-ust-sample",
     "ctf/babeltrace-ctf-traces/succeed/wk-heartbeat-u"),
]

WARNING_RE = re.compile(
    r"^\[warning\] (Tracer discarded|Tracer lost|Unknown value|Clock)"
    r"|^\[error\] Only CTF traces with a single clock")


def corpus_traces(shared):
    """(relative path, expect_ok) of every trace directory to compare."""
    out = []
    bt = os.path.join("ctf", "babeltrace-ctf-traces")
    for group in ("succeed", "packet-seq-num", "fail"):
        base = os.path.join(shared, bt, group)
        if os.path.isdir(base):
            for name in sorted(os.listdir(base)):
                out.append(os.path.join(bt, group, name))
    ts = os.path.join("ctf", "ctf-testsuite", "tests", "1.8", "regression",
                      "stream")
    for group in ("pass", "fail"):
        base = os.path.join(shared, ts, group)
        if os.path.isdir(base):
            for name in sorted(os.listdir(base)):
                out.append(os.path.join(ts, group, name))
    for name in ("traces/many-threads", "traces/lttng-ust-sample"):
        if os.path.isdir(os.path.join(shared, name)):
            out.append(name)
    # Several paths at once: clock-offset averaging, uncorrelated clocks.
    for group in MULTI:
        if all(os.path.isdir(os.path.join(shared, t)) for t in group):
            out.append(" ".join(group))
    return out


def load_exceptions():
    rules = []
    path = os.path.join(HERE, "view-exceptions.txt")
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise SystemExit("bad exception line: %r" % line)
            rules.append(parts)
    return rules


def exception_for(rules, trace, opts):
    joined = " ".join(opts)
    for tglob, oglob, reason in rules:
        if fnmatch.fnmatchcase(trace, tglob) and fnmatch.fnmatchcase(joined, oglob):
            return reason
    return None


def run(cmd, cwd, tz):
    env = dict(os.environ, TZ=tz, LC_ALL="C")
    env.pop("BABELTRACE_VERBOSE", None)
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    return p.returncode, p.stdout, p.stderr


def run_peer(cmd, cwd, tz, cacheable):
    """babeltrace's output, from SONDE_PEER_CACHE when an earlier build's
    run of this test (scripts/check.sh runs it in the gcc and the ASan
    builds) already asked the same question of the same read-only corpus:
    the peer's answer does not depend on our build."""
    cache = os.environ.get("SONDE_PEER_CACHE")
    if not cache or not cacheable:
        return run(cmd, cwd, tz)
    key = hashlib.sha256(repr((cmd, tz)).encode()).hexdigest()
    path = os.path.join(cache, key)
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError):
        pass
    result = run(cmd, cwd, tz)
    os.makedirs(cache, exist_ok=True)
    tmp = "%s.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        pickle.dump(result, f)
    os.replace(tmp, path)
    return result


def stdout_lines(data, verbose):
    lines = data.split(b"\n")
    if verbose:
        # babeltrace -v also prints its own "[verbose] ..." chatter on
        # stdout; sonde does not.
        lines = [l for l in lines
                 if not l.startswith(b"[verbose]") and l != b"<stdout>"]
    return lines


def warnings(data):
    return sorted(l for l in data.decode("utf-8", "replace").split("\n")
                  if WARNING_RE.match(l))


DELTA_RE = re.compile(rb"\(\+[0-9?]+\.[0-9?]+\) |delta = \+[0-9?]+\.[0-9?]+, ")
STAMP_RE = re.compile(rb"^(\[[^]]*\]|timestamp = [^,]*,)")


def tie_normalized(lines):
    """Lines with events of equal timestamps sorted and deltas dropped:
    babeltrace 1.5 orders such ties by its heap, sonde as babeltrace2."""
    out, group, stamp = [], [], None
    for line in lines:
        m = STAMP_RE.match(line)
        key = m.group(1) if m else None
        if key != stamp or key is None:
            out.extend(sorted(group))
            group, stamp = [], key
        group.append(DELTA_RE.sub(b"", line))
    out.extend(sorted(group))
    return out


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i, x, y
    i = min(len(a), len(b))
    return (i, a[i] if i < len(a) else b"<end>",
            b[i] if i < len(b) else b"<end>")


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    sonde = os.path.abspath(sys.argv[1])
    quick = "--quick" in sys.argv[2:]
    sonde_gen = None
    if "--sonde-gen" in sys.argv[2:]:
        sonde_gen = os.path.abspath(
            sys.argv[sys.argv.index("--sonde-gen") + 1])
    babeltrace = os.environ.get("BABELTRACE", "babeltrace")
    shared = os.environ.get("SONDE_SHARED_DIR") or os.path.join(
        HERE, "..", "..", "..", "shared")
    # Traces live in SHARED/data; run from there so both tools see the
    # same relative paths (babeltrace prints them with -f trace).
    shared = os.path.join(os.path.abspath(shared), "data")
    if not shutil.which(babeltrace):
        print("1..0 # SKIP babeltrace not installed")
        return 77
    if not os.path.isdir(os.path.join(shared, "ctf")):
        print("1..0 # SKIP corpora not found in %s" % shared)
        return 77
    rules = load_exceptions()
    gen_dir = tempfile.mkdtemp(prefix="sonde-view-gen-")
    generated = [os.path.join(gen_dir, t) for t in gen_traces.write_all(gen_dir)]
    FULL_MATRIX.update(generated)
    if sonde_gen:
        for name, args in SONDE_GEN_TRACES:
            out = os.path.join(gen_dir, name)
            subprocess.run([sonde_gen, "-q", "-o", out] + args, check=True)
            generated.append(out)
    n = 0
    failed = 0
    for trace in corpus_traces(shared) + generated:
        targs = trace.split(" ")
        # generated traces live in a fresh directory: never cached
        cacheable = trace not in generated
        bt_rc, bt_out, bt_err = run_peer([babeltrace] + targs, shared, "UTC",
                                         cacheable)
        if bt_rc != 0:
            # babeltrace rejects it: sonde must fail too (after printing
            # what it decoded).
            s_rc, s_out, s_err = run([sonde, "view"] + targs, shared, "UTC")
            n += 1
            why = exception_for(rules, trace, ["<fail>"])
            if s_rc != 0 or why:
                print("ok %d - %s: rejected by both%s" % (
                    n, trace, " (known difference: " + why + ")" if s_rc == 0 else ""))
            else:
                failed += 1
                print("not ok %d - %s: babeltrace fails (%d) but sonde exits 0"
                      % (n, trace, bt_rc))
            continue
        if "/fail/" in trace:
            # babeltrace 1.5 wrongly accepts a few broken traces; sonde
            # must reject them (checked once, not per option).
            s_rc, s_out, s_err = run([sonde, "view"] + targs, shared, "UTC")
            n += 1
            if s_rc != 0:
                print("ok %d - %s: rejected by sonde (babeltrace 1.5"
                      " accepts this broken trace)" % (n, trace))
            else:
                failed += 1
                print("not ok %d - %s: broken trace accepted" % (n, trace))
            continue
        sets = OPTION_SETS if trace in FULL_MATRIX else SHORT_OPTION_SETS
        if quick:
            sets = sets[:1]
        cases = [(opts, "UTC") for opts in sets]
        cases.append(([], OTHER_TZ))
        if trace in FULL_MATRIX:
            cases.append((["--clock-date"], OTHER_TZ))
            cases.append((["--clock-gmt"], OTHER_TZ))
        for opts, tz in cases:
            n += 1
            what = "%s [%s] TZ=%s" % (trace, " ".join(opts), tz)
            verbose = "-v" in opts
            b_rc, b_out, b_err = run_peer([babeltrace] + opts + targs,
                                          shared, tz, cacheable)
            s_rc, s_out, s_err = run([sonde, "view"] + opts + targs, shared, tz)
            problems = []
            if b_rc != 0 and "ctf-metadata" in opts:
                print("ok %d - %s (babeltrace 1.5 cannot print plain-text"
                      " metadata)" % (n, what))
                continue
            if s_rc != 0:
                problems.append("sonde exit %d: %s" % (
                    s_rc, s_err.decode("utf-8", "replace").strip()[:300]))
            bl = stdout_lines(b_out, verbose)
            sl = stdout_lines(s_out, False)
            tie_only = False
            if bl != sl and tie_normalized(bl) == tie_normalized(sl):
                tie_only = True
            elif bl != sl:
                i, x, y = first_diff(bl, sl)
                problems.append("stdout differs at line %d:\n#   babeltrace: %s\n#   sonde:      %s"
                                % (i + 1, x.decode("utf-8", "replace")[:400],
                                   y.decode("utf-8", "replace")[:400]))
            bw, sw = warnings(b_err), warnings(s_err)
            if bw != sw:
                problems.append("warnings differ: babeltrace %d, sonde %d; first: %s | %s"
                                % (len(bw), len(sw), bw[:1], sw[:1]))
            why = exception_for(rules, trace, opts)
            if not problems:
                print("ok %d - %s%s" % (n, what, " (equal-timestamp"
                                      " events ordered as babeltrace2)"
                                      if tie_only else ""))
            elif why:
                print("ok %d - %s (known difference: %s)" % (n, what, why))
            else:
                failed += 1
                print("not ok %d - %s" % (n, what))
                for p in problems:
                    print("# " + p.replace("\n", "\n"))
            sys.stdout.flush()
    shutil.rmtree(gen_dir, ignore_errors=True)
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
