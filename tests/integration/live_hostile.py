#!/usr/bin/env python3
"""`sonde view net://...` against a hostile relay: a fake relay on a free
loopback port answers the live protocol wrongly in one way per case (other
major version, garbage statuses, absurd counts and lengths, a packet that
is not CTF, a hang-up mid-reply).  Each must end the viewer with exit 1
and one line on stderr naming the problem: no crash, no hang.

usage: live_hostile.py SONDE
"""
import socket
import struct
import subprocess
import sys
import threading

from harness import Tap, free_ports

HOST, SESSION = "h", "s"


def entry(sid=1):
    return (struct.pack(">QIII", sid, 100000, 0, 2) + HOST.encode().ljust(64, b"\0")
            + SESSION.encode().ljust(255, b"\0"))


def stream(sid, trace, metadata, name):
    return (struct.pack(">QQI", sid, trace, 1 if metadata else 0)
            + b"kernel".ljust(4096, b"\0") + name.encode().ljust(255, b"\0"))


# The smallest metadata sonde accepts as an LTTng-like trace: a packet
# header with a magic, one stream class with one event class.
TSDL = b"""/* CTF 1.8 */
typealias integer { size = 32; align = 8; signed = false; } := uint32_t;
trace { major = 1; minor = 8; byte_order = le;
        packet.header := struct { uint32_t magic; }; };
event { name = "e"; fields := struct { uint32_t x; }; };
"""


def connect_ok():
    return struct.pack(">QIII", 1, 2, 13, 0)


# Each case: the replies, in order, to the viewer's commands (bytes per
# command; None: hang up instead of answering; (bytes,): send them, then
# hang up), and what the error line must contain.
CASES = [
    ("other major", [struct.pack(">QIII", 1, 3, 0, 0)], "protocol 3.0"),
    ("hang-up at once", [None], "closed the connection"),
    ("short connect reply", [(b"\0" * 7,)], "closed the connection"),
    ("create status 9", [connect_ok(), struct.pack(">I", 9)], "unknown status 9"),
    ("absurd session count", [connect_ok(), struct.pack(">I", 1),
                              struct.pack(">I", 0x7fffffff)], "sessions (at most"),
    ("attach refused with streams", [connect_ok(), struct.pack(">I", 1),
                                     struct.pack(">I", 1) + entry(),
                                     struct.pack(">II", 2, 5)], "announces 5 streams"),
    ("index status 0", [connect_ok(), struct.pack(">I", 1),
                        struct.pack(">I", 1) + entry(),
                        struct.pack(">II", 1, 2)
                        + stream(8, 1, True, "metadata")
                        + stream(9, 1, False, "channel0_0"),
                        struct.pack(">QI", len(TSDL), 1) + TSDL,
                        struct.pack(">QI", 0, 2),
                        struct.pack(">QQQQQQQII", 0, 0, 0, 0, 0, 0, 0, 0, 0)],
     "unknown status 0"),
    ("packet that is not CTF", [connect_ok(), struct.pack(">I", 1),
                                struct.pack(">I", 1) + entry(),
                                struct.pack(">II", 1, 2)
                                + stream(8, 1, True, "metadata")
                                + stream(9, 1, False, "channel0_0"),
                                struct.pack(">QI", len(TSDL), 1) + TSDL,
                                struct.pack(">QI", 0, 2),
                                struct.pack(">QQQQQQQII", 0, 4096 * 8, 4096 * 8,
                                            0, 0, 0, 0, 1, 0),
                                struct.pack(">III", 1, 4096, 0) + b"\xab" * 4096],
     "magic"),
    ("metadata over the limit", [connect_ok(), struct.pack(">I", 1),
                                 struct.pack(">I", 1) + entry(),
                                 struct.pack(">II", 1, 1) + stream(8, 1, True, "metadata"),
                                 struct.pack(">QI", 1 << 40, 1)], "at most"),
    ("metadata that is not TSDL", [connect_ok(), struct.pack(">I", 1),
                                   struct.pack(">I", 1) + entry(),
                                   struct.pack(">II", 1, 2)
                                   + stream(8, 1, True, "metadata")
                                   + stream(9, 1, False, "channel0_0"),
                                   struct.pack(">QI", 8, 1) + b"garbage!",
                                   struct.pack(">QI", 0, 3)],
     "metadata"),
]


def serve(listener, replies):
    try:
        conn, _ = listener.accept()
    except OSError:
        return
    conn.settimeout(10)
    try:
        for reply in replies:
            header = b""
            while len(header) < 16:
                chunk = conn.recv(16 - len(header))
                if not chunk:
                    return
                header += chunk
            cmd = struct.unpack(">I", header[8:12])[0]
            size = {1: 20, 3: 20, 5: 20, 4: 8, 6: 8, 7: 8, 9: 8}.get(cmd, 0)
            left = size
            while left:
                chunk = conn.recv(left)
                if not chunk:
                    return
                left -= len(chunk)
            if reply is None:
                return
            if isinstance(reply, tuple):   # these bytes, then hang up
                conn.sendall(reply[0])
                return
            conn.sendall(reply)
        # Out of script: the viewer should have given up by now.
        conn.recv(1)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    if len(sys.argv) != 2:
        print("usage: live_hostile.py SONDE", file=sys.stderr)
        return 2
    sonde = sys.argv[1]
    tap = Tap()
    for name, replies, needle in CASES:
        port = free_ports(1)[0]
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(1)
        th = threading.Thread(target=serve, args=(listener, replies))
        th.start()
        try:
            r = subprocess.run([sonde, "view", "net://127.0.0.1:%d/host/%s/%s"
                                % (port, HOST, SESSION)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=30)
            rc, err = r.returncode, r.stderr.decode("utf-8", "replace")
        except subprocess.TimeoutExpired:
            rc, err = None, "timeout"
        listener.close()
        th.join()
        tap.check(rc == 1 and err.count("\n") == 1 and
                  err.startswith("sonde: error: ") and
                  (needle is None or needle in err),
                  "%s: one-line error, exit 1" % name,
                  "exit %s: %s" % (rc, err))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
