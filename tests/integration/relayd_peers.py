"""Shared by the sonde-relayd tests: a private sonde-relayd on ports the
system picks, and a private LTTng session daemon (user-space only, its own
LTTNG_HOME; run as 'nobody' when we are root, so that it never meets the
machine's root session daemon in /var/run/lttng)."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

SKIP = 77


def which_all(*names):
    return [n for n in names if not shutil.which(n)]


class Relay:
    """sonde-relayd in a temporary directory, killed with its process group
    at close()."""

    def __init__(self, relayd, root, *extra):
        self.root = root
        self.out = os.path.join(root, "out")
        self.log_path = os.path.join(root, "relayd.log")
        ports = os.path.join(root, "ports")
        self.proc = subprocess.Popen(
            [relayd, "-C", "tcp://127.0.0.1:0", "-D", "tcp://127.0.0.1:0",
             "-L", "tcp://127.0.0.1:0", "-o", self.out, "--ports-file", ports]
            + list(extra),
            stderr=open(self.log_path, "w"), start_new_session=True)
        end = time.time() + 10
        while not os.path.exists(ports) and time.time() < end:
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        with open(ports) as f:
            self.control, self.data, self.live = map(int, f.read().split())

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, text, count=1, seconds=20):
        end = time.time() + seconds
        while time.time() < end:
            if self.log().count(text) >= count:
                return True
            time.sleep(0.05)
        return False

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Lttng:
    """A private lttng-sessiond (--no-kernel) and the lttng CLI for it."""

    def __init__(self, root):
        self.home = os.path.join(root, "lttng-home")
        os.makedirs(self.home)
        self.as_nobody = os.geteuid() == 0
        if self.as_nobody:
            for d in (root, self.home):
                os.chmod(d, 0o777)
        self.env = dict(os.environ, LTTNG_HOME=self.home, LC_ALL="C")
        self.env.pop("LTTNG_SESSION_CONFIG_XSD_PATH", None)
        self.run_cmd(["lttng-sessiond", "--daemonize", "--no-kernel"],
                     check=True)

    def prefix(self):
        if self.as_nobody:
            return ["runuser", "-u", "nobody", "--", "env",
                    "LTTNG_HOME=" + self.home]
        return []

    def run_cmd(self, argv, check=False, timeout=60):
        p = subprocess.run(self.prefix() + argv, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, cwd=self.home)
        if check and p.returncode:
            raise RuntimeError("%s: %s" % (" ".join(argv),
                                           p.stdout.decode(errors="replace")))
        return p.returncode, p.stdout.decode(errors="replace")

    def lttng(self, *args, check=True):
        return self.run_cmd(["lttng"] + list(args), check=check)

    def spawn(self, argv):
        return subprocess.Popen(self.prefix() + argv, env=self.env,
                                cwd=self.home, start_new_session=True)

    def pid(self):
        try:
            with open(os.path.join(self.home, ".lttng",
                                   "lttng-sessiond.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return 0

    def close(self):
        pid = self.pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        end = time.time() + 10
        while time.time() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        # The daemon and its consumers share its process group.
        try:
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def babeltrace2_events(path):
    p = subprocess.run(["babeltrace2", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    lines = p.stdout.decode(errors="replace").splitlines()
    return p.returncode, lines, p.stderr.decode(errors="replace")


def payload(line):
    """The event name and fields of a babeltrace2 text line, without the
    timestamp, delta and hostname (they differ between two sessions)."""
    i = line.find("sonde_live_test:")
    return line[i:] if i >= 0 else line


def check_indexes(trace_dir):
    """Every data stream has an index covering it exactly, as babeltrace2
    requires to use it (protocols.md 4.3).  Returns a list of problems."""
    problems = []
    for dirpath, _, files in os.walk(trace_dir):
        if "metadata" not in files:
            continue
        for name in files:
            if name == "metadata":
                continue
            path = os.path.join(dirpath, name)
            idx = os.path.join(dirpath, "index", name + ".idx")
            if not os.path.exists(idx):
                if os.path.getsize(path):
                    problems.append("%s: no index" % path)
                continue
            with open(idx, "rb") as f:
                data = f.read()
            magic, major, minor, esize = struct.unpack(">IIII", data[:16])
            if magic != 0xC1F1DCC1 or major != 1 or esize < 56:
                problems.append("%s: bad header" % idx)
                continue
            if (len(data) - 16) % esize:
                problems.append("%s: partial entry" % idx)
            total, expect = 0, 0
            for off in range(16, len(data) - esize + 1, esize):
                offset, psize = struct.unpack(">QQ", data[off:off + 16])
                if offset != expect:
                    problems.append("%s: entry at %d, packet at %d"
                                    % (idx, offset, expect))
                    break
                expect += psize // 8
                total += psize // 8
            if total != os.path.getsize(path):
                problems.append("%s: indexes %d bytes of %d"
                                % (idx, total, os.path.getsize(path)))
    return problems


def make_root(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def hostname():
    return socket.gethostname()
