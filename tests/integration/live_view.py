#!/usr/bin/env python3
"""`sonde view net://...` against the real peers: a private lttng-relayd
on free loopback ports and a private lttng-sessiond (user space only, run
as `nobody` with its own LTTNG_HOME so it never meets another test's) with
two live sessions recording live-ust-app.

One app run feeds both sessions: session A is read live by sonde, session
B by babeltrace2 (lttng-relayd allows one viewer per session).  Checks:
sonde lists the sessions like babeltrace2; sonde's live output equals,
byte for byte, babeltrace 1.5's text of the trace the relay stored;
babeltrace2's live output has the same events (payloads compared, because
its text escapes quotes and its timestamps come from session B's buffers);
a second viewer, a missing session, a missing relay and a relay killed
under the viewer each give one line and a non-zero exit.

The same again with sonde-relayd when given, with two sonde viewers on
session A at once (sonde-relayd serves several viewers per session).

usage: live_view.py SONDE LIVE_UST_APP [SONDE_RELAYD]   (77: peer missing)
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from harness import SKIP, Tap, free_ports, port_open

EVENTS = 60
NOBODY = 65534


class Peers:
    """lttng-relayd and lttng-sessiond in their own process groups,
    killed (with their consumer daemons) by close()."""

    def __init__(self, root, relayd):
        self.root = root
        self.relayd_exe = relayd
        self.home = os.path.join(root, "home")
        self.out = os.path.join(root, "relayd-out")
        os.makedirs(self.home)
        os.makedirs(self.out)
        for d in (root, self.home):
            os.chmod(d, 0o777)
        self.env = dict(os.environ, LTTNG_HOME=self.home, TZ="UTC", LC_ALL="C")
        self.procs = []
        self.control, self.data, self.live = free_ports(3)

    def as_nobody(self, *cmd):
        return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                "--clear-groups"] + list(cmd)

    def spawn(self, cmd, log):
        p = subprocess.Popen(cmd, env=self.env, start_new_session=True,
                             stdout=open(os.path.join(self.root, log), "w"),
                             stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start(self):
        self.relayd = self.spawn(
            [self.relayd_exe, "-C", "tcp://127.0.0.1:%d" % self.control,
             "-D", "tcp://127.0.0.1:%d" % self.data,
             "-L", "tcp://127.0.0.1:%d" % self.live, "-o", self.out],
            "relayd.log")
        self.spawn(self.as_nobody("lttng-sessiond", "--no-kernel"),
                   "sessiond.log")
        for _ in range(100):
            if (self.lttng("list").returncode == 0 and
                    port_open(self.live)):
                return True
            time.sleep(0.1)
        return False

    def lttng(self, *args):
        return subprocess.run(self.as_nobody("lttng", *args), env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=30)

    def live_session(self, name):
        for args in (("create", name, "--live=100000", "--set-url=net://127.0.0.1:%d:%d"
                      % (self.control, self.data)),
                     ("enable-event", "-u", "-s", name, "sonde_live_test:*"),
                     ("start", name)):
            r = self.lttng(*args)
            if r.returncode:
                return r.stdout.decode()
        return None

    def close(self):
        for p in self.procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        # The session daemon's consumer daemons are in its process group.


def wait_clients(sonde, url, names, timeout=10):
    """Until the relay lists clients on each session of `names`."""
    end = time.time() + timeout
    while time.time() < end:
        r = subprocess.run([sonde, "view", url], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        text = r.stdout.decode()
        if all(re.search(r"/%s \(.* [1-9][0-9]* client\(s\) connected\)" % n,
                         text)
               for n in names):
            return True
        time.sleep(0.1)
    return False


def payloads(text):
    """The `{ seq = ..., ... }` part of each event line, quotes unescaped
    (babeltrace2 escapes them, babeltrace 1.5 does not)."""
    out = []
    for line in text.splitlines():
        m = re.search(r"sonde_live_test:tick: .*?\{ seq = .*\}$", line)
        if m:
            out.append(m.group(0).replace('\\"', '"'))
    return out


def scenario(tap, sonde, app, relayd, root):
    """The whole story against one relay daemon; `relayd` is lttng-relayd
    or sonde-relayd, which lets several viewers read one session."""
    ours = os.path.basename(relayd) == "sonde-relayd"
    tag = "[%s] " % os.path.basename(relayd)
    peers = Peers(os.path.join(root, os.path.basename(relayd)), relayd)
    viewers = []
    try:
        if not peers.start():
            tap.check(False, tag + "relay and session daemons start",
                      open(os.path.join(peers.root, "relayd.log")).read() +
                      open(os.path.join(peers.root, "sessiond.log")).read())
            return
        relay = "net://127.0.0.1:%d" % peers.live
        host = socket.gethostname()
        for name in ("sa", "sb"):
            failure = peers.live_session(name)
            if failure:
                tap.check(False, tag + "live session %s created" % name,
                          failure)
                return

        r = subprocess.run([sonde, "view", relay], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        b = subprocess.run(["babeltrace2", "-i", "lttng-live", relay],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=10)
        tap.check(r.returncode == 0 and
                  sorted(r.stdout.splitlines()) == sorted(b.stdout.splitlines()),
                  tag + "session list equals babeltrace2's",
                  "sonde:\n%s%s\nbabeltrace2:\n%s" % (
                      r.stdout.decode(), r.stderr.decode(), b.stdout.decode()))

        url_a = "%s/host/%s/sa" % (relay, host)
        url_b = "%s/host/%s/sb" % (relay, host)
        # sonde-relayd serves several viewers per session: two of ours.
        outs = [os.path.join(peers.root, "sonde-live-%d.txt" % i)
                for i in range(2 if ours else 1)]
        sondes = [subprocess.Popen([sonde, "view", url_a, "-w", out],
                                   stderr=subprocess.PIPE,
                                   start_new_session=True) for out in outs]
        out_b = os.path.join(peers.root, "bt2-live.txt")
        vb = subprocess.Popen(["babeltrace2", "-i", "lttng-live", url_b],
                              stdout=open(out_b, "w"), stderr=subprocess.PIPE,
                              start_new_session=True)
        viewers += sondes + [vb]
        tap.check(wait_clients(sonde, relay, ("sa", "sb")),
                  tag + "the viewers attached")

        if not ours:
            second = subprocess.run([sonde, "view", url_a],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, timeout=20)
            err = second.stderr.decode()
            tap.check(second.returncode == 1 and err.count("\n") == 1 and
                      "another viewer is attached" in err,
                      tag + "a second viewer: one-line error", err)

        start_file = os.path.join(peers.root, "go")
        app_proc = subprocess.Popen(peers.as_nobody(app, str(EVENTS), "5",
                                                    start_file), env=peers.env)
        open(start_file, "w").close()
        tap.check(app_proc.wait(timeout=60) == 0, tag + "the traced app ran")
        # Let one live timer period flush the last packet, then destroy;
        # babeltrace2's session first: lttng-relayd 2.13 stalls the
        # destruction of another session while babeltrace2 is attached.
        time.sleep(0.5)
        for name in ("sb", "sa"):
            peers.lttng("destroy", name)
        for v, what in [(v, "sonde viewer %d" % i) for i, v in
                        enumerate(sondes)] + [(vb, "babeltrace2")]:
            try:
                rc = v.wait(timeout=20)
            except subprocess.TimeoutExpired:
                rc = None
            tap.check(rc == 0, tag + "%s exits 0 once the session is "
                      "destroyed" % what, "exit %s: %s" % (
                          rc, v.stderr.read().decode() if rc is not None
                          else ""))

        stored = [os.path.join(peers.out, host, d)
                  for d in os.listdir(os.path.join(peers.out, host))
                  if d.startswith("sa-")]
        bt1 = subprocess.run(["babeltrace"] + stored, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=peers.env, timeout=30)
        for i, out in enumerate(outs):
            live_text = open(out).read()
            tap.check(len(live_text.splitlines()) == EVENTS,
                      tag + "sonde viewer %d printed every event live (%d)"
                      % (i, EVENTS), live_text[-2000:])
            tap.check(bt1.returncode == 0 and
                      live_text == bt1.stdout.decode(),
                      tag + "its output == babeltrace 1.5's text of the "
                      "stored trace", "live:\n%s\nbabeltrace:\n%s%s" % (
                          live_text[:1500], bt1.stdout.decode()[:1500],
                          bt1.stderr.decode()))
        bt2_text = open(out_b).read()
        tap.check(payloads(bt2_text) == payloads(open(outs[0]).read()) and
                  len(payloads(bt2_text)) == EVENTS,
                  tag + "babeltrace2 live got the same events (payloads)",
                  "bt2:\n%s" % bt2_text[:1500])

        r = subprocess.run([sonde, "view", "%s/host/%s/nosuch" % (relay, host)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        err = r.stderr.decode()
        tap.check(r.returncode == 1 and err.count("\n") == 1 and
                  "has no session" in err,
                  tag + "unknown session: one-line error", err)

        failure = peers.live_session("sc")
        vc = subprocess.Popen([sonde, "view", "%s/host/%s/sc" % (relay, host)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True)
        viewers.append(vc)
        attached = not failure and wait_clients(sonde, relay, ("sc",))
        os.killpg(peers.relayd.pid, signal.SIGKILL)
        try:
            rc = vc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        err = vc.stderr.read().decode() if rc is not None else ""
        tap.check(attached and rc == 1 and err.count("\n") == 1 and
                  "relay" in err, tag + "relay killed under the viewer: "
                  "one-line error", "attached %s, exit %s: %s" % (
                      attached, rc, err))
    finally:
        for v in viewers:
            try:
                os.killpg(v.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            v.wait()
        peers.close()


def main():
    if len(sys.argv) not in (3, 4):
        print("usage: live_view.py SONDE LIVE_UST_APP [SONDE_RELAYD]",
              file=sys.stderr)
        return 2
    sonde, app = (os.path.abspath(a) for a in sys.argv[1:3])
    for tool in ("lttng-relayd", "lttng-sessiond", "lttng", "babeltrace",
                 "babeltrace2", "setpriv"):
        if not shutil.which(tool):
            print("1..0 # SKIP %s is not installed" % tool)
            return SKIP
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root (the session daemon runs as nobody)")
        return SKIP

    tap = Tap()
    root = tempfile.mkdtemp(prefix="sonde-live-")
    os.chmod(root, 0o755)
    try:
        dead = free_ports(1)[0]
        r = subprocess.run([sonde, "view", "net://127.0.0.1:%d/host/h/s" % dead],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        err = r.stderr.decode()
        tap.check(r.returncode == 1 and err.count("\n") == 1 and
                  "cannot connect to relay" in err, "no relay: one-line error",
                  err)
        r = subprocess.run([sonde, "view", "net://127.0.0.1:x/host/h/s"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        tap.check(r.returncode == 2 and r.stderr.decode().count("\n") == 1,
                  "malformed URL: usage error", r.stderr.decode())
        scenario(tap, sonde, app, shutil.which("lttng-relayd"), root)
        if len(sys.argv) == 4:
            scenario(tap, sonde, app, os.path.abspath(sys.argv[3]), root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
