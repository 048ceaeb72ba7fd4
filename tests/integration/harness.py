"""Shared by the integration tests: TAP output, a private session daemon
per test (its own SONDE_RUNDIR and HOME under a temporary directory), and
running the `sonde` CLI against it."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, what), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, what), flush=True)
            if detail:
                print("# " + str(detail).replace("\n", "\n# ")[:3000],
                      flush=True)
        return cond

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


class Sandbox:
    """A temporary HOME and run directory; the daemon started in it (by
    the CLI or by start_daemon) is killed at the end if still running."""

    def __init__(self, sonde, sessiond):
        self.sonde = os.path.abspath(sonde)
        self.sessiond = os.path.abspath(sessiond)
        self.root = tempfile.mkdtemp(prefix="sonde-it-")
        self.home = os.path.join(self.root, "home")
        self.rundir = os.path.join(self.root, "run")
        os.mkdir(self.home)
        self.env = dict(os.environ, HOME=self.home, SONDE_RUNDIR=self.rundir,
                        SONDE_SESSIOND=self.sessiond, TZ="UTC", LC_ALL="C")

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def run(self, *args, timeout=60, stdout=subprocess.PIPE):
        p = subprocess.run([self.sonde] + list(args), env=self.env,
                           stdout=stdout, stderr=subprocess.PIPE,
                           timeout=timeout)
        out = p.stdout.decode("utf-8", "replace") if p.stdout else ""
        return p.returncode, out, p.stderr.decode("utf-8", "replace")

    def start_daemon(self, *args):
        p = subprocess.run([self.sessiond, "--daemonize"] + list(args),
                           env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def daemon_pid(self):
        try:
            with open(os.path.join(self.rundir, "sessiond.pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def wait_gone(self, pid, seconds=20):
        end = time.time() + seconds
        while time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.05)
        return False

    def log(self):
        try:
            with open(os.path.join(self.rundir, "sessiond.log")) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        pid = self.daemon_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
                self.wait_gone(pid)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def free_ports(n):
    """n TCP ports free on the loopback right now (for private daemons)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def port_open(port):
    """Whether something accepts connections on the loopback port."""
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return True
    except OSError:
        return False


def one_error_line(err):
    lines = [l for l in err.split("\n") if l]
    return len(lines) == 1 and lines[0].startswith("sonde: error: ")


def args_or_exit():
    if len(sys.argv) != 3:
        print("usage: %s SONDE SONDE-SESSIOND" % sys.argv[0])
        sys.exit(2)
    return sys.argv[1], sys.argv[2]


def babeltrace(path, env):
    """babeltrace 1.5's text of a trace (or of the traces below path)."""
    r = subprocess.run(["babeltrace", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=120)
    return r.returncode, r.stdout.decode("utf-8", "replace")


def finish(p, timeout):
    """Waits for p, started with start_new_session=True (its group is
    killed after timeout s): (exit status or None, stdout, stderr as
    text)."""
    try:
        out, err = p.communicate(timeout=timeout)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    return rc, (out or b"").decode("utf-8", "replace"), \
        (err or b"").decode("utf-8", "replace")


def kill_groups(procs):
    """Kills the process groups of procs (started with
    start_new_session=True) and reaps them."""
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
