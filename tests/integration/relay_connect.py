#!/usr/bin/env python3
"""sonde-sessiond connects to relays in the background: a relay that does
not answer never holds other clients up, and the client that needs it gets
a one-line error.  A private daemon; relays that are not there: a port
nobody listens on, and a "blackhole" (a loopback listener whose accept
queue is full, so the kernel drops connection attempts: the connect times
out after 10 s, as towards an address that drops packets).

Checks: enable-event -u and -k against the closed port fail at once with
one line; a snapshot sent to the blackhole fails with one line after the
timeout, while `sonde list` answers; against the blackhole, `sonde list` and `sonde create` answer
while two enable-event wait, both then fail with one line naming the
relay (the one failure answers both); a request a second later connects
anew, and a session destroyed meanwhile goes at once while the request
that waited for it fails with one line.
Usage: relay_connect.py SONDE SONDE-SESSIOND
"""
import os
import socket
import subprocess
import time

from harness import (Sandbox, Tap, args_or_exit, finish, free_ports,
                     one_error_line)


def blackhole():
    """A listener whose accept queue is full: SYNs to it are dropped."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.2)
    return port, [lst] + fill


def timed(box, *args):
    t0 = time.time()
    rc, out, err = box.run(*args)
    return rc, err, time.time() - t0


def main():
    sonde, sessiond = args_or_exit()
    t = Tap()
    box = Sandbox(sonde, sessiond)
    socks = []
    try:
        dead = free_ports(2)
        rc, _, err = box.run("create", "dead", "-U",
                             "net://127.0.0.1:%d:%d" % tuple(dead))
        t.check(rc == 0, "create does not connect yet", err)
        for domain in ("-u", "-k"):
            rc, err, took = timed(box, "enable-event", domain, "x_*")
            t.check(rc == 1 and one_error_line(err) and "relay" in err and
                    "refused" in err and took < 5,
                    "enable-event %s, closed port: one line at once (%.1f s)"
                    % (domain, took), err)
        box.run("destroy", "dead")

        port, socks = blackhole()
        url = "net://127.0.0.1:%d:%d" % (port, port)
        rc, _, err = box.run("create", "bh", "--live", "-U", url)
        t.check(rc == 0, "create a session streamed to the blackhole", err)
        t0 = time.time()
        waiting = [subprocess.Popen([box.sonde, "enable-event", "-u", p],
                                    env=box.env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE,
                                    start_new_session=True)
                   for p in ("a:*", "b:*")]
        time.sleep(0.5)
        rc, err, took = timed(box, "list")
        t.check(rc == 0 and took < 2,
                "list answers while the relay is being connected (%.2f s)"
                % took, err)
        rc, err, took = timed(box, "create", "other", "-o", box.path("o"))
        t.check(rc == 0 and took < 2,
                "create answers meanwhile (%.2f s)" % took, err)
        for i, p in enumerate(waiting):
            _, _, err = finish(p, 40)
            took = time.time() - t0
            t.check(p.returncode == 1 and one_error_line(err) and
                    "relay 127.0.0.1:%d" % port in err and 5 < took < 30,
                    "waiting enable-event %d: one line after the connect "
                    "timeout (%.1f s)" % (i + 1, took), err)
        rc, out, err = box.run("list")
        t.check(rc == 0 and "bh" in out, "the daemon goes on", err)

        # A second after a failure a request connects anew; destroyed
        # while it connects, the request waiting for it fails.
        time.sleep(1.2)
        p = subprocess.Popen([box.sonde, "enable-event", "-u", "c:*",
                              "-s", "bh"], env=box.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        time.sleep(0.5)
        rc, err, took = timed(box, "destroy", "bh")
        t.check(rc == 0 and took < 2,
                "destroy while connecting returns at once (%.2f s)" % took,
                err)
        _, _, err = finish(p, 40)
        t.check(p.returncode == 1 and one_error_line(err) and "bh" in err,
                "the request that waited fails with one line", err)
        rc, out, err = box.run("list")
        t.check(rc == 0 and "bh" not in out and "other" in out,
                "the daemon goes on", err)

        # A snapshot to the blackhole: the daemon serves others while it
        # connects, then the snapshot fails with one line.
        for args in (["create", "snapbh", "--snapshot", "-U", url,
                      "-o", box.path("snapbh")],
                     ["enable-event", "-u", "x_*"], ["start"]):
            rc, _, err = box.run(*args)
            t.check(rc == 0, "sonde " + " ".join(args[:2]), err)
        t0 = time.time()
        p = subprocess.Popen([box.sonde, "snapshot", "record"], env=box.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
        time.sleep(0.5)
        rc, err, took = timed(box, "list")
        t.check(rc == 0 and took < 2,
                "list answers while a snapshot's relay is being connected "
                "(%.2f s)" % took, err)
        _, _, err = finish(p, 40)
        took = time.time() - t0
        t.check(p.returncode == 1 and one_error_line(err) and
                "relay 127.0.0.1:%d" % port in err and 5 < took < 30,
                "snapshot record: one line after the connect timeout "
                "(%.1f s)" % took, err)
        left = os.listdir(box.path("snapbh")) if os.path.isdir(
            box.path("snapbh")) else []
        t.check(not left, "nothing staged for it", left)
    finally:
        for s in socks:
            s.close()
        box.close()
    return t.done()


if __name__ == "__main__":
    raise SystemExit(main())
