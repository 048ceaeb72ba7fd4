#!/usr/bin/env python3
"""sonde-sessiond and the session verbs of `sonde`, without the kernel:
auto-start, one daemon per run directory, the current session, create /
list / destroy, one-line errors with non-zero exits, malformed protocol
messages, clean shutdown on SIGTERM.  TAP output.

Usage: sessiond_cli.py SONDE SONDE-SESSIOND
"""
import os
import signal
import socket
import struct
import sys

from harness import Sandbox, Tap, one_error_line, args_or_exit

VERBS = ("create", "enable-channel", "enable-event", "disable-event", "start",
         "stop", "destroy", "list", "status", "snapshot", "summary", "view")


def raw_request(sock_path, data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sock_path)
    s.sendall(data)
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
        if len(reply) >= 12 and len(reply) >= 12 + struct.unpack_from("<I", reply, 8)[0]:
            break
    s.close()
    return reply


def main():
    sonde, sessiond = args_or_exit()
    t = Tap()
    box = Sandbox(sonde, sessiond)
    try:
        run_all(t, box)
    finally:
        box.close()
    return t.done()


def run_all(t, box):
    for verb in VERBS:
        rc, out, err = box.run(verb, "--help")
        t.check(rc == 0 and out.startswith("NAME\n") and "SYNOPSIS" in out
                and "EXIT STATUS" in out, "%s --help is a manual page" % verb,
                err)
        rc, out, err = box.run(verb, "--no-such-option")
        t.check(rc == 2 and one_error_line(err) and "--help" in err,
                "%s: bad option is one line, exit 2, hint to --help" % verb, err)

    rc, out, err = box.run("list")
    t.check(rc == 1 and one_error_line(err) and "no session daemon" in err,
            "list without a daemon: one-line error", err)
    t.check(not box.daemon_pid(), "list does not start a daemon")

    rc, out, err = box.run("create", "s1", "-o", "rel/out")
    t.check(rc == 0 and "Session s1 created." in out, "create starts a daemon",
            out + err)
    t.check(box.path("rel/out") not in out and
            os.path.join(os.getcwd(), "rel/out") in out,
            "relative -o is made absolute", out)
    pid = box.daemon_pid()
    t.check(pid > 0, "pid file written")
    st = os.stat(os.path.join(box.rundir, "sessiond.sock"))
    t.check(st.st_mode & 0o777 == (0o660 if os.geteuid() == 0 else 0o600),
            "socket mode 0660 (root) / 0600", oct(st.st_mode))

    rc, out, err = box.run("create", "s2")
    t.check(rc == 0 and "Spawning" not in err and box.daemon_pid() == pid,
            "second invocation starts no daemon", err)
    t.check(os.path.join(box.home, "sonde-traces", "s2-") in out,
            "default output in $HOME/sonde-traces/NAME-DATE", out)
    with open(os.path.join(box.home, ".sonderc")) as f:
        t.check(f.read() == "session=s2\n", "current session remembered")

    rc, out, err = box.run("create")
    t.check(rc == 0 and "Session auto-" in out, "create without a name", out)
    auto = out.split()[1]
    rc, out, err = box.run("destroy")
    t.check(rc == 0 and ("Session %s destroyed" % auto) in out,
            "destroy without a name destroys the current session", out + err)
    t.check(not os.path.exists(os.path.join(box.home, ".sonderc")),
            "current session forgotten after destroy")
    rc, out, err = box.run("start")
    t.check(rc == 1 and one_error_line(err) and "no current session" in err,
            "no current session: one-line error", err)

    rc, out, err = box.run("create", "s1")
    t.check(rc == 1 and one_error_line(err) and "session 's1' already exists" in err,
            "session exists: one-line error, exit 1", err)
    rc, out, err = box.run("start", "nope")
    t.check(rc == 1 and one_error_line(err) and "session 'nope' not found" in err,
            "unknown session: one-line error, exit 1", err)
    rc, out, err = box.run("destroy", "nope")
    t.check(rc == 1 and one_error_line(err), "destroy unknown session", err)
    rc, out, err = box.run("create", "bad/name")
    t.check(rc == 1 and one_error_line(err) and "'bad/name'" in err,
            "bad session name refused", err)
    rc, out, err = box.run("start", "s1")
    t.check(rc == 1 and one_error_line(err) and "no event enabled" in err,
            "start without events refused", err)
    rc, out, err = box.run("enable-channel", "-k", "--subbuf-size", "3000", "-s", "s1", "c")
    t.check(rc == 2 and one_error_line(err), "sub-buffer size not a power of two", err)
    rc, out, err = box.run("enable-channel", "-k", "--overwrite", "--discard", "c")
    t.check(rc == 2 and one_error_line(err), "--overwrite with --discard", err)
    rc, out, err = box.run("enable-channel", "-k", "--subbuf-size", "64k",
                           "--num-subbuf", "4", "-s", "s1", "big")
    t.check(rc == 0 and "Kernel channel big enabled" in out,
            "enable-channel", out + err)
    rc, out, err = box.run("enable-event", "-k")
    t.check(rc == 2 and one_error_line(err), "enable-event without a name", err)
    rc, out, err = box.run("snapshot", "record", "-s", "s1")
    t.check(rc == 1 and one_error_line(err) and "not a snapshot session" in err,
            "snapshot of a normal session", err)
    rc, out, err = box.run("snapshot", "frobnicate")
    t.check(rc == 2 and one_error_line(err), "snapshot: unknown action", err)

    rc, out, err = box.run("create", "s3")
    rc, out, err = box.run("list")
    t.check(rc == 0 and "1) s1 (" in out and "2) s2 (" in out and "3) s3 (" in out
            and "[inactive]" in out, "list shows the sessions", out + err)
    rc, out, err = box.run("list", "s1")
    t.check(rc == 0 and "Recording session s1: [inactive]" in out
            and "- big: [enabled]" in out and "65536 bytes" in out,
            "list NAME shows the channel", out + err)
    rc, out, err = box.run("status")
    t.check(rc == 0 and "Recording session s3: [inactive]" in out,
            "status: the current session", out + err)

    # Protocol robustness: garbage, a wrong version, a lying length.
    sock = os.path.join(box.rundir, "sessiond.sock")
    for what, data in (
            ("garbage", b"GET / HTTP/1.0\r\n\r\n"),
            ("version 9", struct.pack("<IHHI", 0x43444E53, 9, 9, 0)),
            ("unknown tag", struct.pack("<IHHI", 0x43444E53, 1, 9, 6)
             + struct.pack("<HI", 999, 0)),
            ("field overrun", struct.pack("<IHHI", 0x43444E53, 1, 2, 6)
             + struct.pack("<HI", 3, 100))):
        reply = raw_request(sock, data)
        ok = len(reply) >= 12 and reply[:4] == b"SNDC"
        t.check(ok, "malformed request (%s) gets an error reply" % what,
                repr(reply[:80]))
    rc, out, err = box.run("list")
    t.check(rc == 0 and "s1" in out, "daemon alive after malformed requests",
            err + box.log())

    rc, err = box.start_daemon()
    t.check(rc == 1 and "already running" in err and box.daemon_pid() == pid,
            "a second daemon on the same run directory is refused", err)

    if os.geteuid() == 0:
        import pwd
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            nobody = None
        if nobody:
            os.chmod(box.root, 0o755)
            os.chmod(box.rundir, 0o755)
            import subprocess
            p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid,
                                "--regid=%d" % nobody.pw_gid, "--clear-groups",
                                box.sonde, "list"], env=box.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            err = p.stderr.decode()
            t.check(p.returncode == 1 and one_error_line(err)
                    and "permission denied" in err,
                    "a user outside the tracing group is refused", err)

    os.kill(pid, signal.SIGTERM)
    t.check(box.wait_gone(pid), "SIGTERM stops the daemon")
    foreground(t, box)
    t.check(not os.path.exists(sock) and
            not os.path.exists(os.path.join(box.rundir, "sessiond.pid")),
            "socket and pid file removed", os.listdir(box.rundir))
    t.check("exited" in box.log(), "shutdown logged", box.log()[-2000:])


def foreground(t, box):
    """sonde-sessiond's own options, and a foreground daemon on SIGINT."""
    import subprocess
    import time
    p = subprocess.run([box.sessiond, "--help"], env=box.env,
                       capture_output=True, text=True)
    t.check(p.returncode == 0 and p.stdout.startswith("NAME\n")
            and "EXIT STATUS" in p.stdout, "sonde-sessiond --help")
    p = subprocess.run([box.sessiond, "--bogus"], env=box.env,
                       capture_output=True, text=True)
    t.check(p.returncode == 2 and one_error_line(p.stderr.replace(
        "sonde-sessiond: error:", "sonde: error:")) and "--help" in p.stderr,
            "sonde-sessiond: bad option is one line, exit 2", p.stderr)
    sock = os.path.join(box.rundir, "sessiond.sock")
    d = subprocess.Popen([box.sessiond, "--foreground"], env=box.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(200):
        if os.path.exists(sock):
            break
        time.sleep(0.02)
    rc, out, err = box.run("create", "fg")
    t.check(rc == 0 and "Spawning" not in err,
            "a foreground daemon serves the CLI", err)
    d.send_signal(signal.SIGINT)
    try:
        _, log = d.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        d.kill()
        _, log = d.communicate()
    log = log.decode()
    t.check(d.returncode == 0 and "signal 2" in log and "exited" in log,
            "SIGINT: the foreground daemon logs to stderr and exits 0", log)
    t.check(not os.path.exists(sock), "SIGINT: socket removed")


if __name__ == "__main__":
    sys.exit(main())
